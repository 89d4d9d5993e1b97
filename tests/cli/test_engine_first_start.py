"""A first `tmt engine` killed (SIGKILL) while it makes its journal does not stop the next start.

The kill lands as soon as a journal file shows in the data directory (the journal itself, or
the copy being made beside it), wherever the engine has got to by then: whatever it left, the
next start opens a journal and serves. Nothing here depends on how fast either process runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import engine_env, start_engine, write_config
from tests.support.waiting import wait_for


def journal_showed(data: Path) -> bool:
    try:
        entries = list(os.scandir(data))
    except FileNotFoundError:
        return False
    for entry in entries:
        if entry.name.startswith("journal.db.new-"):
            return True
        if entry.name == "journal.db" and entry.stat().st_size > 0:
            return True
    return False


def test_an_engine_killed_as_its_journal_first_appears_starts_again(home: Path) -> None:
    config = write_config(home)
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    data = home / "data" / "tmt"
    with open(home / "first.err", "w") as log:
        first = subprocess.Popen(
            [sys.executable, "-m", "tmt_tui", "--config", str(config), "engine"],
            env=engine_env(home),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:

        def showed() -> bool:
            if journal_showed(data):
                return True
            assert first.poll() is None, (home / "first.err").read_text()
            return False

        wait_for(showed, "a journal file", within=60, interval=0)  # kill it as soon as it shows
    finally:
        first.kill()
        first.wait(30)

    engine = start_engine(home, config)  # raises if the engine refuses its journal
    try:
        status = engine.json("status")
    finally:
        engine.stop()

    assert [a["id"] for a in status["accounts"]] == ["SIM-USD", "SIM-EUR"]  # type: ignore[index]
    assert not list(data.glob("journal.db.new-*"))
