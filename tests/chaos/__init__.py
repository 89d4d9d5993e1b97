"""Chaos suites: many faults at once, in a seeded random order."""
