"""Ticks per second through the whole engine in a replay at `--speed max`: the replay feed, quote
validation, quote book and marks, market state (bars and indicators on every tick), the paper
broker's trigger check (20 positions and 50 working orders, the realistic book), the periodic
rules on the ticks' clock, tick journaling into the replay's own journal, and one subscriber
folding the stream, as an attached screen would. 200,000 ticks of the 20 sim pairs, from a CSV.
Budget >= 60k ticks/s.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from _realistic_book import bench_settings, opening_orders, report, temp_journal, working_orders

from tmt_tui.cli.replay import replay_settings
from tmt_tui.domain.commands import ControlReplay
from tmt_tui.domain.replay import MAX_SPEED
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.venues.factory import build_replay_venue
from tmt_tui.venues.replay.source import read_csv
from tmt_tui.venues.sim.market import SimMarket

N = 200_000
START = 1_763_640_000.0  # a Thursday, 12:00 UTC
STEP_S = 0.01  # 100 ticks a second across the pairs: a busy hour's rate


def write_ticks(path: Path) -> None:
    """N ticks of a seeded sim market, as `tmt replay` reads them from a CSV."""
    now = [START]
    market = SimMarket(seed=11, clock=lambda: now[0])
    names = [i.name for i in market.instruments()]
    rng = random.Random(3)
    with path.open("w") as out:
        out.write("ts,instrument,bid,ask\n")
        for name in names:
            q = market.quote(name)
            out.write(f"{now[0]:.3f},{name},{q.bid},{q.ask}\n")
        for _ in range(N - len(names)):
            now[0] += STEP_S
            q = market.step(rng.choice(names))
            out.write(f"{now[0]:.3f},{q.instrument},{q.bid},{q.ask}\n")


async def play(runner: EngineRunner) -> tuple[float, int]:
    """Open the book while paused at the first prices, then time the replay to its end (as
    the stream an attached screen folds says it)."""
    client = LocalEngineClient(runner, owns_engine=True)
    paused, finished = asyncio.Event(), asyncio.Event()
    seen = 0

    async def watch() -> None:
        nonlocal seen
        async for item in client.subscribe():
            seen += 1
            progress = item.replay
            if progress is not None and progress.paused:
                paused.set()
            if progress is not None and progress.finished:
                finished.set()

    watcher = asyncio.create_task(watch())
    await paused.wait()
    for order in opening_orders():
        assert (await client.execute(order)).ok
    quotes = runner.core.quotes.quotes  # type: ignore[union-attr]
    mids = {name: q.mid for name, q in quotes.items()}
    for order in working_orders(mids):
        assert (await client.execute(order)).ok
    started = time.perf_counter()
    assert (await client.execute(ControlReplay("resume"))).ok
    await finished.wait()
    took = time.perf_counter() - started
    watcher.cancel()
    await client.close()
    return took, seen


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tmt-bench-replay-") as tmp:
        csv_path = Path(tmp) / "ticks.csv"
        write_ticks(csv_path)
        started = time.perf_counter()
        recording = read_csv(csv_path)
        read_s = time.perf_counter() - started
        settings = replay_settings(
            bench_settings(temp_journal()), Path(tmp) / "replay.db", recording
        )
        venue = build_replay_venue(recording, MAX_SPEED, start_paused=True)
        runner = EngineRunner(settings, venue, venue.clock)
        runner.start()
        took, items = asyncio.run(play(runner))
        played = venue.feed.progress().done
    report(
        {
            "bench": "replay",
            "n": played,
            "per_s": round(played / took),
            "mean_us": round(took / played * 1e6, 2),
            "csv_read_per_s": round(N / read_s),
            "stream_items": items,
            "budget_per_s": 60_000,
        }
    )


main()
