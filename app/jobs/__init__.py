"""Scheduled work: one async function per job, with a stable id and a declared trigger."""
