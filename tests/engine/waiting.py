"""Wait for a condition instead of sleeping a fixed time: poll until true or a generous timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

TIMEOUT_S = 15.0  # only reached when something is broken; a passing test never waits this long


async def eventually(
    predicate: Callable[[], T],
    what: str = "",
    *,
    within: float = TIMEOUT_S,
    interval: float = 0.005,
) -> T:
    """Return ``predicate()``'s first truthy value, polling without blocking the event loop;
    ``what`` names the condition in the failure."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s: {what or predicate}")
        await asyncio.sleep(interval)
