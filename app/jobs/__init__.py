"""Scheduled work: one async function per job, registered in one place."""
