"""How a one-shot command ends: exit codes scripts can trust, and one line of text or (with
--json) one JSON object, whatever the outcome."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from tmt_tui.domain.client import Snapshot, StreamItem

OK, CHECK_FAILED, UNREACHABLE, REJECTED = 0, 1, 2, 3
INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)
USAGE = 64  # a command line that cannot be read (sysexits' EX_USAGE): apart from "unreachable"
STALE_AFTER_S = 10.0  # status --check: no quote newer than this means the feed is stale
WAIT_FILL_S = 30.0


EXIT_NAMES = {CHECK_FAILED: "CHECK_FAILED", UNREACHABLE: "UNREACHABLE", REJECTED: "REJECTED"}


class Exit(Exception):
    """Leave with this code after printing ``message`` (stderr) or ``payload`` (--json)."""

    def __init__(self, code: int, message: str = "", payload: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.payload = payload


def refused(
    code: str, message: str, exit_code: int = REJECTED, text: str = "", **extra: Any
) -> Exit:
    """A refusal: ``text`` (default ``tmt: message``) on stderr, or with --json the object
    ``{"ok": false, "code": code, "message": message, **extra}``, like a rejected reply."""
    payload = {"ok": False, "code": code, "message": message, **extra}
    return Exit(exit_code, text or f"tmt: {message}", payload)


def leave(as_json: bool, exc: Exit) -> int:
    """Print how a command ends (one JSON object with --json) and give its exit code."""
    payload = exc.payload
    if as_json and payload is None and exc.code != OK:  # never leave a script with nothing
        name = EXIT_NAMES.get(exc.code, "FAILED")
        payload = {"ok": False, "code": name, "message": exc.message.removeprefix("tmt: ")}
    if as_json and payload is not None:
        print(json.dumps(payload), flush=True)
    elif exc.message:
        print(exc.message, file=sys.stderr if exc.code else sys.stdout, flush=True)
    return exc.code


async def snapshot(client: Any) -> Snapshot:
    stream: AsyncIterator[StreamItem] = client.subscribe()
    try:
        item = await stream.__anext__()
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert isinstance(item, Snapshot)
    return item


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    print(json.dumps(payload) if args.json else text, flush=True)
