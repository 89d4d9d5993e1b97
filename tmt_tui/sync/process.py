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
from tmt_tui.sync.loop import SyncLoop, SyncStatus
from tmt_tui.sync.settings import SyncConfigError, Target, target_from_env

log = logging.getLogger(__name__)

#: How often an unchanged status is still reported (the lag in seconds grows on its own).
REPORT_EVERY_S = 1.0


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
        stop.set()

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


def _until_eof(stop: threading.Event) -> None:
    """The engine holds our stdin open for as long as it lives."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    stop.set()


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
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.on_status = on_status
        self.env = env
        self.latest = SyncStatus()
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
            env=self.env,
            start_new_session=True,  # a Ctrl-C at the terminal is the engine's, not ours
        )  # fmt: skip

    def _supervise(self) -> None:
        backoff = self.settings.backoff_s
        while not self._stopping.is_set():
            try:
                proc = self._proc = self._spawn()
            except OSError as exc:
                self._down(f"cannot start the sync process: {exc}")
            else:
                assert proc.stdout is not None and proc.stderr is not None
                threading.Thread(
                    target=_relay_log, args=(proc.stderr,), daemon=True, name="tmt-sync-log"
                ).start()
                for raw in proc.stdout:
                    try:
                        status = SyncStatus.from_json(raw.decode("utf-8", "replace"))
                    except (ValueError, TypeError):
                        continue
                    self.latest = status
                    self.on_status(status)
                    backoff = self.settings.backoff_s
                code = proc.wait()
                if self._stopping.is_set():
                    return
                self._down(f"the sync process exited ({code}); restarting it")
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, self.settings.max_backoff_s)

    def _down(self, why: str) -> None:
        log.warning("sync down: %s", why)
        self.latest = dataclasses.replace(
            self.latest, state="down", last_error=why, errors_total=self.latest.errors_total + 1
        )
        self.on_status(self.latest)
