"""Market data feeds and brokers, each behind the small protocols in ``base``."""
