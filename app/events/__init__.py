"""Inbound partner events (CloudEvents) and outbound notifications (outbox + webhook delivery)."""
