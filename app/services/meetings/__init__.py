"""Meetings of a conference: cadence, agenda, decisions, announcements to partners."""
