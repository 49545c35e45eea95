"""The project's measurements: ``python -m benchmarks.serving`` and ``python -m benchmarks.images``.

Shared here: one error type (errors), the commands' report options and error exit (cli),
one goals table (goals), loopback HTTP (loopback) and one way to time a container's cold
start (containers).
"""
