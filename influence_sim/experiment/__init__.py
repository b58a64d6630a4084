"""Running scenarios: `simulate` and its `Result`, experiment designs, executors, the store."""
