"""The `tmt` command: wires config -> engine -> workstation. Nothing else lives here."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from tmt_tui import __version__
from tmt_tui.config import ConfigError, load_settings
from tmt_tui.store.journal import JournalError


def _state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "tmt"


def _setup_logging(verbose: bool) -> Path:
    """Log to a file: the terminal belongs to the workstation."""
    directory = _state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "tmt.log"
    logging.basicConfig(
        filename=path,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tmt",
        description="tmt: a terminal trading workstation. With no command, starts the "
        "workstation with an embedded engine (the simulated market by default).",
    )
    parser.add_argument("--version", action="version", version=f"tmt {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="TOML config (default: the packaged config/default.toml)"
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging to the log file")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    config = commands.add_parser("config", help="config tools")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_commands.add_parser("check", help="validate a config file and exit")
    check.add_argument("path", metavar="PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "config":
        try:
            settings = load_settings(args.path)
        except ConfigError as exc:
            print(f"tmt: {exc}", file=sys.stderr)
            return 2
        print(f"{settings.source}: ok ({len(settings.accounts)} accounts)")
        return 0
    return run_workstation(args.config, args.verbose)


def run_workstation(config_path: str | None, verbose: bool = False) -> int:
    """The workstation on an embedded engine; the engine stops gracefully when the UI ends."""
    log_path = _setup_logging(verbose)
    try:
        settings = load_settings(config_path)
    except ConfigError as exc:
        print(f"tmt: {exc}", file=sys.stderr)
        return 2
    from tmt_tui.engine.embedded import start_embedded

    try:
        client = start_embedded(settings)
    except (JournalError, OSError) as exc:
        print(f"tmt: cannot start the engine: {exc}", file=sys.stderr)
        return 2
    from tmt_tui.tui.app import create_app

    app = create_app(settings, client)

    def graceful(signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGHUP (an SSH session dropping) end the UI; the engine then stops cleanly."""
        loop = getattr(app, "_loop", None)
        if loop is not None:
            loop.call_soon_threadsafe(app.exit)

    previous = {s: signal.signal(s, graceful) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        app.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        client.runner.stop()
    logging.getLogger(__name__).info("tmt stopped; log at %s", log_path)
    return app.return_code or 0
