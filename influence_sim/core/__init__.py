"""The model itself: worlds, scenarios, events, the array kernel, outcome measures, runner.

The core imports only the ground modules (errors, params, seeds, _io), never a layer above.
"""
