"""Bars kept by the engine beyond its own live ones: those rebuilt at start from a journal's old
ticks (a journal from before bars were kept), and retention pruning S5 bars past a week while
bigger sizes stay. A real embedded engine on the sim market, its journal read from outside."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import numpy as np

from tests.support.engines import engine_settings, fixed_clock, journal_rows
from tests.support.harness import T0
from tests.support.waiting import eventually
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.domain.market import Bar
from tmt_tui.domain.quotes import Quote
from tmt_tui.store.journal import Journal

DAY = 86_400.0


def old_ticks(journal: Path, count: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """EUR_USD ticks every 1.5 s ending an hour before the engine's clock, journaled as an
    older tmt wrote them (ticks, no bars)."""
    rng = np.random.default_rng(5)
    ts = T0 - 3600 - 1.5 * np.arange(count, 0, -1)
    mid = 1.08 + np.cumsum(rng.normal(0, 2e-5, count))
    bid, ask = np.round(mid - 4e-5, 5), np.round(mid + 4e-5, 5)
    written = Journal(journal)
    try:
        quotes = [
            Quote("EUR_USD", Decimal(f"{b:.5f}"), Decimal(f"{a:.5f}"), t)
            for t, b, a in zip(ts.tolist(), bid.tolist(), ask.tolist(), strict=True)
        ]
        written.append_ticks(quotes)
    finally:
        written.close()
    return ts, bid, ask


async def test_a_journal_with_ticks_and_no_bars_gets_its_bars_rebuilt_from_them(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.db"
    ts, bid, ask = old_ticks(journal)
    base = engine_settings(journal)  # backfill on: test engines start without it
    settings = dataclasses.replace(base, engine=dataclasses.replace(base.engine, backfill_bars=200))
    client = start_embedded(settings, clock=fixed_clock)
    try:
        report = client.runner.backfill_report  # type: ignore[union-attr]
        await eventually(lambda: report.done, "the backfill")
    finally:
        await client.close()

    rows = journal_rows(
        journal,
        "select start, mid_o, mid_h, mid_l, mid_c, ticks from bars "
        "where instrument = 'EUR_USD' and size = 'M1' and start >= ? and start + 60 <= ? "
        "order by start",
        ts[0] - ts[0] % 60 + 60, ts[-1] - ts[-1] % 60,
    )  # fmt: skip
    mid = (bid + ask) / 2
    window = np.floor(ts / 60)
    assert report.from_ticks > 0 and len(rows) >= 10
    for start, o, h, low, c, ticks in rows:
        inside = mid[window == start / 60]
        np.testing.assert_allclose(
            (o, h, low, c), (inside[0], inside.max(), inside.min(), inside[-1]), atol=1e-9
        )
        assert ticks == len(inside)


def bar(size: str, start: float) -> Bar:
    return Bar("EUR_USD", size, start, *([1.08] * 12), 3)


async def test_retention_prunes_s5_bars_past_a_week_and_keeps_bigger_sizes(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.db"
    old, recent = T0 - 9 * DAY, T0 - 2 * DAY
    written = Journal(journal)
    try:
        written.add_bars(
            [bar("S5", old + 5 * i) for i in range(5000)]
            + [bar("S5", recent + 5 * i) for i in range(10)]
            + [bar("M5", old + 300 * i) for i in range(10)]
        )
    finally:
        written.close()
    base = engine_settings(journal)
    settings = dataclasses.replace(base, engine=dataclasses.replace(base.engine, backfill_bars=0))
    client = start_embedded(settings, clock=fixed_clock)

    def s5_before(ts: float) -> int:
        (n,) = journal_rows(
            journal, "select count(*) from bars where size = 'S5' and start < ?", ts
        )[0]
        return int(n)

    try:
        await eventually(lambda: s5_before(T0 - 7 * DAY) == 0, "old S5 bars pruned")
    finally:
        await client.close()

    assert s5_before(T0) >= 10  # the recent ones stay
    (m5,) = journal_rows(
        journal, "select count(*) from bars where size = 'M5' and start < ?", T0 - 7 * DAY
    )[0]
    assert m5 == 10  # as old, but a size kept for ever
