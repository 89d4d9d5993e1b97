"""A database that refuses tmt (a wrong password, a host nobody answers on, a role that may
only read): one clear error each, the engine trades on, and the password appears nowhere."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import pytest

from tests.support.cli import Engine
from tests.support.postgres import PgServer, free_port
from tests.support.waiting import wait_for

from .helpers import engine_with_sync, journal_of, running_status, tmt_sync, trade, wait_caught_up

PASSWORD = "s3cret-Hunter2-pw"


def everything_said(engine: Engine, metrics: str = "") -> str:
    """Every byte tmt wrote about it: the engine's stderr (and the sync's) and log file, the
    status file, the journal, the status and sync commands' output, and /metrics."""
    journal = journal_of(engine)
    log = engine.home / "state" / "tmt" / "tmt.log"
    parts = [engine.stderr(), metrics, log.read_text() if log.exists() else ""]
    for suffix in ("", "-wal", ".sync.json"):
        path = journal.with_name(journal.name + suffix)
        if path.exists():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    for args in (("status", "--json"), ("status",), ("check",), ("backfill",)):
        result = tmt_sync(engine, *args)
        parts += [result.stdout, result.stderr]
    return "\n".join(parts)


def down_because(engine: Engine) -> str:
    status = wait_for(
        lambda: (s := running_status(engine)) and s["state"] == "down" and s,
        "the sync to say it is down",
        within=30,
    )
    return str(status["last_error"])


def assert_trades_and_says(engine: Engine, words: str) -> str:
    why = down_because(engine)
    trade(engine, 2)  # trading unaffected
    status = engine.json("status")
    assert isinstance(status, dict)
    assert status["alerts"].get("sync.down", "").startswith("sync down: ")
    assert words in why, why
    return why


def metrics_text(engine: Engine) -> str:
    import re
    import urllib.request

    match = re.search(r"metrics on (http://\S+)", engine.stderr())
    if match is None:
        return ""
    with urllib.request.urlopen(match.group(1) + "/metrics", timeout=10) as answer:
        return str(answer.read().decode())


@pytest.mark.parametrize("case", ["wrong password", "unreachable host", "read-only role"])
def test_a_refusing_database_is_one_clear_error_and_never_stops_trading_or_shows_the_password(
    pg_server: PgServer, pg_db: str, tmp_path: Path, case: str
) -> None:
    quoted = urllib.parse.quote(PASSWORD)
    if case == "wrong password":
        pg_server.create_role("tmt_w", "the-right-one", pg_db)
        dsn = f"postgresql://tmt_w:{quoted}@127.0.0.1:{pg_server.port}/{pg_db}"
        words = "refused the password or login of role 'tmt_w'"
    elif case == "unreachable host":
        dsn = f"postgresql://tmt:{quoted}@127.0.0.1:{free_port()}/{pg_db}"
        words = "cannot reach PostgreSQL at postgresql://tmt@127.0.0.1:"
    else:
        # the tables made by a writer first, then a role that may only read them
        with engine_with_sync(tmp_path / "w", pg_server.dsn(db=pg_db)) as writer:
            wait_caught_up(writer)
        pg_server.create_role("tmt_ro", PASSWORD, pg_db, writer=False)
        pg_server.grant_read_only("tmt_ro", pg_db)
        dsn = f"postgresql://tmt_ro:{quoted}@127.0.0.1:{pg_server.port}/{pg_db}"
        words = "role 'tmt_ro' may not write tmt's tables"

    with engine_with_sync(tmp_path / "a", dsn) as engine:
        why = assert_trades_and_says(engine, words)
        said = everything_said(engine, metrics_text(engine))
        assert "tmt_sync_errors_total" in said and "sync down" in said

    assert why.count("sync down") == 0 and len(why.splitlines()) == 1
    assert PASSWORD not in said and quoted not in said
    if case != "read-only role":  # never reached: not mistaken for an empty database
        assert "(not reached: see last error)" in said and "no tmt tables yet" not in said
