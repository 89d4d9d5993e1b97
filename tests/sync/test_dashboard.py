"""config/grafana/tmt-history.json: a Grafana dashboard over the PostgreSQL datasource, each
panel's SQL run against a database a real session was synced into, returning rows."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import psycopg

from tests.support.engines import engine_settings, running, trade_a_little, write_equity_rows
from tests.support.postgres import PgServer
from tmt_tui.config.schema import SyncSettings
from tmt_tui.sync import ddl
from tmt_tui.sync.copier import Copier
from tmt_tui.sync.journal_reader import JournalReader

DASHBOARD = (
    Path(__file__).resolve().parents[2] / "tmt_tui/resources/config/grafana/tmt-history.json"
)


def grafana_sql(sql: str, journal_id: str) -> str:
    """The SQL Grafana would send: its macros and variables expanded over all time."""
    sql = re.sub(r"\$__timeFilter\((\w+)\)", r"\1 between '-infinity' and 'infinity'", sql)
    sql = re.sub(
        r"\$__timeGroupAlias\((\w+), '1h'\)",
        r"to_timestamp(floor(extract(epoch from \1) / 3600) * 3600) as time",
        sql,
    )
    return sql.replace("${journal:sqlstring}", f"'{journal_id}'").replace("$instrument", "EUR_USD")


def test_the_history_dashboard_is_a_grafana_dashboard_over_postgresql() -> None:
    dashboard = json.loads(DASHBOARD.read_text())

    ids = [p["id"] for p in dashboard["panels"]]
    assert dashboard["uid"] == "tmt-history" and len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel["targets"]:
            assert target["datasource"]["type"] == "grafana-postgresql-datasource"


def test_every_panel_and_variable_query_returns_rows_from_a_synced_session(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.db"

    async def session() -> None:
        async with running(engine_settings(journal)) as client:
            await trade_a_little(client)
            await write_equity_rows(client)

    asyncio.run(session())
    with psycopg.connect(pg_server.dsn(db=pg_db), autocommit=True) as conn:
        ddl.migrate(conn, SyncSettings())
        reader = JournalReader(journal)
        copier = Copier(conn, reader, 1000)
        while copier.step():
            pass
        dashboard = json.loads(DASHBOARD.read_text())
        queries = [(p["title"], t["rawSql"]) for p in dashboard["panels"] for t in p["targets"]]
        queries += [
            (v["name"], v["query"]) for v in dashboard["templating"]["list"] if v["type"] == "query"
        ]
        empty = [
            title
            for title, sql in queries
            if not conn.execute(grafana_sql(sql, reader.journal_id)).fetchall()  # type: ignore[arg-type]
        ]
        reader.close()

    assert len(queries) >= 8 and empty == []
