"""Three-party and other agreements: templates, consent, sharing bases, rendering."""
