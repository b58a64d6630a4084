"""Reading results: paired comparison with the baseline and attribution to events."""
