"""A journal tmt cannot bring up to its schema is refused and left as it was: one from a newer
tmt, one of an unknown schema, one whose migration fails (the error names the step) or whose
backup cannot be made. A migration killed midway is finished by the next start.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.support.journal_v1 import make_v1_journal
from tests.support.journals import (
    BACKUP_NAME,
    V2_STEP,
    backups,
    meta,
    table_rows,
    trading_session,
    write_v1_journal,
)
from tmt_tui.store import migrations, schema
from tmt_tui.store.journal import Journal, JournalError, MigrationError
from tmt_tui.store.schema import SCHEMA_VERSION, Step

# refused and untouched -------------------------------------------------------------------------


def assert_refused_untouched(path: Path, message: str) -> None:
    directory = sorted(p.name for p in path.parent.iterdir())
    content = path.read_bytes()

    with pytest.raises(JournalError) as caught:
        Journal(path, on_progress=lambda p: pytest.fail(f"migrating: {p}"))

    assert str(caught.value) == message
    assert path.read_bytes() == content
    # nothing new beside it but the lock, and what SQLite's read-only look leaves (an empty WAL)
    new = {p.name for p in path.parent.iterdir()} - {*directory, "journal.db.lock"}
    assert new <= {"journal.db-wal", "journal.db-shm"}
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_a_journal_from_a_newer_tmt_is_refused_and_never_touched(journal_path: Path) -> None:
    Journal(journal_path).close()
    conn = sqlite3.connect(journal_path)
    with conn:
        conn.execute("update meta set value = ? where key = 'schema'", (str(SCHEMA_VERSION + 1),))
        conn.execute("create table from_the_future (x)")
    conn.close()

    assert_refused_untouched(
        journal_path,
        f"{journal_path} was written by a newer tmt (schema v{SCHEMA_VERSION + 1}, this tmt "
        f"reads up to v{SCHEMA_VERSION}): upgrade tmt; leaving it alone",
    )


@pytest.mark.parametrize("written", ["", "two", "0", "-1", "1.5"])
def test_a_journal_of_an_unknown_schema_is_refused_and_never_touched(
    journal_path: Path, written: str
) -> None:
    make_v1_journal(journal_path)
    conn = sqlite3.connect(journal_path)
    with conn:
        conn.execute("update meta set value = ? where key = 'schema'", (written,))
    conn.close()

    assert_refused_untouched(
        journal_path,
        f"{journal_path} has an unknown journal schema {written!r}; leaving it alone",
    )


# a failed migration ----------------------------------------------------------------------------


def test_a_step_that_fails_is_rolled_back_and_the_journal_refused_naming_the_step(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = trading_session()
    write_v1_journal(journal_path, h)
    content, rows = journal_path.read_bytes(), table_rows(journal_path)

    def half_done_then_fails(conn: sqlite3.Connection, progress: object) -> None:
        conn.execute("create table schema_history (version integer primary key)")
        conn.execute("delete from events")
        raise ValueError("disk on fire")

    step = Step(2, "record each schema change in schema_history", half_done_then_fails)
    monkeypatch.setattr(schema, "STEPS", (step,))

    with pytest.raises(MigrationError) as caught:
        Journal(journal_path)

    (backup,) = backups(journal_path)
    assert str(caught.value) == (
        f"{journal_path}: migrating the journal from v1 to v2 failed at step {V2_STEP}: "
        f"ValueError: disk on fire; the journal is left as it was, at v1 (the copy made before "
        f"migrating is {backup}); refusing to open it"
    )
    assert journal_path.read_bytes() == content  # not a byte changed
    assert table_rows(backup) == rows
    # and with the real step, it migrates
    monkeypatch.undo()
    journal = Journal(journal_path, on_progress=lambda p: None)
    try:
        assert journal.recent_events(1000) == h.events
    finally:
        journal.close()


def failing(conn: sqlite3.Connection, progress: object) -> None:
    conn.execute("create table half_made (x)")
    raise RuntimeError("no such luck")


def committing(conn: sqlite3.Connection, progress: object) -> None:
    conn.execute("create table half_made (x)")
    conn.execute("commit")


@pytest.mark.parametrize(
    ("steps", "why"),
    [
        pytest.param((Step(3, "fails", failing),), "RuntimeError: no such luck", id="after v2"),
        pytest.param(
            (Step(3, "commits", committing),),
            "RuntimeError: the step ended its transaction itself (a step must never commit)",
            id="commits by itself",
        ),
    ],
)
def test_a_failure_after_changes_were_committed_restores_the_journal_from_the_backup(
    journal_path: Path, steps: tuple[Step, ...], why: str
) -> None:
    h = trading_session()
    write_v1_journal(journal_path, h)
    original = list(sqlite3.connect(journal_path).iterdump())
    conn = sqlite3.connect(journal_path, isolation_level=None)
    try:
        with pytest.raises(MigrationError) as caught:
            migrations.migrate(conn, journal_path, 1, (*schema.STEPS, *steps), lambda p: None)
    finally:
        conn.close()

    (backup,) = backups(journal_path)
    assert str(caught.value) == (
        f"{journal_path}: migrating the journal from v1 to v3 failed at step "
        f"v2 -> v3 ({steps[0].what}): {why}; the journal was restored as it was, at v1 (the copy "
        f"made before migrating is {backup}); refusing to open it"
    )
    assert list(sqlite3.connect(journal_path).iterdump()) == original
    journal = Journal(journal_path, on_progress=lambda p: None)  # and it migrates to v2 now
    try:
        assert journal.recent_events(1000) == h.events
    finally:
        journal.close()


def test_a_backup_that_cannot_be_made_stops_before_any_change(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_v1_journal(journal_path)
    content = journal_path.read_bytes()

    def disk_full(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(migrations, "fsync", disk_full)

    with pytest.raises(MigrationError, match="cannot back up the v1 journal to .*No space left"):
        Journal(journal_path)

    assert journal_path.read_bytes() == content
    assert backups(journal_path) == []  # nor a part of one


# killed while migrating ------------------------------------------------------------------------


def migrate_killed(path: Path, where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Open the v1 journal at ``path`` in a forked child that SIGKILLs itself ``where``."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:

            def kill(*args: object) -> None:
                os.kill(os.getpid(), signal.SIGKILL)

            if where == "backing up":
                monkeypatch.setattr(migrations, "fsync", kill)
            else:
                monkeypatch.setattr(schema, "STEPS", (Step(2, "killed", kill),))
            Journal(path, on_progress=lambda p: None)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.parametrize("where", ["backing up", "inside the step"])
def test_a_migration_killed_midway_is_done_by_the_next_start(
    journal_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = trading_session()
    write_v1_journal(journal_path, h)

    migrate_killed(journal_path, where, monkeypatch)
    assert meta(journal_path)["schema"] == "1"

    journal = Journal(journal_path, on_progress=lambda p: None)
    try:
        assert journal.recent_events(1000) == h.events
    finally:
        journal.close()
    assert meta(journal_path)["schema"] == str(SCHEMA_VERSION)
    leftover = sorted(p.name for p in journal_path.parent.iterdir() if ".part" in p.name)
    assert leftover == []  # a backup cut short is cleared away
    made = [b.name for b in backups(journal_path)]  # a second one in the same second: "-2"
    assert made and all(re.fullmatch(BACKUP_NAME.pattern + "(-2)?", name) for name in made)
