"""The journal as the first tmt made and wrote it (schema v1), frozen here: never edit it.

The migration tests make genuine old journals with it: :func:`make_v1_journal` creates the
tables exactly as v1 did (the statements are v1's ``sqlite_master`` entries, verbatim) and
:class:`V1Writer` writes rows with v1's own statements. :func:`journal_at` makes a journal at
any later version by running the real migration steps on a v1 one, which is how a test of a
new step gets its v(N-1) journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.events import Event
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, Position
from tmt_tui.domain.quotes import Quote
from tmt_tui.store import schema
from tmt_tui.store.migrations import migrate

V1_DDL = (
    'CREATE TABLE "meta" (\n   "key" TEXT PRIMARY KEY,\n   "value" TEXT\n)',
    'CREATE TABLE "events" (\n   "seq" INTEGER PRIMARY KEY,\n   "ts" REAL,\n   "kind" TEXT,\n'
    '   "origin" TEXT,\n   "data" TEXT\n)',
    'CREATE TABLE "ticks" (\n   "ts" REAL,\n   "instrument" TEXT,\n   "bid" TEXT,\n'
    '   "ask" TEXT\n)',
    'CREATE TABLE "last_quotes" (\n   "instrument" TEXT PRIMARY KEY,\n   "ts" REAL,\n'
    '   "bid" TEXT,\n   "ask" TEXT\n)',
    'CREATE TABLE "checkpoints" (\n   "seq" INTEGER PRIMARY KEY,\n   "ts" REAL,\n'
    '   "trading_day" TEXT,\n   "state" TEXT\n)',
    "CREATE TABLE orders (id text primary key, account text, instrument text, units integer, "
    "type text, status text, price text, take_profit text, stop_loss text, trade_id text, "
    "filled_units integer, avg_fill_price text, reason text, origin text, created_ts real, "
    "updated_ts real, seq integer) without rowid",
    'CREATE TABLE "positions" (\n   "key" TEXT PRIMARY KEY,\n   "account" TEXT,\n'
    '   "instrument" TEXT,\n   "units" INTEGER,\n   "avg_price" TEXT,\n   "realized_pl" TEXT,\n'
    '   "trades" TEXT,\n   "seq" INTEGER\n)',
    'CREATE TABLE "equity" (\n   "ts" REAL,\n   "account" TEXT,\n   "balance" TEXT,\n'
    '   "equity" TEXT,\n   "unrealized_pl" TEXT,\n   "margin_used" TEXT,\n'
    '   "trading_state" TEXT\n)',
    'CREATE INDEX "idx_equity_account_ts"\n    ON "equity" ("account", "ts")',
)
V1_TABLES = ("meta", "events", "ticks", "last_quotes", "checkpoints", "orders", "positions",
             "equity")  # fmt: skip


def make_v1_journal(path: Path, journal_id: str = "c0ffee") -> None:
    """An empty journal exactly as a v1 tmt made it: WAL mode, the v1 tables, its meta rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("pragma journal_mode=wal")
        conn.execute("begin")
        for ddl in V1_DDL:
            conn.execute(ddl)
        conn.executemany(
            "insert into meta (key, value) values (?, ?)",
            [("app", "tmt-journal"), ("schema", "1"), ("journal_id", journal_id)],
        )
        conn.execute("commit")
    finally:
        conn.close()


def journal_at(path: Path, version: int) -> None:
    """A genuine journal at ``version``: made at v1, then taken up by the real steps (the
    backup that makes is removed)."""
    make_v1_journal(path)
    if version == 1:
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        steps = [s for s in schema.STEPS if s.version <= version]
        backup = migrate(conn, path, 1, steps, on_progress=lambda progress: None)
    finally:
        conn.close()
    backup.unlink()


def _s(value: object) -> str | None:
    return None if value is None else str(value)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


class V1Writer:
    """Writes rows into a v1 journal the way the v1 tmt did."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)

    def close(self) -> None:
        self.conn.close()

    def _in_one_transaction(self, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
        self.conn.execute("begin")
        self.conn.executemany(sql, rows)
        self.conn.execute("commit")

    def events(self, events: Iterable[Event]) -> None:
        self._in_one_transaction(
            "insert into events (seq, ts, kind, origin, data) values (?, ?, ?, ?, ?)",
            [(e.seq, e.ts, e.kind.value, e.origin, _dumps(e.data)) for e in events],
        )

    def orders(self, seq: int, orders: Iterable[Order]) -> None:
        self._in_one_transaction(
                "insert or replace into orders values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (o.id, o.account, o.instrument, o.units, o.type.value, o.status.value,
                     _s(o.price), _s(o.take_profit), _s(o.stop_loss), o.trade_id, o.filled_units,
                     _s(o.avg_fill_price), o.reason, o.origin, o.created_ts, o.updated_ts, seq)
                    for o in orders
                ],
            )  # fmt: skip

    def positions(self, seq: int, positions: Iterable[Position]) -> None:
        self._in_one_transaction(
                "insert or replace into positions values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (p.key, p.account, p.instrument, p.units, str(p.avg_price),
                     str(p.realized_pl), _dumps([to_wire(t) for t in p.trades]), seq)
                    for p in positions
                ],
            )  # fmt: skip

    def ticks(self, quotes: list[Quote]) -> None:
        rows = [(q.ts, q.instrument, str(q.bid), str(q.ask)) for q in quotes]
        self._in_one_transaction(
            "insert into ticks (ts, instrument, bid, ask) values (?, ?, ?, ?)", rows
        )
        self._in_one_transaction(
            "insert or replace into last_quotes (ts, instrument, bid, ask) values (?, ?, ?, ?)",
            {row[1]: row for row in rows}.values(),
        )

    def equity(self, ts: float, accounts: Iterable[AccountState]) -> None:
        self._in_one_transaction(
                "insert into equity values (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ts, a.id, str(a.balance), str(a.equity), str(a.unrealized_pl),
                     str(a.margin_used), a.trading_state.value)
                    for a in accounts
                ],
            )  # fmt: skip

    def checkpoint(self, seq: int, ts: float, trading_day: str, state: dict[str, Any]) -> None:
        self._in_one_transaction(
            "insert or replace into checkpoints values (?, ?, ?, ?)",
            [(seq, ts, trading_day, _dumps(state))],
        )
