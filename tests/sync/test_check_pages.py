"""`tmt sync check` beside a running engine: it reads the journal a page at a time (no snapshot
held for the whole scan, which would keep the engine's WAL checkpoints from completing), and
agrees after the sync pruned ticks from the journal (it compares from the journal's lowest)."""

from __future__ import annotations

from pathlib import Path

import psycopg

from tests.support.postgres import PgServer
from tests.support.waiting import wait_for
from tmt_tui.sync import check
from tmt_tui.sync.check import check_tables
from tmt_tui.sync.journal_reader import JournalReader

from .test_backfill_and_prune import journal_ticks, old_journal
from .test_journal_behind import counts, sync_running, write_ticks


def checked(journal: Path, dsn: str) -> tuple[dict[str, bool], list[str]]:
    """Each table's verdict, and every statement the check ran on the journal."""
    statements: list[str] = []
    reader = JournalReader(journal)
    reader.conn.set_trace_callback(statements.append)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            tables, _ = check_tables(reader, conn)
    finally:
        reader.close()
    return {t.table: t.agrees for t in tables}, statements


def test_check_agrees_after_the_sync_pruned_old_ticks_from_the_journal(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal)
    dsn = pg_server.dsn(db=pg_db)
    with sync_running(dsn, journal, prune_ticks_after_days=15):
        wait_for(lambda: journal_ticks(journal) == 20, "the prune")

    verdicts, _ = checked(journal, dsn)

    assert counts(dsn) == (20, 40)  # the database keeps what the journal pruned
    assert verdicts == dict.fromkeys(("events", "ticks", "equity", "orders", "positions"), True)


def test_check_reads_the_journal_in_pages_never_one_snapshot_for_the_whole_scan(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"
    old_journal(journal, days=(0,))
    write_ticks(journal, 2 * check.PAGE_ROWS + 5)
    dsn = pg_server.dsn(db=pg_db)
    with sync_running(dsn, journal, batch_rows=20_000):
        wait_for(lambda: counts(dsn) == (5, 10 + 2 * check.PAGE_ROWS + 5), "the journal copied")

    verdicts, statements = checked(journal, dsn)

    assert all(verdicts.values()), verdicts
    assert not [s for s in statements if s.strip().lower().startswith("begin")]
    assert len([s for s in statements if "from ticks where rowid >" in s]) == 4  # 3 pages, end
