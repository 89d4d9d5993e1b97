"""How long a trader waits: `tmt` to a full screen, and `tmt status` to its answer.

1. First paint: the real `tmt` (the workstation on an embedded engine, the simulated market)
   in a pseudo-terminal at 80x24, with its data, state and runtime dirs in a temp dir. The
   clock runs from just before the process is spawned until the pty's byte stream shows the
   quote board with prices (EUR_USD's bid at its 5 decimals beside the instrument), which is
   the first paint a trader can act on. The first run starts with no journal (a first start:
   it creates one) and is reported apart as first_paint_cold_ms; the others start on the
   journal the first left, as every later start does. Budget: p50 <= 1 s.
2. `tmt status`: a `tmt engine` running in its own temp dirs; status_p50/p95_ms is the
   whole `tmt status` process (interpreter start, imports, connect, snapshot, print, exit),
   which is what a script or a trader at a prompt waits for, and status_inproc_p50/p95_ms
   the round trip alone (connect, subscribe, the snapshot, close) from an already-running
   Python process. status_imports_p50_ms is a process that only starts Python and imports
   what `tmt status` imports, and python_start_p50_ms one that starts Python: between them
   they say where a status process's time goes. Budget: status p50 <= 150 ms.

Both run where the CI runs (2 shared cores): the figures are what a loaded box gives.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from _realistic_book import percentiles, report

ROOT = Path(__file__).resolve().parents[1]
PAINT_RUNS = 5
STATUS_RUNS = 20
INPROC_RUNS = 50
COLUMNS, LINES = 80, 24
PAINT_TIMEOUT_S = 30.0
BUDGET_FIRST_PAINT_MS = 1000
BUDGET_STATUS_MS = 150

#: ANSI control sequences (CSI, OSC, single-character escapes): what is left is the text.
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
#: The board's EUR_USD row with a price: the name, then a 1.xxxxx quote on the same line.
_QUOTED = re.compile(rb"EUR[_/]USD[^\n]{0,60}?\b1\.\d{3}\s?\d{2}\b")


def tmt_command() -> list[str]:
    """The `tmt` a trader runs: the venv's console script when there is one."""
    script = Path(sys.executable).with_name("tmt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tmt_tui"]


def environment(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "TERM": "xterm-256color",
        "COLUMNS": str(COLUMNS),
        "LINES": str(LINES),
    }
    env.pop("TMT_API_TOKEN", None)
    env.pop("NO_COLOR", None)
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def first_paint_ms(home: Path) -> float:
    """Spawn `tmt` on a pty sized 80x24; milliseconds until the board shows a quote."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(
        tmt_command(),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment(home),
        cwd=home,
        start_new_session=True,  # the pty becomes its controlling terminal
        close_fds=True,
    )
    os.close(follower)
    text = b""
    painted: float | None = None
    try:
        deadline = start + PAINT_TIMEOUT_S
        while painted is None:
            if time.perf_counter() > deadline or proc.poll() is not None:
                tail = _ANSI.sub(b"", text)[-2000:].decode(errors="replace")
                raise RuntimeError(f"no quote on the board (exit {proc.poll()}): {tail}")
            ready, _, _ = select.select([leader], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the pty
                continue
            text += chunk
            if _QUOTED.search(_ANSI.sub(b"", text[-20000:])):
                painted = time.perf_counter()
    finally:
        _stop(proc, leader)
    return (painted - start) * 1000


def _stop(proc: subprocess.Popen[bytes], leader: int) -> None:
    """SIGTERM (the embedded engine shuts down gracefully), draining the pty meanwhile."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            with contextlib.suppress(OSError):  # the child closed the pty
                os.read(leader, 65536)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    os.close(leader)


def bench_first_paint(root: Path) -> dict[str, float]:
    home = root / "paint"
    cold = first_paint_ms(home)
    warm = [first_paint_ms(home) for _ in range(PAINT_RUNS)]
    stats = percentiles([int(ms * 1e6) for ms in warm], "ms")
    return {
        "first_paint_ms": stats["p50_ms"],
        "first_paint_max_ms": stats["max_ms"],
        "first_paint_cold_ms": round(cold, 2),
        "paint_runs": PAINT_RUNS,
    }


def _config(home: Path) -> Path:
    """The packaged default config with its socket under ``home`` and no metrics port."""
    text = (ROOT / "tmt_tui/resources/config/default.toml").read_text()
    text = text.replace('socket_path = ""', f'socket_path = "{home}/run/e.sock"')
    text = text.replace("metrics_port = 9464", "metrics_port = 0")
    config = home / "tmt.toml"
    config.write_text(text)
    return config


def bench_status(root: Path) -> dict[str, float]:
    home = root / "engine"
    env = environment(home)
    config = _config(home)
    status = [*tmt_command(), "--config", str(config), "status"]
    with (home / "engine.err").open("w") as log:
        engine = subprocess.Popen(
            [*tmt_command(), "--config", str(config), "engine"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(status, env=env, capture_output=True).returncode != 0:
            if engine.poll() is not None or time.monotonic() > deadline:
                why = (home / "engine.err").read_text()
                raise RuntimeError(f"tmt engine did not answer: {why}")
            time.sleep(0.1)
        cli = []
        for _ in range(STATUS_RUNS):
            begin = time.perf_counter_ns()
            done = subprocess.run(status, env=env, capture_output=True)
            cli.append(time.perf_counter_ns() - begin)
            if done.returncode != 0:
                raise RuntimeError(done.stderr.decode())
        inproc = asyncio.run(_inproc(home / "run" / "e.sock", home))
        imports = _process_ms([sys.executable, "-c", _STATUS_IMPORTS], env)
        bare = _process_ms([sys.executable, "-c", "pass"], env)
    finally:
        engine.send_signal(signal.SIGTERM)
        try:
            engine.wait(30)
        except subprocess.TimeoutExpired:
            engine.kill()
    process = percentiles(cli, "ms")
    alone = percentiles(inproc, "ms")
    return {
        "status_p50_ms": process["p50_ms"],
        "status_p95_ms": process["p95_ms"],
        "status_inproc_p50_ms": alone["p50_ms"],
        "status_inproc_p95_ms": alone["p95_ms"],
        "status_imports_p50_ms": imports,
        "python_start_p50_ms": bare,
        "status_runs": STATUS_RUNS,
    }


#: What a `tmt status` process imports (the parser, then the client and the status command's
#: module, with the collector off, then frozen, as `tmt_tui.cli.main` has it) and its parser.
_STATUS_IMPORTS = (
    "import gc; gc.disable(); "
    "import tmt_tui.cli.parser, tmt_tui.cli.oneshot, tmt_tui.api.remote, tmt_tui.config; "
    "tmt_tui.cli.oneshot.handler('status'); tmt_tui.cli.parser.build_parser(); "
    "gc.freeze(); gc.enable()"
)


def _process_ms(command: list[str], env: dict[str, str]) -> float:
    samples = []
    for _ in range(STATUS_RUNS):
        begin = time.perf_counter_ns()
        subprocess.run(command, env=env, check=True, cwd=ROOT)
        samples.append(time.perf_counter_ns() - begin)
    return percentiles(samples, "ms")["p50_ms"]


async def _inproc(socket: Path, home: Path) -> list[int]:
    """What `tmt status` does once Python is up: connect, one snapshot, close."""
    from tmt_tui.api.remote import RemoteEngineClient
    from tmt_tui.cli.answers import snapshot

    token = (home / "state" / "tmt" / "api.token").read_text().strip()
    samples = []
    for i in range(INPROC_RUNS + 5):
        begin = time.perf_counter_ns()
        client = RemoteEngineClient(socket, token=token, client_name="tmt cli")
        try:
            await client.connect()
            await snapshot(client)
        finally:
            await client.close()
        if i >= 5:  # the first few warm the imports and the engine's session path
            samples.append(time.perf_counter_ns() - begin)
    return samples


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="tmts", dir="/tmp"))  # short: sun_path holds 107 bytes
    try:
        paint = bench_first_paint(root)
        status = bench_status(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(
        {
            "bench": "startup",
            **paint,
            "budget_first_paint_ms": BUDGET_FIRST_PAINT_MS,
            **status,
            "budget_status_ms": BUDGET_STATUS_MS,
        }
    )


if __name__ == "__main__":
    main()
