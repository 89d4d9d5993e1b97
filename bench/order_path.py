"""Where an order's acknowledgement goes, segment by segment: the profile behind order_ack.

Stamps along one SubmitOrder's path on the realistic book (monitoring on, sim broker):

- ``hop_in``: ``client.execute`` to the engine thread taking the command (thread hop);
- ``apply``: risk checks, OMS, the sim broker's fill, the portfolio (tmt's decision code);
- ``encode``: the events' JSON and hash chain, before the transaction;
- ``sqlite``: ``begin`` .. ``commit`` with synchronous=FULL (SQLite and the fsync);
- ``reply``: the commit's end to the client's future resolved (thread hop back);
- ``total``: what order_ack measures; and, in this run, the commit floor (bench/commit_floor.py)
  and the hop floor (the same commit behind the same two thread hops, no tmt code).

Each segment is reported at p50 and p99 in µs; ``tmt_p50_us`` is what tmt's own Python adds
(apply + encode) and ``outside_p50_us`` the rest (hops, SQLite, the fsync).
"""

from __future__ import annotations

import os
import time
from typing import Any

from _realistic_book import (
    bench_settings,
    commit_floor,
    current_mids,
    hop_floor,
    percentiles,
    report,
    run,
    seed_book,
    start_engine,
    temp_journal,
)

from tmt_tui.domain.commands import Origin, SubmitOrder
from tmt_tui.engine import local_client, runner
from tmt_tui.store import journal as journal_module

N = int(os.environ.get("TMT_BENCH_N", "5000"))
WARMUP = 200
STAMPS: dict[str, int] = {}
now = time.perf_counter_ns


def stamp_around(cls: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(cls, name)

    def stamped(*args: Any, **kwargs: Any) -> Any:
        if before:
            STAMPS[before] = now()
        result = original(*args, **kwargs)
        if after:
            STAMPS[after] = now()
        return result

    setattr(cls, name, stamped)


class StampedConnection:
    """The journal's connection, stamping the transaction's begin and commit."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "begin":
            STAMPS["begin"] = now()
        result = self._conn.execute(sql, *args)
        if sql == "commit":
            STAMPS["commit"] = now()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> Any:
        return self._conn.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self._conn.__exit__(*exc)


def instrument() -> None:
    stamp_around(runner.EngineRunner, "_enqueue", "taken", None)
    stamp_around(runner.EngineRunner, "_apply", "apply", "applied")
    stamp_around(journal_module.Journal, "append", "append", None)
    resolve = local_client._resolve

    def resolved(future: Any, reply: Any) -> None:
        STAMPS["resolved"] = now()
        resolve(future, reply)

    local_client._resolve = resolved


async def main() -> None:
    instrument()
    journal = temp_journal()
    client = start_engine(bench_settings(journal))
    segments: dict[str, list[int]] = {
        k: [] for k in ("hop_in", "apply", "encode", "sqlite", "reply", "total")
    }
    try:
        await seed_book(client, await current_mids(client))
        engine_journal = client.runner.journal
        engine_journal.conn = StampedConnection(engine_journal.conn)
        for i in range(WARMUP + N):
            command = SubmitOrder(
                "SIM-USD", "EUR_USD", 1000 if i % 2 == 0 else -1000, origin=Origin.CLI
            )
            STAMPS.clear()
            start = now()
            reply = await client.execute(command)
            end = now()
            if not reply.ok:
                raise RuntimeError(reply)
            if i < WARMUP:
                continue
            s = STAMPS
            segments["hop_in"].append(s["taken"] - start)
            segments["apply"].append(s["applied"] - s["apply"])
            segments["encode"].append(s["begin"] - s["append"])
            segments["sqlite"].append(s["commit"] - s["begin"])
            segments["reply"].append(s["resolved"] - s["commit"])
            segments["total"].append(end - start)
    finally:
        await client.close()
    floor = commit_floor(journal)
    hops = await hop_floor(journal)
    figures: dict[str, Any] = {"bench": "order_path", "n": N}
    for name, samples in segments.items():
        p = percentiles(samples)
        figures[f"{name}_p50_us"] = p["p50_us"]
        figures[f"{name}_p99_us"] = p["p99_us"]
    figures["floor_p50_us"] = floor["p50_us"]
    figures["hop_floor_p50_us"] = hops["p50_us"]
    figures["tmt_p50_us"] = round(figures["apply_p50_us"] + figures["encode_p50_us"], 2)
    figures["outside_p50_us"] = round(figures["total_p50_us"] - figures["tmt_p50_us"], 2)
    for name in segments:
        p50, p99 = figures[f"{name}_p50_us"], figures[f"{name}_p99_us"]
        print(f"{name:8s} p50 {p50:9.1f} µs   p99 {p99:9.1f} µs")
    report(figures)


run(main())
