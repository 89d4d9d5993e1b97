"""Order submit -> fill against the local v20 server on loopback, our adapter vs OANDA's.

Our ``OandaClient.submit`` (httpx, async, keep-alive) sends a MARKET order and waits for the 201
with its fill, one at a time, alternating buy and sell so the book stays flat. Then OANDA's own
``v20`` package (sync, requests) does the same flow against the same server in the same run, on
a worker thread. The server runs on its own thread, so both clients pay the same server cost.
Budget: our p95 <= 3 ms. ``ratio`` = v20 p50 / ours (above 1: we are faster).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from typing import Any

from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.venues.oanda.client import Filled, OandaClient, Token
from tmt_tui.venues.oanda_sim.server import V20ServerThread

N = 2000
WARMUP = 100
TOKEN = "bench-token"
_ids = itertools.count(1)  # client order ids stay unique across runs against one server


def percentiles(samples_ns: list[int], prefix: str = "") -> dict[str, float]:
    ordered = sorted(samples_ns)
    n = len(ordered)

    def at(p: float) -> float:
        return round(ordered[min(n - 1, int(p * n))] / 1e6, 3)

    return {
        f"{prefix}p50_ms": at(0.50),
        f"{prefix}p95_ms": at(0.95),
        f"{prefix}p99_ms": at(0.99),
        f"{prefix}max_ms": round(ordered[-1] / 1e6, 3),
        f"{prefix}mean_ms": round(statistics.fmean(ordered) / 1e6, 3),
    }


async def ours(server: V20ServerThread) -> list[int]:
    samples: list[int] = []
    async with OandaClient(
        account_id=server.account_id,
        token=Token(TOKEN),
        rest_url=server.url,
        max_requests_per_s=1e9,  # latency, not OANDA's pacing: orders go back to back here
    ) as client:
        for i in range(WARMUP + N):
            order = Order(
                id=f"bench-{next(_ids)}",
                account=server.account_id,
                instrument="EUR_USD",
                units=1000 if i % 2 == 0 else -1000,
                type=OrderType.MARKET,
            )
            start = time.perf_counter_ns()
            outcome = await client.submit(order)
            elapsed = time.perf_counter_ns() - start
            if not isinstance(outcome, Filled):
                raise RuntimeError(outcome)
            if i >= WARMUP:
                samples.append(elapsed)
    return samples


def official(server: V20ServerThread) -> list[int]:
    import v20  # type: ignore[import-untyped]

    ctx = v20.Context("127.0.0.1", server.port, ssl=False, token=TOKEN)
    samples: list[int] = []
    for i in range(WARMUP + N):
        start = time.perf_counter_ns()
        response = ctx.order.market(
            server.account_id,
            instrument="EUR_USD",
            units=1000 if i % 2 == 0 else -1000,
            clientExtensions={"id": f"v20-{i}"},
        )
        elapsed = time.perf_counter_ns() - start
        if response.status != 201 or "orderFillTransaction" not in response.body:
            raise RuntimeError(response.status)
        if i >= WARMUP:
            samples.append(elapsed)
    return samples


async def main() -> dict[str, Any]:
    with V20ServerThread(token=TOKEN) as server:
        mine = await ours(server)
        theirs = await asyncio.to_thread(official, server)
    result: dict[str, Any] = {"bench": "oanda_roundtrip", "n": N, **percentiles(mine)}
    result.update(percentiles(theirs, "v20_"))
    result["ratio"] = round(result["v20_p50_ms"] / result["p50_ms"], 2)
    result["budget_p95_ms"] = 3
    print(f"ours p50/p95/p99 {result['p50_ms']}/{result['p95_ms']}/{result['p99_ms']} ms; "
          f"v20 p50 {result['v20_p50_ms']} ms; ratio {result['ratio']}")  # fmt: skip
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
