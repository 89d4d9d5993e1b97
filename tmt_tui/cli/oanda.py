"""`tmt oanda accounts`: check the token and list the accounts it reaches, with the settings that
decide whether tmt can trade each (currency, hedging, margin rate).

It reads OANDA directly (no engine needed), with the environment and hosts of ``--config``'s
``[oanda]`` table (the practice environment when the config has none).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from tmt_tui.config import ConfigError, load_settings
from tmt_tui.venues.base import VenueRefused
from tmt_tui.venues.oanda.client import OandaClient, TokenRejected
from tmt_tui.venues.oanda.errors import OandaError
from tmt_tui.venues.oanda.session import token_from_env

OK, UNREACHABLE = 0, 2


def _refuse(args: argparse.Namespace, code: str, message: str) -> int:
    """Exit 2 with the reason: one line on stderr, or with --json one JSON object on stdout
    (``{"ok": false, "code": ..., "message": ...}``, the shape of the engine CLI's refusals)."""
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "code": code, "message": message}), flush=True)
    else:
        print(f"tmt: {message}", file=sys.stderr)
    return UNREACHABLE


def run_oanda(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return _refuse(args, "CONFIG_ERROR", str(exc))
    try:
        token = token_from_env()
    except VenueRefused as exc:
        return _refuse(args, "NO_TOKEN", str(exc))
    oanda = settings.oanda
    rest, stream = oanda.urls()
    try:
        rows = asyncio.run(_accounts(OandaClient(
            account_id=oanda.resolved_account_id() or "-", token=token, rest_url=rest,
            stream_url=stream, timeout=oanda.request_timeout_s, max_retries=1,
        )))  # fmt: skip
    except TokenRejected as exc:
        return _refuse(args, "AUTH_FAILED", str(exc))
    except (OandaError, OSError) as exc:
        return _refuse(args, "UNREACHABLE", f"OANDA unreachable at {rest}: {exc}")
    if args.json:
        print(json.dumps({"environment": oanda.environment, "url": rest, "accounts": rows}))
        return OK
    print(f"token ok: {len(rows)} account(s) at {rest} ({oanda.environment})")
    header = ("ACCOUNT", "ALIAS", "CCY", "BALANCE", "MARGIN RATE", "HEDGING", "TRADES", "TMT")
    table = [header] + [
        (
            r["id"],
            r["alias"] or "-",
            r["currency"],
            r["balance"],
            r["marginRate"],
            "yes" if r["hedgingEnabled"] else "no",
            str(r["openTradeCount"]),
            "ok" if r["tradeable"] else "no: hedging",
        )  # fmt: skip
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    chosen = oanda.resolved_account_id()
    if chosen and chosen not in {r["id"] for r in rows}:
        print(f"note: the configured account {chosen} is not among them", file=sys.stderr)
    return OK


async def _accounts(client: OandaClient) -> list[dict[str, Any]]:
    async with client:
        rows = []
        for listed in await client.account_list():
            summary = await client.summary_of(str(listed["id"]))
            hedging = bool(summary.get("hedgingEnabled", False))
            rows.append(
                {
                    "id": str(listed["id"]),
                    "alias": str(summary.get("alias", "")),
                    "currency": str(summary.get("currency", "")),
                    "balance": str(summary.get("balance", "")),
                    "marginRate": str(summary.get("marginRate", "")),
                    "hedgingEnabled": hedging,
                    "openTradeCount": int(summary.get("openTradeCount", 0)),
                    "tradeable": not hedging,
                }
            )
        return rows
