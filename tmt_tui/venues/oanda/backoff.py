"""How long to wait before reconnecting a dropped stream: jittered exponential backoff, so that
many clients never retry in step. (Request *rates* are ``pacing``'s.)"""

from __future__ import annotations

import random


def jittered(delay: float) -> float:
    """``delay`` spread over [0.5, 1.5) of itself, so that many clients never retry in step."""
    return delay * (0.5 + random.random())  # noqa: S311 - spacing, not secrecy


class ReconnectBackoff:
    """Reconnect delays: jittered exponential backoff, reset once a stream delivers."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = most
        self.delay = first

    def reset(self) -> None:
        self.delay = self.first

    def next(self) -> float:
        delay = jittered(self.delay)
        self.delay = min(self.delay * 2, self.most)
        return delay
