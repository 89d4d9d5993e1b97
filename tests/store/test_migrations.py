"""A journal written by an older tmt is migrated when it is opened, never refused: a backup
first, then step by step, each step in its own transaction, with its progress told.

The old journals here are genuine: made with the frozen v1 schema (``support/journal_v1.py``)
and holding a real trading session (``support/journals.py``), written with v1's own statements.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.engines import (
    engine_settings,
    lasting_state,
    running,
    snapshot,
    trade_a_little,
)
from tests.support.journal_v1 import V1_TABLES, V1Writer, journal_at, make_v1_journal
from tests.support.journals import (
    BACKUP_NAME,
    V2_STEP,
    V3_STEP,
    V4_STEP,
    V5_STEP,
    backups,
    fold,
    meta,
    read,
    table_rows,
    trading_session,
    write_v1_journal,
)
from tmt_tui import __version__
from tmt_tui.domain.events import STATEFUL_KINDS, Event, EventKind
from tmt_tui.domain.quotes import Quote
from tmt_tui.store import migrations
from tmt_tui.store.chain import genesis, link
from tmt_tui.store.journal import Journal, MigrationProgress
from tmt_tui.store.schema import SCHEMA_VERSION

D = Decimal


# a v1 journal is migrated on open --------------------------------------------------------------


def test_a_v1_journal_is_migrated_on_open_and_replays_identically(journal_path: Path) -> None:
    h = trading_session()
    write_v1_journal(journal_path, h)
    before = table_rows(journal_path)
    heard: list[MigrationProgress] = []

    journal = Journal(journal_path, on_progress=heard.append)
    try:
        replayed = list(journal.replay(0))
        recent = journal.recent_events(1000)
        checkpoint = journal.latest_checkpoint()
        assert checkpoint is not None
        after_checkpoint = list(journal.replay(checkpoint["seq"]))
        last_seq, last_quotes = journal.last_seq(), journal.last_quotes()
        journal.append([Event(last_seq + 1, h.clock(), EventKind.KILL_SWITCH_RESET, "ui", {})])
    finally:
        journal.close()

    # the events read back as they were written, and fold into the same engine state
    kept = {*STATEFUL_KINDS, EventKind.ENGINE_STARTED}
    assert replayed == [e for e in h.events if e.kind in kept]
    assert recent == h.events
    assert last_seq == h.events[-1].seq
    assert sorted(last_quotes, key=lambda q: q.instrument) == sorted(
        h.core.quotes.quotes.values(), key=lambda q: q.instrument
    )
    assert (
        fold(h, after_checkpoint, checkpoint) == h.core.state.to_checkpoint() == fold(h, replayed)
    )
    # every v1 row is still there, unchanged; the journal is at this tmt's version now
    appended = (last_seq + 1, h.clock(), "kill_switch.reset", "ui", "{}")
    chained = link(genesis("c0ffee", last_seq + 1), *appended)  # the chain starts after v1's
    after = table_rows(journal_path)
    assert after["events"] == sorted(
        [*((*row, None) for row in before["events"]), (*appended, chained)], key=repr
    )
    assert {t: after[t] for t in V1_TABLES if t not in ("meta", "events", "equity")} == {
        t: before[t] for t in V1_TABLES if t not in ("meta", "events", "equity")
    }
    # equity samples gained a report currency and rate, unknown for the old ones
    assert after["equity"] == [(*row, None, None) for row in before["equity"]]
    assert meta(journal_path) == {
        "app": "tmt-journal",
        "schema": str(SCHEMA_VERSION),
        "journal_id": "c0ffee",
        "chain_from": str(last_seq + 1),
    }
    history = read(
        journal_path, "select version, from_version, tmt_version, how from schema_history"
    )
    assert history == [
        (2, 1, __version__, f"step {V2_STEP}"),
        (3, 2, __version__, f"step {V3_STEP}"),
        (4, 3, __version__, f"step {V4_STEP}"),
        (5, 4, __version__, f"step {V5_STEP}"),
    ]
    # the backup: beside it, named by the old version and the time, a whole v1 journal
    (backup,) = backups(journal_path)
    assert journal.backup == backup and BACKUP_NAME.fullmatch(backup.name), backup.name
    assert read(backup, "pragma integrity_check") == [("ok",)]
    assert meta(backup)["schema"] == "1"
    assert {n for (n,) in read(backup, "select name from sqlite_master where type='table'")} == {
        *V1_TABLES
    }
    assert table_rows(backup) == before
    # progress: the backup and the step, each from 0% to 100%, named
    said = [str(p) for p in heard]
    assert said[0] == f"migrating journal.db from v1 to v5: backing up to {backup.name}: 0%"
    assert f"migrating journal.db from v1 to v5: backing up to {backup.name}: 100%" in said
    assert said[-8:] == [
        f"migrating journal.db from v1 to v5: step {V2_STEP}: 0%",
        f"migrating journal.db from v1 to v5: step {V2_STEP}: 100%",
        f"migrating journal.db from v1 to v5: step {V3_STEP}: 0%",
        f"migrating journal.db from v1 to v5: step {V3_STEP}: 100%",
        f"migrating journal.db from v1 to v5: step {V4_STEP}: 0%",
        f"migrating journal.db from v1 to v5: step {V4_STEP}: 100%",
        f"migrating journal.db from v1 to v5: step {V5_STEP}: 0%",
        f"migrating journal.db from v1 to v5: step {V5_STEP}: 100%",
    ]


def test_a_migrated_journal_opens_again_without_migrating(journal_path: Path) -> None:
    make_v1_journal(journal_path)
    Journal(journal_path, on_progress=lambda p: None).close()
    heard: list[MigrationProgress] = []

    again = Journal(journal_path, on_progress=heard.append)
    again.close()

    assert heard == [] and again.backup is None
    assert len(backups(journal_path)) == 1


def test_a_large_journal_reports_its_progress_as_it_goes(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_v1_journal(journal_path)
    w = V1Writer(journal_path)
    try:  # ~7 MB of quotes, as a long-running engine leaves
        w.ticks([Quote("EUR_USD", D(1) + i, D(2) + i, float(i)) for i in range(160_000)])
    finally:
        w.close()
    assert journal_path.stat().st_size > 4 * migrations.BACKUP_PAGES_PER_STEP * 4096

    with caplog.at_level(logging.INFO, logger="tmt_tui.store.migrations"):
        Journal(journal_path).close()  # no callback: the log hears it

    lines = [r.getMessage() for r in caplog.records]
    backing_up = [line for line in lines if ": backing up to " in line]
    percents = [int(line.rsplit(": ", 1)[1].rstrip("%")) for line in backing_up]
    assert percents[0] == 0 and percents[-1] == 100
    assert len(percents) >= 5 and percents == sorted(set(percents))  # in between, once each
    assert all(line.startswith("migrating journal.db from v1 to v5: ") for line in backing_up)
    assert re.fullmatch(
        r"migrated .*journal\.db from v1 to v5 in \d+\.\d s; the v1 journal is kept at "
        r".*journal\.db\.bak-v1-\d{8}T\d{6}Z",
        lines[-1],
    ), lines[-1]


def normalized_schema(path: Path) -> set[tuple[str, str]]:
    """Each table's and index's SQL, with quoting and layout set aside."""

    def norm(sql: str) -> str:
        sql = re.sub(r"\s+", " ", re.sub(r'[\[\]"`]', "", sql)).lower()
        return re.sub(r"\s*([(),])\s*", r"\1", sql).strip()

    rows = read(path, "select name, sql from sqlite_master where sql is not null")
    return {(str(name), norm(str(sql))) for name, sql in rows}


def test_a_migrated_journal_has_the_schema_of_a_new_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old" / "journal.db", tmp_path / "new" / "journal.db"
    make_v1_journal(old)
    Journal(old, on_progress=lambda p: None).close()
    Journal(new).close()

    assert normalized_schema(old) == normalized_schema(new)
    assert "schema_history" in {name for name, _ in normalized_schema(new)}


def test_a_new_journal_records_that_it_was_made_at_this_version(journal_path: Path) -> None:
    Journal(journal_path).close()

    history = read(
        journal_path, "select version, from_version, tmt_version, how from schema_history"
    )
    assert history == [(SCHEMA_VERSION, None, __version__, "made new")]
    assert backups(journal_path) == []


def test_journal_at_makes_a_journal_of_each_version(tmp_path: Path) -> None:
    for version in range(1, SCHEMA_VERSION + 1):
        path = tmp_path / f"v{version}" / "journal.db"
        journal_at(path, version)
        assert meta(path)["schema"] == str(version)
        assert backups(path) == []


# the engine on a journal an older tmt wrote ----------------------------------------------------


async def test_an_engine_restarts_on_a_journal_an_older_tmt_wrote_to_the_same_picture(
    tmp_path: Path,
) -> None:
    """A real engine session, its rows put in a v1 journal as the v1 tmt would have left them:
    the engine started on it migrates it and comes back exactly as it stopped."""
    session = tmp_path / "session" / "journal.db"
    async with running(engine_settings(session)) as client:
        await trade_a_little(client)
        before = await snapshot(client)
    (journal_id,) = read(session, "select value from meta where key = 'journal_id'")[0]
    old = tmp_path / "old" / "journal.db"
    make_v1_journal(old, journal_id=str(journal_id))
    conn = sqlite3.connect(old)
    with conn:
        conn.execute("attach database ? as session", (str(session),))
        for table in V1_TABLES[1:]:  # all but meta, each with the columns v1 had
            columns = ", ".join(row[1] for row in conn.execute(f"pragma main.table_info({table})"))
            conn.execute(f"insert into main.{table} select {columns} from session.{table}")
    conn.execute("detach database session")
    conn.close()

    async with running(engine_settings(old)) as client:
        after = await snapshot(client)

    assert lasting_state(after) == {**lasting_state(before), "seq": after.seq}
    assert meta(old)["schema"] == str(SCHEMA_VERSION)
    assert len(backups(old)) == 1
