"""The sync task: keeps one journal's rows flowing into the database until stopped.

It has its own database connection and its own read-only journal connection. While the
database is down, slow, read-only or refuses the login, it says why once per change, backs off
(doubling, up to ``max_backoff_s``), keeps measuring the lag from the journal, and catches up
when the database returns. Each change of its :class:`SyncStatus` goes to ``report`` (the sync
process prints it as a JSON line for the engine's host, tmt_tui/sync/process.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg

from tmt_tui.config.schema import SyncSettings
from tmt_tui.sync import ddl
from tmt_tui.sync.copier import Conn, Copier, JournalMismatch
from tmt_tui.sync.journal_reader import JournalReader, JournalUnreadable
from tmt_tui.sync.settings import SyncConfigError, Target

log = logging.getLogger(__name__)

#: How often the loop sweeps the journal's orders table for changes no event named.
SWEEP_EVERY_S = 60.0

#: What odd journal data can raise in the copier (a row it cannot take): caught, never fatal.
DATA_ERRORS: tuple[type[Exception], ...] = (TypeError, AttributeError, ValueError, KeyError)
#: A journal that cannot be read now, or a row the copier cannot take: retried with backoff.
_JOURNAL_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, *DATA_ERRORS)
_DRAIN_ERRORS: tuple[type[Exception], ...] = (
    psycopg.Error, OSError, JournalUnreadable, *_JOURNAL_ERRORS
)  # fmt: skip


@dataclass
class SyncStatus:
    """What the sync says about itself, each time it changes (a JSON line to the engine)."""

    state: str = "starting"  # starting | ok | lagging | down
    where: str = ""
    backend: str = ""
    journal_id: str = ""
    watermarks: dict[str, int] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    lag_rows: int = 0
    lag_s: float = 0.0
    errors_total: int = 0
    rows_copied: int = 0
    last_error: str = ""
    updated: float = 0.0
    pid: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> SyncStatus:
        data = json.loads(text)
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


Report = Callable[[SyncStatus], None]


class SyncLoop:
    """Keeps one journal's rows flowing into the database until ``stop`` is set."""

    def __init__(
        self,
        settings: SyncSettings,
        target: Target | SyncConfigError,
        journal: Path,
        report: Report,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.target = target
        self.journal = journal
        self.report = report
        self.clock = clock
        self.status = SyncStatus(pid=os.getpid())
        if isinstance(target, Target):
            self.status.where = target.where
        self._conn: Conn | None = None
        self._copier: Copier | None = None
        self._reader: JournalReader | None = None
        self._last_prune = 0.0
        self._last_sweep = -math.inf
        self._stop = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        backoff = self.settings.backoff_s
        while not stop.is_set():
            try:
                copied = self._cycle()
                backoff = self.settings.backoff_s
                if copied == 0:
                    stop.wait(self.settings.poll_interval_s)
                else:
                    time.sleep(0)  # a moment for the rest of the box between batches
            except (
                psycopg.Error, OSError, SyncConfigError, JournalUnreadable, JournalMismatch
            ) as exc:  # fmt: skip
                self._failed(exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_s)
            except _JOURNAL_ERRORS as exc:
                # the journal unreadable now (locked, corrupt) or a row the copier cannot take:
                # said, and retried with backoff; the process never dies of it (its supervisor
                # would start it again at once, forever)
                if isinstance(exc, sqlite3.Error) and self._reader is not None:
                    with contextlib.suppress(sqlite3.Error):
                        self._reader.close()  # opened afresh next time
                    self._reader = None
                elif explain(exc, self.target) != self.status.last_error:
                    log.exception("sync: cannot copy a journal row")
                self._failed(exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_s)
        self._drain()
        self._close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _drain(self, within_s: float = 5.0) -> None:
        """On a graceful stop (the engine has written its last), copy what is left while the
        database answers, for at most ``within_s``: a stopped engine leaves it complete."""
        if self._copier is None:
            return
        deadline = time.monotonic() + within_s
        try:
            while time.monotonic() < deadline and self._copier.step():
                pass
            self._measure(down=False)
        except _DRAIN_ERRORS as exc:
            log.info("sync: stopped before catching up (%s)", explain(exc, self.target))

    def _cycle(self) -> int:
        if isinstance(self.target, SyncConfigError):
            raise self.target
        if self._reader is None:
            self._reader = JournalReader(self.journal)
            self.status.journal_id = self._reader.journal_id
        if self._copier is None:
            self._connect(self.target, self._reader)
        assert self._copier is not None
        now = time.monotonic()
        sweep = now - self._last_sweep >= SWEEP_EVERY_S
        if sweep:
            self._last_sweep = now
        # not lagging: as long a rest after each batch as the batch took, so the sync takes
        # at most half a core in bursts no longer than a batch; lagging: full speed
        pause = None if self.status.state == "lagging" else self._stop.wait
        # a journal behind the database (restored, renumbered) would write keys it holds
        self._copier.check_heads()
        copied = self._copier.step(sweep=sweep, pause=pause)
        self.status.rows_copied += copied
        self._prune()
        self._measure(down=False)
        return copied

    def _connect(self, target: Target, reader: JournalReader) -> None:
        conn = connect(target, self.settings)
        try:
            schema = ddl.migrate(conn, self.settings)
            self._copier = Copier(conn, reader, self.settings.batch_rows)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self.status.backend = schema.backend
        log.info(
            "sync: journal %s into %s: %s; from watermarks %s",
            reader.journal_id, target.where, schema.note, self._copier.watermarks,
        )  # fmt: skip

    def _failed(self, exc: BaseException) -> None:
        message = explain(exc, self.target)
        self.status.errors_total += 1
        if message != self.status.last_error or self.status.state != "down":
            log.warning("sync down: %s (retrying with backoff)", message)
        self.status.last_error = message
        self._close()
        self._measure(down=True)

    def _measure(self, down: bool) -> None:
        """The lag, from the journal (which works with the database down), then report."""
        s, reader = self.status, self._reader
        if self._copier is not None:
            s.watermarks = dict(self._copier.watermarks)
        if reader is not None:
            try:
                with reader.snapshot():
                    s.heads = reader.heads()
                    firsts = [
                        reader.first_ts_after(name, s.watermarks.get(name, 0))
                        for name in ("events", "ticks", "equity")
                    ]
            except sqlite3.Error as exc:
                log.warning("sync: cannot read the journal now: %s", exc)
                firsts = []
            s.lag_rows = sum(
                max(0, head - s.watermarks.get(name, 0)) for name, head in s.heads.items()
            )
            oldest = min((t for t in firsts if t is not None), default=None)
            s.lag_s = 0.0 if oldest is None else max(0.0, self.clock() - oldest)
        if down:
            s.state = "down"
        else:
            s.state = "lagging" if s.lag_s > self.settings.lag_alert_s else "ok"
            s.last_error = ""
        s.updated = self.clock()
        self.report(s)

    def _prune(self) -> None:
        """Drop synced ticks older than ``prune_ticks_after_days`` from the journal (off by
        default; never events), at most once a minute, a thousand rows a transaction, so the
        engine's own commits never wait long for the write lock."""
        days = self.settings.prune_ticks_after_days
        now = self.clock()
        if days <= 0 or now - self._last_prune < 60 or self._copier is None:
            return
        self._last_prune = now
        synced = self._copier.watermarks.get("ticks", 0)
        cutoff = now - days * 86_400
        conn = sqlite3.connect(self.journal, timeout=0.05, isolation_level=None)
        try:
            conn.execute("pragma wal_autocheckpoint=0")  # checkpoints are the engine's
            while True:
                row = conn.execute(
                    "select max(rowid) from (select rowid from ticks where rowid <= ? "
                    "and ts < ? and rowid < (select max(rowid) from ticks) "
                    "order by rowid limit 1000)",
                    (synced, cutoff),
                ).fetchone()
                if row is None or row[0] is None:
                    break
                # never the newest row: the table has no INTEGER PRIMARY KEY, so SQLite gives
                # the next tick max(rowid) + 1, and an emptied table would start again at 1,
                # below the watermark (rows the sync would never copy)
                conn.execute(
                    "delete from ticks where rowid <= ? and ts < ? "
                    "and rowid < (select max(rowid) from ticks)",
                    (row[0], cutoff),
                )
        except sqlite3.OperationalError as exc:  # busy: the engine writes; next time
            log.info("sync: pruning ticks deferred: %s", exc)
        finally:
            conn.close()

    def _close(self) -> None:
        self._copier = None
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None


#: A statement the database has not answered in this long is given up (and retried).
STATEMENT_TIMEOUT_MS = 30_000


def connect(target: Target, settings: SyncSettings) -> Conn:
    """The sync's database connection: a statement unanswered for 30 s is cancelled, and TCP
    keepalives and a user timeout notice a dead peer within ~30 s, so a hung database or a
    lost network is an error the loop reports and retries, never a sync frozen at "ok"."""
    conn: Conn = psycopg.connect(
        target.dsn.reveal(),
        autocommit=True,
        connect_timeout=max(1, math.ceil(settings.connect_timeout_s)),
        application_name="tmt-sync",
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=5,
        keepalives_count=3,
        tcp_user_timeout=STATEMENT_TIMEOUT_MS,
    )
    return conn


def explain(exc: BaseException, target: Target | SyncConfigError) -> str:
    """One clear sentence for what went wrong, never with the password in it."""
    if isinstance(exc, SyncConfigError | JournalUnreadable | JournalMismatch):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        return f"cannot read the journal now ({type(exc).__name__}: {exc})"
    if isinstance(exc, DATA_ERRORS):
        return f"cannot copy a journal row ({type(exc).__name__}: {exc}); see the engine's log"
    if not isinstance(target, Target):
        return str(target)
    where, user = target.where, target.user
    state = getattr(exc, "sqlstate", None) or ""
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = detail.lower()
    auth = ("password authentication failed", "no password supplied", "authentication failed",
            "pg_hba.conf", "role \"")  # fmt: skip
    if state == "3D000" or (not state and 'database "' in lowered and "not exist" in lowered):
        text = f"{where}: no such database"
    elif state in ("28P01", "28000") or (not state and any(a in lowered for a in auth)):
        text = f"{where} refused the password or login of role {user!r}"
    elif state in ("42501", "25006"):
        text = (
            f"role {user!r} may not write tmt's tables at {where} ({detail}); "
            "grant it INSERT and UPDATE on schema tmt, or use a writer role"
        )
    elif isinstance(exc, psycopg.OperationalError) and not state:
        text = f"cannot reach PostgreSQL at {where} ({_reach_reason(detail)})"
    else:
        text = f"{where}: {type(exc).__name__}: {detail}"
    return target.redact(text)


def _reach_reason(detail: str) -> str:
    lowered = detail.lower()
    for phrase in ("connection refused", "timeout expired", "no route to host",
                   "could not translate host name", "server closed the connection",
                   "no such file or directory", "network is unreachable",
                   "terminating connection", "connection reset"):  # fmt: skip
        if phrase in lowered:
            return phrase
    return detail[-160:]
