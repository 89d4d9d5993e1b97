"""The `tmt` command: wires config -> engine -> faces (workstation, control API, metrics).

Nothing trades here; each subcommand is a thin adapter over the engine or the EngineClient.
Each is imported only when it runs: a one-shot `tmt status` is mostly its imports.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argparse import Namespace


def main(argv: list[str] | None = None) -> int:
    """Parse, import what the command runs, then run it (the process's entry point: the `tmt`
    script and `python -m tmt_tui`).

    The cyclic garbage collector is off while the parser and the command's modules load:
    start-up makes tens of thousands of objects that live as long as the process and next to
    no garbage, and collections walking them again and again cost a `tmt status` about 7 ms.
    Then what start-up made is frozen (`gc.freeze`: never walked again, by a later collection
    or the one at exit, which alone took ~25 ms of a `tmt status`) and the collector is back
    on (if it was on) before the command runs, however long that is. The price: the parser's
    own cycles (a few hundred kB, once) are never collected.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        from tmt_tui.cli.parser import build_parser, split_passthrough

        ours, passthrough = split_passthrough(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(ours)
        run = _command(args, passthrough)
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    return run()


def _command(args: Namespace, passthrough: list[str]) -> Callable[[], int]:
    """The command `args` names, imported and ready to run."""
    command = args.command
    if command == "oanda-sim":
        from tmt_tui.venues.oanda_sim.__main__ import main as oanda_sim

        return lambda: oanda_sim(passthrough)
    if command == "polygon-sim":
        from tmt_tui.venues.polygon_sim.__main__ import main as polygon_sim

        return lambda: polygon_sim(passthrough)
    if command is None:
        from tmt_tui.cli.workstation import run_workstation

        return lambda: run_workstation(args)
    if command == "engine":
        from tmt_tui.cli.host import run_engine

        return lambda: run_engine(args)
    if command == "attach":
        from tmt_tui.cli.workstation import run_attach

        return lambda: run_attach(args)
    if command == "serve":
        from tmt_tui.cli.serve import run_serve

        return lambda: run_serve(args)
    if command == "oanda":
        from tmt_tui.cli.oanda import run_oanda

        return lambda: run_oanda(args)
    if command == "analytics":
        from tmt_tui.cli.analytics import run_analytics

        return lambda: run_analytics(args)
    if command == "report":
        from tmt_tui.cli.report import run_report

        return lambda: run_report(args)
    if command == "replay":
        from tmt_tui.cli.replay import run_replay

        return lambda: run_replay(args)
    if command == "sync":
        from tmt_tui.cli.sync import run_sync

        return lambda: run_sync(args)
    if command == "config":
        from tmt_tui.cli.oneshot import config_check

        return lambda: config_check(args)
    from tmt_tui.cli.oneshot import prepare_oneshot

    return prepare_oneshot(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
