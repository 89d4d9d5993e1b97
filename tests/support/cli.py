"""A real `tmt engine` subprocess on a private journal and socket, driven by `tmt` subprocesses
as a script would drive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Engine:
    proc: subprocess.Popen[str]
    env: dict[str, str]
    home: Path
    config: Path

    def tmt(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run `tmt --config ... ARGS` against this engine; never raises on a non-zero exit."""
        return subprocess.run(
            [sys.executable, "-m", "tmt_tui", "--config", str(self.config), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def json(self, *args: str) -> object:
        result = self.tmt(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def stderr(self) -> str:
        return (self.home / "engine.err").read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.returncode


def engine_env(home: Path) -> dict[str, str]:
    """The environment of a `tmt` process whose data, state and socket dirs are under ``home``."""
    env = dict(os.environ)
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_RUNTIME_DIR=str(home / "run"),
        PYTHONPATH=str(ROOT),
    )
    env.pop("TMT_API_TOKEN", None)
    return env


def write_config(home: Path, extra: str = "") -> Path:
    """The packaged default config with its socket under ``home`` and metrics on a free port."""
    text = (ROOT / "tmt_tui/resources/config/default.toml").read_text()
    text = text.replace('socket_path = ""', f'socket_path = "{home}/run/e.sock"')
    text = text.replace("metrics_port = 9464", "metrics_port = 0")  # tests run side by side
    # no history backfill: ~10 MB of bars written at every first start, for no test's use
    text = text.replace("backfill_bars = 200", "backfill_bars = 0")
    config = home / "tmt.toml"
    config.write_text(text + extra)
    return config


def start_engine(home: Path, config: Path) -> Engine:
    """`tmt engine` started in the background; returns once `tmt status` reaches it."""
    env = engine_env(home)
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    log = open(home / "engine.err", "a")  # noqa: SIM115 - a file, so a chatty engine never blocks
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "--config", str(config), "engine"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    engine = Engine(proc, env, home, config)

    def answering() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"tmt engine exited: {(home / 'engine.err').read_text()}")
        return (home / "run" / "e.sock").exists() and engine.tmt("status").returncode == 0

    try:
        wait_for(answering, "tmt engine to start", within=30, interval=0.1)
    except AssertionError:
        engine.stop()
        raise
    return engine
