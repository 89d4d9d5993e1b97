"""A journal behind what the database holds of it (restored from a backup, its ticks emptied
by the prune or renumbered, another box's copy under the same id) is refused with one clear
error, never copied into keys the database already holds (where they would be dropped)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg

from tests.support.postgres import PgServer
from tests.support.waiting import wait_for
from tmt_tui.config.schema import SyncSettings
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.quotes import Quote
from tmt_tui.store.journal import Journal
from tmt_tui.sync.loop import SyncLoop, SyncStatus
from tmt_tui.sync.settings import target

from .test_backfill_and_prune import DAY, NOW, backfill, journal_ticks, old_journal
from .test_backfill_and_prune import counts as db_counts

FAST = {"enabled": True, "poll_interval_s": 0.05, "backoff_s": 0.05, "max_backoff_s": 0.2}


@contextmanager
def sync_running(dsn: str, journal: Path, **settings: float) -> Iterator[list[SyncStatus]]:
    """A SyncLoop on a thread until the block ends; the statuses it reported, in order."""
    statuses: list[SyncStatus] = []
    loop = SyncLoop(SyncSettings(**(FAST | settings)), target(dsn), journal, statuses.append)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join(30)


def counts(dsn: str) -> tuple[int, int] | None:
    """(events, ticks) in the database; None before the sync made its tables."""
    try:
        return db_counts(dsn)
    except psycopg.errors.UndefinedTable:
        return None


def said(statuses: list[SyncStatus], state: str, words: str) -> bool:
    return any(s.state == state and words in s.last_error for s in list(statuses))


def write_ticks(path: Path, n: int, ts: float = NOW) -> None:
    journal = Journal(path)
    try:
        journal.append_ticks(
            [Quote("EUR_USD", Decimal("1.09"), Decimal("1.0901"), ts + i) for i in range(n)]
        )
    finally:
        journal.close()


def write_events(path: Path, n: int, key: str) -> None:
    journal = Journal(path)
    try:
        first = journal.head.seq + 1
        journal.append(
            [
                Event(seq, NOW, EventKind.ALERT_RAISED, "auto", {"key": f"{key}{seq}"})
                for seq in range(first, first + n)
            ]
        )
    finally:
        journal.close()


def copy_journal(source: Path, to: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(str(to) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, to)


def test_a_prune_of_every_old_tick_keeps_the_newest_so_the_next_tick_is_still_copied(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(30, 20))  # a weekend: every tick older than the cutoff
    dsn = pg_server.dsn(db=pg_db)

    with sync_running(dsn, journal, prune_ticks_after_days=15) as statuses:
        wait_for(lambda: counts(dsn) == (10, 20), "the journal copied")
        wait_for(lambda: journal_ticks(journal) == 1, "the prune, keeping the newest tick")
        write_ticks(journal, 3)  # monday's first ticks: after the newest, never below it
        wait_for(lambda: counts(dsn) == (10, 23), "monday's ticks copied")

    assert not said(statuses, "down", "")


def test_a_journal_whose_ticks_were_renumbered_below_the_watermark_is_down_not_caught_up(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    dsn = pg_server.dsn(db=pg_db)
    with sync_running(dsn, journal):
        wait_for(lambda: counts(dsn) == (5, 10), "the journal copied")
    conn = sqlite3.connect(journal, isolation_level=None)
    conn.execute("delete from ticks")
    conn.execute("vacuum")  # rowids start again at 1
    conn.close()
    write_ticks(journal, 3, ts=NOW + DAY)

    with sync_running(dsn, journal) as statuses:
        wait_for(lambda: said(statuses, "down", "behind"), "the sync down: journal behind")

    error = next(s.last_error for s in statuses if s.state == "down")
    assert "ticks at 3 in the journal, 10 in the database" in error
    assert "restored from a backup" in error and "nothing is copied" in error
    assert not any(s.state == "ok" for s in statuses)
    assert counts(dsn) == (5, 10)


def test_a_journal_restored_from_a_backup_is_refused_behind_and_once_written_since_diverged(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal, backup = tmp_path / "journal.db", tmp_path / "backup.db"
    old_journal(journal, days=(0,))
    copy_journal(journal, backup)
    write_events(journal, 5, "later")  # seqs 6..10: copied, then the box is lost
    dsn = pg_server.dsn(db=pg_db)
    with sync_running(dsn, journal):
        wait_for(lambda: counts(dsn) == (10, 10), "the journal copied")
    copy_journal(backup, journal)  # the backup restored: events up to 5

    with sync_running(dsn, journal) as behind:
        wait_for(lambda: said(behind, "down", "behind"), "the sync down: journal behind")
    write_events(journal, 5, "other")  # seqs 6..10 again, other events
    refused = backfill(journal, dsn)
    with sync_running(dsn, journal) as diverged:
        wait_for(lambda: said(diverged, "down", "differs"), "the sync down: journal diverged")

    assert "events at 5 in the journal, 10 in the database" in behind[-1].last_error
    assert "event 10 differs" in diverged[-1].last_error
    assert refused.returncode == 1 and "event 10 differs" in refused.stdout + refused.stderr
    assert not any(s.state == "ok" for s in behind + diverged)
    with psycopg.connect(dsn, autocommit=True) as conn:
        keys = [r[0] for r in conn.execute("select data->>'key' from tmt.events order by seq")]
    assert keys[5:] == [f"later{seq}" for seq in range(6, 11)]  # nothing copied over them


def test_the_same_journal_reconnecting_is_not_refused(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    dsn = pg_server.dsn(db=pg_db)
    with sync_running(dsn, journal):
        wait_for(lambda: counts(dsn) == (5, 10), "the journal copied")
    write_events(journal, 2, "more")
    write_ticks(journal, 2, ts=time.time())

    with sync_running(dsn, journal) as statuses:
        wait_for(lambda: counts(dsn) == (7, 12), "the new rows copied")

    assert not said(statuses, "down", "")
