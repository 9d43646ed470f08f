"""The demo conference (development only): people and seed data, outside the domain layer."""
