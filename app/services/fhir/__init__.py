"""FHIR exports for care systems (docs/fhir.md)."""
