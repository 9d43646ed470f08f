"""Load and scale benchmarks: python -m bench.<name>."""
