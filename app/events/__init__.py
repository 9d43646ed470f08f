"""Inbound partner events and outbound notifications (outbox)."""
