"""The history database's schema: made once (also by two engines at once), TimescaleDB's
statements as text, the packaged config, and what the workstation says about the sync."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg

from tests.support.postgres import PgServer
from tmt_tui.config import load_settings
from tmt_tui.config.schema import SyncSettings
from tmt_tui.sync import ddl
from tmt_tui.tui.state import ViewModel

CONFIG = Path(__file__).resolve().parents[2] / "tmt_tui" / "resources" / "config"


def test_timescale_statements_make_hypertables_bars_and_the_configured_policies() -> None:
    text = "\n".join(
        ddl.timescale_statements(SyncSettings(compress_after_days=3, retention_days=90))
    )

    for table in ("events", "ticks", "equity", "fills", "alerts"):
        assert f"create_hypertable('tmt.{table}', by_range('ts')" in text
    assert "create materialized view tmt.bars with (timescaledb.continuous)" in text
    assert "time_bucket(interval '1 minute', ts)" in text
    assert "add_continuous_aggregate_policy('tmt.bars'" in text
    assert "add_compression_policy('tmt.ticks', interval '3 days')" in text
    assert "add_retention_policy('tmt.ticks', interval '90 days')" in text


def test_timescale_policies_at_zero_days_are_left_out() -> None:
    text = "\n".join(
        ddl.timescale_statements(SyncSettings(compress_after_days=0, retention_days=0))
    )

    assert "compress" not in text and "retention" not in text


def test_the_unique_keys_of_time_tables_hold_their_time_column_as_hypertables_need() -> None:
    for sql in ddl._V1_TABLES:
        for table in ddl.TIME_TABLES:
            if sql.startswith(f"create table tmt.{table} "):
                assert sql.endswith(", ts))"), sql


def test_two_engines_migrating_at_once_make_the_tables_once(
    pg_server: PgServer, pg_db: str
) -> None:
    results: list[object] = []

    def migrate() -> None:
        with psycopg.connect(pg_server.dsn(db=pg_db), autocommit=True) as conn:
            results.append(ddl.migrate(conn, SyncSettings()))

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    with psycopg.connect(pg_server.dsn(db=pg_db), autocommit=True) as conn:
        rows = conn.execute("select version, backend from tmt.schema_history").fetchall()
    assert rows == [(1, "postgresql")] and len(results) == 2


def test_the_packaged_timescale_config_turns_the_sync_on_within_every_range() -> None:
    settings = load_settings(CONFIG / "timescale.toml")

    assert settings.sync.enabled and settings.sync.timescale == "auto"
    assert settings.sync.prune_ticks_after_days == 0  # local retention is off by default


def test_the_header_says_sync_down_and_sync_lagging_from_the_engines_alerts() -> None:
    model = ViewModel()
    model.stream = "live"

    model.alerts = {"sync.lagging": "sync lagging: 120 rows, 75s behind"}
    lagging = model.status_text()
    model.alerts = {"sync.down": "sync down: cannot reach PostgreSQL"}
    down = model.status_text()

    assert lagging == "live · sync lagging" and down == "live · sync down"
