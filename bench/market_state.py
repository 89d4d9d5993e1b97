"""Market state per tick: bars S5..H1 and every indicator (EMA, SMA, Bollinger, RSI, ATR), the
regime and the signal, as the engine feeds it (analytics/market.py). Budget p99 <= 5 us.

20 instruments, warmed up on four hours of quotes (so the regime and signal rules run, not
only the bars), then 200k measured ticks at 10 a second per instrument: one in 50 closes an S5
bar, as the sim market does. Each call is timed alone (perf_counter_ns; its own ~50 ns are
included). The peer recomputes with numpy at each close what the incremental state keeps:
the bar's OHLC from its ticks and the indicators over the last 300 closes; ``ratio`` is the
peer's mean cost per tick over ours.
"""

from __future__ import annotations

import time

import numpy as np
from _realistic_book import report

from tmt_tui.analytics.market import MarketState

N = 200_000
PEER_N = 20_000
INSTRUMENTS = [f"I{i:02d}" for i in range(20)]
T0 = 1_764_633_600.0


def ticks(
    start: float, n: int, per_second: float, seed: int
) -> list[tuple[str, float, float, float]]:
    rng = np.random.default_rng(seed)
    ts = start + np.arange(n) / per_second
    walk = 1.1 + np.cumsum(rng.normal(0, 0.00003, size=n))
    names = [INSTRUMENTS[i % len(INSTRUMENTS)] for i in range(n)]
    return [(names[i], float(ts[i]), float(walk[i]), float(walk[i] + 0.0001)) for i in range(n)]


def peer(quotes: list[tuple[str, float, float, float]]) -> float:
    """Mean microseconds per tick of the naive way: numpy over lists at every S5 close."""
    live: dict[str, list[tuple[float, float]]] = {n: [] for n in INSTRUMENTS}
    starts: dict[str, float] = dict.fromkeys(INSTRUMENTS, -1.0)
    closes: dict[str, list[float]] = {n: [1.1] * 300 for n in INSTRUMENTS}  # warm, as ours is
    begin = time.perf_counter()
    for name, ts, bid, ask in quotes:
        start = ts - ts % 5
        if start != starts[name] and live[name]:
            arr = np.array(live[name])
            mid = arr.mean(axis=1)
            closes[name].append(float(mid[-1]))
            c = np.array(closes[name][-300:])
            _ = (mid.max(), mid.min(), arr.max(axis=0), arr.min(axis=0))
            _ = (
                c[-20:].mean(),
                c[-20:].std(),
                np.diff(c).clip(0).mean(),
                np.abs(np.diff(c)).mean(),
            )
            weights = 0.9 ** np.arange(len(c))[::-1]
            _ = (c * weights).sum() / weights.sum()
            live[name] = []
        starts[name] = start
        live[name].append((bid, ask))
    return (time.perf_counter() - begin) / len(quotes) * 1e6


def main() -> None:
    state = MarketState(INSTRUMENTS)
    warm_s = 4 * 3600
    for name, ts, bid, ask in ticks(T0, warm_s * 10, 10.0, 1):  # one tick every 2 s each
        state.on_quote(name, ts, bid, ask)
    state.take_closed()
    quotes = ticks(T0 + warm_s, N, 10 * len(INSTRUMENTS), 2)
    on_quote, clock = state.on_quote, time.perf_counter_ns
    took = np.empty(N)
    for i, (name, ts, bid, ask) in enumerate(quotes):
        t = clock()
        on_quote(name, ts, bid, ask)
        took[i] = clock() - t
    closed = len(state.take_closed())
    warm = sum(1 for m in state.instruments.values() if m.regime)
    us = took / 1000
    mean_us = float(us.mean())
    peer_us = peer(quotes[:PEER_N])
    report(
        {
            "bench": "market_state",
            "n": N,
            "instruments": len(INSTRUMENTS),
            "bars_closed": closed,
            "regimes_read": warm,
            "p50_us": round(float(np.percentile(us, 50)), 2),
            "p99_us": round(float(np.percentile(us, 99)), 2),
            "max_us": round(float(us.max()), 1),
            "mean_us": round(mean_us, 2),
            "per_s": round(1e6 / mean_us),
            "peer_mean_us": round(peer_us, 2),
            "ratio": round(peer_us / mean_us, 1),
            "budget_p99_us": 5,
        }
    )


main()
