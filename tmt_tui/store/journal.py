"""An append-only SQLite journal (WAL) of every event, plus derived tables and batched ticks.

Order-path transactions commit with ``synchronous=FULL`` so an acknowledged order survives a
crash; ticks batch under ``NORMAL`` because losing the last quarter-second of quotes after a
power cut costs nothing. One process owns a journal at a time (an advisory lock on a side
file records its pid); a file that is not a tmt journal is refused and never written.

A new journal is made whole beside its final name (``journal.db.new-<pid>``: schema and meta
committed, WAL mode set) and renamed into place, so a start killed while making it leaves no
journal, never half of one. An earlier tmt made it in place; an SQLite file with nothing in it
at all is what such a start left when killed, and is replaced by a whole journal.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from tmt_tui.domain.events import STATEFUL_KINDS, Event, EventKind
from tmt_tui.domain.orders import Order
from tmt_tui.domain.positions import AccountState, Position
from tmt_tui.domain.quotes import Quote

APP_ID = "tmt-journal"
SCHEMA_VERSION = "1"
_SQLITE_MAGIC = b"SQLite format 3\x00"
# The files SQLite keeps beside a database, named by appending these to its name.
_SIDECARS = ("-journal", "-wal", "-shm")
# A half-made journal holds no data: a file that needs its hot rollback journal applied before
# it can be read is inspected on a copy only below this size (a bigger one cannot be half-made).
_INSPECT_COPY_MAX_BYTES = 1 << 20
# Checkpoints fsync the database file and disturb the WAL fsyncs that gate acks: do them
# rarely and off the engine thread.
WAL_CHECKPOINT_S = 1.0


class JournalError(Exception):
    """The journal cannot be used; the message names the file."""


class JournalLocked(JournalError):
    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"{path} is in use by process {pid or 'unknown'}; refusing to open it")
        self.pid = pid


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


class Journal:
    """Owns one journal file and its lock for the life of an engine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_file = self._acquire_lock(path)
        try:
            if not self._check_file(path):
                self._create(path)
            try:
                self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                self.db = sqlite_utils.Database(self.conn)
                self._prepare()
            except sqlite3.Error as exc:
                raise JournalError(f"{path} cannot be opened ({exc})") from None
        except BaseException:
            self._release_lock()
            raise
        self._sync = ""

    # opening --------------------------------------------------------------------------------

    @staticmethod
    def _acquire_lock(path: Path) -> Any:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the journal's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip()
            handle.close()
            raise JournalLocked(path, pid) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.seek(0)
            self._lock_file.truncate()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    @staticmethod
    def _check_file(path: Path) -> bool:
        """True if ``path`` is a tmt journal to open; False if there is no journal there yet: no
        file, an empty one, or an SQLite file with nothing in it (what a first start of an
        earlier tmt left when killed). Anything else raises, and the file is never written."""
        if not path.exists() or path.stat().st_size == 0:
            return False
        with open(path, "rb") as f:
            head = f.read(16)
        if head != _SQLITE_MAGIC:
            raise JournalError(
                f"{path} is not a tmt journal (not an SQLite file); leaving it alone"
            )
        try:
            try:
                facts = _inspect(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
            except sqlite3.OperationalError as exc:
                # e.g. a hot rollback journal (a write cut short), which a read-only look
                # cannot roll back ("attempt to write a readonly database"): look at a copy
                facts = _inspect_a_copy(path, exc)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path} is corrupt ({exc}); leaving it alone") from None
        tables, meta, headers = facts
        if not tables and headers == (0, 0):
            return False  # nothing in it: half-made, not someone's data
        if "meta" not in tables:
            raise JournalError(f"{path} is an SQLite file but not a tmt journal; leaving it alone")
        if meta.get("app") != APP_ID:
            raise JournalError(f"{path} is not a tmt journal (app={meta.get('app')!r})")
        if meta.get("schema") != SCHEMA_VERSION:
            raise JournalError(
                f"{path} has journal schema {meta.get('schema')}, this tmt reads {SCHEMA_VERSION}"
            )
        return True

    @staticmethod
    def _create(path: Path) -> None:
        """Make a whole journal beside ``path`` and rename it into place (replacing an empty or
        half-made file there, which :meth:`_check_file` found holds nothing)."""
        path = Path(os.path.realpath(path))  # a symlink's target is made, not the link replaced
        directory = path.parent
        # Only the holder of the lock makes a journal, and we hold it: an aside file is left
        # by a maker that was killed (its process is gone), never one still at work.
        for stale in directory.glob(glob.escape(path.name) + ".new-*"):
            stale.unlink(missing_ok=True)
        aside = path.with_name(f"{path.name}.new-{os.getpid()}")
        conn = sqlite3.connect(aside, isolation_level=None)
        try:
            conn.execute("pragma synchronous=full")
            with conn:
                conn.execute("begin")
                _create_schema(conn)
            conn.execute("pragma journal_mode=wal")  # the content is all in the file already
        finally:
            conn.close()  # the last connection: SQLite removes the (empty) WAL and shm
        for sidecar in _SIDECARS:
            Path(f"{aside}{sidecar}").unlink(missing_ok=True)
        _fsync(aside)
        # The old file's sidecars would be taken for the new one's: they go first (SQLite
        # itself drops those of a file that is missing or empty).
        path.unlink(missing_ok=True)
        for sidecar in _SIDECARS:
            Path(f"{path}{sidecar}").unlink(missing_ok=True)
        os.replace(aside, path)
        _fsync(directory)

    def _prepare(self) -> None:
        c = self.conn
        c.execute("pragma journal_mode=wal")
        c.execute("pragma synchronous=full")
        c.execute("pragma wal_autocheckpoint=0")  # the engine calls checkpoint_wal() instead
        row = c.execute("select value from meta where key = 'journal_id'").fetchone()
        if row is None:  # a journal made before journal ids
            row = (secrets.token_hex(3),)
            with c:
                c.execute("insert into meta (key, value) values ('journal_id', ?)", row)
        #: Six hex digits naming this journal: a venue sees our order ids with it in front,
        #: so that a new journal never reuses a client order id an old one sent.
        self.journal_id: str = row[0]

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
        c.execute("begin")
        try:
            c.executemany(
                "insert into events (seq, ts, kind, origin, data) values (?, ?, ?, ?, ?)",
                [(e.seq, e.ts, e.kind.value, e.origin, _dumps(e.data)) for e in events],
            )
            self._upsert_orders(seq, orders)
        except BaseException:
            c.execute("rollback")
            raise
        c.execute("commit")

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
                     str(p.realized_pl), _dumps([t.to_wire() for t in p.trades]), seq)
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

    def append_ticks(self, quotes: list[Quote]) -> None:
        """Batch ticks (and each instrument's latest) under synchronous=NORMAL."""
        if not quotes:
            return
        self._synchronous("normal")
        c = self.conn
        rows = [(q.ts, q.instrument, str(q.bid), str(q.ask)) for q in quotes]
        c.execute("begin")
        c.executemany("insert into ticks (ts, instrument, bid, ask) values (?, ?, ?, ?)", rows)
        latest = {row[1]: row for row in rows}  # only each instrument's newest survives
        c.executemany(
            "insert or replace into last_quotes (ts, instrument, bid, ask) values (?, ?, ?, ?)",
            latest.values(),
        )
        c.execute("commit")

    def append_equity(self, ts: float, accounts: Iterable[AccountState]) -> None:
        self._synchronous("normal")
        with self.conn:
            self.conn.execute("begin")
            self.conn.executemany(
                "insert into equity values (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ts, a.id, str(a.balance), str(a.equity), str(a.unrealized_pl),
                     str(a.margin_used), a.trading_state.value)
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
        loads = json.loads
        by_value = {k.value: k for k in EventKind}
        for seq, ts, kind, origin, data in cursor:
            yield Event(seq, ts, by_value[kind], origin, loads(data))

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


def _create_schema(conn: sqlite3.Connection) -> None:
    """Every table of a journal and its meta rows, inside the caller's transaction."""
    db = sqlite_utils.Database(conn)
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("meta").insert_all(
        [
            {"key": "app", "value": APP_ID},
            {"key": "schema", "value": SCHEMA_VERSION},
            {"key": "journal_id", "value": secrets.token_hex(3)},
        ]
    )
    db.table("events").create(
        {"seq": int, "ts": float, "kind": str, "origin": str, "data": str}, pk="seq"
    )
    db.table("ticks").create({"ts": float, "instrument": str, "bid": str, "ask": str})
    db.table("last_quotes").create(
        {"instrument": str, "ts": float, "bid": str, "ask": str}, pk="instrument"
    )
    db.table("checkpoints").create(
        {"seq": int, "ts": float, "trading_day": str, "state": str}, pk="seq"
    )
    conn.execute(  # without rowid: one b-tree to touch per upsert on the ack path
        "create table orders (id text primary key, account text, instrument text, "
        "units integer, type text, status text, price text, take_profit text, "
        "stop_loss text, trade_id text, filled_units integer, avg_fill_price text, "
        "reason text, origin text, created_ts real, updated_ts real, seq integer) "
        "without rowid"
    )
    db.table("positions").create(
        {"key": str, "account": str, "instrument": str, "units": int,
         "avg_price": str, "realized_pl": str, "trades": str, "seq": int},
        pk="key",
    )  # fmt: skip
    db.table("equity").create(
        {"ts": float, "account": str, "balance": str, "equity": str,
         "unrealized_pl": str, "margin_used": str, "trading_state": str},
    )  # fmt: skip
    db.table("equity").create_index(["account", "ts"])


_Facts = tuple[set[str], dict[str, str], tuple[int, int]]


def _inspect(conn: sqlite3.Connection) -> _Facts:
    """What a database holds: its schema's names, its meta rows if it has a meta table, and
    its (user_version, application_id). Closes ``conn``."""
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master")}
        meta: dict[str, str] = {}
        if "meta" in names:
            meta = dict(conn.execute("select key, value from meta").fetchall())
        headers = (
            conn.execute("pragma user_version").fetchone()[0],
            conn.execute("pragma application_id").fetchone()[0],
        )
        return names, meta, headers
    finally:
        conn.close()


def _inspect_a_copy(path: Path, error: sqlite3.OperationalError) -> _Facts:
    """:func:`_inspect` a copy of ``path`` (with its rollback journal or WAL), where SQLite may
    roll back or recover what it must: the file itself is never written."""
    files = [Path(f"{path}{s}") for s in ("", "-journal", "-wal")]
    if sum(f.stat().st_size for f in files if f.exists()) > _INSPECT_COPY_MAX_BYTES:
        raise error  # the read-only look's: too big to be a half-made journal
    with tempfile.TemporaryDirectory(prefix="tmt-journal-") as tmp:
        copy = Path(tmp) / "copy.db"
        for original, suffix in zip(files, ("", "-journal", "-wal"), strict=True):
            if original.exists():
                shutil.copyfile(original, f"{copy}{suffix}")
        return _inspect(sqlite3.connect(copy))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _s(value: object) -> str | None:
    return None if value is None else str(value)
