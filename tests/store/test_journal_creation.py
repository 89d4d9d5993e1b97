"""A journal comes into being whole or not at all, and a half-made one is finished, not refused.

A first start killed while it made the journal (``kill -9``, a power cut) must not leave a file
the next start refuses. The half-made states are made here for real, by processes that SIGKILL
themselves at the chosen point: no timing is involved.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.journal import Journal, JournalError
from tmt_tui.store.schema import APP_ID, SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]


def run_until_killed(code: str) -> None:
    """Run ``code`` in a fresh interpreter that must end by SIGKILLing itself."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr


def assert_whole_journal(path: Path) -> None:
    """``path`` opens as a tmt journal in WAL mode that takes events and opens again."""
    journal = Journal(path)
    try:
        meta = dict(journal.conn.execute("select key, value from meta").fetchall())
        mode = journal.conn.execute("pragma journal_mode").fetchone()[0]
        journal.append([Event(1, 1.0, EventKind.KILL_SWITCH_RESET, "ui", {})])
    finally:
        journal.close()
    assert meta["app"] == APP_ID and meta["schema"] == str(SCHEMA_VERSION)
    assert len(meta["journal_id"]) == 6
    assert mode == "wal"
    again = Journal(path)
    try:
        assert again.last_seq() == 1
    finally:
        again.close()


def read_meta(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("select key, value from meta").fetchall())
    finally:
        conn.close()


def leftovers(path: Path) -> list[str]:
    """Files beside the journal that are neither it, its WAL/shm nor its lock."""
    ours = {path.name + s for s in ("", "-wal", "-shm", ".lock")}
    return sorted(p.name for p in path.parent.iterdir() if p.name not in ours)


# what an earlier tmt left when killed while it made the journal --------------------------------
#
# It connected, set WAL mode, then created the tables in one transaction: a kill anywhere in
# between left an SQLite file with no tables at all, which the next start refused as "an SQLite
# file but not a tmt journal" (or, with the rollback journal of the WAL switch still hot, as
# "attempt to write a readonly database").

HALF_MADE = {
    # killed just after WAL mode was set: a one-page file, nothing in it
    "after the WAL switch": """
        c.execute("pragma journal_mode=wal")
        kill()
    """,
    # killed inside the transaction that creates the tables, its pages already in the WAL
    "inside the create transaction": """
        c.execute("pragma journal_mode=wal")
        c.execute("pragma cache_size=10")
        c.execute("begin")
        c.execute("create table meta (key text primary key, value text)")
        c.execute("create table events (seq integer primary key, data text)")
        c.executemany("insert into events (data) values (?)", [("x" * 4000,)] * 200)
        kill()
    """,
    # killed with a hot rollback journal (a write in progress outside WAL mode): a read-only
    # look cannot roll it back
    "with a hot rollback journal": """
        c.execute("create table t (a)")
        c.execute("drop table t")
        c.execute("vacuum")
        c.execute("pragma cache_size=10")
        c.execute("begin")
        c.execute("create table meta (key text primary key, value text)")
        c.executemany("insert into meta values (?, ?)", [(str(i), "x" * 4000) for i in range(200)])
        kill()
    """,
}


@pytest.mark.parametrize("where", list(HALF_MADE))
def test_a_journal_left_half_made_by_a_killed_first_start_is_finished(
    journal_path: Path, where: str
) -> None:
    journal_path.parent.mkdir(parents=True)
    body = textwrap.indent(textwrap.dedent(HALF_MADE[where]), "    ")
    run_until_killed(
        f"""
import os, signal, sqlite3
def kill():
    os.kill(os.getpid(), signal.SIGKILL)
if True:
    c = sqlite3.connect({str(journal_path)!r}, isolation_level=None)
{body}
"""
    )
    assert journal_path.read_bytes()[:16] == b"SQLite format 3\x00"  # the state is as described
    if where == "with a hot rollback journal":
        assert Path(f"{journal_path}-journal").stat().st_size > 0

    assert_whole_journal(journal_path)
    assert leftovers(journal_path) == []


def test_an_empty_sqlite_file_with_its_wal_and_shm_left_is_finished(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    run_until_killed(
        f"""
        import os, signal, sqlite3
        c = sqlite3.connect({str(journal_path)!r}, isolation_level=None)
        c.execute("pragma journal_mode=wal")
        c.execute("select count(*) from sqlite_master").fetchall()  # opens the WAL and shm
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert Path(f"{journal_path}-wal").exists() and Path(f"{journal_path}-shm").exists()

    assert_whole_journal(journal_path)


def test_an_empty_file_is_made_a_journal(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    journal_path.touch()

    assert_whole_journal(journal_path)


def test_an_empty_sqlite_file_with_a_user_version_set_is_refused_and_left_alone(
    journal_path: Path,
) -> None:
    journal_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(journal_path)
    conn.execute("pragma user_version = 7")  # not what tmt leaves: someone else's file
    conn.close()
    content = journal_path.read_bytes()

    with pytest.raises(JournalError, match="not a tmt journal"):
        Journal(journal_path)

    assert journal_path.read_bytes() == content


def test_another_apps_database_with_a_hot_rollback_journal_is_refused_and_left_alone(
    journal_path: Path,
) -> None:
    journal_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(journal_path)
    conn.execute("create table notes (body text)")
    conn.execute("insert into notes values ('my precious data')")
    conn.commit()
    conn.close()
    run_until_killed(
        f"""
        import os, signal, sqlite3
        c = sqlite3.connect({str(journal_path)!r}, isolation_level=None)
        c.execute("pragma cache_size=10")
        c.execute("begin")
        c.executemany("insert into notes values (?)", [("x" * 4000,)] * 200)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    content = journal_path.read_bytes()
    hot = Path(f"{journal_path}-journal").read_bytes()
    assert hot

    with pytest.raises(JournalError, match="not a tmt journal"):
        Journal(journal_path)

    assert journal_path.read_bytes() == content
    assert Path(f"{journal_path}-journal").read_bytes() == hot


# this tmt, killed at any point while it makes a new journal ------------------------------------


def make_a_journal_killed_at_statement(path: Path, kill_at: int) -> bool:
    """In a forked child, make a journal at ``path`` and SIGKILL it as its ``kill_at``-th SQL
    statement starts. True if it was killed, False if the journal was made first."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            real_connect = sqlite3.connect
            count = 0

            def trace(sql: str) -> None:
                nonlocal count
                count += 1
                if count == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)

            def tracing_connect(*args: object, **kwargs: object) -> sqlite3.Connection:
                conn = real_connect(*args, **kwargs)  # type: ignore[arg-type]
                conn.set_trace_callback(trace)
                return conn

            sqlite3.connect = tracing_connect  # type: ignore[assignment]
            Journal(path)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0
    return False


def test_a_new_journal_appears_only_whole_wherever_its_making_is_killed(
    journal_path: Path,
) -> None:
    """Kill the making of a new journal as its 1st SQL statement starts, then its 2nd, ...
    until it completes: after each kill the journal is absent or already whole, and opens."""
    kill_at = 0
    while True:
        kill_at += 1
        assert kill_at < 1000, "the making of a journal never completed"
        if journal_path.parent.exists():
            shutil.rmtree(journal_path.parent)
        if not make_a_journal_killed_at_statement(journal_path, kill_at):
            break
        if journal_path.exists():  # then it is whole already, before anything finishes it
            assert read_meta(journal_path)["app"] == APP_ID, kill_at
        assert_whole_journal(journal_path)
        assert leftovers(journal_path) == [], kill_at  # an aside copy is cleaned up
    assert kill_at > 20  # the kills did land all through the making


def test_stale_aside_files_of_dead_processes_are_removed(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    for name in (f"journal.db.new-{pid}", f"journal.db.new-{pid}-journal"):
        (journal_path.parent / name).write_bytes(b"SQLite format 3\x00 half written")

    assert_whole_journal(journal_path)

    assert leftovers(journal_path) == []


def test_a_new_journal_is_never_made_in_place(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write of a new journal goes to the aside file: the journal's own name only ever
    appears by a rename of a finished file."""
    opened: list[str] = []
    real_connect = sqlite3.connect

    def recording_connect(database: str | Path, *args: object, **kwargs: object) -> object:
        opened.append(Path(database).name)
        return real_connect(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", recording_connect)

    Journal(journal_path).close()

    assert opened[0] == f"journal.db.new-{os.getpid()}"
    assert opened[1:] == ["journal.db"]


def test_a_journal_and_its_directory_are_the_owner_s_only(tmp_path: Path) -> None:
    """A journal is a trader's whole book: 0600 files in a 0700 directory, like the API token
    (SQLite gives its WAL and shm files the database file's mode)."""
    path = tmp_path / "fresh" / "journal.db"
    journal = Journal(path)
    journal.append([Event(1, 1.0, EventKind.ENGINE_STARTED, "auto", {})])
    try:
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        journal.close()

    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert modes == {name: 0o600 for name in modes}
    assert {"journal.db", "journal.db-wal", "journal.db.lock"} <= set(modes)


def test_an_older_journal_readable_by_others_is_made_the_owner_s_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    Journal(path).close()
    path.chmod(0o644)

    Journal(path).close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
