"""The smallest account table a config needs, appended to the tables the config tests load."""

from __future__ import annotations

ACCOUNT = """
[[accounts]]
id = "A"
currency = "USD"
balance = "1000"
"""
