"""The privacy officer's work: access-log queries, verification, exports, retention."""
