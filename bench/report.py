"""The audit export and the chain verification on a 1M-event journal.

A journal of N events (a quarter order submissions, a quarter fills, the rest accepts, cancels
and controls, as a busy year leaves) is written through ``Journal.append`` (so it is chained
as the engine chains it), then ``tmt report`` exports it as CSV in a child process whose peak
RSS is read from the kernel, and ``tmt report verify`` checks the chain. Budget: the export
in constant memory (peak RSS within ``MEMORY_BUDGET_MB`` of an export of a 10k-event journal,
whatever N), and both well past 100k events/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.journal import Journal

N = int(os.environ.get("TMT_BENCH_REPORT_EVENTS", "1000000"))
SMALL = 10_000
BATCH = 20_000
MEMORY_BUDGET_MB = 25.0


def event(seq: int) -> Event:
    ts = 1_780_000_000.0 + seq * 0.01
    order_id = f"O{seq - seq % 4}"
    match seq % 4:
        case 0:
            order = {
                "id": order_id, "account": "SIM-USD", "instrument": "EUR_USD",
                "units": 1000, "type": "MARKET", "status": "SUBMITTED", "origin": "ui",
            }  # fmt: skip
            return Event(seq, ts, EventKind.ORDER_SUBMITTED, "ui", {"order": order})
        case 1:
            data = {"order_id": order_id, "fill_id": f"{order_id}.1", "units": 1000,
                    "price": "1.08510", "ts": ts}  # fmt: skip
            return Event(seq, ts, EventKind.ORDER_FILLED, "venue", data)
        case 2:
            data = {"order_id": order_id, "venue_id": str(seq)}
            return Event(seq, ts, EventKind.ORDER_ACCEPTED, "venue", data)
        case _:
            data = {"key": "feed_stale", "message": "no EUR_USD quote for 10s"}
            return Event(seq, ts, EventKind.ALERT_RAISED, "auto", data)


def journal_of(path: Path, n: int) -> None:
    journal = Journal(path)
    try:
        for start in range(1, n + 1, BATCH):
            journal.append([event(s) for s in range(start, min(n, start + BATCH - 1) + 1)])
    finally:
        journal.close()


def run(*args: str) -> tuple[float, float, str]:
    """Seconds and peak RSS (MB, this child's own, from wait4) of one `tmt` child, and its
    stdout."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "tmt_tui", *args], stdout=out)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        said = out.read()
    if child.returncode != 0:
        raise RuntimeError(f"tmt {' '.join(args)} exited {child.returncode}: {said}")
    return seconds, usage.ru_maxrss / 1024, said


def lines(path: str) -> int:
    with open(path) as f:
        return sum(1 for _ in f)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, big = Path(tmp) / "small.db", Path(tmp) / "big.db"
        journal_of(small, SMALL)
        started = time.perf_counter()
        journal_of(big, N)
        written = time.perf_counter() - started
        _, small_mb, _ = run("report", "--journal", str(small), "--out", f"{tmp}/small")
        export_s, big_mb, _ = run("report", "--journal", str(big), "--out", f"{tmp}/big")
        verify_s, _, said = run("report", "verify", "--journal", str(big), "--json")
        assert json.loads(said)["ok"], said
        rows = lines(f"{tmp}/big/orders.csv") + lines(f"{tmp}/big/controls.csv") - 2
    assert rows == N, rows
    growth = big_mb - small_mb
    print(
        f"{N:,} events written (chained) in {written:.1f} s; exported in {export_s:.1f} s "
        f"({N / export_s:,.0f} rows/s), peak RSS {big_mb:.0f} MB vs {small_mb:.0f} MB for "
        f"{SMALL:,} events; verified in {verify_s:.1f} s ({N / verify_s:,.0f} events/s)"
    )
    print(
        json.dumps(
            {
                "bench": "report",
                "n": N,
                "export_per_s": round(N / export_s),
                "export_peak_rss_mb": round(big_mb, 1),
                "small_export_peak_rss_mb": round(small_mb, 1),
                "rss_growth_mb": round(growth, 1),
                "rss_budget_mb": MEMORY_BUDGET_MB,
                "verify_per_s": round(N / verify_s),
                "append_chained_per_s": round(N / written),
            }
        )
    )


if __name__ == "__main__":
    main()
