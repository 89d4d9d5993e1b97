"""What one live refresh of the analytics pane costs at 100k equity points per account (a year
of one row every five minutes), for two accounts (USD and EUR) and their all-accounts total
in USD: the engine's answer to ``QueryAnalytics`` (a read-only read of the
journal's rows, the metrics, the trade statistics, exposure and a chart-thinned curve), the
pane's view of it (metric texts, the drawdown series, captions) and the braille drawing of both
charts at a 120x20 size. The pane asks at most every 5 s while it is on screen, so the budget
is the issue's "refreshed at most once a second": each refresh well under 1 s of work.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tmt_tui.analytics.summary import ALL_ACCOUNTS
from tmt_tui.domain.commands import QueryAnalytics
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.engine.analytics_query import Held, Holdings, build_report
from tmt_tui.store.equity_rows import EquityRows
from tmt_tui.store.journal import Journal
from tmt_tui.tui.analytics_view import report_views
from tmt_tui.tui.widgets.chart import braille_rows

N = 100_000
RUNS = 15
CHART = (120, 20)


def journal_with_rows(path: Path) -> None:
    rng = np.random.default_rng(7)
    ts = 1_760_000_000.0 + np.arange(N) * 300.0
    usd = 100_000.0 * np.exp(np.cumsum(rng.normal(1e-6, 5e-4, N)))
    eur = 50_000.0 * np.exp(np.cumsum(rng.normal(1e-6, 5e-4, N)))
    eurusd = 1.08 * np.exp(np.cumsum(rng.normal(0, 1e-4, N)))
    journal = Journal(path)
    started = Event(
        1, ts[0], EventKind.ENGINE_STARTED, "auto",
        {"accounts": [{"id": "SIM-USD", "currency": "USD"}, {"id": "SIM-EUR", "currency": "EUR"}]},
    )  # fmt: skip
    journal.append([started])
    with journal.conn:
        journal.conn.executemany(
            "insert into equity values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (t, account, f"{e:.2f}", f"{e:.2f}", "0.00", "0.00", "ACTIVE", "USD", f"{r:.6f}")
                for t, u, e_, r in zip(ts.tolist(), usd.tolist(), eur.tolist(), eurusd.tolist(),
                                       strict=True)
                for account, e, r in (("SIM-USD", u, 1.0), ("SIM-EUR", e_, r))
            ],
        )  # fmt: skip
    journal.close()


def timed_us(work: Callable[[], Any], before: Callable[[], Any] = lambda: None) -> list[float]:
    times = []
    for _ in range(RUNS):
        before()
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.db"
        journal_with_rows(path)
        positions = (Held("EUR_USD", 10_000.0, 1.085, -1.4), Held("USD_JPY", -20_000.0, 151.1, 3.2))
        rates = {"EUR": 1.085, "USD": 1.0, "JPY": 1 / 151.1}
        held = {"SIM-USD": Holdings(positions, rates), ALL_ACCOUNTS: Holdings(positions, rates)}

        def cold() -> Any:
            return build_report(path, QueryAnalytics(), (), time.time(), held, "USD")

        cache = EquityRows()
        appended = [1_800_000_000.0]

        def append_a_sample() -> None:  # what the engine writes between two refreshes
            appended[0] += 60.0
            with sqlite3.connect(path) as conn:
                conn.executemany(
                    "insert into equity values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(appended[0], "SIM-USD", "100000", "100000", "0", "0", "ACTIVE", "USD", "1"),
                     (appended[0], "SIM-EUR", "50000", "50000", "0", "0", "ACTIVE", "USD", "1.1")],
                )  # fmt: skip
            conn.close()

        def live() -> Any:
            return build_report(path, QueryAnalytics(), (), time.time(), held, "USD", cache)

        report = cold()
        first = timed_us(cold)
        live()  # the pane's first ask fills the cache
        engine = timed_us(live, append_a_sample)

        def pane() -> None:
            for view in report_views(report):
                braille_rows(view.curve, *CHART)
                braille_rows(view.drawdown, CHART[0], CHART[1] // 2)

        render = timed_us(pane)
    engine_us, pane_us = statistics.median(engine), statistics.median(render)
    cold_us = statistics.median(first)
    print(
        f"engine answer p50: first {cold_us / 1e3:.1f} ms, live refresh {engine_us / 1e3:.1f} ms;"
        f" pane view + charts p50 {pane_us:.0f} µs"
    )
    print(
        json.dumps(
            {
                "bench": "analytics_refresh",
                "n": N,
                "accounts": len(report.accounts),
                "first_p50_us": round(cold_us, 1),
                "refresh_p50_us": round(engine_us, 1),
                "refresh_max_us": round(max(engine), 1),
                "render_p50_us": round(pane_us, 1),
                "render_max_us": round(max(render), 1),
                "budget_us": 1_000_000,
            }
        )
    )


if __name__ == "__main__":
    main()
