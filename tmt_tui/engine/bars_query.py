"""Answering ``QueryBars``: a chart's candles, from the journal's closed bars (read on a worker
thread through a read-only connection, so the engine's loop never waits on them), the bars that
closed since the last flush, the live bar from market state, and the indicator lines over them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tmt_tui.analytics.bar_lines import WARMUP, indicator_lines
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import QueryBars
from tmt_tui.domain.market import BAR_SECONDS, Bar, Candles, LiveBar
from tmt_tui.domain.reasons import Reason
from tmt_tui.store.bar_rows import read_bars

log = logging.getLogger(__name__)

#: The most bars one answer carries: wider than any terminal's chart.
MAX_BARS = 1000


def query_problem(query: QueryBars, known: Sequence[str]) -> Reply | None:
    """Why the engine cannot answer ``query`` (an unknown size or instrument), or None."""
    if query.size not in BAR_SECONDS:
        sizes = ", ".join(BAR_SECONDS)
        return Reply(False, Reason.INVALID_COMMAND.value, f"bar size {query.size!r}: not {sizes}")
    if query.instrument not in known:
        return Reply(
            False, Reason.UNKNOWN_INSTRUMENT.value, f"no market state for {query.instrument}"
        )
    return None


def candles_of(
    query: QueryBars, closed: Sequence[Bar], unflushed: Sequence[Bar], live: Bar | None
) -> Candles:
    """The answer: the journal's ``closed`` bars and those not yet flushed (newer, or the same
    bar again), the indicator lines over all of them, cut to ``query.count``."""
    by_start = {bar.start: bar for bar in closed}
    by_start.update((bar.start, bar) for bar in unflushed)
    bars = [by_start[start] for start in sorted(by_start)]
    closes = np.fromiter((b.mid_c for b in bars), np.float64, len(bars))
    count = max(1, min(query.count, MAX_BARS))
    shown = bars[-count:]
    lines = {
        name: tuple(None if np.isnan(x) else float(x) for x in values[-count:].tolist())
        for name, values in indicator_lines(closes).items()
    }
    return Candles(
        query.instrument,
        query.size,
        tuple(b.start for b in shown),
        tuple(b.mid_o for b in shown),
        tuple(b.mid_h for b in shown),
        tuple(b.mid_l for b in shown),
        tuple(b.mid_c for b in shown),
        tuple(b.ticks for b in shown),
        lines if shown else {},
        None if live is None else LiveBar(
            live.start, live.mid_o, live.mid_h, live.mid_l, live.mid_c, live.ticks
        ),
    )  # fmt: skip


async def answer_bars(
    journal: Path,
    query: QueryBars,
    unflushed: Sequence[Bar],
    live: Bar | None,
    seq: int,
    callback: Callable[[Reply], None],
) -> None:
    """Read the journal's bars on a worker thread and hand the reply to ``callback`` (a query
    that fails is an answer that says so, never a hang)."""
    want = max(1, min(query.count, MAX_BARS)) + WARMUP
    try:
        closed = await asyncio.to_thread(read_bars, journal, query.instrument, query.size, want)
        candles = candles_of(query, closed, unflushed, live)
    except Exception as exc:
        log.exception("bars query failed")
        callback(Reply(False, Reason.ENGINE_ERROR.value, f"bars: {exc}", seq=seq))
        return
    message = f"{len(candles)} {query.size} bars of {query.instrument}"
    callback(Reply(True, "OK", message, seq=seq, payload=candles))
