"""Real `tmt` processes as a user starts them, each writing stdout and stderr to files under the
run's home so the search reads every byte they printed: the local venues, `tmt engine
--verbose`, and one-shot commands whose output is kept."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

from tests.support.cli import Engine, engine_env
from tests.support.waiting import wait_for

from .artifacts import Artifacts, secret_env

TMT = [sys.executable, "-m", "tmt_tui"]
_numbers = count(1)


@dataclass
class Run:
    """One user's session: a private home (XDG dirs, socket, logs), the environment every
    process gets, and every output kept for the search."""

    home: Path
    env: dict[str, str] = field(init=False)
    found: Artifacts = field(default_factory=Artifacts)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.home / "out").mkdir()
        self.env = {**engine_env(self.home), **secret_env()}
        self.env.pop("POLYGON_API_KEY", None)
        self.found.roots.append(self.home)

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Path:
        """``tmt ARGS`` in the background, its stdout and stderr in ``out/NAME.{out,err}``;
        returns the stdout file."""
        out = self.home / "out" / f"{name}.out"
        with open(out, "wb") as stdout, open(out.with_suffix(".err"), "wb") as stderr:
            proc = subprocess.Popen(
                [*TMT, *args], env={**self.env, **(env or {})}, stdout=stdout, stderr=stderr
            )
        self.procs.append(proc)
        return out

    def tmt(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``tmt ARGS`` to the end, ``env`` overriding the run's; its output is kept."""
        done = subprocess.run(
            [*TMT, *args],
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        name = f"tmt {' '.join(args)} #{next(_numbers)}"
        self.found.add(f"{name} stdout", done.stdout)
        self.found.add(f"{name} stderr", done.stderr)
        return done

    def keep_live(self, directory: Path) -> None:
        """The files in ``directory`` as they are now, kept for the search: a running engine's
        journal, whose WAL a graceful stop checkpoints and empties."""
        for path in sorted(directory.iterdir()):
            if path.is_file():
                self.found.add(f"{path} (engine running)", path.read_bytes())

    def stop_all(self) -> None:
        """Every process still running, terminated then killed; never leaves one behind."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@contextmanager
def session(home: Path) -> Iterator[Run]:
    run = Run(home)
    try:
        yield run
    finally:
        run.stop_all()


def printed(out: Path, pattern: str, what: str) -> str:
    """The first group of ``pattern``'s first match in a file a background process writes."""
    return wait_for(lambda: _group(pattern, out.read_text()), what, within=30)


def _group(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match[1] if match else ""


def oanda_sim(run: Run) -> tuple[str, subprocess.Popen[bytes]]:
    """`tmt oanda-sim` on a free loopback port: its base URL and its process."""
    out = run.spawn("oanda-sim", "oanda-sim", "--port", "0", "--heartbeat", "0.2")
    url = printed(out, r"v20 server on (http://127\.0\.0\.1:\d+)/v3", "tmt oanda-sim")
    return url, run.procs[-1]


def polygon_sim(run: Run) -> str:
    """`tmt polygon-sim` on a free loopback port; its base URL."""
    out = run.spawn("polygon-sim", "polygon-sim", "--port", "0", "--tps", "20")
    return printed(out, r"server on (ws://127\.0\.0\.1:\d+)/forex", "tmt polygon-sim")


def start_engine(run: Run, config: Path, name: str, **env: str) -> tuple[Engine, str]:
    """`tmt engine --verbose` in the background, once it says it runs (the control API and
    /metrics both up): the engine, and its /metrics base URL from that line."""
    out = run.spawn(name, "engine", "--config", str(config), "--verbose", env=env)
    proc = run.procs[-1]
    err = out.with_suffix(".err")

    def up() -> str:
        if proc.poll() is not None:
            raise AssertionError(f"tmt engine exited: {err.read_text()}")
        return _group(r"metrics on (http://127\.0\.0\.1:\d+)", err.read_text())

    url = wait_for(up, "tmt engine to start", within=30)
    engine = Engine(proc, {**run.env, **env}, run.home, config)  # type: ignore[arg-type]
    return engine, url


def answer_of(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a `--json` command printed last, whatever its exit status."""
    return json.loads(done.stdout.strip().splitlines()[-1])


def answer(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a `--json` command that succeeded printed last."""
    assert done.returncode == 0, done.stderr
    return answer_of(done)


def stop_engine(engine: Engine) -> None:
    """SIGTERM, as a service manager stops it; the graceful stop must succeed."""
    assert engine.stop() == 0
