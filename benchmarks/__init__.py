"""The benchmark suite: ``python -m benchmarks`` (``--quick`` for a CI smoke run).

Every figure is a ratio against a baseline measured in the same run on the same machine, so
the table means something wherever it runs. Never part of the pass/fail tests.
"""
