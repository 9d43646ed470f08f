"""Benchmarks: `python -m bench.<name>`; they report numbers, they assert nothing."""
