"""bankchurn: the bank customer churn model, from CSV to a verified, servable artifact."""

__version__ = "0.1.0"
