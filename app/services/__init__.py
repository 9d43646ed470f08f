"""Domain rules. No FastAPI imports here; services never commit (the request edge does)."""
