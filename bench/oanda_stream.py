"""Prices per second through our OANDA pricing-stream parser, and end to end over loopback.

``per_s``: ``PriceStreamParser.feed`` over an in-memory buffer of realistic v20 pricing lines
(two-level books, liquidity, closeout prices, a heartbeat every 50 lines, 5 instruments), cut
into chunks of random sizes (1 byte to 4 KiB, so lines and even numbers split across chunks).
Median of ROUNDS rounds (this class of VM varies run to run).

``e2e_per_s``: quotes delivered by ``OandaClient.stream_prices`` from the local v20 server's
stream on loopback with the server ticking as fast as its loop allows; it is bounded by the
server (same process, same GIL), so it is a floor for the client, not its ceiling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from typing import Any

from tmt_tui.venues.oanda.client import OandaClient, Token
from tmt_tui.venues.oanda.stream import PriceStreamParser
from tmt_tui.venues.oanda_sim.server import V20ServerThread
from tmt_tui.venues.oanda_sim.wire import rfc3339

N = 100_000
ROUNDS = 5
E2E_SECONDS = 2.0
TOKEN = "bench-token"
PAIRS = {"EUR_USD": (1.1, 5), "USD_JPY": (151.2, 3), "GBP_USD": (1.27, 5),
         "AUD_USD": (0.66, 5), "USD_CHF": (0.88, 5)}  # fmt: skip


def lines(n: int, seed: int = 11) -> tuple[bytes, int]:
    """``n`` pricing-stream lines as OANDA writes them, and how many are prices."""
    rng = random.Random(seed)
    out: list[bytes] = []
    prices = 0
    ts = 1_780_000_000.0
    names = list(PAIRS)
    for i in range(n):
        ts += rng.random() * 0.01
        if i % 50 == 49:
            out.append(json.dumps({"type": "HEARTBEAT", "time": rfc3339(ts)}).encode())
            continue
        name = names[i % len(names)]
        mid, digits = PAIRS[name]
        mid *= 1 + rng.gauss(0, 0.0005)
        tick = 10**-digits
        bid, ask = round(mid - tick, digits), round(mid + tick, digits)
        line = {
            "type": "PRICE",
            "time": rfc3339(ts),
            "bids": [{"price": f"{bid:.{digits}f}", "liquidity": 1000000},
                     {"price": f"{bid - tick:.{digits}f}", "liquidity": 5000000}],
            "asks": [{"price": f"{ask:.{digits}f}", "liquidity": 1000000},
                     {"price": f"{ask + tick:.{digits}f}", "liquidity": 5000000}],
            "closeoutBid": f"{bid - tick:.{digits}f}",
            "closeoutAsk": f"{ask + tick:.{digits}f}",
            "status": "tradeable",
            "tradeable": True,
            "instrument": name,
        }  # fmt: skip
        out.append(json.dumps(line, separators=(",", ":")).encode())
        prices += 1
    return b"\n".join(out) + b"\n", prices


def chunked(buffer: bytes, seed: int = 5) -> list[bytes]:
    rng = random.Random(seed)
    chunks = []
    at = 0
    while at < len(buffer):
        size = rng.choice((1, 7, 64, 333, 1024, 4096, rng.randint(1, 4096)))
        chunks.append(buffer[at : at + size])
        at += size
    return chunks


def parse_rate() -> tuple[float, list[float], int]:
    buffer, prices = lines(N)
    chunks = chunked(buffer)
    rates = []
    for _ in range(ROUNDS):
        parser = PriceStreamParser(PAIRS)
        quotes = 0
        start = time.perf_counter()
        for chunk in chunks:
            quotes += len(parser.feed(chunk))
        elapsed = time.perf_counter() - start
        if quotes != N or parser.skipped:  # prices plus heartbeats, nothing skipped
            raise RuntimeError(f"parsed {quotes} of {N}, skipped {parser.skipped}")
        rates.append(prices / elapsed)
    rates.sort()
    return rates[len(rates) // 2], rates, len(chunks)


async def e2e_rate() -> float:
    with V20ServerThread(token=TOKEN, tick_interval=0, heartbeat_interval=1.0) as server:
        async with OandaClient(
            account_id=server.account_id, token=Token(TOKEN), rest_url=server.url
        ) as client:
            names = [i.name for i in await client.instruments()]
            quotes = 0
            start = 0.0
            async with contextlib.aclosing(client.stream_prices(names)) as stream:
                async for message in stream:
                    if not start:
                        start = time.perf_counter()
                        continue
                    quotes += hasattr(message, "bid")
                    if time.perf_counter() - start >= E2E_SECONDS:
                        break
            return quotes / (time.perf_counter() - start)


def main() -> dict[str, Any]:
    median, rates, chunks = parse_rate()
    e2e = asyncio.run(e2e_rate())
    result = {
        "bench": "oanda_stream",
        "n": N * ROUNDS,
        "per_s": round(median),
        "min_per_s": round(rates[0]),
        "max_per_s": round(rates[-1]),
        "mean_us": round(1e6 / median, 2),
        "chunks": chunks,
        "e2e_per_s": round(e2e),
    }
    print(f"parser {result['per_s']} prices/s (min {result['min_per_s']}); "
          f"loopback end to end {result['e2e_per_s']} prices/s")  # fmt: skip
    return result


if __name__ == "__main__":
    print(json.dumps(main()))
