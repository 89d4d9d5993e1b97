"""The journal's API: append events and the tables derived from them, replay them on restart.

An append-only SQLite journal (WAL) of every event, plus derived tables and batched ticks.
Order-path transactions commit with ``synchronous=FULL`` so an acknowledged order survives a
crash; ticks batch under ``NORMAL`` because losing the last quarter-second of quotes after a
power cut costs nothing.

Opening one takes its lock, looks at what is at the path (:mod:`tmt_tui.store.journal_file`:
a file that is not a tmt journal, or is one from a newer tmt, is refused and never written),
makes a new journal if there is none yet, and brings a journal of an older schema up to this
tmt's after backing it up (:mod:`tmt_tui.store.migrations`; the tables and the steps are in
:mod:`tmt_tui.store.schema`).
"""

from __future__ import annotations

import json
import math
import secrets
import sqlite3
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson

from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.events import STATEFUL_KINDS, Event, EventKind
from tmt_tui.domain.market import Bar
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, Position
from tmt_tui.domain.quotes import Quote
from tmt_tui.store import chain, schema
from tmt_tui.store.chain import Head
from tmt_tui.store.errors import JournalError, JournalLocked, MigrationError
from tmt_tui.store.journal_file import acquire_lock, create, identify, release_lock
from tmt_tui.store.migrations import MigrationProgress, OnProgress, migrate

__all__ = ["Journal", "JournalError", "JournalLocked", "MigrationError", "MigrationProgress"]


#: One encoder for every event (json.dumps with separators builds a new one at each call).
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _loads(text: str) -> Any:
    """An event's data: orjson (about half the time of json.loads, and replay decodes every
    stateful event), falling back to json for what orjson refuses but json wrote (a NaN, an
    integer past 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class Journal:
    """Owns one journal file and its lock for the life of an engine."""

    def __init__(self, path: Path, on_progress: OnProgress | None = None) -> None:
        """Open the journal at ``path``, made if there is none, migrated if it is older (a
        backup first; ``on_progress`` hears how far it got, by default the log)."""
        self.path = path
        #: The copy of the journal made before migrating it at this open, if it was migrated.
        self.backup: Path | None = None
        self._lock_file: IO[str] | None = acquire_lock(path)
        try:
            version = identify(path)
            if version is None:
                create(path)
            self.conn = self._connect(path)
            try:
                if version is not None and version < schema.SCHEMA_VERSION:
                    self.backup = migrate(self.conn, path, version, on_progress=on_progress)
                self._prepare()
            except BaseException:
                self.conn.close()
                raise
        except BaseException:
            self._release_lock()
            raise
        self._sync = ""

    # opening --------------------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("pragma journal_mode=wal")
            conn.execute("pragma synchronous=full")
            conn.execute("pragma wal_autocheckpoint=0")  # the engine calls checkpoint_wal()
        except sqlite3.Error as exc:
            raise JournalError(f"{path} cannot be opened ({exc})") from None
        return conn

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            release_lock(self._lock_file)
            self._lock_file = None

    def _prepare(self) -> None:
        c = self.conn
        try:
            row = c.execute("select value from meta where key = 'journal_id'").fetchone()
            if row is None:  # a journal made before journal ids
                row = (secrets.token_hex(3),)
                with c:
                    c.execute("insert into meta (key, value) values ('journal_id', ?)", row)
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path} cannot be opened ({exc})") from None
        #: Six hex digits naming this journal: a venue sees our order ids with it in front,
        #: so that a new journal never reuses a client order id an old one sent.
        self.journal_id: str = row[0]
        try:
            (chained,) = c.execute("select value from meta where key = 'chain_from'").fetchone()
            last = c.execute(
                "select seq, hash from events where seq >= ? order by seq desc limit 1",
                (int(chained),),
            ).fetchone()
        except (sqlite3.Error, TypeError) as exc:
            raise JournalError(f"{self.path}: its hash chain cannot be read ({exc})") from None
        #: The first event the hash chain covers (store/chain.py).
        self.chain_from = int(chained)
        self._head = (
            Head(int(last[0]), str(last[1]))
            if last is not None and last[1] is not None
            else Head(self.chain_from - 1, chain.genesis(self.journal_id, self.chain_from))
        )

    @property
    def head(self) -> Head:
        """The newest event written and its hash: the chain head to keep elsewhere (before any
        event, the genesis)."""
        return self._head

    def close(self) -> None:
        try:
            self.conn.execute("pragma wal_checkpoint(truncate)")
            self.conn.close()
        finally:
            self._release_lock()

    # writing --------------------------------------------------------------------------------

    def _synchronous(self, mode: str) -> None:
        if self._sync != mode:
            self.conn.execute(f"pragma synchronous={mode}")
            self._sync = mode

    def append(self, events: list[Event], orders: Iterable[Order] = ()) -> None:
        """Commit events (and the orders rows they changed) in one durable (synchronous=FULL)
        transaction: the acknowledgement waits on this."""
        self._synchronous("full")
        c = self.conn
        seq = events[-1].seq if events else 0
        rows, previous = [], self._head.hash
        for e in events:
            data = _dumps(e.data)
            previous = chain.link(previous, e.seq, e.ts, e.kind.value, e.origin, data)
            rows.append((e.seq, e.ts, e.kind.value, e.origin, data, previous))
        c.execute("begin")
        try:
            c.executemany(
                "insert into events (seq, ts, kind, origin, data, hash) values (?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._upsert_orders(seq, orders)
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")
        if rows:
            self._head = Head(seq, previous)

    def _upsert_orders(self, seq: int, orders: Iterable[Order]) -> None:
        self.conn.executemany(
                "insert or replace into orders values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (o.id, o.account, o.instrument, o.units, o.type.value, o.status.value,
                     _s(o.price), _s(o.take_profit), _s(o.stop_loss), o.trade_id, o.filled_units,
                     _s(o.avg_fill_price), o.reason, o.origin, o.created_ts, o.updated_ts, seq)
                    for o in orders
                ],
            )  # fmt: skip

    def append_positions(self, seq: int, positions: Iterable[Position]) -> None:
        """Upsert the derived positions rows (synchronous=NORMAL, batched): a view rebuilt from
        events, never the source of truth, so it need not hold up an acknowledgement."""
        self._synchronous("normal")
        c = self.conn
        c.execute("begin")
        try:
            c.executemany(
                "insert or replace into positions values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (p.key, p.account, p.instrument, p.units, str(p.avg_price),
                     str(p.realized_pl), _dumps([to_wire(t) for t in p.trades]), seq)
                    for p in positions
                ],
            )  # fmt: skip
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")

    def checkpoint_wal(self) -> None:
        """Fold the WAL into the database, from the writer's own thread between commits.

        A checkpoint that completes lets the next commit reuse the WAL from its start, and a
        WAL that stops growing keeps the durable commits that gate acks cheap (measured: a
        commit's p50 ~310 us with a background checkpointer that never caught up, ~220 us this
        way). SQLite's own auto-checkpoint would run inside whichever commit crossed its
        threshold, i.e. inside an acknowledgement.
        """
        self._synchronous("normal")
        self.conn.execute("pragma wal_checkpoint(passive)")

    def append_ticks(self, quotes: list[Quote], bars: Sequence[Bar] = ()) -> None:
        """Batch ticks (and each instrument's latest) under synchronous=NORMAL, with the bars
        they closed in the same transaction: a restart finds bars and the ticks after them
        consistent, so it can rebuild the live bar from those ticks."""
        if not quotes and not bars:
            return
        self._synchronous("normal")
        c = self.conn
        rows = [(q.ts, q.instrument, str(q.bid), str(q.ask)) for q in quotes]
        c.execute("begin")
        try:
            c.executemany("insert into ticks (ts, instrument, bid, ask) values (?, ?, ?, ?)", rows)
            latest = {row[1]: row for row in rows}  # only each instrument's newest survives
            c.executemany(
                "insert or replace into last_quotes (ts, instrument, bid, ask) values (?, ?, ?, ?)",
                latest.values(),
            )
            if bars:
                c.executemany(f"insert or replace into bars values ({', '.join('?' * 16)})", bars)
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")

    def add_bars(self, bars: Sequence[Bar]) -> int:
        """Backfilled bars (a venue's history, bars rebuilt from old ticks), in one
        synchronous=NORMAL transaction; a bar the journal already holds is kept as it is (the
        engine's own, built from the ticks it saw, wins). Returns how many were new."""
        if not bars:
            return 0
        self._synchronous("normal")
        c = self.conn
        before = c.total_changes
        c.execute("begin")
        try:
            c.executemany(f"insert or ignore into bars values ({', '.join('?' * 16)})", bars)
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")
        return c.total_changes - before

    def prune_bars(self, instrument: str, size: str, before: float, limit: int) -> int:
        """Delete at most ``limit`` of ``instrument``'s bars of ``size`` that started before
        ``before``, oldest first: a batch, so retention runs between the engine's other work,
        never in one long transaction. A range along the primary key, so it costs the rows it
        deletes, whatever the table holds. Returns how many went."""
        c = self.conn
        key = (instrument, size)
        row = c.execute(
            "select start from bars where instrument = ? and size = ? and start < ? "
            "order by start limit 1 offset ?",
            (*key, before, max(limit, 1) - 1),
        ).fetchone()
        bound, op = (before, "<") if row is None else (row[0], "<=")
        self._synchronous("normal")
        c.execute("begin")
        try:
            cursor = c.execute(
                f"delete from bars where instrument = ? and size = ? and start {op} ?",
                (*key, bound),
            )
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")
        return cursor.rowcount

    def newest_bar_start(self, instrument: str, size: str) -> float | None:
        """When the newest bar the journal holds of ``instrument`` and ``size`` started."""
        row = self.conn.execute(
            "select max(start) from bars where instrument = ? and size = ?", (instrument, size)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def oldest_tick_ts(self) -> float | None:
        """When the first tick the journal holds was written (None: there is none)."""
        row = self.conn.execute("select ts from ticks order by rowid limit 1").fetchone()
        return None if row is None else float(row[0])

    def recent_bars(
        self, instruments: Iterable[str], sizes: Iterable[str], per_size: int
    ) -> list[Bar]:
        """The newest ``per_size`` closed bars of each of ``instruments`` and ``sizes``, oldest
        first within each: what a restart rebuilds market state from. One query per pair, each
        a walk back along the primary key, so months of S5 bars cost nothing here."""
        bars: list[Bar] = []
        sizes = tuple(sizes)
        for instrument in instruments:
            for size in sizes:
                rows = self.conn.execute(
                    "select * from bars where instrument = ? and size = ? "
                    "order by start desc limit ?",
                    (instrument, size, per_size),
                ).fetchall()
                bars.extend(Bar(*row) for row in reversed(rows))
        return bars

    def append_equity(
        self,
        ts: float,
        accounts: Iterable[AccountState],
        report_currency: str | None = None,
        rates: Mapping[str, Decimal] | None = None,
    ) -> None:
        """One equity sample per account; ``rates[account]`` is what one unit of its currency
        is worth in ``report_currency`` now (an account without one is stored without)."""
        rates = rates or {}
        self._synchronous("normal")
        with self.conn:
            self.conn.execute("begin")
            self.conn.executemany(
                "insert into equity values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ts, a.id, str(a.balance), str(a.equity), str(a.unrealized_pl),
                     str(a.margin_used), a.trading_state.value, report_currency,
                     None if (r := rates.get(a.id)) is None else str(r))
                    for a in accounts
                ],
            )  # fmt: skip

    def checkpoint(self, seq: int, ts: float, trading_day: str, state: dict[str, Any]) -> None:
        self._synchronous("full")
        with self.conn:
            self.conn.execute("begin")
            self.conn.execute(
                "insert or replace into checkpoints values (?, ?, ?, ?)",
                (seq, ts, trading_day, _dumps(state)),
            )

    # reading --------------------------------------------------------------------------------

    def latest_checkpoint(self) -> dict[str, Any] | None:
        row = self.conn.execute(
            "select state from checkpoints order by seq desc limit 1"
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def latest_checkpoint_ts(self) -> float | None:
        """When the newest checkpoint was taken (None: there is none)."""
        row = self.conn.execute("select ts from checkpoints order by seq desc limit 1").fetchone()
        return None if row is None else float(row[0])

    def ticks_since(self, ts: float | None) -> Generator[tuple[float, str, float, float]]:
        """The accepted quotes journaled at or after ``ts`` (every one for None), in the order
        they were written, as (ts, instrument, bid, ask). Ticks are appended in time order, so
        the first is found by bisecting rowids: no scan of the quotes before it."""
        low, high = self.conn.execute("select min(rowid), max(rowid) from ticks").fetchone()
        if low is None:
            return
        if ts is not None:
            while low < high:  # the first rowid at or after ts (rowids may have gaps)
                mid = (low + high) // 2
                row = self.conn.execute(
                    "select rowid, ts from ticks where rowid >= ? order by rowid limit 1", (mid,)
                ).fetchone()
                if row[1] < ts:
                    low = row[0] + 1
                else:
                    high = mid if row[0] > mid else row[0]
        cursor = self.conn.execute(
            "select ts, instrument, cast(bid as real), cast(ask as real) from ticks "
            "where rowid >= ? and ts >= ? order by rowid",
            (low, -math.inf if ts is None else ts),
        )
        try:
            yield from cursor
        finally:
            cursor.close()  # a reader that stops early must not leave the table locked

    def replay(self, after_seq: int) -> Iterator[Event]:
        """Events after ``after_seq`` whose kind changes state, in order (the audit-only kinds are
        skipped without being decoded, which is most of what keeps replay fast)."""
        kinds = tuple(k.value for k in STATEFUL_KINDS) + (EventKind.ENGINE_STARTED.value,)
        marks = ",".join("?" * len(kinds))
        cursor = self.conn.execute(
            f"select seq, ts, kind, origin, data from events where seq > ? and kind in ({marks}) "
            "order by seq",
            (after_seq, *kinds),
        )
        by_value = {k.value: k for k in EventKind}
        for seq, ts, kind, origin, data in cursor:
            yield Event(seq, ts, by_value[kind], origin, _loads(data))

    def last_seq(self) -> int:
        row = self.conn.execute("select max(seq) from events").fetchone()
        return int(row[0] or 0)

    def recent_events(self, limit: int) -> list[Event]:
        rows = self.conn.execute(
            "select seq, ts, kind, origin, data from events order by seq desc limit ?", (limit,)
        ).fetchall()
        return [
            Event(seq, ts, EventKind(kind), origin, json.loads(data))
            for seq, ts, kind, origin, data in reversed(rows)
        ]

    def last_quotes(self) -> list[Quote]:
        return [
            Quote(instrument, Decimal(bid), Decimal(ask), ts)
            for instrument, ts, bid, ask in self.conn.execute(
                "select instrument, ts, bid, ask from last_quotes"
            )
        ]


def _s(value: object) -> str | None:
    return None if value is None else str(value)
