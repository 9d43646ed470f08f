"""The HTTP layer's own machinery, shared by the API and the web client: errors mapped to
problem+json, and the ASGI middleware. No domain rules here."""
