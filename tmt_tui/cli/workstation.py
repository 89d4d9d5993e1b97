"""The workstation: on an embedded engine (`tmt`), or attached to a running one (`tmt attach`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tmt_tui.cli.environment import (
    checked_socket_path,
    engine_problem,
    settings_or_say_why,
    setup_logging,
)
from tmt_tui.config import ConfigError, Settings
from tmt_tui.store.journal import JournalError, JournalLocked
from tmt_tui.venues.base import VenueRefused

if TYPE_CHECKING:
    from tmt_tui.cli.host import EngineHost
    from tmt_tui.engine.local_client import LocalEngineClient

log = logging.getLogger(__name__)

#: After a stop signal and the engine's stop, how long the screen may take to restore the
#: terminal before the process ends without it.
UI_EXIT_GRACE_S = 3.0


def run_workstation(args: argparse.Namespace) -> int:
    """`tmt`: the workstation on an embedded engine that also serves the control API.

    If another process already holds the journal, attach to its engine instead of failing.
    """
    setup_logging(args.verbose)
    settings = settings_or_say_why(args.config, screen=True)
    if settings is None:
        return 2
    from tmt_tui.cli.host import EngineHost

    host = EngineHost(settings, args.socket)
    try:
        client = host.start()
    except JournalLocked as exc:
        print(f"tmt: {exc}; attaching to that engine", file=sys.stderr)
        return _attach(settings, str(host.socket_path), read_only=False)
    except (JournalError, VenueRefused, ConfigError, OSError, RuntimeError) as exc:
        print(f"tmt: cannot start the engine: {exc}", file=sys.stderr)
        return 2
    return screen_on(settings, host, client)


def screen_on(settings: Settings, host: EngineHost, client: LocalEngineClient) -> int:
    """The workstation on ``host``'s started engine until the user quits or a stop signal
    comes; the engine stops with it."""
    from tmt_tui.cli.host import install_signals, restore_signals
    from tmt_tui.tui.app import create_app
    from tmt_tui.tui.layout import beside_journal

    app = create_app(settings, client, layout_path=beside_journal(settings.journal_path()))

    def end_ui() -> None:
        loop = getattr(app, "_loop", None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(app.exit)

    def watch_engine() -> None:  # `tmt stop` from another shell ends this workstation too
        runner = host.runner
        if runner is not None and runner.join():
            end_ui()

    def stop_then_exit() -> None:
        """A stop signal: the engine stops first (journal flushed, orders as configured), then
        the screen gets a moment to put the terminal back. When the terminal is gone (SIGHUP:
        the SSH session dropped), Textual's shutdown can wait forever on it (its writer thread
        dies writing to the vanished pty with its queue full), so the process ends anyway."""
        host.stop()
        time.sleep(UI_EXIT_GRACE_S)
        log.warning("the screen did not close %.0fs after a stop signal: exiting", UI_EXIT_GRACE_S)
        logging.shutdown()
        os._exit(0)

    def on_stop_signal() -> None:
        threading.Thread(target=stop_then_exit, name="tmt-signal-stop", daemon=True).start()
        end_ui()

    threading.Thread(target=watch_engine, name="tmt-engine-watch", daemon=True).start()
    previous = install_signals(on_stop_signal, lambda: host.kill_from_signal("SIGUSR1"))
    try:
        app.run()
    finally:
        restore_signals(previous)
        host.stop()
    return app.return_code or 0


def run_attach(args: argparse.Namespace) -> int:
    """`tmt attach`: the same workstation over the control API; quitting leaves the engine be."""
    setup_logging(args.verbose)
    settings = settings_or_say_why(args.config, screen=True)
    if settings is None:
        return 2

    option = "SOCKET" if args.target else "--socket"
    try:
        socket = str(checked_socket_path(settings, args.target or args.socket, option))
    except ConfigError as exc:
        print(f"tmt: cannot attach: {exc}", file=sys.stderr)
        return 2
    return _attach(settings, socket, read_only=args.read_only)


def _attach(settings: Settings, socket: str, read_only: bool) -> int:
    from tmt_tui.api.paths import check_socket_path
    from tmt_tui.api.remote import RemoteEngineClient

    try:
        check_socket_path(Path(socket))
    except ValueError as exc:
        print(f"tmt: cannot attach: {exc}", file=sys.stderr)
        return 2
    problem = engine_problem(socket, read_only=read_only, client_name="tmt attach")
    if problem is not None:
        print(f"tmt: cannot attach to {socket}: {problem}", file=sys.stderr)
        return 2
    from tmt_tui.api.paths import state_dir
    from tmt_tui.tui.app import create_app
    from tmt_tui.tui.layout import for_endpoint

    # connects on the workstation's own loop
    client = RemoteEngineClient(Path(socket), read_only=read_only, client_name="tmt attach")

    # the engine's journal (and the layout beside it) may be on another machine: keyed here
    layout = for_endpoint(state_dir(), str(Path(socket).resolve()))
    app = create_app(settings, client, layout_path=layout)
    app.run()
    return app.return_code or 0
