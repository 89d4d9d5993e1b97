"""The journal: one owner at a time, never writes a file that is not its own, and keeps ticks
apart from the events that replay folds into state.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.quotes import Quote
from tmt_tui.store.journal import Journal, JournalError, JournalLocked
from tmt_tui.store.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
D = Decimal


@pytest.fixture
def journal(journal_path: Path) -> Iterator[Journal]:
    j = Journal(journal_path)
    yield j
    j.close()


def ev(seq: int, kind: EventKind, **data: object) -> Event:
    return Event(seq, 1_781_092_800.0 + seq, kind, "ui", dict(data))


def python(code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


# one owner ------------------------------------------------------------------------------------


def test_second_process_is_refused_with_the_owners_pid(
    journal: Journal, journal_path: Path
) -> None:
    child = python(
        f"""
        from pathlib import Path
        from tmt_tui.store.journal import Journal, JournalLocked
        try:
            Journal(Path({str(journal_path)!r}))
        except JournalLocked as exc:
            print("LOCKED", exc.pid, "|", exc)
        """
    )

    out, err = child.communicate(timeout=30)

    assert out.startswith(f"LOCKED {os.getpid()} |"), err
    assert f"{journal_path} is in use by process {os.getpid()}" in out


def test_journal_held_by_another_process_is_refused_here_naming_its_pid(journal_path: Path) -> None:
    child = python(
        f"""
        import sys
        from pathlib import Path
        from tmt_tui.store.journal import Journal
        journal = Journal(Path({str(journal_path)!r}))
        print("ready", flush=True)
        sys.stdin.read()  # hold the journal until the parent closes our stdin
        journal.close()
        """
    )
    try:
        assert child.stdout.readline().strip() == "ready"  # type: ignore[union-attr]

        with pytest.raises(JournalLocked) as caught:
            Journal(journal_path)
    finally:
        child.communicate(timeout=30)

    assert caught.value.pid == str(child.pid)
    assert f"in use by process {child.pid}" in str(caught.value)


def test_journal_of_a_killed_process_can_be_opened(journal_path: Path) -> None:
    child = python(
        f"""
        import sys
        from pathlib import Path
        from tmt_tui.store.journal import Journal
        journal = Journal(Path({str(journal_path)!r}))
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    assert child.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
    child.kill()
    child.communicate(timeout=30)

    reopened = Journal(journal_path)

    reopened.close()


def test_closed_journal_can_be_opened_again(journal_path: Path) -> None:
    Journal(journal_path).close()

    again = Journal(journal_path)

    again.close()


# not ours -------------------------------------------------------------------------------------


def assert_refused_untouched(path: Path, content: bytes, text: str) -> None:
    with pytest.raises(JournalError) as caught:
        Journal(path)

    assert not isinstance(caught.value, JournalLocked)
    assert str(path) in str(caught.value)
    assert text in str(caught.value)
    assert path.read_bytes() == content


def test_file_of_random_bytes_is_refused_and_left_alone(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    content = os.urandom(4096)
    journal_path.write_bytes(content)

    assert_refused_untouched(journal_path, content, "not a tmt journal")


def test_sqlite_file_without_our_meta_table_is_refused_and_left_alone(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(journal_path)
    conn.execute("create table notes (body text)")
    conn.execute("insert into notes values ('my precious data')")
    conn.commit()
    conn.close()
    content = journal_path.read_bytes()

    assert_refused_untouched(journal_path, content, "is an SQLite file but not a tmt journal")


def test_sqlite_file_of_another_app_with_a_meta_table_is_refused(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(journal_path)
    conn.execute("create table meta (key text primary key, value text)")
    conn.execute("insert into meta values ('app', 'someone-else')")
    conn.commit()
    conn.close()
    content = journal_path.read_bytes()

    assert_refused_untouched(journal_path, content, "app='someone-else'")


def test_corrupt_sqlite_file_is_refused_and_left_alone(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    content = b"SQLite format 3\x00" + os.urandom(8192)
    journal_path.write_bytes(content)

    assert_refused_untouched(journal_path, content, "corrupt")


def test_journal_of_a_future_schema_is_refused(journal_path: Path) -> None:
    Journal(journal_path).close()
    conn = sqlite3.connect(journal_path)
    conn.execute("update meta set value = '99' where key = 'schema'")
    conn.commit()
    conn.close()

    content = journal_path.read_bytes()

    assert_refused_untouched(
        journal_path,
        content,
        f"written by a newer tmt (schema v99, this tmt reads up to v{SCHEMA_VERSION}): upgrade tmt",
    )


def test_refusing_a_foreign_file_releases_the_lock(journal_path: Path) -> None:
    journal_path.parent.mkdir(parents=True)
    journal_path.write_bytes(b"not a database")
    with pytest.raises(JournalError):
        Journal(journal_path)

    with pytest.raises(JournalError) as caught:
        Journal(journal_path)

    assert not isinstance(caught.value, JournalLocked)


# events, ticks, replay ------------------------------------------------------------------------


def test_new_journal_is_in_wal_mode(journal: Journal, journal_path: Path) -> None:
    conn = sqlite3.connect(journal_path)
    try:
        mode = conn.execute("pragma journal_mode").fetchone()[0]
    finally:
        conn.close()

    assert mode == "wal"


def test_ticks_are_stored_in_their_own_table(journal: Journal) -> None:
    journal.append([ev(1, EventKind.ENGINE_STARTED, accounts=[])])

    journal.append_ticks(
        [
            Quote("EUR_USD", D("1.10000"), D("1.10010"), 1.0),
            Quote("EUR_USD", D("1.10001"), D("1.10011"), 2.0),
        ]
    )

    ticks = journal.conn.execute("select instrument, bid, ask from ticks order by ts").fetchall()
    assert ticks == [("EUR_USD", "1.10000", "1.10010"), ("EUR_USD", "1.10001", "1.10011")]
    assert journal.conn.execute("select count(*) from events").fetchone() == (1,)


def test_replay_skips_ticks(journal: Journal) -> None:
    journal.append([ev(1, EventKind.ENGINE_STARTED, accounts=[])])
    journal.append_ticks([Quote("EUR_USD", D("1.10000"), D("1.10010"), 1.0)])
    journal.append([ev(2, EventKind.KILL_SWITCH_ENGAGED, reason="x", flatten=False)])

    replayed = list(journal.replay(0))

    assert [(e.seq, e.kind) for e in replayed] == [
        (1, EventKind.ENGINE_STARTED),
        (2, EventKind.KILL_SWITCH_ENGAGED),
    ]


def test_replay_skips_the_audit_only_kinds(journal: Journal) -> None:
    journal.append(
        [
            ev(1, EventKind.ENGINE_STARTED, accounts=[]),
            ev(2, EventKind.COMMAND, command="EngageKillSwitch"),
            ev(3, EventKind.KILL_SWITCH_ENGAGED, reason="x", flatten=False),
            ev(4, EventKind.COMMAND_REJECTED, code="NOT_HALTED"),
        ]
    )

    assert [e.seq for e in journal.replay(0)] == [1, 3]


def test_replay_starts_after_the_given_sequence(journal: Journal) -> None:
    journal.append([ev(s, EventKind.KILL_SWITCH_RESET) for s in (1, 2, 3)])

    assert [e.seq for e in journal.replay(2)] == [3]


def test_events_round_trip_exactly(journal: Journal) -> None:
    event = ev(1, EventKind.DAY_STARTED, account="SIM-USD", trading_day="2026-06-10",
               start_equity="100000.0000")  # fmt: skip
    journal.append([event])

    assert list(journal.replay(0)) == [event]
    assert journal.recent_events(10) == [event]
    assert journal.last_seq() == 1


def test_last_quotes_keep_the_latest_tick_per_instrument(journal: Journal) -> None:
    journal.append_ticks(
        [
            Quote("EUR_USD", D("1.10000"), D("1.10010"), 1.0),
            Quote("USD_JPY", D("150.000"), D("150.010"), 1.5),
            Quote("EUR_USD", D("1.10100"), D("1.10110"), 2.0),
        ]
    )

    assert sorted(journal.last_quotes(), key=lambda q: q.instrument) == [
        Quote("EUR_USD", D("1.10100"), D("1.10110"), 2.0),
        Quote("USD_JPY", D("150.000"), D("150.010"), 1.5),
    ]


def test_a_failed_append_writes_nothing_of_its_batch(journal: Journal) -> None:
    journal.append([ev(1, EventKind.KILL_SWITCH_RESET)])

    with pytest.raises(sqlite3.IntegrityError):
        journal.append([ev(2, EventKind.KILL_SWITCH_RESET), ev(1, EventKind.KILL_SWITCH_RESET)])

    assert journal.last_seq() == 1
    journal.append([ev(2, EventKind.KILL_SWITCH_RESET)])  # and the journal is still usable
    assert journal.last_seq() == 2


def test_latest_checkpoint_is_the_newest(journal: Journal) -> None:
    journal.checkpoint(5, 1.0, "2026-06-10", {"seq": 5})
    journal.checkpoint(9, 2.0, "2026-06-10", {"seq": 9})

    assert journal.latest_checkpoint() == {"seq": 9}


def test_empty_journal_has_no_checkpoint(journal: Journal) -> None:
    assert journal.latest_checkpoint() is None
    assert journal.last_seq() == 0


@pytest.mark.parametrize(
    ("since", "first"), [(None, 0.0), (0.0, 0.0), (50.5, 51.0), (51.0, 51.0), (99.0, 99.0)]
)
def test_the_quotes_since_a_time_are_found_without_reading_those_before(
    journal_path: Path, since: float | None, first: float
) -> None:
    journal = Journal(journal_path)
    try:
        for start in range(0, 100, 10):  # ten batches, as the flush timer writes them
            journal.append_ticks(
                [
                    Quote("EUR_USD", Decimal("1.1"), Decimal("1.2"), float(t))
                    for t in range(start, start + 10)
                ]
            )
        journal.conn.execute("delete from ticks where rowid in (20, 21, 22, 60)")  # gaps
        found = list(journal.ticks_since(since))
        later = list(journal.ticks_since(1_000.0))
    finally:
        journal.close()

    expected = [float(t) for t in range(100) if t >= first and t not in (19, 20, 21, 59)]
    assert [ts for ts, *_ in found] == expected
    assert found[0][1:] == ("EUR_USD", 1.1, 1.2)
    assert later == []


def test_a_journal_with_no_quotes_has_none_since_any_time(journal_path: Path) -> None:
    journal = Journal(journal_path)
    try:
        assert list(journal.ticks_since(None)) == list(journal.ticks_since(5.0)) == []
    finally:
        journal.close()
