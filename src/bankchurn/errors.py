"""The base of every error a user can cause and fix (bad data, config, model, registry).

The CLI prints these as one clear line; anything else is a bug and keeps its traceback.
"""


class BankchurnError(Exception):
    """An expected failure whose message says what was wrong, where, and what to do."""
