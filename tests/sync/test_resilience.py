"""The sync never freezes at "ok" or dies of what it meets: a hung child is reported down by
the engine's supervisor, a statement the database never answers is cancelled, a journal row it
cannot take is an error it retries with backoff, and the child gets none of the engine's other
secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.cli import ROOT
from tests.support.postgres import PgServer
from tests.support.waiting import wait_for
from tmt_tui.config.schema import SyncSettings
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.journal import Journal
from tmt_tui.sync.loop import SyncStatus, connect
from tmt_tui.sync.process import SyncSupervisor
from tmt_tui.sync.settings import target

from .test_backfill_and_prune import NOW, old_journal
from .test_journal_behind import FAST, counts, sync_running


@contextmanager
def supervised(
    journal: Path, env: dict[str, str], **options: float
) -> Iterator[tuple[SyncSupervisor, list[SyncStatus]]]:
    statuses: list[SyncStatus] = []
    settings = SyncSettings(**FAST)
    supervisor = SyncSupervisor(settings, journal, statuses.append, env=env, **options)
    supervisor.start()
    try:
        yield supervisor, statuses
    finally:
        supervisor.stop()


def base_env(dsn: str, home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "PYTHONPATH": str(ROOT), "TMT_PG_DSN": dsn}  # fmt: skip


def test_the_database_connection_cancels_a_hung_statement_and_notices_a_dead_peer(
    pg_server: PgServer, pg_db: str
) -> None:
    conn = connect(target(pg_server.dsn(db=pg_db)), SyncSettings())
    try:
        row = conn.execute("show statement_timeout").fetchone()
        params = conn.info.get_parameters()
    finally:
        conn.close()

    assert row is not None and row[0] == "30s"
    assert params["keepalives"] == "1" and params["tcp_user_timeout"] == "30000"
    assert params["keepalives_idle"] == "10" and params["keepalives_count"] == "3"


def test_a_journal_row_the_copier_cannot_take_is_an_error_retried_not_a_dead_sync(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    writer = Journal(journal)
    try:  # a fill whose units are not a number: odd data from an older or broken writer
        writer.append([Event(6, NOW, EventKind.ORDER_FILLED, "venue", {"units": "lots"})])
    finally:
        writer.close()
    dsn = pg_server.dsn(db=pg_db)

    with sync_running(dsn, journal) as statuses:
        wait_for(
            lambda: max((s.errors_total for s in list(statuses)), default=0) >= 2,
            "the bad row said, and tried again after the backoff",
        )

    down = [s for s in statuses if s.state == "down"]
    assert "cannot copy a journal row (ValueError" in down[0].last_error
    assert counts(dsn) == (0, 0)  # the batch holding it is never copied in part


def test_a_hung_sync_process_is_reported_down_and_ok_again_once_it_answers(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    env = base_env(pg_server.dsn(db=pg_db), tmp_path)

    with supervised(journal, env, stale_after_s=1.0) as (supervisor, statuses):
        wait_for(lambda: any(s.state == "ok" for s in list(statuses)), "the sync ok")
        pid = supervisor.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # as good as hung in a call
        try:
            wait_for(
                lambda: any("no word from the sync" in s.last_error for s in list(statuses)),
                "the supervisor to say the sync is down",
            )
            hung = len(statuses)
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_for(lambda: any(s.state == "ok" for s in statuses[hung:]), "the sync ok again")

    said = next(s for s in statuses if "no word" in s.last_error)
    assert said.state == "down" and f"pid {pid}" in said.last_error


def test_the_sync_process_gets_the_database_settings_but_none_of_the_engines_secrets(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    env = base_env(pg_server.dsn(db=pg_db), tmp_path) | {
        "OANDA_TOKEN": "venue-secret",
        "TMT_API_TOKEN": "api-secret",
        "AWS_SECRET_ACCESS_KEY": "cloud-secret",
        "PGCONNECT_TIMEOUT": "7",
        "TMT_CONFIG_NOTE": "kept",
        "LC_ALL": "C.UTF-8",
    }

    with supervised(journal, env) as (supervisor, statuses):
        wait_for(lambda: any(s.state == "ok" for s in list(statuses)), "the sync ok")
        assert supervisor.pid is not None
        raw = Path(f"/proc/{supervisor.pid}/environ").read_bytes()

    child = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
    assert "OANDA_TOKEN" not in child and "TMT_API_TOKEN" not in child
    assert "AWS_SECRET_ACCESS_KEY" not in child
    assert child["TMT_PG_DSN"] == env["TMT_PG_DSN"] and child["PGCONNECT_TIMEOUT"] == "7"
    assert child["TMT_CONFIG_NOTE"] == "kept" and child["LC_ALL"] == "C.UTF-8"
    assert child["PATH"] == env["PATH"] and child["HOME"] == env["HOME"]


class _RecordedWaits(threading.Event):
    """The supervisor's stop event, noting each backoff it waits (and not waiting them)."""

    def __init__(self, backoffs: list[float], enough: int) -> None:
        super().__init__()
        self.backoffs, self.enough = backoffs, enough

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None or timeout >= 1.0:  # the watchdog's tick: a real wait
            return super().wait(timeout)
        self.backoffs.append(timeout)
        if len(self.backoffs) >= self.enough:
            self.set()
        return self.is_set()


class _DiesAtOnce(SyncSupervisor):
    """A child that says ok, then exits: a sync that dies as it starts, every time."""

    def _spawn(self) -> subprocess.Popen[bytes]:
        line = SyncStatus(state="ok").to_json()
        return subprocess.Popen(
            [sys.executable, "-c", f"print({line!r}, flush=True); raise SystemExit(1)"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip


def test_a_sync_process_that_dies_as_it_starts_is_restarted_ever_later_not_every_second(
    tmp_path: Path,
) -> None:
    backoffs: list[float] = []
    settings = SyncSettings(enabled=True, backoff_s=0.05, max_backoff_s=60.0)
    supervisor = _DiesAtOnce(settings, tmp_path / "journal.db", lambda status: None)
    supervisor._stopping = _RecordedWaits(backoffs, enough=5)

    supervisor.start()
    wait_for(lambda: len(backoffs) >= 5, "five restarts")
    supervisor.stop()

    assert backoffs[:5] == [0.05, 0.1, 0.2, 0.4, 0.8]
