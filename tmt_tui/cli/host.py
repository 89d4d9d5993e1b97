"""An engine with what operators reach it by: the control API and /metrics, plus signals.

`tmt engine` runs one headless; the plain `tmt` runs one under the workstation. Either way
`tmt kill`, `tmt status` and `tmt attach` from another shell reach it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from tmt_tui.cli.embedded import engine_runner
from tmt_tui.cli.environment import (
    checked_socket_path,
    settings_or_say_why,
    setup_logging,
    socket_path_for,
)
from tmt_tui.config import ConfigError, Settings
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import EngageKillSwitch, Origin
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.monitoring.observer import EngineObserver
from tmt_tui.store.journal import JournalError
from tmt_tui.venues.base import VenueRefused

log = logging.getLogger(__name__)


class EngineHost:
    """Starts and stops an engine together with its control API server and metrics endpoint."""

    def __init__(
        self,
        settings: Settings,
        socket_override: str | None = None,
        make_runner: Callable[[Settings, EngineObserver], EngineRunner] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """``make_runner`` builds the engine (default: on the venue the config names; `tmt
        replay` gives its own, on a recording). ``monotonic`` is the alert rules' clock: a
        replay's is its ticks' clock, so a paused replay has no quote going stale."""
        self.settings = settings
        self._make_runner = make_runner or _configured_runner
        self._monotonic = monotonic
        self.socket_override = socket_override
        self.socket_path = socket_path_for(settings, socket_override)
        self.runner: EngineRunner | None = None
        self.client: LocalEngineClient | None = None
        self._server: Any = None
        self.monitoring: Any = None
        self.metrics_server: Any = None
        self.metrics_required = False  # headless: a metrics port in use stops the start
        self.sync: Any = None  # the history sync's supervisor, when [sync] enabled
        self._stopping = threading.Lock()  # a signal's thread and the main thread may both stop

    def start(self) -> LocalEngineClient:
        """Engine first (it owns the journal lock), then the API and /metrics; a socket path
        the API could not serve on is refused (ConfigError) before anything starts."""
        from tmt_tui.monitoring.service import Monitoring

        settings = self.settings
        if settings.api.enabled:
            checked_socket_path(settings, self.socket_override)
        self.monitoring = monitoring = Monitoring(
            settings.monitoring,
            instruments=settings.sim.instruments,
            monotonic=self._monotonic or time.monotonic,
        )
        self.runner = runner = self._make_runner(settings, monitoring.observer)
        monitoring.add_alert_sink(runner.on_alert)
        runner.start()
        self.client = client = LocalEngineClient(runner, owns_engine=True)
        try:
            self._start_api(client)
            monitoring.watch_api(self._api_counters)
            self._serve_metrics(lambda: runner.running, lambda: runner.problem)
            self._start_sync(runner)
        except BaseException:
            self.stop()
            raise
        return client

    def _start_sync(self, runner: EngineRunner) -> None:
        """The history sync, in a process of its own beside the engine (tmt_tui/sync/process.py):
        its word becomes the sync metrics and the "sync down" / "sync lagging" alerts."""
        if not self.settings.sync.enabled:
            return
        from tmt_tui.sync.process import SyncSupervisor

        metrics = self.monitoring.metrics if self.monitoring is not None else None

        def on_status(status: Any) -> None:
            if metrics is not None:
                metrics.sync_changed(status.lag_rows, status.lag_s, status.errors_total)
            down = status.state == "down"
            runner.report_status("sync.down", down, f"sync down: {status.last_error}")
            behind = f"sync lagging: {status.lag_rows} rows, {status.lag_s:.0f}s behind"
            runner.report_status("sync.lagging", status.state == "lagging", behind)

        self.sync = SyncSupervisor(self.settings.sync, self.settings.journal_path(), on_status)
        self.sync.start()

    def _serve_metrics(
        self, engine_running: Callable[[], bool], engine_problem: Callable[[], str | None]
    ) -> None:
        try:
            self.metrics_server = self.monitoring.serve(
                engine_running=engine_running, engine_problem=engine_problem
            )
        except OSError as exc:
            if self.metrics_required:
                raise
            log.warning("no /metrics: %s", exc)

    def _api_counters(self) -> tuple[int, int]:
        server = self._server
        if server is None:
            return 0, 0
        return int(getattr(server, "auth_failures", 0)), int(getattr(server, "clients", 0))

    def _start_api(self, client: LocalEngineClient) -> None:
        if not self.settings.api.enabled:
            return
        try:
            from tmt_tui.api.server import ServerThread
        except ImportError:  # a build without the control API: the workstation still runs
            log.warning("control API not available; serving no socket")
            return

        settings = self.settings  # with --socket, if given, as the socket to serve
        api = dataclasses.replace(settings.api, socket_path=str(self.socket_path))
        self._server = ServerThread.from_settings(dataclasses.replace(settings, api=api), client)
        self._server.start()

    def kill_from_signal(self, reason: str) -> None:
        """SIGUSR1: the kill switch, straight to the engine (no API hop, no UI needed)."""
        runner = self.runner
        if runner is not None:
            runner.kill(EngageKillSwitch(reason, Origin.SIGNAL), _log_reply)

    def stop(self) -> None:
        """API first (no new commands), then metrics, then the engine's graceful stop."""
        with self._stopping:
            self._stop()

    def _stop(self) -> None:
        if self._server is not None:
            try:
                self._server.stop()
            except Exception:
                log.exception("stopping the control API failed")
            self._server = None
        if self.runner is not None:
            self.runner.stop()
        if self.sync is not None:  # after the engine's last writes, so it copies them too
            self.sync.stop()
            self.sync = None
        if self.monitoring is not None:
            self.monitoring.close()
            self.monitoring = None


def _configured_runner(settings: Settings, observer: EngineObserver) -> EngineRunner:
    return engine_runner(settings, observer=observer)


def _log_reply(reply: Reply) -> None:
    log.warning("kill switch by signal: %s %s", reply.code, reply.message)


def install_signals(on_stop: Callable[[], None], on_kill: Callable[[], None]) -> dict[int, Any]:
    """SIGTERM / SIGINT / SIGHUP stop gracefully (an SSH session dropping is never a silent
    death); SIGUSR1 engages the kill switch. Returns the previous handlers."""

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping gracefully", signal.Signals(signum).name)
        on_stop()

    def kill(signum: int, frame: FrameType | None) -> None:
        on_kill()

    previous: dict[int, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous[signum] = signal.signal(signum, stop)
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, kill)
    return previous


def restore_signals(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def run_engine(args: argparse.Namespace) -> int:
    """`tmt engine`: trade with no screen until stopped."""

    setup_logging(args.verbose, also_stderr=True)
    settings = settings_or_say_why(args.config)
    if settings is None:
        return 2
    host = EngineHost(settings, args.socket)
    host.metrics_required = True
    try:
        host.start()
    except (JournalError, VenueRefused, ConfigError, OSError, RuntimeError) as exc:
        print(f"tmt: cannot start the engine: {exc}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    previous = install_signals(stopping.set, lambda: host.kill_from_signal("SIGUSR1"))
    metrics = host.metrics_server
    where = f"; metrics on {metrics.url}" if metrics is not None else ""
    print(f"tmt engine: running; control API on {host.socket_path}{where}", file=sys.stderr)
    try:
        runner = host.runner
        assert runner is not None
        while not stopping.wait(0.25):
            if runner.join(0):  # stopped by `tmt stop`
                break
    finally:
        host.stop()
        restore_signals(previous)
    print("tmt engine: stopped", file=sys.stderr, flush=True)
    return 0
