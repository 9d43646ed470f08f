"""Benchmarks: load and scale measurements (never asserted in tests)."""
