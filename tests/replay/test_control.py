"""Steering a replay from another shell (`tmt replay pause|resume|speed|status`), reading the
journal of an engine that is writing it, and a live engine's refusal of replay controls."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.replay.recordings import write_ticks
from tests.support.cli import Engine, engine_env, start_engine, write_config
from tests.support.engines import journal_rows
from tests.support.waiting import wait_for


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    """A `tmt engine` on the sim market, journaling its ticks under ``home``."""
    running = start_engine(home, write_config(home))
    yield running
    running.stop()


def control(engine: Engine, socket: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return engine.tmt("replay", *args, "--socket", str(socket))


def status(engine: Engine, socket: Path) -> dict[str, object]:
    done = control(engine, socket, "status", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)["payload"]
    assert isinstance(payload, dict)
    return payload


def test_a_journal_is_replayed_read_only_beside_the_engine_writing_it(
    engine: Engine, home: Path
) -> None:
    journal = home / "data" / "tmt" / "journal.db"
    ticks = "select count(*) from ticks"
    wait_for(lambda: journal_rows(journal, ticks)[0][0] >= 40, "ticks in the live journal")
    out = home / "replay.db"

    socket = str(home / "r.sock")
    done = engine.tmt("replay", "--journal", str(journal), "--speed", "max", "--headless",
                      "--exit-at-end", "--out", str(out), "--socket", socket)  # fmt: skip

    assert done.returncode == 0, done.stderr
    played = journal_rows(out, ticks)[0][0]
    assert played >= 40
    assert engine.tmt("status").returncode == 0  # the engine never noticed
    wait_for(lambda: journal_rows(journal, ticks)[0][0] > played, "the engine to write on")


def test_pause_resume_and_speed_from_another_shell(engine: Engine, home: Path) -> None:
    csv = home / "ticks.csv"
    write_ticks(csv, count=3000, step_s=1.0)  # 50 minutes of market: still playing at 100x
    socket = home / "r.sock"
    replay = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "--config", str(engine.config), "replay", str(csv),
         "--headless", "--speed", "1", "--out", str(home / "out.db"), "--socket", str(socket)],
        env=engine_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: socket.exists() and status(engine, socket)["done"], "the replay")

        paused = control(engine, socket, "pause")
        assert paused.returncode == 0, paused.stderr
        assert paused.stdout.startswith("paused at ")
        held = status(engine, socket)
        assert held["paused"] is True
        faster = control(engine, socket, "speed", "100")
        assert faster.returncode == 0, faster.stderr
        assert status(engine, socket)["done"] == held["done"]  # still paused, at 100x now
        assert status(engine, socket)["speed"] == 100.0
        assert control(engine, socket, "resume").returncode == 0
        wait_for(lambda: status(engine, socket)["done"] > held["done"], "the replay to play on")
        refused = control(engine, socket, "speed", "fast")
        assert refused.returncode == 64
        assert "not a number or 'max'" in refused.stderr
    finally:
        stopped = engine.tmt("stop", "--socket", str(socket))
        replay.wait(30)
    assert stopped.returncode == 0, stopped.stderr


def test_an_engine_trading_live_refuses_replay_controls(engine: Engine, home: Path) -> None:
    refused = control(engine, home / "run" / "e.sock", "pause")

    assert refused.returncode == 3
    assert "NOT_A_REPLAY" in refused.stderr
    assert "trades live" in refused.stderr


def test_a_paused_replay_has_no_quote_going_stale(home: Path) -> None:
    """The alert rules run on the ticks' clock: paused for longer than `stale_quote_s` of wall
    time, no instrument of the recording is called stale (nothing is ticking in its world)."""
    config = write_config(home)
    config.write_text(config.read_text().replace("stale_quote_s = 10.0", "stale_quote_s = 0.5"))
    csv = home / "ticks.csv"
    write_ticks(csv, count=600, step_s=0.02)
    out, socket = home / "out.db", home / "r.sock"
    replay = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "--config", str(config), "replay", str(csv),
         "--headless", "--paused", "--speed", "1", "--out", str(out), "--socket", str(socket)],
        env=engine_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        probe = Engine(proc=None, env=engine_env(home), home=home, config=config)  # type: ignore[arg-type]
        wait_for(lambda: socket.exists() and status(probe, socket)["paused"], "the pause")
        time.sleep(2.0)  # four stale_quote_s of wall time with the replay held still
        assert status(probe, socket)["paused"] is True
        raised = journal_rows(out, "select data from events where kind = 'alert.raised'")
        assert not [row for row in raised if "quote_stale" in row[0]]
    finally:
        replay.terminate()
        replay.wait(timeout=30)
