"""The SQLite journal: the source of truth on disk."""
