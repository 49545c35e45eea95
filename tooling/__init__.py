"""The project's own tooling: what benchmarks, tests and `make` targets share.

Never shipped: every image's build context is an allow-list (.dockerignore) that leaves
this folder out. Importable from the repository root (pytest's ``pythonpath``, or
``python -m`` run there); nothing here does work at import time.
"""
