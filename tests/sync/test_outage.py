"""The database goes away while the engine trades: trading goes on, the engine says "sync
down", and when the database is back the sync catches up: nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from tests.support.cli import Engine
from tests.support.postgres import PgServer
from tests.support.waiting import wait_for

from .helpers import (
    caught_up,
    duplicates,
    engine_with_sync,
    running_status,
    tmt_sync,
    trade,
    wait_caught_up,
)


def alerts(engine: Engine) -> dict[str, Any]:
    status = engine.json("status")
    assert isinstance(status, dict)
    return dict(status["alerts"])


def check_agrees(engine: Engine) -> dict[str, Any]:
    check = tmt_sync(engine, "check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    return dict(json.loads(check.stdout))


def test_the_database_stopped_mid_sync_loses_and_doubles_nothing(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    with engine_with_sync(tmp_path / "a", pg_server.dsn(db=pg_db)) as engine:
        trade(engine, 2)
        wait_caught_up(engine)
        pg_server.stop()
        try:
            wait_for(lambda: "sync.down" in alerts(engine), "the sync.down alert", within=30)
            trade(engine, 4)  # trading goes on while the database is away
            down = running_status(engine)
            assert down is not None and down["state"] == "down" and down["lag_rows"] > 0
        finally:
            pg_server.start()
        wait_for(lambda: caught_up(engine), "catching up after the outage", within=60)
        wait_for(lambda: "sync.down" not in alerts(engine), "sync.down cleared", within=30)
        assert engine.stop() == 0

    payload = check_agrees(engine)
    assert {t["table"]: t["db_rows"] for t in payload["tables"]}["fills"] == 6
    assert payload["behind"] == {} and duplicates(pg_server, pg_db) == 0


def test_a_sync_killed_mid_batch_resumes_from_its_watermark_without_duplicates(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    home = tmp_path / "a"
    extra = "batch_rows = 200\n"
    with engine_with_sync(home, pg_server.dsn(db=pg_db), extra) as engine:
        trade(engine, 2)
        wait_caught_up(engine)
    assert engine.proc.returncode == 0
    # a backlog worth many batches: the journal grows while nothing syncs it
    _grow_ticks(engine, 20_000)
    with engine_with_sync(home, pg_server.dsn(db=pg_db), extra) as engine:
        first = wait_for(lambda: _mid_batch(engine), "the sync part-way through", within=30)
        os.kill(first["pid"], signal.SIGKILL)  # the sync, mid-copy
        os.kill(engine.proc.pid, signal.SIGKILL)  # and the engine with it
        engine.proc.wait(10)
    with engine_with_sync(home, pg_server.dsn(db=pg_db), extra) as engine:
        wait_caught_up(engine, within=60)
        trade(engine, 1)
        wait_caught_up(engine)
        assert engine.stop() == 0

    payload = check_agrees(engine)
    assert payload["behind"] == {} and duplicates(pg_server, pg_db) == 0


def _mid_batch(engine: Engine) -> dict[str, Any] | None:
    status = running_status(engine)
    if status and status["watermarks"].get("ticks", 0) > 0 and status["lag_rows"] > 5_000:
        return status
    return None


def _grow_ticks(engine: Engine, n: int) -> None:
    """Ticks written into the stopped engine's journal as the engine writes them."""
    from decimal import Decimal

    from tmt_tui.domain.quotes import Quote
    from tmt_tui.store.journal import Journal

    journal = Journal(engine.home / "data" / "tmt" / "journal.db")
    try:
        quotes = [
            Quote("EUR_USD", Decimal("1.08500") + Decimal(i % 50) / 100_000,
                  Decimal("1.08510") + Decimal(i % 50) / 100_000, 1_781_000_000.0 + i / 10)
            for i in range(n)
        ]  # fmt: skip
        for start in range(0, n, 2_000):
            journal.append_ticks(quotes[start : start + 2_000])
    finally:
        journal.close()


def test_a_sync_process_that_dies_is_started_again_and_catches_up(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    with engine_with_sync(tmp_path / "a", pg_server.dsn(db=pg_db)) as engine:
        wait_caught_up(engine)
        first = running_status(engine)
        assert first is not None
        os.kill(first["pid"], signal.SIGKILL)
        trade(engine, 2)
        restarted = wait_for(
            lambda: (s := running_status(engine)) and s["pid"] != first["pid"] and s,
            "a new sync process",
            within=30,
        )
        wait_caught_up(engine)
        assert engine.stop() == 0

    assert restarted["pid"] != first["pid"]
    assert check_agrees(engine)["behind"] == {} and duplicates(pg_server, pg_db) == 0
