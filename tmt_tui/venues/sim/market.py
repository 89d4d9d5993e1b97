"""A seeded synthetic FX market: a random walk per pair, a few ticks a second, 24/7.

Moves scale with each pair's annual volatility, measured over active trading hours (about
eight a day), so a major moves a fraction of a pip per tick, as a real one does in a quiet hour.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import Bar
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.base import HistoryUnavailable, QuoteSink, StatusHook
from tmt_tui.venues.sim.history import SimPast
from tmt_tui.venues.sim.universe import SPECS, instruments

_ACTIVE_SECONDS_PER_YEAR = 252 * 8 * 3600


class SimMarket:
    """Generates quotes for its instruments; continues from ``start_mids`` after a restart."""

    _past: SimPast | None = None  # made at the first history asked for

    def __init__(
        self,
        names: tuple[str, ...] = (),
        *,
        seed: int = 7,
        ticks_per_second: float = 4.0,
        volatility_scale: float = 1.0,
        start_mids: Mapping[str, Decimal] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._universe = instruments()
        self._instruments = instruments(names)
        self._rng = random.Random(seed)
        self._seed = seed
        self._rate = ticks_per_second
        self._volatility_scale = volatility_scale
        self._clock = clock
        self._running = True
        self._start = dict(start_mids or {})
        self._mid: dict[str, float] = {}
        self._sigma: dict[str, float] = {}
        self._half_spread: dict[str, float] = {}
        self._scale: dict[str, int] = {}
        for inst in self._instruments:
            self._prepare(inst)
        self._names = [i.name for i in self._instruments]
        self._fresh: list[str] = []  # subscribed since the last wake: quoted at once

    def _prepare(self, inst: Instrument) -> None:
        """The random walk of one pair, from its last known mid (a restart's, or the spec's)."""
        if inst.name in self._mid:
            return
        spec = SPECS[inst.name]
        self._mid[inst.name] = float(self._start.get(inst.name, spec.mid))
        per_tick = spec.annual_vol / math.sqrt(_ACTIVE_SECONDS_PER_YEAR * self._rate)
        self._sigma[inst.name] = per_tick * self._volatility_scale
        self._half_spread[inst.name] = spec.spread_pips * 10.0**inst.pip_location / 2
        self._scale[inst.name] = 10**inst.display_precision

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    def universe(self) -> tuple[Instrument, ...]:
        """Every built-in pair: any of them can be subscribed while the market runs."""
        return self._universe

    def subscribe(self, names: Iterable[str]) -> None:
        """Quote exactly ``names`` from now on; a new pair quotes at the next wake (its walk
        goes on from where it stood if it was quoted before)."""
        wanted = set(names)
        chosen = tuple(i for i in self._universe if i.name in wanted)
        for inst in chosen:
            self._prepare(inst)
        before = set(self._names)
        self._instruments = chosen
        self._names = [i.name for i in chosen]
        self._fresh += [n for n in self._names if n not in before]

    def quote(self, name: str) -> Quote:
        """The current quote of ``name`` without moving the market."""
        return self._make(name, self._mid[name])

    def step(self, name: str) -> Quote:
        """Move ``name`` one tick and return its new quote."""
        mid = self._mid[name] * math.exp(self._sigma[name] * self._rng.gauss(0.0, 1.0))
        self._mid[name] = mid
        return self._make(name, mid)

    def _make(self, name: str, mid: float) -> Quote:
        scale = self._scale[name]
        half = self._half_spread[name] * (0.8 + 0.4 * self._rng.random())
        bid = math.floor((mid - half) * scale)
        ask = max(math.ceil((mid + half) * scale), bid + 1)
        exponent = -len(str(scale)) + 1
        return Quote(
            name, Decimal(bid).scaleb(exponent), Decimal(ask).scaleb(exponent), self._clock()
        )

    async def run(self, sink: QuoteSink) -> None:
        """Emit each pair's quote once, then ``ticks_per_second`` per pair until stopped."""
        for name in self._names:
            sink(self.quote(name))
        self._fresh.clear()
        owed = 0.0
        last = time.monotonic()
        while self._running:
            total_rate = self._rate * max(len(self._names), 1)
            await asyncio.sleep(min(0.05, 1.0 / total_rate))
            fresh, self._fresh = self._fresh, []
            for name in fresh:
                sink(self.quote(name))
            now = time.monotonic()
            owed += (now - last) * total_rate
            last = now
            while owed >= 1.0 and self._running:
                owed -= 1.0
                if self._names:
                    sink(self.step(self._rng.choice(self._names)))

    def stop(self) -> None:
        self._running = False

    def report_status_to(self, status: StatusHook) -> None:
        return None  # in this process: never down

    async def history(self, instrument: str, size: str, count: int) -> list[Bar]:
        """Bars of the past this market made up (``venues/sim/history.py``), leading into the
        price it stood at when first asked: the same bars each time for the same seed."""
        if self._past is None:
            self._past = SimPast(self._seed, self._clock(), dict(self._mid))
        if instrument not in SPECS:
            raise HistoryUnavailable(f"the sim has no history of {instrument}")
        return await asyncio.to_thread(self._past.bars, instrument, size, count)
