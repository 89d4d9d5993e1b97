"""Request pacing: OANDA's published limits, enforced on our side before OANDA enforces them.

OANDA allows 100 REST requests per second on a persistent connection (120/s per IP, excess
answered 429) and at most 2 new connections per second (excess connections are refused). A
client that relies on the 429 to slow down has already lost a request's worth of latency and,
for a kill switch firing 50 cancels at once, could turn a burst into a string of retries. So
every REST request and every new stream connection first takes a slot here.

``SlidingWindow`` keeps the send times of the last ``n`` grants and never grants an (n+1)-th
within ``window`` seconds of the oldest, so bursts up to ``n`` go out at once (a kill switch
is not slowed) yet no window of that length ever holds more than ``n``. The clock and the sleep
are injectable so tests check the spacing without timing anything.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable


class SlidingWindow:
    """At most ``per_s`` grants per second, as ``n`` grants per ``n / per_s`` seconds."""

    def __init__(
        self,
        per_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not per_s > 0:
            raise ValueError("a rate must be positive")
        self.n = max(1, math.floor(per_s))
        self.window = self.n / per_s
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()
        self.waits = 0  # grants that had to wait (a metric)

    def __repr__(self) -> str:
        return f"SlidingWindow({self.n} per {self.window:g} s)"

    def delay(self) -> float:
        """How long the next grant would wait right now (0 when a slot is free)."""
        now = self._clock()
        sent = self._sent
        while sent and now - sent[0] >= self.window:
            sent.popleft()
        if len(sent) < self.n:
            return 0.0
        return sent[0] + self.window - now

    async def acquire(self) -> None:
        """Wait for a slot and take it."""
        if not self._lock.locked() and self.delay() == 0.0:  # the common, uncontended case
            self._sent.append(self._clock())
            return
        async with self._lock:  # first come, first served while waiting
            while (wait := self.delay()) > 0:
                self.waits += 1
                await self._sleep(wait)
            self._sent.append(self._clock())
