"""The `tmt` command: wires config -> engine -> faces (workstation, control API, metrics).

Nothing trades here; each subcommand is a thin adapter over the engine or the EngineClient.
"""

from __future__ import annotations

import sys

from tmt_tui.cli.parser import build_parser, split_passthrough


def main(argv: list[str] | None = None) -> int:
    ours, passthrough = split_passthrough(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(ours)
    command = args.command
    if command == "oanda-sim":
        from tmt_tui.venues.oanda_sim.__main__ import main as oanda_sim

        return oanda_sim(passthrough)
    if command == "polygon-sim":
        from tmt_tui.venues.polygon_sim.__main__ import main as polygon_sim

        return polygon_sim(passthrough)
    if command is None:
        from tmt_tui.cli.workstation import run_workstation

        return run_workstation(args)
    if command == "engine":
        from tmt_tui.cli.host import run_engine

        return run_engine(args)
    if command == "attach":
        from tmt_tui.cli.workstation import run_attach

        return run_attach(args)
    if command == "serve":
        from tmt_tui.cli.serve import run_serve

        return run_serve(args)
    if command == "oanda":
        from tmt_tui.cli.oanda import run_oanda

        return run_oanda(args)
    if command == "analytics":
        from tmt_tui.cli.analytics import run_analytics

        return run_analytics(args)
    if command == "report":
        from tmt_tui.cli.report import run_report

        return run_report(args)
    if command == "replay":
        from tmt_tui.cli.replay import run_replay

        return run_replay(args)
    if command == "sync":
        from tmt_tui.cli.sync import run_sync

        return run_sync(args)
    if command == "config":
        from tmt_tui.cli.oneshot import config_check

        return config_check(args)
    from tmt_tui.cli.oneshot import run_oneshot

    return run_oneshot(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
