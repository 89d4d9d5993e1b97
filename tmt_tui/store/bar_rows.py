"""Reading bars and ticks from a journal beside the engine that writes it: a chart's candles and
the old ticks a backfill rebuilds bars from, each on a read-only connection of its own.

Read-only (``mode=ro``) takes no lock and writes nothing, so these run on a worker thread while
the engine goes on writing on its own connection (WAL lets readers and one writer overlap).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from tmt_tui.domain.market import Bar


def _open(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def read_bars(path: Path, instrument: str, size: str, count: int) -> list[Bar]:
    """The newest ``count`` closed bars of ``instrument`` and ``size``, oldest first: a walk
    back along the primary key, whatever else the table holds."""
    conn = _open(path)
    try:
        rows = conn.execute(
            "select * from bars where instrument = ? and size = ? order by start desc limit ?",
            (instrument, size, count),
        ).fetchall()
    finally:
        conn.close()
    return [Bar(*row) for row in reversed(rows)]


Tick = tuple[float, str, float, float]


def ticks_between(path: Path, since: float, until: float) -> Iterator[Tick]:
    """The journaled ticks with ``since <= ts < until`` in the order they were written, as
    (ts, instrument, bid, ask). Ticks are appended in time order, so the first is found by
    bisecting rowids (no scan of what came before)."""
    conn = _open(path)
    try:
        low, high = conn.execute("select min(rowid), max(rowid) from ticks").fetchone()
        if low is None:
            return
        while low < high:  # the first rowid at or after since (rowids may have gaps)
            mid = (low + high) // 2
            row = conn.execute(
                "select rowid, ts from ticks where rowid >= ? order by rowid limit 1", (mid,)
            ).fetchone()
            if row[1] < since:
                low = row[0] + 1
            else:
                high = mid if row[0] > mid else row[0]
        cursor = conn.execute(
            "select ts, instrument, cast(bid as real), cast(ask as real) from ticks "
            "where rowid >= ? order by rowid",
            (low,),
        )
        for tick in cursor:
            if tick[0] >= until:
                break
            if tick[0] >= since:
                yield tick
    finally:
        conn.close()
