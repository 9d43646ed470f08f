"""Administration of conferences, organisations, identity providers and web sessions."""
