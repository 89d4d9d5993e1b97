"""The journal's hash chain as the engine writes it: each event linked to the one before, the
head kept in step with what is durable, and journaled at each daily rollover."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.support.engines import engine_settings, journal_rows
from tests.support.harness import T0
from tests.support.waiting import eventually
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.chain import Head, genesis, link
from tmt_tui.store.journal import Journal

DAY = 86_400.0


def test_each_event_links_to_the_one_before_from_the_journals_genesis(journal_path: Path) -> None:
    journal = Journal(journal_path)
    try:
        assert journal.head == Head(0, genesis(journal.journal_id, 1))
        journal.append([Event(1, 10.0, EventKind.KILL_SWITCH_RESET, "ui", {})])
        journal.append([Event(2, 11, EventKind.ALERT_RAISED, "auto", {"key": "k", "message": "m"})])
        head, journal_id = journal.head, journal.journal_id
    finally:
        journal.close()

    rows = journal_rows(journal_path, "select seq, ts, kind, origin, data, hash from events")
    first = link(genesis(journal_id, 1), 1, 10.0, "kill_switch.reset", "ui", "{}")
    second = link(first, 2, 11.0, "alert.raised", "auto", '{"key":"k","message":"m"}')
    assert [r[5] for r in rows] == [first, second]
    assert head == Head(2, second)
    again = Journal(journal_path)  # the head is found again on the next start
    try:
        assert again.head == head
    finally:
        again.close()


def test_a_batch_the_journal_refused_does_not_move_the_head(journal_path: Path) -> None:
    journal = Journal(journal_path)
    try:
        journal.append([Event(1, 10.0, EventKind.KILL_SWITCH_RESET, "ui", {})])
        head = journal.head
        with pytest.raises(Exception, match="UNIQUE"):
            journal.append([Event(1, 12.0, EventKind.KILL_SWITCH_RESET, "ui", {})])
        assert journal.head == head
    finally:
        journal.close()


def test_the_head_is_logged_and_journaled_at_the_daily_rollover(
    journal_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    now = [T0]
    client = start_embedded(engine_settings(journal_path), clock=lambda: now[0])

    async def roll() -> None:
        try:
            now[0] = T0 + DAY  # the next trading day: the marks timer rolls over
            await eventually(
                lambda: journal_rows(
                    journal_path, "select 1 from events where kind = 'journal.chain_head'"
                ),
                "the head journaled",
            )
        finally:
            await client.close()

    with caplog.at_level(logging.INFO, logger="tmt_tui.engine.runner"):
        asyncio.run(roll())

    (seq, data) = journal_rows(
        journal_path, "select seq, data from events where kind = 'journal.chain_head'"
    )[0]
    body = json.loads(data)
    kept = Head(body["seq"], body["hash"])
    (stored,) = journal_rows(journal_path, "select hash from events where seq = ?", kept.seq)[0]
    assert kept.seq < seq and kept.hash == stored  # the head as it stood, chained in after it
    assert any(f"journal chain head {kept}" in r.getMessage() for r in caplog.records)
