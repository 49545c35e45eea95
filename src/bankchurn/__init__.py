"""bankchurn: the bank customer churn model, from CSV to a verified, servable artifact.

Its version has one source, pyproject.toml (read it with importlib.metadata when installed).
"""
