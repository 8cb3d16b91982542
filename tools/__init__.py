"""The project's own tools (not installed with the kit): run them from the checkout, `python -m tools.NAME`."""
