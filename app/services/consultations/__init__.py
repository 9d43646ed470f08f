"""Consultations without a file (spreekuur): an anonymous question to the conference or the
addiction care institution, its answer, its count, and its conversion into a referral."""
