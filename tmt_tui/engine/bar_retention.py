"""Bar retention: S5 bars (17,280 a day a pair) would outgrow every other table, so each size
keeps ``engine.bar_retention_days`` (S5 a week, M1 ninety days by default; a size not named is
kept), pruned a batch at a time between the engine's other work.

Each batch is one short transaction along the bars' primary key (``Journal.prune_bars``), so a
year of S5 bars to catch up on goes in many small steps a second apart, never one long lock
that an order's commit would wait behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tmt_tui.store.journal import Journal

#: The most bars one pass deletes (a few milliseconds of the engine thread).
PRUNE_BATCH = 2000
#: Seconds between passes while old bars remain, and once none do.
BUSY_S = 1.0
IDLE_S = 300.0
DAY_S = 86_400.0


def prune_some(
    journal: Journal, instruments: Iterable[str], days: Mapping[str, float], now: float
) -> int:
    """One pass: delete up to ``PRUNE_BATCH`` bars past their size's retention; returns how
    many went (0: nothing is left to prune)."""
    pruned = 0
    for size, keep in days.items():
        before = now - keep * DAY_S
        for name in instruments:
            pruned += journal.prune_bars(name, size, before, PRUNE_BATCH - pruned)
            if pruned >= PRUNE_BATCH:
                return pruned
    return pruned
