"""`tmt replay`: recorded ticks through the same engine, risk, paper broker and screen.

``tmt replay ticks.csv`` or ``tmt replay --journal FILE`` starts an engine on the replay venue
(every account on the paper broker) with a journal of its own, serving the control API on a
socket of its own (``replay.sock`` beside the engine's), and opens the workstation on it
(``--headless``: no screen). ``tmt replay pause | resume | speed N | status`` steer the replay
from another shell; an engine that trades live refuses them.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tmt_tui.cli.answers import REJECTED, USAGE, Exit, emit, refused
from tmt_tui.config import ConfigError, Settings
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import ControlReplay, Origin
from tmt_tui.domain.replay import ReplayProgress, parse_speed

if TYPE_CHECKING:
    from tmt_tui.venues.replay.source import Recording

#: What `tmt replay ACTION` does to a running replay (anything else is a CSV to replay).
ACTIONS = ("pause", "resume", "speed", "status")
#: The replay engine's control socket, beside the engine's own (unless --socket says).
REPLAY_SOCKET = "replay.sock"


def add_parser(sub: Any) -> None:
    replay = sub.add_parser(
        "replay",
        help="replay recorded ticks through the engine (paper broker, a journal of its own)",
        description="Replay ticks from a tmt journal (--journal FILE, read-only: it may be the "
        "journal a running engine writes) or a CSV (ts,instrument,bid,ask: ts in epoch seconds "
        "or ISO-8601, UTC unless it says; a header line naming the columns is optional) "
        "through the same engine, risk checks, paper broker and workstation. The engine runs on "
        "the ticks' clock, so any speed gives the same fills. Every account trades on the paper "
        "broker; the replay writes its own journal (--out), never the source. Bad rows are "
        "skipped, counted and named by line and column. Keys on the screen: space pauses and "
        "resumes, + and - change the speed. From another shell: `tmt replay pause`, `tmt "
        "replay resume`, `tmt replay speed 100`, `tmt replay status`.",
    )
    replay.add_argument(
        "target",
        nargs="?",
        metavar="CSV|ACTION",
        help="a CSV of ticks to replay; or pause, resume, speed N, status (to a running replay)",
    )
    replay.add_argument("value", nargs="?", metavar="N", help="with speed: 1, 10, 100 or max")
    replay.add_argument(
        "--journal", metavar="FILE", help="replay this tmt journal's ticks (opened read-only)"
    )
    replay.add_argument("--since", metavar="WHEN", help="ISO date/time or epoch seconds")
    replay.add_argument(
        "--until", metavar="WHEN", help="ISO date/time or epoch seconds (a date: to its end)"
    )
    replay.add_argument(
        "--speed", default="1", metavar="N", help="1, 10, 100 or max (default 1: real time)"
    )
    replay.add_argument(
        "--out",
        metavar="FILE",
        help="the replay's journal (default: replay-<UTC time>.db beside the config's journal)",
    )
    replay.add_argument(
        "--paused", action="store_true", help="pause once every instrument has a price"
    )
    replay.add_argument(
        "--headless",
        action="store_true",
        help="no screen: the engine and its control API (`tmt attach SOCKET` shows it)",
    )
    replay.add_argument(
        "--exit-at-end",
        action="store_true",
        help="with --headless: stop when every tick is played, printing where it ended",
    )
    replay.add_argument("--json", action="store_true", help="with an action: print JSON")


def replay_socket(settings: Settings, override: str | None) -> Path:
    """``--socket``, else ``replay.sock`` beside the engine's socket: a replay and a live
    engine run side by side, each answering on its own."""
    from tmt_tui.cli.environment import socket_path_for

    if override:
        return Path(override).expanduser()
    return socket_path_for(settings).with_name(REPLAY_SOCKET)


def run_replay(args: argparse.Namespace) -> int:
    if args.target in ACTIONS:
        return _control(args)
    try:
        return _play(args)
    except Exit as exc:
        print(exc.message, file=sys.stderr)
        return exc.code


# steering a running replay ---------------------------------------------------------------------


def _control(args: argparse.Namespace) -> int:
    """`tmt replay pause|resume|speed N|status`: a one-shot command to the replay's socket."""
    from tmt_tui.cli.oneshot import run_oneshot
    from tmt_tui.config import load_settings

    if not getattr(args, "socket", None):
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"tmt: {exc}", file=sys.stderr)
            return 2
        args.socket = str(replay_socket(settings, None))
    return run_oneshot(args)


async def replay_control(args: argparse.Namespace, client: Any) -> None:
    """One ``ControlReplay`` and its answer: where the replay stands after it."""
    action, speed = args.target, None
    if action == "speed":
        if args.value is None:
            raise refused("USAGE", "say how fast: tmt replay speed 10 (1, 10, 100, max)", USAGE)
        try:
            speed = parse_speed(args.value)
        except ValueError as exc:
            raise refused("USAGE", str(exc), USAGE) from None
    elif args.value is not None:
        raise refused("USAGE", f"`tmt replay {action}` takes no value", USAGE)
    reply = await client.execute(ControlReplay(action, speed, Origin.CLI))
    if not reply.ok:
        raise Exit(REJECTED, f"tmt: rejected: {reply.code}: {reply.message}", to_wire(reply))
    progress = reply.payload
    text = describe(progress) if isinstance(progress, ReplayProgress) else reply.message
    emit(args, to_wire(reply), text)


def describe(progress: ReplayProgress) -> str:
    """``paused at 2026-11-20 14:03:07 UTC, 43.2% (86,400 of 200,000 ticks), speed 10x``."""
    at = datetime.fromtimestamp(progress.position_ts, UTC).strftime("%Y-%m-%d %H:%M:%S")
    skipped = f", {progress.skipped:,} bad rows skipped" if progress.skipped else ""
    return (
        f"{progress.state} at {at} UTC, {progress.fraction:.1%} ({progress.done:,} of "
        f"{progress.total:,} ticks{skipped}), speed {progress.speed_label}"
    )


# playing -----------------------------------------------------------------------------------------


def _play(args: argparse.Namespace) -> int:
    from tmt_tui.cli.environment import settings_or_say_why, setup_logging

    if args.value is not None:
        raise refused("USAGE", f"unexpected {args.value!r} after the CSV", USAGE)
    try:
        speed = parse_speed(args.speed)
    except ValueError as exc:
        raise refused("USAGE", f"--speed: {exc}", USAGE) from None
    setup_logging(args.verbose, also_stderr=args.headless)
    settings = settings_or_say_why(args.config, screen=not args.headless)
    if settings is None:
        return 2
    recording = _recording(args)
    try:
        socket = replay_socket(settings, args.socket)
        out = _out_path(settings, args, recording)
        return _run(args, replay_settings(settings, out, recording), socket, recording, speed)
    finally:
        recording.close()


def _recording(args: argparse.Namespace) -> Recording:
    from tmt_tui.cli.equity_sources import SourceError as TimeError
    from tmt_tui.cli.equity_sources import parse_time
    from tmt_tui.venues.replay.source import JournalTicks, SourceError, read_csv

    if bool(args.journal) == bool(args.target):
        raise refused("USAGE", "give a CSV or --journal FILE to replay (one of them)", USAGE)
    try:
        since = parse_time(args.since, "--since") if args.since else None
        until = _until(args.until, parse_time) if args.until else None
    except TimeError as exc:
        raise refused("USAGE", str(exc), USAGE) from None
    if since is not None and until is not None and until <= since:
        raise refused("USAGE", "--until is not after --since", USAGE)
    try:
        if args.journal:
            return JournalTicks(Path(args.journal).expanduser(), since, until)
        return read_csv(Path(args.target).expanduser(), since, until)
    except SourceError as exc:
        raise refused("BAD_SOURCE", f"cannot replay: {exc}", 2) from None


def _until(text: str, parse_time: Any) -> float:
    """An instant, or a date meaning through the end of that day (UTC)."""
    moment = float(parse_time(text, "--until"))
    return moment + 86_400.0 if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()) else moment


def _out_path(settings: Settings, args: argparse.Namespace, recording: Recording) -> Path:
    """The replay's journal: --out, or a new ``replay-<UTC time>.db`` beside the config's
    journal; never the source, never the live journal, never a file that exists."""
    live = settings.journal_path()
    if args.out:
        out = Path(args.out).expanduser()
    else:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        out = live.with_name(f"replay-{stamp}.db")
        for n in range(2, 100):
            if not out.exists():
                break
            out = live.with_name(f"replay-{stamp}-{n}.db")
    resolved = out.resolve()
    if resolved in (Path(recording.name).resolve(), live.resolve()):
        raise refused("USAGE", f"--out {out}: a replay never writes its source or the live "
                      "journal; give a new file", USAGE)  # fmt: skip
    if out.exists():
        raise refused("USAGE", f"--out {out} exists: a replay writes a journal of its own", USAGE)
    return out


def replay_settings(settings: Settings, out: Path, recording: Recording) -> Settings:
    """The config as a replay uses it: its journal at ``out``, every account on the paper
    broker, the recording's instruments (the watchlist's default, and what the alert rules
    expect to quote), no history sync and no /metrics port (a live engine may hold it)."""
    return dataclasses.replace(
        settings,
        sim=dataclasses.replace(
            settings.sim, instruments=tuple(i.name for i in recording.instruments)
        ),
        engine=dataclasses.replace(
            settings.engine, journal_path=str(out), market_data=("sim",), broker="sim"
        ),
        accounts=tuple(dataclasses.replace(a, broker="") for a in settings.accounts),
        sync=dataclasses.replace(settings.sync, enabled=False),
        monitoring=dataclasses.replace(settings.monitoring, metrics_enabled=False),
    )


def _run(
    args: argparse.Namespace,
    settings: Settings,
    socket: Path,
    recording: Recording,
    speed: float,
) -> int:
    from tmt_tui.cli.host import EngineHost, install_signals, restore_signals
    from tmt_tui.engine.runner import EngineRunner
    from tmt_tui.monitoring.observer import EngineObserver
    from tmt_tui.store.journal import JournalError
    from tmt_tui.venues.base import VenueRefused
    from tmt_tui.venues.factory import build_replay_venue

    venue = build_replay_venue(recording, speed, start_paused=args.paused)

    def make_runner(settings: Settings, observer: EngineObserver) -> EngineRunner:
        return EngineRunner(settings, venue, venue.clock, observer)

    if recording.bad.count:
        print(f"tmt replay: {recording.name}: {recording.bad.summary()}", file=sys.stderr)
    host = EngineHost(settings, str(socket), make_runner=make_runner, monotonic=venue.clock)
    try:
        client = host.start()
    except (JournalError, VenueRefused, ConfigError, OSError, RuntimeError) as exc:
        print(f"tmt: cannot start the replay: {exc}", file=sys.stderr)
        return 2
    print(
        f"tmt replay: {recording.total:,} ticks from {recording.name} into "
        f"{settings.journal_path()}; control API on {socket}",
        file=sys.stderr,
    )
    if not args.headless:
        from tmt_tui.cli.workstation import screen_on

        return screen_on(settings, host, client)
    stopping = threading.Event()
    previous = install_signals(stopping.set, lambda: host.kill_from_signal("SIGUSR1"))
    try:
        runner = host.runner
        assert runner is not None
        while not stopping.wait(0.1):
            if runner.join(0):  # stopped by `tmt stop`
                break
            if args.exit_at_end and venue.feed.progress().finished:
                break
    finally:
        host.stop()
        restore_signals(previous)
    progress = venue.feed.progress()
    print(f"tmt replay: {describe(progress)}; journal {settings.journal_path()}", file=sys.stderr)
    return 0
