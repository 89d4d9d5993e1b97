"""Wait for a condition instead of sleeping a fixed time: one polling loop for every suite.

``eventually`` (async: the caller's event loop, or a Textual app through ``pause``, keeps running
between polls) and ``wait_for`` (sync: a thread-driven test, a subprocess) both poll
``predicate`` until it returns something truthy and return that, or fail after ``within``
seconds naming ``what``. The timeouts are generous: only a broken test ever reaches one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

TIMEOUT_S = 15.0  # only reached when something is broken; a passing test never waits this long
ASYNC_INTERVAL_S = 0.005  # a poll costs next to nothing on the test's own loop
SYNC_INTERVAL_S = 0.01


class _Poll(Generic[T]):
    """The one polling loop's condition: ``met()`` calls ``predicate`` once, keeps its value,
    and raises once ``within`` seconds have passed without a truthy one; the caller waits
    between calls its own way (an await, a sleep, a Pilot pause)."""

    def __init__(self, predicate: Callable[[], T], what: str, within: float) -> None:
        self.predicate, self.what, self.within = predicate, what, within
        self.deadline = time.monotonic() + within

    def met(self) -> bool:
        self.value = self.predicate()
        if self.value:
            return True
        if time.monotonic() > self.deadline:
            raise AssertionError(f"not within {self.within:g}s: {self.what or self.predicate}")
        return False


async def eventually(
    predicate: Callable[[], T],
    what: str = "",
    *,
    within: float = TIMEOUT_S,
    interval: float = ASYNC_INTERVAL_S,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``predicate()``'s first truthy value, awaiting ``pause(interval)`` between polls (the
    event loop runs meanwhile); fails naming ``what`` after ``within`` seconds."""
    poll = _Poll(predicate, what, within)
    while not poll.met():
        await pause(interval)
    return poll.value


def wait_for(
    predicate: Callable[[], T],
    what: str = "",
    *,
    within: float = TIMEOUT_S,
    interval: float = SYNC_INTERVAL_S,
) -> T:
    """``predicate()``'s first truthy value, sleeping ``interval`` between polls (for tests
    whose engine runs on its own thread or in another process); fails like ``eventually``."""
    poll = _Poll(predicate, what, within)
    while not poll.met():
        time.sleep(interval)
    return poll.value
