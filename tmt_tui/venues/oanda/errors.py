"""What can go wrong talking to OANDA, in one place so the parsers of its answers and the
client that sends the requests raise the same family (the broker catches ``OandaError``)."""

from __future__ import annotations


class OandaError(Exception):
    """Something went wrong talking to OANDA (never carries the token)."""


class MalformedAnswer(OandaError):
    """OANDA answered, but not in a shape the v20 spec allows (a field missing, a price that
    is not a number): what the request did is unknown, so the caller looks it up instead."""
