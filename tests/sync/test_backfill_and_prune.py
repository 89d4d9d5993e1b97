"""A journal that predates the sync is copied whole by `tmt sync backfill` (from a date with
--since), and the ticks already copied may be pruned from the journal (never the events)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import psycopg

from tests.support.cli import ROOT
from tests.support.postgres import PgServer
from tests.support.waiting import wait_for
from tmt_tui.config.schema import SyncSettings
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.quotes import Quote
from tmt_tui.store.journal import Journal
from tmt_tui.sync.loop import SyncLoop, SyncStatus
from tmt_tui.sync.settings import target

DAY = 86_400.0
NOW = time.time()


def old_journal(path: Path, days: tuple[float, ...] = (30, 20, 10, 0)) -> None:
    """Events and ticks on each of ``days`` ago, written as an engine writes them."""
    journal = Journal(path)
    try:
        seq = 0
        for ago in days:
            ts = NOW - ago * DAY
            events = []
            for _ in range(5):
                seq += 1
                events.append(Event(seq, ts, EventKind.ALERT_RAISED, "auto", {"key": f"k{seq}"}))
            journal.append(events)
            journal.append_ticks(
                [
                    Quote("EUR_USD", Decimal("1.08500"), Decimal("1.08510"), ts + i)
                    for i in range(10)
                ]
            )
    finally:
        journal.close()


def backfill(journal: Path, dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "sync", "backfill", "--journal", str(journal),
         "--json", *args],
        env={"TMT_PG_DSN": dsn, "PATH": "/usr/bin:/bin", "HOME": str(journal.parent)},
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def journal_ticks(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("select count(*) from ticks").fetchone()[0])
    finally:
        conn.close()


def counts(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "select (select count(*) from tmt.events), (select count(*) from tmt.ticks)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_backfill_copies_a_journal_that_predates_the_sync_whole(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal)
    dsn = pg_server.dsn(db=pg_db)

    done = backfill(journal, dsn)
    again = backfill(journal, dsn)

    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["rows"] >= 60
    assert again.returncode == 0 and counts(dsn) == (20, 40)  # copied once, kept once


def test_backfill_since_a_date_copies_only_from_then(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal)
    dsn = pg_server.dsn(db=pg_db)
    since = time.strftime("%Y-%m-%d", time.gmtime(NOW - 15 * DAY))

    done = backfill(journal, dsn, "--since", since)

    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(dsn) == (10, 20)


def test_ticks_copied_and_older_than_the_setting_are_pruned_from_the_journal_never_events(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal)
    statuses: list[SyncStatus] = []
    settings = SyncSettings(enabled=True, prune_ticks_after_days=15, poll_interval_s=0.05)
    loop = SyncLoop(settings, target(pg_server.dsn(db=pg_db)), journal, statuses.append)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: journal_ticks(journal) == 20, "the prune")
    finally:
        stop.set()
        thread.join(30)

    conn = sqlite3.connect(journal)
    left = conn.execute("select count(*), min(ts) from ticks").fetchone()
    events = conn.execute("select count(*) from events").fetchone()[0]
    conn.close()
    assert left[0] == 20 and left[1] >= NOW - 15 * DAY  # 30 and 20 days ago: gone
    assert events == 20 and counts(pg_server.dsn(db=pg_db)) == (20, 40)
