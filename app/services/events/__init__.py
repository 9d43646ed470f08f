"""Partner events in, notifications and webhook subscriptions out."""
