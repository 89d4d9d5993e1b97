"""After a trading session the database holds what the journal holds, and `tmt sync check`
says so."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.postgres import PgServer

from .helpers import db_count, duplicates, engine_with_sync, tmt_sync, trade, wait_caught_up


def test_after_a_session_every_table_matches_the_journal_and_check_agrees(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    with engine_with_sync(tmp_path / "a", pg_server.dsn(db=pg_db)) as engine:
        trade(engine, 4)
        wait_caught_up(engine)
        live = tmt_sync(engine, "check", "--json")  # beside the running engine: what was copied
        code = engine.stop()
        assert code == 0

    check = tmt_sync(engine, "check", "--json")
    status = tmt_sync(engine, "status", "--json")

    assert live.returncode == 0, live.stdout + live.stderr
    assert check.returncode == 0, check.stdout + check.stderr
    tables = {t["table"]: t for t in json.loads(check.stdout)["tables"]}
    assert set(tables) == {"events", "ticks", "equity", "orders", "positions", "fills", "alerts"}
    assert all(t["agrees"] for t in tables.values()), tables
    assert json.loads(check.stdout)["behind"] == {}
    assert tables["fills"]["db_rows"] == 4 and tables["orders"]["db_rows"] >= 4
    assert db_count(pg_server, pg_db, "ticks") > 0 and duplicates(pg_server, pg_db) == 0
    payload = json.loads(status.stdout)
    assert status.returncode == 0 and payload["lag_rows"] == 0
    assert payload["backend"] == "postgresql" and payload["last_error"] == ""
