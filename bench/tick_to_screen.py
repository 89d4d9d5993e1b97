"""What a tick costs on screen: 100 instruments at 2,000 ticks/s into the real workstation in a
real pseudo-terminal, as a trader over SSH would run it (`tmt attach` to a running engine).

Every tick carries a bid no other tick has (instrument i's bid starts at i + 1, and each of its
ticks moves it one step up; the ask sits half a unit above, out of every bid's way), so the
bench finds each one in the bytes the app writes to the pty and times quote creation -> its
bytes written. The board conflates (at most one paint per
frame, the newest quote per row) and shows only the rows that fit, so most ticks are never
painted: that is the design, and ``drawn_n`` says how many were. Measured at 160x50 and 80x24:

- ``p50_ms`` / ``p99_ms``: creation -> on the wire, for the ticks that were drawn (budget
  p99 <= 25 ms). ``frame_ms`` is the app's frame interval (1 / ui.fps): a change is drawn when
  it arrives unless a frame was drawn less than that ago, so a tick waits at most one frame
  (and the engine's push interval, 10 ms, before it); ``ratio`` is p99 over the frame interval.
- ``ui_cpu_pct``: the UI process's CPU, percent of one core (budget <= 20).
- ``written_bytes_per_s``: what the app wrote to the terminal (budget <= 200 kB/s): the
  bandwidth an SSH link needs.

The engine (in this process, on its thread) runs the paper broker on a feed made here; the app
is a child process on the control API's socket, as `tmt attach` always is.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import itertools
import os
import pty
import re
import secrets
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from _realistic_book import percentiles, report

from tmt_tui.api.paths import Secret
from tmt_tui.api.server import ServerThread
from tmt_tui.config import load_settings
from tmt_tui.config.loading import default_config_text
from tmt_tui.config.schema import UiSettings
from tmt_tui.domain.instruments import FIAT, Instrument
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.venues.base import QuoteSink, StatusHook
from tmt_tui.venues.sim.venue import SimVenue

INSTRUMENTS = 100
TICKS_PER_S = 2000
SECONDS = float(os.environ.get("TMT_BENCH_SECONDS", "10"))
WARMUP_S = 2.0
SIZES = ((160, 50), (80, 24))
#: the app's ui.fps (the default unless TMT_BENCH_FPS says otherwise)
FPS = int(os.environ.get("TMT_BENCH_FPS", UiSettings().fps))
BATCH_S = 0.005  # the feed sends a batch this often: 10 ticks at 2,000/s
_PRICE = re.compile(rb"\d+\.\d{5}")


def pairs(n: int) -> list[Instrument]:
    """``n`` currency pairs (both sides fiat, so they are FX like any the venues trade)."""
    names = [f"{a}_{b}" for a, b in itertools.permutations(sorted(FIAT), 2)][:n]
    return [Instrument(name, 5, -4, Decimal("0.05")) for name in names]


class Tape:
    """A feed of unique prices at a fixed rate; remembers when it made each one."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self._instruments = tuple(instruments)
        self.made: dict[bytes, float] = {}  # price text -> perf_counter when the quote was made
        self.measuring = False
        self._steps = [0] * len(instruments)
        self._stopped = False

    def instruments(self) -> tuple[Instrument, ...]:
        return self._instruments

    def report_status_to(self, status: StatusHook) -> None:
        return None

    def stop(self) -> None:
        self._stopped = True

    async def run(self, sink: QuoteSink) -> None:
        per_batch = max(1, round(TICKS_PER_S * BATCH_S))
        cycle = itertools.cycle(range(len(self._instruments)))
        next_at = time.perf_counter()
        while not self._stopped:
            for _ in range(per_batch):
                i = next(cycle)
                self._steps[i] += 1
                bid = Decimal(i + 1) + Decimal(self._steps[i]).scaleb(-5)
                text = f"{bid:.5f}".encode()
                now = time.perf_counter()
                if self.measuring:
                    self.made[text] = now
                # the ask half a unit up: never the text of any bid (instrument i's bids stay in
                # [i + 1, i + 1.5) for 50,000 steps), so a price seen is the bid it names
                sink(Quote(self._instruments[i].name, bid, bid + Decimal("0.5"), time.time()))
            next_at += BATCH_S
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))


class Screen:
    """The app's pty: everything it writes, read at once and timestamped."""

    def __init__(self, master: int) -> None:
        self._master = master
        self.seen: dict[bytes, float] = {}  # price text -> when its bytes were read
        self.bytes = 0
        self.counting = False
        self._tail = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            if self.counting:
                self.bytes += len(chunk)
            data = self._tail + chunk
            for found in _PRICE.findall(data):
                self.seen.setdefault(found, now)
            self._tail = data[-16:]  # a price split across two reads


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    size: tuple[int, int], socket: Path, token: Secret, tape: Tape, home: Path, fps: int
) -> dict[str, Any]:
    columns, rows = size
    config = home / "ui.toml"
    text = re.sub(r"(?m)^fps = \d+", f"fps = {fps}", default_config_text())
    config.write_text(text.replace('journal_path = ""', f'journal_path = "{home / "ui.db"}"'))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "TMT_API_TOKEN": token.reveal(),
        "XDG_STATE_HOME": str(home),
        "XDG_RUNTIME_DIR": str(home),
    }
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tmt_tui",
            "--config",
            str(config),
            "attach",
            "--socket",
            str(socket),
        ],  # fmt: skip
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    screen = Screen(master)
    try:
        deadline = time.monotonic() + 30
        while not screen.seen and time.monotonic() < deadline:
            time.sleep(0.05)  # the first paint with prices on it
        time.sleep(WARMUP_S)
        tape.made.clear()
        screen.seen.clear()
        cpu_before, started = cpu_seconds(child.pid), time.perf_counter()
        tape.measuring = screen.counting = True
        time.sleep(SECONDS)
        tape.measuring = screen.counting = False
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(child.pid) - cpu_before
        time.sleep(0.5)  # the last ticks' frames
        written = screen.bytes
    finally:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
        os.close(master)
    made, seen = dict(tape.made), dict(screen.seen)
    latencies = [int((seen[p] - t) * 1e9) for p, t in made.items() if p in seen and seen[p] >= t]
    figures = percentiles(latencies, "ms") if latencies else {"p50_ms": 0.0, "p99_ms": 0.0}
    return {
        **figures,
        "drawn_n": len(latencies),
        "made_n": len(made),
        "ui_cpu_pct": round(100 * cpu / elapsed, 1),
        "written_bytes_per_s": round(written / elapsed),
    }


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tmt-bench-screen-"))
    settings = load_settings()
    settings = dataclasses.replace(
        settings, engine=dataclasses.replace(settings.engine, journal_path=str(home / "j.db"))
    )
    tape = Tape(pairs(INSTRUMENTS))
    runner = EngineRunner(settings, SimVenue(settings, feed=tape))
    runner.start()
    engine = LocalEngineClient(runner)
    token = Secret(secrets.token_urlsafe(24))
    server = ServerThread(engine, token, home / "engine.sock")
    server.start()
    results: dict[str, Any] = {}
    try:
        for size in SIZES:
            results[f"{size[0]}x{size[1]}"] = measure(
                size, home / "engine.sock", token, tape, home, FPS
            )
    finally:
        server.stop()
        asyncio.run(engine.close())
    big, small = results["160x50"], results["80x24"]
    frame_ms = 1000 / FPS
    for name, figures in results.items():
        print(name, figures)
    report(
        {
            "bench": "tick_to_screen",
            "instruments_n": INSTRUMENTS,
            "ticks_per_s": TICKS_PER_S,
            "p50_ms": big["p50_ms"],
            "p99_ms": big["p99_ms"],
            "drawn_n": big["drawn_n"],
            "ui_cpu_pct": big["ui_cpu_pct"],
            "written_bytes_per_s": big["written_bytes_per_s"],
            "small_p50_ms": small["p50_ms"],
            "small_p99_ms": small["p99_ms"],
            "small_ui_cpu_pct": small["ui_cpu_pct"],
            "small_written_bytes_per_s": small["written_bytes_per_s"],
            "frame_ms": frame_ms,
            "ratio": round(big["p99_ms"] / frame_ms, 2),
            "budget_p99_ms": 25,
            "budget_ui_cpu_pct": 20,
            "budget_written_bytes_per_s": 200_000,
        }
    )


if __name__ == "__main__":
    main()
