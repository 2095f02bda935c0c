"""Benchmarks and load generators, run by hand (not part of the test run)."""
