"""What the sync tests share: a `tmt engine` with [sync] on, pointed at a test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from tests.support.cli import ROOT, Engine, start_engine, write_config
from tests.support.postgres import PgServer
from tests.support.waiting import wait_for

SYNC = "\n[sync]\nenabled = true\npoll_interval_s = 0.05\nbackoff_s = 0.1\nmax_backoff_s = 0.5\n"


def sync_config(home: Path, extra: str = "") -> Path:
    home.mkdir(parents=True, exist_ok=True)
    return write_config(home, SYNC + extra)


@contextmanager
def engine_with_sync(home: Path, dsn: str, extra: str = "") -> Iterator[Engine]:
    """`tmt engine` syncing into ``dsn``; stopped (gracefully) on the way out."""
    config = sync_config(home, extra)
    before = os.environ.get("TMT_PG_DSN")
    os.environ["TMT_PG_DSN"] = dsn
    try:
        engine = start_engine(home, config)
    finally:
        if before is None:
            os.environ.pop("TMT_PG_DSN", None)
        else:
            os.environ["TMT_PG_DSN"] = before
    engine.env["TMT_PG_DSN"] = dsn
    try:
        yield engine
    finally:
        engine.stop()


def journal_of(engine: Engine) -> Path:
    return engine.home / "data" / "tmt" / "journal.db"


def tmt_sync(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    """`tmt sync ARGS` with the engine's config and environment (no engine needed)."""
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(engine.config), "sync", *args],
        env=engine.env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip


def trade(engine: Engine, n: int = 3) -> None:
    for i in range(n):
        side = "buy" if i % 2 == 0 else "sell"
        result = engine.tmt(side, "EUR_USD", "1000", "--json")
        assert result.returncode == 0, result.stdout + result.stderr


def running_status(engine: Engine) -> dict[str, Any] | None:
    path = journal_of(engine).with_name("journal.db.sync.json")
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def db_count(pg: PgServer, db: str, table: str, journal_id: str | None = None) -> int:
    with psycopg.connect(pg.dsn(db=db), autocommit=True) as conn:
        sql = f"select count(*) from tmt.{table}"
        row = (
            conn.execute(sql + " where journal_id = %s", (journal_id,))  # type: ignore[arg-type]
            if journal_id
            else conn.execute(sql)  # type: ignore[arg-type]
        ).fetchone()
    return int(row[0]) if row else 0


def duplicates(pg: PgServer, db: str) -> int:
    """Rows sharing a journal key in any append-only table (their keys forbid it, but say so)."""
    keys = {"events": "seq", "ticks": "id", "equity": "id", "fills": "seq", "alerts": "seq"}
    total = 0
    with psycopg.connect(pg.dsn(db=db), autocommit=True) as conn:
        for table, key in keys.items():
            row = conn.execute(
                f"select count(*) - count(distinct (journal_id, {key})) from tmt.{table}"  # type: ignore[arg-type]
            ).fetchone()
            total += int(row[0]) if row else 0
    return total


def caught_up(engine: Engine) -> bool:
    status = running_status(engine)
    return bool(status and status["state"] == "ok" and status["lag_rows"] == 0)


def wait_caught_up(engine: Engine, within: float = 30) -> None:
    wait_for(lambda: caught_up(engine), "the sync to catch up", within=within, interval=0.05)
