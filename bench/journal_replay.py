"""Restart time with 1M journaled events: open the journal, load the newest checkpoint, replay the
events after it, rebuild marks, start the venues, journal the start.

The journal is written by the engine itself (real commands through the runner's batch path:
market orders that fill, limit orders that rest and are cancelled, quotes flowing), so replay
meets exactly what production writes. Two figures: the restart as the engine leaves the journal
(a checkpoint every 100k events bounds replay), and the worst case with every checkpoint
deleted, so all 1M events are replayed. Budget <= 5 s.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from _realistic_book import bench_settings, booted_runner, drain, report, temp_journal

from tmt_tui.cli.embedded import engine_runner
from tmt_tui.domain.commands import CancelOrder, Origin, SubmitOrder
from tmt_tui.domain.orders import OrderType

TARGET_EVENTS = 1_000_000
BATCH = 400


def write_journal(path: Path) -> int:
    runner = booted_runner(journal=path)
    core, market = runner.core, runner.venue.feed
    names = [i.name for i in market.instruments()]
    runner.journal.conn.execute("pragma synchronous=off")  # generation speed only
    runner.journal._synchronous = lambda mode: None
    i = 0
    while core.seq < TARGET_EVENTS:
        for name in names:
            runner._on_quote(market.step(name))
        commands = []
        for _ in range(BATCH):
            i += 1
            account = "SIM-USD" if i % 2 else "SIM-EUR"
            if i % 3:
                units = 1000 if i % 4 < 2 else -1000
                commands.append(SubmitOrder(account, "EUR_USD", units, origin=Origin.CLI))
            else:
                mid = core.quotes.quotes["GBP_USD"].mid
                price = (mid * 98 / 100).quantize(core.quotes.instruments["GBP_USD"].tick)
                commands.append(
                    SubmitOrder(account, "GBP_USD", 1000, OrderType.LIMIT, price, origin=Origin.CLI)
                )
        replies = drain(runner, commands)
        cancels = [CancelOrder(r.order_id, Origin.CLI) for r in replies if "working" in r.message]
        drain(runner, cancels)
        if i % 20_000 < BATCH:
            runner._flush_ticks()
    runner._flush_ticks()
    runner.journal.conn.close()  # a crash: no final checkpoint, so restart must replay
    runner.journal._release_lock()
    return core.seq


def restart_seconds(path: Path) -> tuple[float, int]:
    runner = engine_runner(bench_settings(path))
    start = time.perf_counter()
    runner.start()
    elapsed = time.perf_counter() - start
    seq = runner.core.seq
    runner.stop()
    return elapsed, seq


def main() -> None:
    path = temp_journal()
    started = time.perf_counter()
    events = write_journal(path)
    written_s = time.perf_counter() - started
    bare = path.with_name("no-checkpoints.db")
    shutil.copy(path, bare)
    with sqlite3.connect(bare) as conn:
        conn.execute("delete from checkpoints")
    with_checkpoints_s, _ = restart_seconds(path)
    full_replay_s, seq = restart_seconds(bare)
    if seq < events:
        raise RuntimeError(f"replayed to {seq}, journal had {events}")
    report(
        {
            "bench": "journal_replay",
            "n": events,
            "write_s": round(written_s, 1),
            "restart_s": round(with_checkpoints_s, 3),
            "full_replay_s": round(full_replay_s, 3),
            "budget_s": 5,
        }
    )
    shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
