"""How a one-shot command ends: exit codes scripts can trust, and one line of text or (with
--json) one JSON object, whatever the outcome."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from tmt_tui.cli.presentation import with_iso
from tmt_tui.domain.client import Snapshot, StreamItem

OK, CHECK_FAILED, UNREACHABLE, REJECTED = 0, 1, 2, 3
INTERRUPTED = 130  # Ctrl-C, as shells report it (128 + SIGINT)
USAGE = 64  # a command line that cannot be read (sysexits' EX_USAGE): apart from "unreachable"
#: The engine answered and refused our API token (sysexits' EX_NOPERM): a wrong or stale token
#: to fix, not an engine to restart, so a script can tell it from "unreachable".
AUTH_FAILED = 77
STALE_AFTER_S = 10.0  # status --check: no quote newer than this means the feed is stale
WAIT_FILL_S = 30.0


EXIT_NAMES = {
    CHECK_FAILED: "CHECK_FAILED",
    UNREACHABLE: "UNREACHABLE",
    REJECTED: "REJECTED",
    AUTH_FAILED: "AUTH_FAILED",
}


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


def authentication_failed(code: str, detail: str, where: object, token_source: str) -> Exit:
    """The engine at ``where`` refused the token from ``token_source`` (``AUTH_FAILED``, exit
    77); with no token at all (``NO_TOKEN``, ``detail`` says where to look) no engine has
    started here: exit 2."""
    if code == "NO_TOKEN":
        return refused(code, f"engine unreachable at {where}: {detail}", UNREACHABLE)
    message = (
        f"authentication failed: the engine at {where} refused the API token from {token_source}"
    )
    return refused(code, message, AUTH_FAILED)


def leave(as_json: bool, exc: Exit) -> int:
    """Print how a command ends (one JSON object with --json) and give its exit code."""
    payload = exc.payload
    if as_json and payload is None and exc.code != OK:  # never leave a script with nothing
        name = EXIT_NAMES.get(exc.code, "FAILED")
        payload = {"ok": False, "code": name, "message": exc.message.removeprefix("tmt: ")}
    if as_json and payload is not None:
        print(json.dumps(with_iso(payload)), flush=True)
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
    """``text``, or with --json ``payload`` (each epoch time beside its ISO form)."""
    print(json.dumps(with_iso(payload)) if args.json else text, flush=True)
