"""The Mesa door: one replicate as a `mesa.Model` whose agents are views onto the kernel."""
