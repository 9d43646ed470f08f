"""What partner organisations and their systems do with their own view of a client: their own
client references, and the minimal case view a partner system may read (cases:read-minimal)."""
