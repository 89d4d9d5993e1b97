"""The replay feed: a recording's quotes into the engine, paced at a multiple of real time or as
fast as the engine takes them, paused and re-paced on request.

The engine's clock is the last tick played (``TickClock``), never the wall: pacing only decides
when a tick is handed over, never what the engine sees, so 10x and max give the same fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.replay import MAX_SPEED, ReplayProgress, checked_speed
from tmt_tui.venues.base import QuoteSink, StatusHook
from tmt_tui.venues.replay.source import Recording

#: At max speed, ticks handed over between two turns of the event loop: small enough that a
#: command or a key waits only microseconds, large enough that the turns cost little.
BATCH = 64
#: The longest a paced replay waits between two ticks (wall seconds): a quiet night or a
#: weekend in the recording passes in this, not in hours.
MAX_WAIT_S = 2.0


class TickClock:
    """The engine's clock during a replay: the time of the latest tick played. It never goes
    back (two feeds' ticks may be recorded slightly out of order)."""

    __slots__ = ("now",)

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class ReplayFeed:
    """Plays ``recording`` into the engine's quote sink (a ``MarketDataFeed`` and a
    ``Playback``). With ``start_paused`` it plays until every instrument has a price, then
    pauses, so a trader (or a test) can place orders before the market moves."""

    def __init__(
        self,
        recording: Recording,
        clock: TickClock,
        speed: float = 1.0,
        *,
        start_paused: bool = False,
    ) -> None:
        self._recording = recording
        self._clock = clock
        self._speed = checked_speed(speed)
        self._paused = False
        self._start_paused = start_paused
        self._unquoted = {i.name for i in recording.instruments}
        self._stopped = False
        self._finished = False
        self._played = 0
        self._bad_at_start = recording.bad.count
        self._changed = asyncio.Event()
        self._anchor: tuple[float, float] | None = None  # (wall, tick ts) pacing counts from

    # the MarketDataFeed side -------------------------------------------------------------------

    def instruments(self) -> tuple[Instrument, ...]:
        return self._recording.instruments

    def report_status_to(self, status: StatusHook) -> None:
        return None  # a file does not go down

    def stop(self) -> None:
        self._stopped = True
        self._changed.set()

    async def run(self, sink: QuoteSink) -> None:
        """Hand every playable tick to ``sink`` in order, paced; returns when all are played."""
        clock = self._clock
        for chunk in self._recording.chunks():
            at, size = 0, len(chunk)
            while at < size:
                if self._stopped:
                    return
                if self._paused:
                    await self._wait()
                    continue
                if self._speed == MAX_SPEED and not self._unquoted:
                    end = min(at + BATCH, size)
                    for quote in chunk[at:end]:
                        if quote.ts > clock.now:
                            clock.now = quote.ts
                        sink(quote)
                    self._played += end - at
                    at = end
                    await asyncio.sleep(0)
                    continue
                quote = chunk[at]
                delay = self._delay(quote.ts)
                if delay > 0:
                    await self._wait(delay)
                    continue
                if quote.ts > clock.now:
                    clock.now = quote.ts
                sink(quote)
                self._played += 1
                at += 1
                if self._unquoted:
                    self._first_prices(quote.instrument)
                if not self._played % BATCH:
                    await asyncio.sleep(0)
        self._finished = True

    def _first_prices(self, name: str) -> None:
        """Note an instrument's first price; pause once all have one, if asked to."""
        self._unquoted.discard(name)
        if not self._unquoted and self._start_paused:
            self._start_paused = False
            self._paused = True

    def _delay(self, ts: float) -> float:
        """Wall seconds until the tick at ``ts`` is due at this speed (0 at max)."""
        speed = self._speed
        if speed == MAX_SPEED:
            return 0.0
        now = time.monotonic()
        anchor = self._anchor
        if anchor is None:
            self._anchor = anchor = (now, ts)
        delay = anchor[0] + (ts - anchor[1]) / speed - now
        if delay > MAX_WAIT_S:  # a quiet spell in the recording: passed in MAX_WAIT_S
            self._anchor = (now + MAX_WAIT_S, ts)
            delay = MAX_WAIT_S
        return delay

    async def _wait(self, seconds: float | None = None) -> None:
        """Until a control changes something (pause, resume, speed, stop), or ``seconds``."""
        self._changed.clear()
        if seconds is None:
            await self._changed.wait()
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()

    # the Playback side -----------------------------------------------------------------------

    def _poke(self) -> None:
        self._anchor = None  # pacing counts from the next tick, at once
        self._changed.set()

    def pause(self) -> None:
        self._paused = True
        self._start_paused = False
        self._poke()

    def resume(self) -> None:
        self._paused = False
        self._start_paused = False
        self._poke()

    def set_speed(self, speed: float) -> None:
        self._speed = checked_speed(speed)
        self._poke()

    def progress(self) -> ReplayProgress:
        recording = self._recording
        skipped = recording.bad.count
        return ReplayProgress(
            source=recording.name,
            start_ts=recording.start_ts,
            end_ts=recording.end_ts,
            position_ts=self._clock.now,
            done=self._played + skipped - self._bad_at_start,
            total=recording.total,
            speed=self._speed,
            paused=self._paused and not self._finished,
            finished=self._finished,
            skipped=skipped,
        )
