"""Market state in a real engine on the sim market: bars journaled as they close, a restart
rebuilds them (and the indicators) from the journal, and subscribers get each instrument's read.

The sim stamps quotes with the engine's clock, so the clock here runs 120 times faster than
the wall: minutes of bars close in a second, far from the 17:00 New York rollover."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from tests.support.engines import INSTRUMENTS, engine_settings, journal_rows, snapshot
from tests.support.harness import T0
from tests.support.waiting import eventually
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.domain.market import Bar

SPEED = 120.0
SIZES = ("S5", "M1")


class FastClock:
    """Wall time from ``start``, running ``SPEED`` times faster (or standing still)."""

    def __init__(self, start: float, speed: float = SPEED) -> None:
        self.start, self.speed, self.began = start, speed, time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.began) * self.speed


def fast_sim(journal: Path) -> Settings:
    settings = engine_settings(journal)
    return dataclasses.replace(
        settings,
        sim=dataclasses.replace(settings.sim, ticks_per_second=50),
        engine=dataclasses.replace(settings.engine, backfill_bars=0),  # only the engine's own bars
    )


def journaled_bars(path: Path) -> list[Bar]:
    return [
        Bar(*row)
        for row in journal_rows(path, "select * from bars order by instrument, size, start")
    ]


async def test_closed_bars_are_journaled_and_a_restart_rebuilds_market_state(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.db"
    settings = fast_sim(journal)
    first = start_embedded(settings, clock=FastClock(T0))
    runner: Any = first.runner
    try:
        eur = runner.market.instruments["EUR_USD"]
        await eventually(lambda: eur.indicators[1].count >= 3, "three M1 bars of EUR_USD")
    finally:
        await first.close()
    before = eur.read()
    bars = journaled_bars(journal)
    (last_tick,) = journal_rows(journal, "select max(ts) from ticks")[0]

    again = start_embedded(settings, clock=lambda: last_tick)  # quotes land in the live bars
    restarted: Any = again.runner
    try:
        snap = await snapshot(again)
        restored = restarted.market.instruments["EUR_USD"]

        assert {(b.instrument, b.size) for b in bars} >= {
            (i, s) for i in INSTRUMENTS for s in SIZES
        }
        m1 = [b for b in bars if b.instrument == "EUR_USD" and b.size == "M1"]
        assert restored.indicators[1].count == len(m1) >= 3
        assert restored.read() == before  # the same indicators, recomputed from the journal
        assert {r.instrument for r in snap.market} == set(INSTRUMENTS)
        assert next(r for r in snap.market if r.instrument == "EUR_USD") == before
    finally:
        await again.close()
    assert set(bars) <= set(journaled_bars(journal))  # nothing lost, nothing rewritten
