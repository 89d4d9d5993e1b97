"""The fast burst through a real terminal: `tmt` in a tmux pane at 80x24, `b` opens the ticket,
then one `tmux send-keys 1000 Tab 1.2 Enter` types the rest at once, as a paste or a laggy SSH
link would. The engine must get 1,000 units with take-profit 1.2 (never 10001.2 units)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Engine, engine_env, write_config
from tests.support.engines import journal_rows
from tests.support.waiting import wait_for

if shutil.which("tmux") is None:
    if os.environ.get("TMT_CI"):  # CI installs tmux: a skip there would hide the test
        raise RuntimeError("tmux is not installed")
    pytest.skip("tmux is not installed", allow_module_level=True)


class Pane:
    """One tmux pane on a private tmux server (``-L``), so no other session is touched."""

    def __init__(self, name: str, env: dict[str, str], command: list[str]) -> None:
        self.server = ["tmux", "-L", name]
        self.env = env
        subprocess.run(
            [*self.server, "new-session", "-d", "-s", name, "-x", "80", "-y", "24",
             " ".join(command)],
            env=env, check=True,
        )  # fmt: skip
        self.target = name

    def send(self, *keys: str) -> None:
        subprocess.run([*self.server, "send-keys", "-t", self.target, *keys], check=True)

    def text(self) -> str:
        done = subprocess.run(
            [*self.server, "capture-pane", "-p", "-t", self.target],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout

    def wait_for_text(self, text: str, what: str, home: Path, within: float) -> None:
        """Until the pane shows ``text``; if it never does, the failure shows the pane and the
        end of tmt's log (a crash at start leaves its traceback there)."""
        try:
            wait_for(lambda: text in self.text(), what, within=within)
        except AssertionError as exc:
            log = home / "state" / "tmt" / "tmt.log"
            tail = log.read_text()[-3000:] if log.exists() else "(no tmt.log)"
            shown = f"{exc}\n--- pane ---\n{self.text()}\n--- tmt.log ---\n{tail}"
            raise AssertionError(shown) from None

    def close(self) -> None:
        subprocess.run([*self.server, "kill-server"], capture_output=True, check=False)


def tmt_in_a_pane(home: Path, name: str) -> tuple[Pane, Path, dict[str, str]]:
    """`tmt` on the default config under ``home``, in a private tmux pane at 80x24."""
    config = write_config(home)
    env = engine_env(home)
    env["TERM"] = "xterm-256color"
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    pane = Pane(f"{name}-{os.getpid()}", env,
                [sys.executable, "-m", "tmt_tui", "--config", str(config)])  # fmt: skip
    return pane, config, env


def test_a_burst_typed_through_tmux_sends_the_order_as_typed(tmp_path: Path) -> None:
    home = tmp_path
    pane, config, env = tmt_in_a_pane(home, "tmt-burst")
    cli = Engine(proc=None, env=env, home=home, config=config)  # type: ignore[arg-type]
    try:
        pane.wait_for_text("EUR_USD", "the quote board", home, within=60)
        pane.send("Home", "b")
        pane.wait_for_text("BUY EUR_USD", "the ticket", home, within=30)

        pane.send("1000", "Tab", "1.2", "Enter")  # one burst

        def filled() -> list[Any]:
            orders = cli.json("orders", "--all")  # a filled order is history
            assert isinstance(orders, list)
            return [o for o in orders if o["instrument"] == "EUR_USD" and o["type"] == "MARKET"]

        (order,) = wait_for(filled, "the order at the engine", within=30)
        protective = wait_for(
            lambda: [o for o in cli.json("orders") if o["type"] == "TAKE_PROFIT"],  # type: ignore[union-attr]
            "the take-profit at the engine",
            within=30,
        )
    finally:
        pane.close()

    assert order["units"] == 1000
    assert [o["price"] for o in protective] == ["1.2"]


def tmt_pids(config: Path) -> list[int]:
    """The processes running `tmt` on ``config`` (the pane's shell may or may not exec it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"tmt_tui" in argv and str(config).encode() in argv:
            found.append(int(entry.name))
    return found


def test_a_dropped_terminal_stops_tmt_gracefully_and_the_process_ends(tmp_path: Path) -> None:
    """SIGHUP with the terminal gone (an SSH session dropping): the engine stops cleanly and
    the process ends, instead of hanging on a terminal that is no longer there."""
    home = tmp_path
    pane, config, _ = tmt_in_a_pane(home, "tmt-hup")
    try:
        pane.wait_for_text("EUR_USD", "the quote board", home, within=60)
        (pid,) = wait_for(lambda: tmt_pids(config), "the tmt process")
    finally:
        pane.close()  # the terminal goes: SIGHUP

    wait_for(lambda: not Path(f"/proc/{pid}").exists(), "tmt to end", within=30)
    log = (home / "state" / "tmt" / "tmt.log").read_text()
    assert "signal SIGHUP: stopping gracefully" in log
    journal = home / "data" / "tmt" / "journal.db"
    ((events,),) = journal_rows(journal, "select max(seq) from events")
    ((checkpoint,),) = journal_rows(journal, "select max(seq) from checkpoints")
    assert checkpoint == events  # the graceful stop's checkpoint: nothing left to replay
