"""A one-shot command loads what it runs and no more (a `tmt status` process is mostly its
imports), and the garbage collector, off while they load, is on again when the command runs."""

from __future__ import annotations

import argparse
import inspect
import subprocess
import sys

from tests.support.cli import Engine
from tmt_tui.cli.oneshot import COMMANDS, handler
from tmt_tui.cli.parser import build_parser

#: Run `tmt --config CONFIG status` in a fresh interpreter, then say its exit code, whether the
#: collector was on while the status command ran, and which command modules it loaded.
_PROBE = """
import gc, sys
from tmt_tui.cli import main
from tmt_tui.cli import views
seen = []
status = views.status
async def probe(args, client):
    seen.append(gc.isenabled())
    await status(args, client)
views.status = probe
code = main(["--config", sys.argv[1], "status"])
loaded = sorted(m for m in sys.modules if m.startswith("tmt_tui.cli."))
print(code, seen == [True], " ".join(loaded))
"""


def _subcommands() -> set[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices)


def test_every_one_shot_command_names_a_coroutine_the_parser_knows() -> None:
    subcommands = _subcommands()
    for name in COMMANDS:
        assert name in subcommands, name
        assert inspect.iscoroutinefunction(handler(name)), name


def test_status_loads_neither_the_trading_commands_nor_the_event_trail(engine: Engine) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(engine.config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=engine.env,
    )
    assert done.returncode == 0, done.stderr
    code, collecting, loaded = done.stdout.splitlines()[-1].split(" ", 2)
    assert code == "0", done.stderr  # the engine's status, as before
    assert collecting == "True"  # the collector was on again while the command ran
    modules = loaded.split()
    assert "tmt_tui.cli.views" in modules
    for heavy in ("tmt_tui.cli.trading", "tmt_tui.cli.event_trail", "tmt_tui.cli.workstation"):
        assert heavy not in modules, heavy
