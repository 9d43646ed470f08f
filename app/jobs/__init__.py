"""Scheduled work: plain async job functions (tasks.py), registered in one place (registry.py),
run exactly once per slot across replicas (runner.py), driven by APScheduler (scheduler.py)."""
