"""The control API, measured the way it is used: clients in another process, the engine and
the API server (its own thread) in this one, realistic book, journaling on, quotes flowing.

1. Round trip: a SubmitOrder over the Unix socket -> durable ack -> reply, one at a time
   (`tmt buy` or a keypress in `tmt attach`). Budget p99 <= 2 ms; this includes the order_ack
   path (fsync'd commit), measured in-process on the same engine as local_p50/p99_us, and
   api_only_p50/p99_us is a round trip the server answers itself (a read-only refusal).
2. Fan-out: 5 attached clients subscribed while the sim feeds 2,000 quotes/s and orders go in
   back to back (in-process, as in 1.): events_per_s is the journaled events the server pushed
   to all 5 together per second, frames_per_s the stream items carrying them (paced: at most
   one per client per 10 ms), quotes_per_s the quotes in them (conflated: the latest per
   instrument per frame), tick_to_client_p50/p99_ms the age of a quote when a client decoded
   it, and ack_under_fanout_p50/p99_us the engine's order ack meanwhile (compare local_*).

The child process is this file run with ``--client``; it prints one JSON line for the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from _realistic_book import bench_settings, current_mids, percentiles, report, seed_book

from tmt_tui.api.paths import Secret
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.domain.commands import Origin, SubmitOrder
from tmt_tui.monitoring.observer import NullObserver

N = 5000
WARMUP = 200
CLIENTS = 5
FANOUT_SECONDS = 5.0
FANOUT_TICKS_PER_INSTRUMENT = 100.0  # x 20 instruments = 2,000 quotes/s


# the client process ------------------------------------------------------------------------


async def timed_submits(client: Any, n: int, expect_ok: bool = True) -> dict[str, float]:
    samples = []
    for i in range(WARMUP + n):
        units = 1000 if i % 2 == 0 else -1000
        command = SubmitOrder("SIM-USD", "EUR_USD", units, origin=Origin.CLI)
        start = time.perf_counter_ns()
        reply = await client.execute(command)
        elapsed = time.perf_counter_ns() - start
        if reply.ok != expect_ok:
            raise RuntimeError(reply)
        if i >= WARMUP:
            samples.append(elapsed)
    return percentiles(samples)


async def roundtrip(socket_path: str, n: int) -> dict[str, Any]:
    """Submits that trade, then the same frames from a read-only client, which the server
    refuses without asking the engine: the API's own share of the round trip."""
    client = RemoteEngineClient(Path(socket_path), client_name="tmt cli")
    viewer = RemoteEngineClient(Path(socket_path), read_only=True)
    try:
        full = await timed_submits(client, n)
        api_only = await timed_submits(viewer, n, expect_ok=False)
    finally:
        await client.close()
        await viewer.close()
    return {**full, "api_only_p50_us": api_only["p50_us"], "api_only_p99_us": api_only["p99_us"]}


async def fanout(socket_path: str, seconds: float) -> dict[str, Any]:
    """Subscribe CLIENTS clients; count what arrives in ``seconds`` after every snapshot."""
    clients = [RemoteEngineClient(Path(socket_path), read_only=True) for _ in range(CLIENTS)]
    frames, events, quotes = [0] * CLIENTS, [0] * CLIENTS, [0] * CLIENTS
    ages: list[float] = []
    started = asyncio.Event()
    ready = [False] * CLIENTS

    async def consume(i: int) -> None:
        async for item in clients[i].subscribe():
            if not ready[i]:
                ready[i] = True
                if all(ready):
                    started.set()
                continue
            if not started.is_set():
                continue
            frames[i] += 1
            events[i] += len(item.events)
            quotes[i] += len(item.quotes)
            if item.quotes and frames[i] % 10 == 0:
                now = time.time()
                ages.extend(now - q.ts for q in item.quotes)

    tasks = [asyncio.create_task(consume(i)) for i in range(CLIENTS)]
    await started.wait()
    begin = time.perf_counter()
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - begin
    counted = sum(frames), sum(events), sum(quotes)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.close()
    ages.sort()
    return {
        "events_per_s": round(counted[1] / elapsed),
        "frames_per_s": round(counted[0] / elapsed),
        "quotes_per_s": round(counted[2] / elapsed),
        "tick_to_client_p50_ms": round(ages[len(ages) // 2] * 1e3, 2),
        "tick_to_client_p99_ms": round(ages[int(len(ages) * 0.99)] * 1e3, 2),
    }


def client_main(mode: str, socket_path: str, arg: str) -> None:
    if mode == "roundtrip":
        result = asyncio.run(roundtrip(socket_path, int(arg)))
    else:
        result = asyncio.run(fanout(socket_path, float(arg)))
    print(json.dumps(result))


# the engine process ------------------------------------------------------------------------


class QuoteCounter(NullObserver):
    """An engine observer that counts the quotes the engine ingested (the rest: ignored)."""

    def __init__(self) -> None:
        self.quotes = 0

    def quote(self, quote: Any, age_s: float, accepted: bool) -> None:
        self.quotes += 1


def run_client(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--client", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"client failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.asynccontextmanager
async def served(root: Path, name: str, ticks: float, token: Secret) -> AsyncIterator[Any]:
    """An engine on the realistic book, its API server on a socket under ``root``."""
    from tmt_tui.cli.embedded import engine_runner
    from tmt_tui.engine.local_client import LocalEngineClient

    counter = QuoteCounter()
    runner = engine_runner(bench_settings(root / f"{name}.db", ticks), observer=counter)
    runner.start()
    engine = LocalEngineClient(runner)
    server = ServerThread(engine, token, root / f"{name}.sock")
    server.start()
    try:
        await seed_book(engine, await current_mids(engine))
        yield engine, server, counter
    finally:
        await asyncio.to_thread(server.stop)
        await engine.close()


async def bench_roundtrip(root: Path, env: dict[str, str], token: Secret) -> dict[str, Any]:
    async with served(root, "rt", 20.0, token) as (engine, server, _):
        local = await timed_submits(engine, N)
        socket_path = str(server.socket_path)
        remote = await asyncio.to_thread(run_client, env, "roundtrip", socket_path, str(N))
    return {**remote, "local_p50_us": local["p50_us"], "local_p99_us": local["p99_us"]}


async def bench_fanout(root: Path, env: dict[str, str], token: Secret) -> dict[str, Any]:
    """The clients count for FANOUT_SECONDS while this process sends orders back to back to the
    engine directly and times their acks: events to push, and what the fan-out costs."""
    ticks = FANOUT_TICKS_PER_INSTRUMENT
    async with served(root, "fan", ticks, token) as (engine, server, counter):
        socket_path, seconds = str(server.socket_path), str(FANOUT_SECONDS)
        clients = asyncio.create_task(
            asyncio.to_thread(run_client, env, "fanout", socket_path, seconds)
        )
        for _ in range(6000):  # until all are attached (a minute at most)
            if server.clients >= CLIENTS or clients.done():
                break
            await asyncio.sleep(0.01)
        ingested, began = counter.quotes, time.perf_counter()
        samples = []
        while not clients.done():
            units = 1000 if len(samples) % 2 == 0 else -1000
            start = time.perf_counter_ns()
            reply = await engine.execute(SubmitOrder("SIM-USD", "EUR_USD", units))
            samples.append(time.perf_counter_ns() - start)
            if not reply.ok:
                raise RuntimeError(reply)
        fan = await clients
        ingest = (counter.quotes - ingested) / (time.perf_counter() - began)
        slow = server.server.slow_disconnects
    acks = percentiles(samples)
    return {
        **fan,
        "ingest_quotes_per_s": round(ingest),
        "orders_per_s": round(len(samples) / (time.perf_counter() - began)),
        "ack_under_fanout_p50_us": acks["p50_us"],
        "ack_under_fanout_p99_us": acks["p99_us"],
        "slow_disconnects": slow,
    }


async def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="tmtb", dir="/tmp"))  # short: sun_path holds 107 bytes
    token = Secret(os.urandom(24).hex())
    env = {**os.environ, "TMT_API_TOKEN": token.reveal()}
    try:
        latency = await bench_roundtrip(root, env, token)
        fan = await bench_fanout(root, env, token)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(
        {
            "bench": "api_roundtrip",
            "n": N,
            **latency,
            "budget_p99_us": 2000,
            "clients": CLIENTS,
            **fan,
        }
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        client_main(*sys.argv[2:5])
    else:
        asyncio.run(main())
