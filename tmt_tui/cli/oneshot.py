"""One-shot commands against a running engine: look (status, positions, orders, quote, events)
and act (buy, sell, modify, cancel, close, flatten, kill, reduce, reset-kill, stop).

Exit codes scripts can trust: 0 ok, 1 a check failed, 2 engine unreachable, 3 rejected by the
engine (the reason on one line; with --json, the reply), 64 a usage error, 77 the engine
refused the API token.

With --json every refusal, wherever it happens (the CLI's own checks, the engine's reply, the
connection, the config), prints one JSON object on stdout: ``{"ok": false, "code": CODE,
"message": WHY, ...}``, the same shape as the engine's replies; argparse's usage errors too
(parser.py).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from tmt_tui.cli.answers import (
    INTERRUPTED,
    OK,
    UNREACHABLE,
    Exit,
    authentication_failed,
    leave,
    refused,
)
from tmt_tui.cli.environment import check_keymap, socket_path_for, token_source
from tmt_tui.config import ConfigError, load_settings


def config_check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.path)
        check_keymap(settings)
    except ConfigError as exc:
        print(f"tmt: {exc}", file=sys.stderr)
        return UNREACHABLE
    print(f"{settings.source}: ok ({len(settings.accounts)} accounts)")
    return OK


def prepare_oneshot(args: argparse.Namespace) -> Callable[[], int]:
    """Import what one-shot `args.command` runs (the engine client and the command's own
    module, while `tmt_tui.cli.main` holds the collector off); the call returned runs it."""
    import tmt_tui.api.remote  # noqa: F401  (run_oneshot's client, loaded now)

    command = handler(args.command)
    return lambda: run_oneshot(args, command)


def run_oneshot(args: argparse.Namespace, command: Handler | None = None) -> int:
    """Run one-shot `args.command` (`command`, its handler, when already imported)."""
    as_json = bool(getattr(args, "json", False))
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return leave(as_json, refused("CONFIG_ERROR", str(exc), UNREACHABLE))
    from tmt_tui.api.protocol import ApiError, AuthError
    from tmt_tui.api.remote import RemoteEngineClient

    socket = socket_path_for(settings, args.socket)
    try:
        client = RemoteEngineClient(socket, client_name="tmt cli")
    except ValueError as exc:  # a socket path too long for a Unix socket
        return leave(as_json, refused("UNREACHABLE", f"engine unreachable: {exc}", UNREACHABLE))
    try:
        asyncio.run(_run(args, client, command or handler(args.command)))
    except Exit as exc:
        return leave(as_json, exc)
    except BrokenPipeError:  # the reader went away (| head): say nothing more, to no one
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except AuthError as exc:  # before OSError: an AuthError is a PermissionError too
        return leave(as_json, authentication_failed(exc.code, exc.message, socket, token_source()))
    except (ApiError, ConnectionError, OSError) as exc:
        message = f"engine unreachable at {socket}: {exc}"
        return leave(as_json, refused("UNREACHABLE", message, UNREACHABLE))
    except KeyboardInterrupt:  # what was sent stays sent: say so, never exit 0 in silence
        message = "interrupted: anything already sent stands at the engine (tmt orders)"
        return leave(as_json, refused("INTERRUPTED", message, INTERRUPTED))
    except Exception as exc:  # a bug: still one JSON object for a script, then the traceback
        if as_json:
            message = f"{type(exc).__name__}: {exc}"
            print(json.dumps({"ok": False, "code": "INTERNAL_ERROR", "message": message}))
        raise
    return OK


async def _run(args: argparse.Namespace, client: Any, command: Handler) -> None:
    try:
        await client.connect()
        await command(args, client)
    finally:
        await client.close()


#: A one-shot command: the parsed command line and a connected client in, output and exit out.
Handler = Callable[[argparse.Namespace, Any], Awaitable[None]]

#: Each command's handler, as (module, function): imported when that command runs, so a
#: `tmt status` loads only what status needs (a one-shot process's time is mostly imports).
COMMANDS: dict[str, tuple[str, str]] = {
    "status": ("tmt_tui.cli.views", "status"),
    "positions": ("tmt_tui.cli.views", "positions"),
    "orders": ("tmt_tui.cli.views", "orders"),
    "quote": ("tmt_tui.cli.views", "quote"),
    "events": ("tmt_tui.cli.event_trail", "events"),
    "trades": ("tmt_tui.cli.views", "trades"),
    "buy": ("tmt_tui.cli.trading", "buy"),
    "sell": ("tmt_tui.cli.trading", "sell"),
    "modify": ("tmt_tui.cli.trading", "modify"),
    "cancel": ("tmt_tui.cli.trading", "cancel"),
    "close": ("tmt_tui.cli.trading", "close"),
    "flatten": ("tmt_tui.cli.trading", "flatten"),
    "kill": ("tmt_tui.cli.trading", "kill"),
    "reduce": ("tmt_tui.cli.trading", "reduce"),
    "reset-kill": ("tmt_tui.cli.trading", "reset_kill"),
    "stop": ("tmt_tui.cli.trading", "stop"),
    "replay": ("tmt_tui.cli.replay", "replay_control"),
    "alert": ("tmt_tui.cli.price_alerts", "alert"),
    "watch": ("tmt_tui.cli.watch", "watch"),
}


def handler(command: str) -> Handler:
    """The coroutine function that carries out one-shot `command` (its module imported)."""
    module, function = COMMANDS[command]
    found: Handler = getattr(importlib.import_module(module), function)
    return found
