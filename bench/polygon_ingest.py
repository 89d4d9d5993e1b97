"""Polygon / Massive frames into engine quotes: a local server on its own thread sends JSON
arrays of forex quotes over a real WebSocket on loopback; the feed reads, queues, parses and
checks them into ``Quote`` objects.

Two phases:
- throughput: as many frames as the server can send (20 quotes each); quotes/s and frames/s
  through the feed, and the same frames through a bare client (``json.loads`` of each frame,
  nothing checked, nothing built): the floor, in the same run (``ratio``);
- latency: 1 quote a frame at a steady 2,000 frames/s; server send -> quote in the sink,
  p50/p99 (the send time rides in the quote's ``t``; both processes read CLOCK_MONOTONIC).

The server is a process of its own, as a real feed is: in a thread it would share the GIL.

Budget: >= 50k quotes/s; added latency p99 <= 1 ms.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from decimal import Decimal
from typing import Any

from _realistic_book import percentiles, report
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon.feed import PolygonFeed

KEY = "bench-key"
BASE_MS = 1_700_000_000_000
PER_FRAME = 20
THROUGHPUT_FRAMES = 10_000
LATENCY_FRAMES = 10_000
LATENCY_RATE = 2_000.0
PAIRS = ("EUR/USD", "GBP/USD", "USD/JPY", "AUD/USD")


class Server:
    """The sending side in a process of its own (as a real feed is): what each connection
    gets depends on its path (``/throughput/forex``, ``/latency/forex``, ``/bare``)."""

    def __init__(self) -> None:
        ports: multiprocessing.Queue[int] = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
        self.process.start()
        self.port = ports.get(timeout=30)

    def close(self) -> None:
        self.process.terminate()
        self.process.join(5)


def _serve(ports: multiprocessing.Queue[int]) -> None:
    async def main() -> None:
        server = await serve(_handle, "127.0.0.1", 0, compression=None)
        ports.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


async def _handle(ws: ServerConnection) -> None:
    mode = (ws.request.path if ws.request else "/").strip("/").split("/")[0]
    await ws.send('[{"ev":"status","status":"connected","message":"Connected Successfully"}]')
    await ws.recv()
    await ws.send('[{"ev":"status","status":"auth_success","message":"authenticated"}]')
    if not mode.startswith("bare"):
        await ws.recv()  # the feed subscribes; the bare client does not
    if mode.endswith("latency"):
        await _paced(ws)
    else:
        for frame in throughput_frames():
            await ws.send(frame)
    await ws.wait_closed()


async def _paced(ws: ServerConnection) -> None:
    """One quote a frame at LATENCY_RATE; its ``t`` is the send time (CLOCK_MONOTONIC, µs):
    the receiving process reads the same clock."""
    start = time.perf_counter()
    for i in range(LATENCY_FRAMES):
        delay = start + i / LATENCY_RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent_us = time.perf_counter_ns() // 1000
        await ws.send(f'[{{"ev":"C","p":"EUR/USD","x":48,"a":1.08513,"b":1.08505,"t":{sent_us}}}]')


def throughput_frames() -> list[str]:
    frames = []
    for f in range(THROUGHPUT_FRAMES):
        events = [
            {"ev": "C", "p": PAIRS[(f + k) % len(PAIRS)], "x": 48,
             "a": round(1.08513 + k * 1e-5, 5), "b": round(1.08505 + k * 1e-5, 5),
             "t": BASE_MS + f}
            for k in range(PER_FRAME)
        ]  # fmt: skip
        frames.append(json.dumps(events, separators=(",", ":")))
    return frames


def instruments() -> list[Instrument]:
    return [Instrument(p.replace("/", "_"), 5, -4, Decimal("0.05")) for p in PAIRS]


async def through_feed(server: Server, mode: str, want: int, sink: Any) -> float:
    """Seconds from the first quote to the ``want``-th through the real feed."""
    done = asyncio.Event()
    seen = 0
    first = 0.0

    def counting(quote: Quote) -> None:
        nonlocal seen, first
        if not seen:
            first = time.perf_counter()
        seen += 1
        sink(quote)
        if seen == want:
            done.set()

    feed = PolygonFeed(
        Secret(KEY), instruments(), host=f"127.0.0.1:{server.port}/{mode}", secure=False,
        queue_frames=100_000,
    )  # fmt: skip
    task = asyncio.create_task(feed.run(counting))
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - first
    feed.stop()
    await asyncio.gather(task, return_exceptions=True)
    if feed.stats.dropped_frames:
        raise RuntimeError(f"the feed dropped {feed.stats.dropped_frames} frames")
    return elapsed


async def through_bare_client(server: Server) -> float:
    """The floor: the same frames read and json.loads'ed, nothing else."""
    loads = json.loads
    async with connect(
        f"ws://127.0.0.1:{server.port}/bare", proxy=None, compression=None, max_queue=None
    ) as ws:
        await ws.recv()
        await ws.send(json.dumps({"action": "auth", "params": KEY}))
        await ws.recv()
        seen = 0
        first = 0.0
        while seen < THROUGHPUT_FRAMES * PER_FRAME:
            frame = loads(await ws.recv())
            if not seen:
                first = time.perf_counter()
            seen += len(frame)
        return time.perf_counter() - first


async def bare_latencies(server: Server) -> list[int]:
    """The floor of latency: the paced frames received by a bare client, nothing parsed."""
    async with connect(
        f"ws://127.0.0.1:{server.port}/bare-latency", proxy=None, compression=None
    ) as ws:
        await ws.recv()
        await ws.send(json.dumps({"action": "auth", "params": KEY}))
        await ws.recv()
        out = []
        for _ in range(LATENCY_FRAMES):
            frame = await ws.recv()
            now = time.perf_counter_ns()
            sent_us = int(str(frame).rsplit(":", 1)[1].rstrip("}]"))
            out.append(now - sent_us * 1000)
        return out


async def main() -> None:
    server = Server()
    total = THROUGHPUT_FRAMES * PER_FRAME
    floor_s = await through_bare_client(server)
    feed_s = await through_feed(server, "throughput", total, lambda q: None)
    latencies: list[int] = []

    def timed(quote: Quote) -> None:
        latencies.append(time.perf_counter_ns() - round(quote.ts * 1000) * 1000)

    try:
        await through_feed(server, "latency", LATENCY_FRAMES, timed)
        floor = percentiles((await bare_latencies(server))[500:])
    finally:
        server.close()
    figures = percentiles(latencies[500:])  # the first quarter second warms up
    report(
        {
            "bench": "polygon_ingest",
            "n": total,
            "quotes_per_s": round(total / feed_s),
            "frames_per_s": round(THROUGHPUT_FRAMES / feed_s),
            "floor_quotes_per_s": round(total / floor_s),
            "ratio": round(feed_s / floor_s, 2),
            "latency_p50_us": figures["p50_us"],
            "latency_p99_us": figures["p99_us"],
            "floor_latency_p50_us": floor["p50_us"],
            "floor_latency_p99_us": floor["p99_us"],
            "budget_quotes_per_s": 50_000,
            "budget_p99_us": 1000,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
