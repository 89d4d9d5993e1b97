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
from tmt_tui.cli.event_trail import events
from tmt_tui.cli.price_alerts import alert
from tmt_tui.cli.watch import watch
from tmt_tui.cli.replay import replay_control
from tmt_tui.cli.trading import (
    buy,
    cancel,
    close,
    flatten,
    kill,
    modify,
    reduce,
    reset_kill,
    sell,
    stop,
)
from tmt_tui.cli.views import orders, positions, quote, status, trades
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


def run_oneshot(args: argparse.Namespace) -> int:
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
        asyncio.run(_run(args, client))
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


async def _run(args: argparse.Namespace, client: Any) -> None:
    try:
        await client.connect()
        await COMMANDS[args.command](args, client)
    finally:
        await client.close()


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], Awaitable[None]]] = {
    "status": status,
    "positions": positions,
    "orders": orders,
    "quote": quote,
    "events": events,
    "trades": trades,
    "buy": buy,
    "sell": sell,
    "modify": modify,
    "cancel": cancel,
    "close": close,
    "flatten": flatten,
    "kill": kill,
    "reduce": reduce,
    "reset-kill": reset_kill,
    "stop": stop,
    "replay": replay_control,
    "alert": alert,
    "watch": watch,
}
