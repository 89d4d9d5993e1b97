"""How the database compares with the journal: row counts and checksums per table, and the
status a user asks for (watermarks, lag, the running sync's last error).

A checksum is the sum, modulo 2^64, of the first 60 bits of each row's MD5 over a few of its
columns joined by ``|``: computed the same way on both sides (Python over the journal, SQL in
the database), independent of row order, and streamed (no table is held in memory). Prices and
money are compared as numbers (trailing zeros dropped on both sides), since ``numeric`` keeps
what it was given but the journal's text is the source. Events are compared by their hash too,
which covers their data (store/chain.py). Beside a busy engine, an order changed and copied in
the moment between the journal's read and the database's shows as a difference: run it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import psycopg

from tmt_tui.sync.journal_reader import STREAMS, JournalReader
from tmt_tui.sync.loop import SyncStatus
from tmt_tui.sync.process import status_path

_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class TableCheck:
    """One table on both sides (up to the watermark for the append-only ones)."""

    table: str
    journal_rows: int
    db_rows: int
    journal_sum: str
    db_sum: str

    @property
    def agrees(self) -> bool:
        return self.journal_rows == self.db_rows and self.journal_sum == self.db_sum


#: table -> (journal table, its key, the columns of a row's text, which rows; the database's
#: SQL of the same text, its watermark stream). Prices go through ``_num`` in Python and
#: ``trim_scale`` in SQL. The journal is read a page at a time by its key, each page one short
#: statement: a snapshot held for the whole scan would keep the engine's WAL checkpoints from
#: completing (store/journal.py ``checkpoint_wal``).
_CHECKS: dict[str, tuple[str, str, str, str, str, str]] = {
    "events": (
        "events", "seq", "seq, kind, origin, coalesce(hash, '')", "seq <= ?",
        "select concat_ws('|', seq, kind, origin, coalesce(hash, '')) from tmt.events "
        "where journal_id = %s and seq <= %s",
        "events",
    ),
    # from the journal's lowest tick: the sync may have pruned the older ones from it
    "ticks": (
        "ticks", "rowid", "rowid, instrument, bid, ask", "rowid <= ?",
        "select concat_ws('|', id, instrument, trim_scale(bid), trim_scale(ask)) "
        "from tmt.ticks where journal_id = %s and id <= %s and id >= %s",
        "ticks",
    ),
    "equity": (
        "equity", "rowid", "rowid, account, equity, balance", "rowid <= ?",
        "select concat_ws('|', id, account, trim_scale(equity), trim_scale(balance)) "
        "from tmt.equity where journal_id = %s and id <= %s",
        "equity",
    ),
    # rows that change: those at or below the watermark on both sides, less the rows the
    # journal changed since (the database may still hold their older version)
    "orders": (
        "orders", "id", "id, status, filled_units, seq", "seq <= ?",
        "select concat_ws('|', id, status, filled_units, seq) from tmt.orders "
        "where journal_id = %s and seq <= %s and not (id = any(%s))",
        "orders",
    ),
    "positions": (
        "positions", "key", "key, units, realized_pl, seq", "seq <= ?",
        "select concat_ws('|', key, units, trim_scale(realized_pl), seq) from tmt.positions "
        "where journal_id = %s and seq <= %s and not (key = any(%s))",
        "positions",
    ),
}  # fmt: skip
#: Rows of the journal read per statement by ``tmt sync check``.
PAGE_ROWS = 5000
#: The journal's rows changed past the watermark, by key, of the tables of changing rows.
_CHANGED_SINCE = {
    "orders": "select id from orders where seq > ?",
    "positions": "select key from positions where seq > ?",
}
_NUMERIC = {"ticks": (2, 3), "equity": (2, 3), "positions": (2,)}


def _num(text: Any) -> str:
    """A decimal as PostgreSQL's ``trim_scale(numeric)::text`` writes it."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return str(text)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _fold(total: int, text: str) -> int:
    return (total + int(hashlib.md5(text.encode()).hexdigest()[:15], 16)) & _MASK


_DB_SUM = (
    "select count(*), coalesce(sum(('x' || substr(md5(t), 1, 15))::bit(60)::bigint::numeric) "
    "%% 18446744073709551616, 0)::text from ({inner}) as r(t)"
)


def check_tables(
    reader: JournalReader, conn: psycopg.Connection[tuple[Any, ...]]
) -> tuple[list[TableCheck], dict[str, int]]:
    """Each table's counts and checksums, journal vs database, for this journal, each up to
    the database's watermark (what the sync says it copied): beside a running engine, what
    was copied is compared, and what was not is the lag."""
    row = conn.execute(
        "select coalesce(json_object_agg(stream, watermark), '{}') from tmt.sync_state "
        "where journal_id = %s",
        (reader.journal_id,),
    ).fetchone()
    marks: dict[str, int] = {s: 0 for s in STREAMS}
    if row is not None and row[0]:
        found = row[0] if isinstance(row[0], dict) else json.loads(str(row[0]))
        marks.update({str(k): int(v) for k, v in found.items()})
    results = []
    for table, (name, key, columns, which, db_sql, stream) in _CHECKS.items():
        upto = marks[stream]
        numeric = _NUMERIC.get(table, ())
        total, count = 0, 0
        params: tuple[Any, ...] = (reader.journal_id, upto)
        low: int | None = None
        if table == "ticks":
            (low,) = reader.conn.execute("select min(rowid) from ticks").fetchone()
            low = upto + 1 if low is None else int(low)
            params += (low,)
        page = (
            f"select {key}, {columns} from {name} where {key} > ? and {which} "
            f"{'' if low is None else f'and {key} >= {low} '}order by {key} limit {PAGE_ROWS}"
        )
        after: Any = -1 if key in ("seq", "rowid") else ""
        while rows := reader.conn.execute(page, (after, upto)).fetchall():
            for _key, *parts in rows:
                fields = [_num(p) if i in numeric else str(p) for i, p in enumerate(parts)]
                total = _fold(total, "|".join(fields))
            count += len(rows)
            after = rows[-1][0]
        if table in _CHANGED_SINCE:
            changed = [k for (k,) in reader.conn.execute(_CHANGED_SINCE[table], (upto,))]
            params += (changed,)
        got = conn.execute(_DB_SUM.format(inner=db_sql), params).fetchone()
        db_rows, db_sum = (int(got[0]), str(got[1])) if got else (0, "0")
        results.append(TableCheck(table, count, db_rows, str(total), db_sum))
    return results, marks


def derived_counts(
    reader: JournalReader, conn: psycopg.Connection[tuple[Any, ...]], upto: int
) -> list[TableCheck]:
    """Fills and alerts: as many in the database as the journal's events up to ``upto`` hold."""
    results = []
    for table, kinds in (
        ("fills", ("order.filled",)),
        ("alerts", ("alert.raised", "alert.cleared")),
    ):
        marks = ",".join("?" * len(kinds))
        with reader.snapshot():
            (count,) = reader.conn.execute(
                f"select count(*) from events where seq <= ? and kind in ({marks})", (upto, *kinds)
            ).fetchone()
        got = conn.execute(
            f"select count(*) from tmt.{table} where journal_id = %s and seq <= %s",
            (reader.journal_id, upto),
        ).fetchone()
        db_rows = int(got[0]) if got else 0
        results.append(TableCheck(table, int(count), db_rows, "-", "-"))
    return results


# status -----------------------------------------------------------------------------------------


def running_status(journal: Path) -> SyncStatus | None:
    """What the sync beside the engine last said (None: no sync has run on this journal)."""
    try:
        return SyncStatus.from_json(status_path(journal).read_text())
    except (OSError, ValueError, TypeError):
        return None


def status_payload(
    journal: Path,
    reader: JournalReader | None,
    conn: psycopg.Connection[tuple[Any, ...]] | None,
    where: str,
    error: str,
) -> dict[str, Any]:
    """``tmt sync status``: the backend, watermarks, lag in rows and seconds, the last error."""
    payload: dict[str, Any] = {"database": where, "journal": str(journal)}
    marks: dict[str, int] = {}
    if conn is not None:
        row = conn.execute(
            "select min(backend), max(version) from tmt.schema_history"
            if _has_schema(conn)
            else "select null, null"
        ).fetchone()
        payload["backend"] = row[0] if row else None
        payload["schema_version"] = row[1] if row else None
        if reader is not None and row and row[0]:
            marks = {
                str(s): int(w)
                for s, w in conn.execute(
                    "select stream, watermark from tmt.sync_state where journal_id = %s",
                    (reader.journal_id,),
                )
            }
    payload["watermarks"] = {s: marks.get(s, 0) for s in STREAMS}
    if reader is not None:
        payload["journal_id"] = reader.journal_id
        with reader.snapshot():
            heads = reader.heads()
            firsts = [reader.first_ts_after(s, marks.get(s, 0)) for s in heads]
        payload["heads"] = heads
        payload["lag_rows"] = sum(max(0, h - marks.get(s, 0)) for s, h in heads.items())
        oldest = min((t for t in firsts if t is not None), default=None)
        payload["lag_s"] = 0.0 if oldest is None else round(max(0.0, time.time() - oldest), 3)
    running = running_status(journal)
    if running is not None and not _alive(running.pid):
        running = None  # what a stopped engine's sync last said: not its word now
    payload["running"] = None if running is None else asdict(running)
    last = error or (running.last_error if running is not None else "")
    payload["last_error"] = last
    payload["ok"] = not error and conn is not None
    return payload


def _has_schema(conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
    row = conn.execute("select to_regclass('tmt.schema_history') is not null").fetchone()
    return bool(row and row[0])


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
