"""What one live refresh of the analytics pane costs at 100k equity points (a year of one row
every five minutes): the engine's answer to ``QueryAnalytics`` (a read-only read of the
journal's rows, the metrics, the trade statistics, exposure and a chart-thinned curve), the
pane's view of it (metric texts, the drawdown series, captions) and the braille drawing of both
charts at a 120x20 size. The pane asks at most every 5 s while it is on screen, so the budget
is the issue's "refreshed at most once a second": each refresh well under 1 s of work.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tmt_tui.domain.commands import QueryAnalytics
from tmt_tui.engine.analytics_query import Holdings, build_report
from tmt_tui.store.journal import Journal
from tmt_tui.tui.analytics_view import report_views
from tmt_tui.tui.widgets.chart import braille_rows

N = 100_000
RUNS = 15
CHART = (120, 20)


def journal_with_rows(path: Path) -> None:
    rng = np.random.default_rng(7)
    ts = 1_760_000_000.0 + np.arange(N) * 300.0
    equity = 100_000.0 * np.exp(np.cumsum(rng.normal(1e-6, 5e-4, N)))
    journal = Journal(path)
    with journal.conn:
        journal.conn.executemany(
            "insert into equity values (?, ?, ?, ?, ?, ?, ?)",
            [
                (t, "SIM-USD", f"{e:.2f}", f"{e:.2f}", "0.00", "0.00", "ACTIVE")
                for t, e in zip(ts.tolist(), equity.tolist(), strict=True)
            ],
        )
    journal.close()


def timed_us(work: Callable[[], Any]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e6)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.db"
        journal_with_rows(path)
        held = {
            "SIM-USD": Holdings(
                (("EUR_USD", 10_000.0, 1.085), ("USD_JPY", -20_000.0, 151.1)),
                (("EUR_USD", -1.4), ("USD_JPY", 3.2)),
                {"EUR": 1.085, "USD": 1.0, "JPY": 1 / 151.1},
            )
        }

        def answer() -> Any:
            return build_report(path, QueryAnalytics(), (), time.time(), held)

        report = answer()
        engine = timed_us(answer)

        def pane() -> None:
            (view,) = report_views(report)
            braille_rows(view.curve, *CHART)
            braille_rows(view.drawdown, CHART[0], CHART[1] // 2)

        render = timed_us(pane)
    engine_us, pane_us = statistics.median(engine), statistics.median(render)
    print(f"engine answer p50 {engine_us / 1e3:.1f} ms, pane view + charts p50 {pane_us:.0f} µs")
    print(
        json.dumps(
            {
                "bench": "analytics_refresh",
                "n": N,
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
