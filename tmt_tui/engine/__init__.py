"""The single writer of trading state: a synchronous core inside a thin async runner."""
