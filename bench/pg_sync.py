"""The history sync into a local PostgreSQL: rows/s copied, catch-up time for a journal of N
events, and submit -> durable ack p99 with the sync running beside the engine versus without,
in the same run.

Budgets: >= 50k rows/s; the ack p99 with the sync within 10% of without (the sync is a process
of its own, tmt_tui/sync/process.py, so the engine's only cost is an idle pipe read). The
server is a throwaway cluster (tests/support/postgres.py: fsync off, as a test server). N is
1M events by default (``TMT_BENCH_PG_EVENTS`` to change it); the figures name the N they used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support.postgres

import psycopg
from _realistic_book import (
    bench_settings,
    current_mids,
    now_ns,
    percentiles,
    report,
    run,
    seed_book,
    start_engine,
)

from tests.support.postgres import postgres_server
from tmt_tui.config.schema import SyncSettings
from tmt_tui.domain.commands import Origin, SubmitOrder
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.journal import Journal
from tmt_tui.sync import ddl
from tmt_tui.sync.copier import Copier
from tmt_tui.sync.journal_reader import JournalReader
from tmt_tui.sync.loop import SyncStatus
from tmt_tui.sync.process import SyncSupervisor, background

#: The server's files on tmpfs where there is one: it stands for a database on another box, and
#: a local one writing to the journal's disk makes the engine's fsyncs wait on its writeback
#: (ext4 orders them), which no remote database does.
DATABASE_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None
EVENTS = int(os.environ.get("TMT_BENCH_PG_EVENTS", "1000000"))
ACKS = 10_000
WARMUP = 200
#: Set, the sync stays paused in both arms: what the ratio is when nothing differs (noise).
A_A = os.environ.get("TMT_BENCH_PG_AA") == "1"
#: Orders a second while timing acks; 0: back to back, as bench/order_ack.py (~1,400 a second
#: here, so the sync copies ~7,000 events a second beside them: the worst case).
ORDER_RATE = float(os.environ.get("TMT_BENCH_PG_ORDER_RATE", "0"))
BLOCKS = 20  # alternating: sync paused, sync running, ...


def journal_of_events(path: Path, n: int) -> None:
    """A journal of ``n`` small audit events (each hash-chained, as the engine writes them)."""
    journal = Journal(path)
    try:
        t0 = 1_781_000_000.0
        for start in range(0, n, 5000):
            journal.append(
                [
                    Event(
                        seq,
                        t0 + seq / 1000,
                        EventKind.COMMAND,
                        "cli",
                        {
                            "type": "SubmitOrder",
                            "account": "SIM-USD",
                            "instrument": "EUR_USD",
                            "units": 1000,
                            "origin": "cli",
                            "client_ref": f"bench-{seq}",
                        },
                    )
                    for seq in range(start + 1, min(n, start + 5000) + 1)
                ]  # fmt: skip
            )
    finally:
        journal.close()


def catch_up(dsn: str, path: Path) -> tuple[int, float]:
    """Copy the whole journal as the sync does; (rows, seconds)."""
    conn = psycopg.connect(dsn, autocommit=True)
    reader = JournalReader(path)
    try:
        ddl.migrate(conn, SyncSettings())
        copier = Copier(conn, reader, SyncSettings().batch_rows)
        started = time.perf_counter()
        rows = 0
        while step := copier.step():
            rows += step
        return rows, time.perf_counter() - started
    finally:
        reader.close()
        conn.close()


async def acks(client: object, n: int, rate: float = 0.0) -> list[int]:
    """``n`` submit -> ack times, back to back, or ``rate`` orders a second."""
    samples = []
    began = time.perf_counter()
    for i in range(n):
        if rate:
            await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        command = SubmitOrder(
            "SIM-USD", "EUR_USD", 1000 if i % 2 == 0 else -1000, origin=Origin.CLI
        )
        start = now_ns()
        reply = await client.execute(command)  # type: ignore[attr-defined]
        elapsed = now_ns() - start
        if not reply.ok:
            raise RuntimeError(reply)
        samples.append(elapsed)
    return samples


async def ack_with_and_without(dsn: str, tmp: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Acks in alternating blocks, the sync process running or paused (SIGSTOP), so the load
    of the rest of the box falls on both alike; a running block starts once the sync caught up
    with the paused block before it."""
    journal = tmp / "engine.db"
    client = start_engine(bench_settings(journal))
    latest: list[SyncStatus] = []
    supervisor = SyncSupervisor(
        SyncSettings(enabled=True), journal, latest.append, env={**os.environ, "TMT_PG_DSN": dsn}
    )
    without: list[int] = []
    with_sync: list[int] = []
    try:
        await seed_book(client, await current_mids(client))
        await acks(client, WARMUP)
        supervisor.start()
        deadline = time.monotonic() + 60
        while not (latest and latest[-1].state == "ok" and latest[-1].rows_copied > 0):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the sync did not start: {latest[-1:]}")
            await asyncio.sleep(0.05)
        pid = supervisor.pid
        assert pid is not None
        nice_database(dsn)
        for block in range(BLOCKS):
            arm = block % 2 == 1
            os.kill(pid, signal.SIGCONT if arm and not A_A else signal.SIGSTOP)
            if arm and not A_A:
                await caught_up(latest)
            got = await acks(client, ACKS // BLOCKS, ORDER_RATE)
            (with_sync if arm else without).extend(got)
        os.kill(pid, signal.SIGCONT)
    finally:
        await client.close()
        supervisor.stop()
    return percentiles(without), percentiles(with_sync)


async def caught_up(latest: list[SyncStatus], within: float = 60.0) -> None:
    """Until the sync, resumed, has copied what the engine wrote while it was paused: a block
    times the steady state, not the catch-up after a pause (that is lagging, timed above)."""
    since = time.time()
    deadline = time.monotonic() + within
    while not (latest and latest[-1].updated > since and latest[-1].lag_rows <= 200):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sync did not catch up: {latest[-1:]}")
        await asyncio.sleep(0.02)


def nice_database(dsn: str) -> None:
    """The database here stands in for one on another box (as a desk runs it): its server
    processes get the sync's own background scheduling, so they do not take this box's cores from
    the engine as no remote database could."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "select setting from pg_settings where name = 'data_directory'"
        ).fetchone()
    assert row is not None
    pid = int((Path(str(row[0])) / "postmaster.pid").read_text().split()[0])
    for child in [pid, *_children(pid)]:
        background(child)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().split(") ", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


async def main() -> None:
    with (
        postgres_server(DATABASE_DIR) as pg,
        tempfile.TemporaryDirectory(prefix="tmt-bench-") as tmp,
    ):
        root = Path(tmp)
        with pg.connect() as conn:
            conn.execute("create database bench")
            conn.execute("create database bench_acks")
        made = time.perf_counter()
        journal_of_events(root / "events.db", EVENTS)
        made_s = time.perf_counter() - made
        rows, seconds = catch_up(pg.dsn(db="bench"), root / "events.db")
        print(f"journal of {EVENTS:,} events made in {made_s:.1f}s; copied {rows:,} rows "
              f"in {seconds:.1f}s", file=sys.stderr)  # fmt: skip
        without, with_sync = await ack_with_and_without(pg.dsn(db="bench_acks"), root)
    ratio = with_sync["p99_us"] / without["p99_us"]
    report(
        {
            "bench": "pg_sync", "events_n": EVENTS, "rows_n": rows,
            "rows_per_s": round(rows / seconds), "catch_up_s": round(seconds, 2),
            "budget_rows_per_s": 50_000,
            "ack_p50_us_without": without["p50_us"], "ack_p50_us_with": with_sync["p50_us"],
            "ack_p99_us_without": without["p99_us"], "ack_p99_us_with": with_sync["p99_us"],
            "ratio": round(ratio, 3), "budget_ratio": 1.10, "acks_n": ACKS,
            "orders_per_s": ORDER_RATE,
        }
    )  # fmt: skip


run(main())
