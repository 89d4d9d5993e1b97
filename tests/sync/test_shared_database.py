"""Two engines, each with its own journal, sync into one database: both histories, apart."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

from tests.support.postgres import PgServer

from .helpers import engine_with_sync, tmt_sync, trade, wait_caught_up


def test_two_engines_with_their_own_journals_share_one_database_without_collisions(
    pg_server: PgServer, pg_db: str, tmp_path: Path
) -> None:
    dsn = pg_server.dsn(db=pg_db)
    with engine_with_sync(tmp_path / "a", dsn) as one, engine_with_sync(tmp_path / "b", dsn) as two:
        trade(one, 3)
        trade(two, 2)
        wait_caught_up(one)
        wait_caught_up(two)
        assert one.stop() == 0 and two.stop() == 0

    checks = [json.loads(tmt_sync(e, "check", "--json").stdout) for e in (one, two)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        fills = dict(
            conn.execute("select journal_id, count(*) from tmt.fills group by 1").fetchall()
        )
        seqs = conn.execute(
            "select count(*) from tmt.events a join tmt.events b on a.seq = b.seq "
            "and a.journal_id < b.journal_id"
        ).fetchone()

    assert all(c["ok"] for c in checks), checks
    ids = [c["journal_id"] for c in checks]
    assert ids[0] != ids[1] and fills == {ids[0]: 3, ids[1]: 2}
    assert seqs is not None and seqs[0] > 0  # the same sequence numbers, kept apart by journal
