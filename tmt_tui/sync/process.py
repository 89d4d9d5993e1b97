"""The sync as a child process of the engine, and the supervisor the engine's host runs.

A process, not a thread: copying is CPU work in Python (reading rows, COPY), and a busy thread
in the engine's process would hold the GIL for up to the switch interval (5 ms) just when an
order's acknowledgement wants it, against a 1 ms budget. In its own process the sync costs
the engine nothing but a pipe read on an idle thread, and a hung database cannot reach it.

The child (``python -m tmt_tui.sync --journal PATH --settings JSON``) takes the DSN from its
environment, prints each :class:`SyncStatus` that changed as one JSON line on stdout, keeps the
latest in ``<journal>.sync.json`` for ``tmt sync status``, logs on stderr (which the supervisor
hands to the engine's own log: a file under the workstation, never the screen), and
stops when its stdin closes (the engine stopped, or died: a SIGKILLed engine takes its sync
down with it) or on SIGTERM, after the transaction in flight.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import IO

from tmt_tui.config.schema import SyncSettings
from tmt_tui.domain.secret import names_a_secret
from tmt_tui.sync.loop import SyncLoop, SyncStatus
from tmt_tui.sync.settings import SyncConfigError, Target, target_from_env

log = logging.getLogger(__name__)

#: How often an unchanged status is still reported (the lag in seconds grows on its own).
REPORT_EVERY_S = 1.0
#: The child told to stop (stdin closed, SIGTERM) and still running this long after (hung in
#: a database or journal call) ends at once: no orphan outlives its engine.
EXIT_WITHIN_S = 15.0
#: With no status line from the child this long, the supervisor says the sync is down.
STALE_AFTER_S = 10.0

#: The environment the child is given: what it runs on and the database's settings, never the
#: engine's other secrets (OANDA_TOKEN, TMT_API_TOKEN ...).
_ENV_NAMES = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "VIRTUAL_ENV",
              "SSL_CERT_FILE", "SSL_CERT_DIR", "TMT_PG_DSN"}  # fmt: skip


def child_env(env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The part of ``env`` the sync child needs (its DSN and libpq's PG* included)."""

    def needed(name: str) -> bool:
        if name in _ENV_NAMES or name.startswith(("LC_", "XDG_", "PG", "PYTHON")):
            return True
        return name.startswith("TMT_") and not names_a_secret(name)

    return {name: value for name, value in env.items() if needed(name)}


def status_path(journal: Path) -> Path:
    """Where the running sync keeps its latest status, beside the journal."""
    return journal.with_name(journal.name + ".sync.json")


# the child --------------------------------------------------------------------------------------


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tmt_tui.sync")
    parser.add_argument("--journal", required=True)
    parser.add_argument("--settings", default="{}", help="the [sync] table as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    _die_with_parent()
    background()
    settings = SyncSettings(**json.loads(args.settings))
    journal = Path(args.journal)
    target: Target | SyncConfigError
    try:
        target = target_from_env()
    except SyncConfigError as exc:
        target = exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        _stop_soon(stop)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the engine's to handle
    threading.Thread(target=_until_eof, args=(stop,), daemon=True, name="stdin").start()
    reporter = _Reporter(status_path(journal))
    SyncLoop(settings, target, journal, reporter).run(stop)
    return 0


def background(pid: int = 0) -> None:
    """Make ``pid`` (0: this process) the box's background work: nice 10, so on a busy box the
    engine's threads come first. Not SCHED_IDLE: measured worse (bench/pg_sync.py), as a sync
    starved in the middle of a journal read holds its snapshot, and the engine's WAL
    checkpoints wait on it."""
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, 10)


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when the engine that started it dies (PR_SET_PDEATHSIG),
    beside stdin's end-of-file, which a child hung in a call would not read."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError) as exc:
        log.debug("no parent-death signal: %s", exc)


def _stop_soon(stop: threading.Event) -> None:
    """Stop after the transaction in flight; if that never ends (a hung call), exit anyway."""
    if stop.is_set():
        return
    stop.set()
    timer = threading.Timer(EXIT_WITHIN_S, os._exit, (3,))
    timer.daemon = True
    timer.start()


def _until_eof(stop: threading.Event) -> None:
    """The engine holds our stdin open for as long as it lives."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    _stop_soon(stop)


class _Reporter:
    """A status line on stdout and in the status file when it changed, or once a second."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.last = ""
        self.last_at = 0.0

    def __call__(self, status: SyncStatus) -> None:
        line = status.to_json()
        same = dataclasses.replace(status, updated=0.0, lag_s=round(status.lag_s))
        key = same.to_json()
        now = time.monotonic()
        if key == self.last and now - self.last_at < REPORT_EVERY_S:
            return
        self.last, self.last_at = key, now
        with contextlib.suppress(BrokenPipeError, ValueError):
            print(line, flush=True)
        part = self.file.with_name(self.file.name + ".part")
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(line)
            os.replace(part, self.file)
        except OSError as exc:
            log.debug("cannot write %s: %s", self.file, exc)


# the supervisor (in the engine's process) ------------------------------------------------------


def _relay_log(stream: IO[bytes]) -> None:
    """The sync process's log lines (``LEVEL message``), logged here as the engine logs."""
    child = logging.getLogger("tmt_tui.sync.process.child")
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        level, _, message = line.partition(" ")
        number = logging.getLevelName(level)
        if isinstance(number, int) and message:
            child.log(number, "%s", message)
        elif line:
            child.warning("%s", line)  # not a log line: a crash's traceback


OnStatus = Callable[[SyncStatus], None]


class SyncSupervisor:
    """Runs the sync child beside an engine: restarts it if it dies, hands on each status."""

    def __init__(
        self,
        settings: SyncSettings,
        journal: Path,
        on_status: OnStatus,
        env: dict[str, str] | None = None,
        stale_after_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.on_status = on_status
        self.env = env
        #: No status line for this long: the sync is down (a child hung in a call says
        #: nothing; an idle one says something each poll, at least once a second).
        self.stale_after_s = (
            max(STALE_AFTER_S, 5 * settings.poll_interval_s)
            if stale_after_s is None
            else stale_after_s
        )
        self.latest = SyncStatus()
        self._heard = time.monotonic()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, daemon=True, name="tmt-sync")
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the child's stdin (it ends after the transaction in flight), then wait."""
        self._stopping.set()
        proc = self._proc
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def _spawn(self) -> subprocess.Popen[bytes]:
        plain = json.dumps(dataclasses.asdict(self.settings))
        return subprocess.Popen(
            [sys.executable, "-m", "tmt_tui.sync", "--journal", str(self.journal),
             "--settings", plain],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(os.environ if self.env is None else self.env),
            start_new_session=True,  # a Ctrl-C at the terminal is the engine's, not ours
        )  # fmt: skip

    def _supervise(self) -> None:
        backoff = self.settings.backoff_s
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                proc = self._proc = self._spawn()
            except OSError as exc:
                self._down(f"cannot start the sync process: {exc}")
            else:
                assert proc.stdout is not None and proc.stderr is not None
                threading.Thread(
                    target=_relay_log, args=(proc.stderr,), daemon=True, name="tmt-sync-log"
                ).start()
                self._heard = time.monotonic()
                threading.Thread(
                    target=self._watch, args=(proc,), daemon=True, name="tmt-sync-watch"
                ).start()
                for raw in proc.stdout:
                    try:
                        status = SyncStatus.from_json(raw.decode("utf-8", "replace"))
                    except (ValueError, TypeError):
                        continue
                    self._heard = time.monotonic()
                    self.latest = status
                    self.on_status(status)
                code = proc.wait()
                if self._stopping.is_set():
                    return
                self._down(f"the sync process exited ({code}); restarting it")
            # a child that lived a while had its own trouble: start again soon; one that dies
            # as it starts (each time after a status line or two) waits longer each time
            if time.monotonic() - began > self.settings.max_backoff_s:
                backoff = self.settings.backoff_s
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, self.settings.max_backoff_s)

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        """Down once the child has said nothing for ``stale_after_s`` (hung in a call: a
        database that stopped answering, a journal read that never returns)."""
        said = False
        every = min(1.0, self.stale_after_s / 4)
        while proc.poll() is None and not self._stopping.wait(every):
            silent = time.monotonic() - self._heard
            if silent < self.stale_after_s:
                said = False
            elif not said and self.latest.state != "down":
                said = True
                self._down(
                    f"no word from the sync process (pid {proc.pid}) for {silent:.0f} s: "
                    "hung on the database or the journal"
                )

    def _down(self, why: str) -> None:
        log.warning("sync down: %s", why)
        self.latest = dataclasses.replace(
            self.latest, state="down", last_error=why, errors_total=self.latest.errors_total + 1
        )
        self.on_status(self.latest)
