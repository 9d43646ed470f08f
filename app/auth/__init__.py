"""Identity (tokens per organisation's provider), the Principal, and the access policy."""
