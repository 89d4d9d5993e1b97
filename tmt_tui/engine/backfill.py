"""History on first start, so a chart is never empty: bars filled in behind the engine's back.

Two sources, both only into holes (a bar the journal already holds is never rewritten: the
engine's own, built from the ticks it saw, wins):

- the journal's own ticks, when it has ticks but no bars at all (a journal from before bars
  were kept): they are run through a fresh market state on a worker thread, exactly as the
  engine would have, and the bars that closed are kept;
- the venue's history (``venues.base.HistoryFeed``, when its feed has one): for each instrument
  and bar size, the bars between the newest the journal holds and now, at most
  ``engine.backfill_bars`` of them. One request at a time, so a venue's request budget is
  never spent on history while an order waits.

It runs as a task on the engine's loop after the first paint could happen: every venue call is
awaited, every store is one short transaction on the engine thread. A failure is logged once
per feed with what failed (never a URL or a key: only the feed's own message), and the rest
goes on; nothing here can stop the engine.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tmt_tui.analytics.market import SIZE_NAMES, MarketState
from tmt_tui.domain.market import BAR_SECONDS, Bar
from tmt_tui.store.bar_rows import ticks_between
from tmt_tui.venues.base import HistoryFeed, HistoryUnavailable

log = logging.getLogger(__name__)

#: Bars written per transaction on the engine thread (a few milliseconds at most).
STORE_BATCH = 500
#: After this many failures in a row the venue's history is given up for this run.
MAX_FAILURES = 3


@dataclass
class BackfillReport:
    """What a backfill did: bars new to the journal from each source, and what failed."""

    from_ticks: int = 0
    from_venue: int = 0
    failures: list[str] = field(default_factory=list)
    done: bool = False


@dataclass(frozen=True)
class BackfillPlan:
    """What to fill: the instruments, how many bars of each size, and until when."""

    instruments: tuple[str, ...]
    count: int
    now: float


Store = Callable[[Sequence[Bar]], int]
Newest = Callable[[str, str], float | None]


def wanted(newest: float | None, size: str, count: int, now: float) -> int:
    """How many bars of ``size`` to ask for when the journal's newest started at ``newest``:
    ``count`` for none, else the complete bars since it (0 when it is the last complete one)."""
    seconds = BAR_SECONDS[size]
    if newest is None:
        return count
    missing = math.floor((now - newest) / seconds) - 1
    return max(0, min(count, missing))


def bars_from_ticks(
    journal: Path, instruments: Sequence[str], since: float, until: float
) -> list[Bar]:
    """The bars the journal's ticks between ``since`` and ``until`` close, built by the same
    market state the engine feeds (on any thread: it reads through its own connection)."""
    state = MarketState(instruments)
    for ts, name, bid, ask in ticks_between(journal, since, until):
        state.on_quote(name, ts, bid, ask)
    return state.take_closed()


async def store_in_batches(bars: Sequence[Bar], store: Store) -> int:
    """Write ``bars`` a batch at a time, letting the loop run between batches."""
    new = 0
    for i in range(0, len(bars), STORE_BATCH):
        new += store(bars[i : i + STORE_BATCH])
        await asyncio.sleep(0)
    return new


async def backfill(
    plan: BackfillPlan,
    feed: object,
    journal: Path,
    newest: Newest,
    store: Store,
    oldest_tick: float | None,
    report: BackfillReport | None = None,
) -> BackfillReport:
    """Fill the journal's holes from its ticks, then from ``feed``'s history if it has one."""
    report = report if report is not None else BackfillReport()
    started = time.monotonic()
    if (
        plan.count
        and oldest_tick is not None
        and all(newest(name, "S5") is None for name in plan.instruments)
    ):
        since = max(oldest_tick, plan.now - plan.count * BAR_SECONDS["H1"])
        built = await asyncio.to_thread(bars_from_ticks, journal, plan.instruments, since, plan.now)
        report.from_ticks = await store_in_batches(built, store)
    if plan.count and isinstance(feed, HistoryFeed):
        await _from_venue(plan, feed, newest, store, report)
    report.done = True
    log.info(
        "backfill done in %.1fs: %d bars from the journal's ticks, %d from the venue%s",
        time.monotonic() - started, report.from_ticks, report.from_venue,
        f", {len(report.failures)} request(s) failed" if report.failures else "",
    )  # fmt: skip
    return report


async def _from_venue(
    plan: BackfillPlan, feed: HistoryFeed, newest: Newest, store: Store, report: BackfillReport
) -> None:
    failed_in_a_row = 0
    for name in plan.instruments:
        for size in SIZE_NAMES:
            count = wanted(newest(name, size), size, plan.count, plan.now)
            if not count:
                continue
            try:
                bars = await feed.history(name, size, count)
            except asyncio.CancelledError:
                raise
            except HistoryUnavailable as exc:
                why = str(exc)
            except Exception as exc:  # a bug or a transport error: said by its type alone
                why = f"{type(exc).__name__} (an unexpected failure)"
            else:
                failed_in_a_row = 0
                report.from_venue += await store_in_batches(bars, store)
                continue
            failed_in_a_row += 1
            report.failures.append(f"{name} {size}: {why}")
            log.warning("backfill: no %s history of %s: %s", size, name, why)
            if failed_in_a_row >= MAX_FAILURES:
                log.warning(
                    "backfill: the venue's history failed %d times in a row; giving up until "
                    "the next start (bars still build from live quotes)",
                    failed_in_a_row,
                )
                return
