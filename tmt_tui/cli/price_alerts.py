"""`tmt alert`: a trader's price alerts on a running engine.

    tmt alert EUR_USD above 1.0950 [--note TEXT]   # fires once, when the bid reaches 1.0950
    tmt alert eurusd below 1.0800                  # fires once, when the ask reaches 1.0800
    tmt alert list [INSTRUMENT] [--all]            # active ones (--all: hit and cancelled too)
    tmt alert cancel ID

The words come as one list (an instrument is not a subcommand), read here: a command line of
the wrong shape is a usage error (exit 64), a level that is no number is refused like any bad
price (exit 3), and the engine judges the rest (an unknown instrument with the nearest name, a
level off the instrument's ticks, too far from the market or already passed).
"""

from __future__ import annotations

import argparse
import difflib
from typing import Any

from tmt_tui.cli.answers import REJECTED, USAGE, Exit, emit, refused
from tmt_tui.cli.presentation import iso
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import CancelPriceAlert, Origin, QueryPriceAlerts, SetPriceAlert
from tmt_tui.domain.entry import EntryError, instrument_name, parse_price
from tmt_tui.domain.price_alerts import AlertSide, AlertStatus, PriceAlert, PriceAlertList

FORMS = (
    "tmt alert INSTRUMENT above|below LEVEL [--note TEXT]",
    "tmt alert list [INSTRUMENT] [--all]",
    "tmt alert cancel ID",
)
_SIDES = [side.value for side in AlertSide]


def add_parser(sub: Any) -> None:
    """The `alert` subcommand: its words are read by ``alert`` below."""
    alert = sub.add_parser(
        "alert",
        help="price alerts: set (INSTRUMENT above|below LEVEL), list, cancel",
        description="A price alert fires once, journaled and shown on every screen: `above` when "
        "the bid reaches the level (bid >= LEVEL), `below` when the ask does (ask <= LEVEL): a "
        "price you could have dealt at, never a spread that only widened. The engine refuses a "
        "level off the instrument's ticks, more than 50% from the mid, or already passed, and "
        "more than 100 active alerts per instrument.",
        usage="\n       ".join(f"{form} [--json]" for form in FORMS),
    )
    alert.add_argument("words", nargs="+", metavar="WORD", help="see usage")
    alert.add_argument("--note", metavar="TEXT", default="", help="your words, shown when it fires")
    alert.add_argument(
        "--all", action="store_true", help="list: the hit and cancelled alerts too, newest first"
    )
    alert.add_argument("--json", action="store_true", help="print JSON instead of text")


def _usage(message: str) -> Exit:
    return refused("USAGE", f"alert: {message} (usage: {'; '.join(FORMS)})", USAGE)


async def alert(args: argparse.Namespace, client: Any) -> None:
    words: list[str] = args.words
    verb = words[0].lower()
    if verb == "list":
        if len(words) > 2:
            raise _usage(f"unexpected {' '.join(words[2:])!r}")
        await _list(args, client, instrument_name(words[1]) if len(words) == 2 else None)
    elif verb == "cancel":
        if len(words) != 2:
            raise _usage("cancel takes one alert ID")
        await _cancel(args, client, words[1].strip().upper())
    else:
        await _set(args, client, words)


async def _set(args: argparse.Namespace, client: Any, words: list[str]) -> None:
    if len(words) != 3:
        raise _usage("give INSTRUMENT above|below LEVEL")
    name, side, level_text = instrument_name(words[0]), words[1].lower(), words[2]
    if side not in _SIDES:
        close = difflib.get_close_matches(side, _SIDES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise _usage(f"the side must be above or below, not {words[1]!r}{hint}")
    try:
        level = parse_price(level_text, "level", required=True)
    except EntryError as exc:
        raise refused("INVALID_INPUT", str(exc)) from None
    assert level is not None
    reply = await client.execute(SetPriceAlert(name, AlertSide(side), level, args.note, Origin.CLI))
    _answer(args, reply)


async def _cancel(args: argparse.Namespace, client: Any, alert_id: str) -> None:
    _answer(args, await client.execute(CancelPriceAlert(alert_id, Origin.CLI)))


def _answer(args: argparse.Namespace, reply: Any) -> None:
    """The engine's answer: its message, or with --json the reply with the alert as it now is."""
    if not reply.ok:
        payload = {"ok": False, "code": reply.code, "message": reply.message}
        raise Exit(REJECTED, f"tmt: rejected: {reply.code}: {reply.message}", payload)
    payload = {"ok": True, "code": reply.code, "message": reply.message, "seq": reply.seq}
    if isinstance(reply.payload, PriceAlert):
        payload["alert"] = to_wire(reply.payload)
    emit(args, payload, reply.message)


async def _list(args: argparse.Namespace, client: Any, instrument: str | None) -> None:
    reply = await client.execute(QueryPriceAlerts(instrument, args.all, Origin.CLI))
    if not reply.ok or not isinstance(reply.payload, PriceAlertList):
        raise refused(reply.code, reply.message or "no price alerts in the reply")
    alerts = reply.payload.alerts
    if args.json:
        emit(args, {"ok": True, "alerts": [to_wire(a) for a in alerts]}, "")
        return
    if not alerts:
        what = "price alerts" if args.all else "active price alerts"
        what += f" on {instrument}" if instrument else ""
        emit(args, {}, f"no {what} (tmt alert EUR_USD above 1.0950 sets one)")
        return
    idw = max(len("ID"), *(len(a.id) for a in alerts))
    namew = max(len("INSTRUMENT"), *(len(a.instrument) for a in alerts))
    head = (
        f"{'ID':<{idw}} {'INSTRUMENT':<{namew}} {'SIDE':<5} {'LEVEL':>12} {'STATUS':<9} "
        f"{'SET (UTC)':<24} WHEN IT ENDED / NOTE"
    )
    emit(args, {}, "\n".join([head, *(_line(a, idw, namew) for a in alerts)]))


def _line(a: PriceAlert, idw: int, namew: int) -> str:
    """One alert: a hit says the price that hit it and when; a cancelled one when."""
    ended = ""
    if a.status is AlertStatus.HIT:
        ended = f"{a.touch_name} {a.hit_price} at {iso(a.done_ts)}"
    elif a.status is AlertStatus.CANCELLED:
        ended = f"cancelled at {iso(a.done_ts)}"
    tail = "  ".join(part for part in (ended, a.note) if part)
    return (
        f"{a.id:<{idw}} {a.instrument:<{namew}} {a.side.value:<5} {a.level!s:>12} "
        f"{a.status.value:<9} {iso(a.created_ts):<24} {tail}"
    ).rstrip()
