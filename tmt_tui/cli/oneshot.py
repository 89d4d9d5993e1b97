"""One-shot commands against a running engine: look (status, positions, orders, quote, events)
and act (buy, sell, modify, cancel, close, flatten, kill, reduce, reset-kill, stop).

Exit codes scripts can trust: 0 ok, 1 a check failed, 2 engine unreachable or authentication
failed, 3 rejected by the engine (the reason on one line; with --json, the reply).

With --json every refusal, wherever it happens (the CLI's own checks, the engine's reply, the
connection, the config), prints one JSON object on stdout: ``{"ok": false, "code": CODE,
"message": WHY, ...}``, the same shape as the engine's replies; argparse's usage errors too
(parser.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tmt_tui.cli.environment import socket_path_for
from tmt_tui.config import ConfigError, load_settings
from tmt_tui.domain.client import Reply, Snapshot, StreamItem, Update
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import (
    CancelAll,
    CancelOrder,
    ClosePosition,
    EngageKillSwitch,
    ModifyOrder,
    Origin,
    ResetKillSwitch,
    SetReducing,
    StopEngine,
    SubmitOrder,
)
from tmt_tui.domain.entry import EntryError, parse_price, parse_units
from tmt_tui.domain.events import Event
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.positions import TradingState

OK, CHECK_FAILED, UNREACHABLE, REJECTED = 0, 1, 2, 3
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


def config_check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.path)
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
    except AuthError as exc:  # before OSError: an AuthError is a PermissionError too
        message = f"authentication failed at {socket}: {exc}"
        return leave(as_json, refused(exc.code, message, UNREACHABLE))
    except (ApiError, ConnectionError, OSError) as exc:
        message = f"engine unreachable at {socket}: {exc}"
        return leave(as_json, refused("UNREACHABLE", message, UNREACHABLE))
    except KeyboardInterrupt:
        return OK
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


# looking ------------------------------------------------------------------------------------


async def _snapshot(client: Any) -> Snapshot:
    stream: AsyncIterator[StreamItem] = client.subscribe()
    try:
        item = await stream.__anext__()
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert isinstance(item, Snapshot)
    return item


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    print(json.dumps(payload) if args.json else text, flush=True)


async def status(args: argparse.Namespace, client: Any) -> None:
    snap = await _snapshot(client)
    now = time.time()
    newest = max((q.ts for q in snap.quotes), default=0.0)
    age = now - newest if newest else float("inf")
    halted = [a.id for a in snap.accounts if a.trading_state is TradingState.HALTED]
    stale = age > STALE_AFTER_S
    why = ", ".join(
        ([f"HALTED: {', '.join(halted)}"] if halted else [])
        + ([f"stale feed ({age:.1f}s)"] if stale else [])
    )
    failed = bool(args.check and why)
    payload: dict[str, Any] = {
        "ok": not failed,
        "seq": snap.seq,
        "trading_day": snap.trading_day,
        "kill_switch_engaged": snap.kill_switch_engaged,
        "kill_switch_reason": snap.kill_switch_reason,
        "quote_age_s": None if newest == 0 else round(age, 3),
        "accounts": [to_wire(a) for a in snap.accounts],
        "totals": None if snap.totals is None else to_wire(snap.totals),
        "halted": halted,
        "stale": stale,
    }
    lines = [
        f"engine seq {snap.seq}  trading day {snap.trading_day}  "
        f"newest quote {'-' if newest == 0 else f'{age:.1f}s'} ago" + ("  STALE" if stale else "")
    ]
    if snap.kill_switch_engaged:
        lines.append(f"KILL SWITCH ENGAGED: {snap.kill_switch_reason}")
    for a in snap.accounts:
        reason = f" ({a.state_reason})" if a.state_reason else ""
        lines.append(
            f"{a.id:<10} {a.trading_state.value:<8}{reason}  equity {a.equity:,.2f} {a.currency}  "
            f"balance {a.balance:,.2f}  margin {a.margin_used:,.2f}  day P&L {a.daily_pl:+,.2f}  "
            f"working {a.working_orders}"
        )
    if snap.totals is not None:
        t = snap.totals
        lines.append(
            f"total      equity {t.equity:,.2f} {t.currency}  day P&L {t.daily_pl:+,.2f}"
            + (f"  (without {', '.join(t.excluded)}: no rate yet)" if t.excluded else "")
        )
    if failed and args.json:  # one object: the status, with why the check failed
        del payload["ok"]
        raise refused("CHECK_FAILED", f"check failed: {why}", CHECK_FAILED, **payload)
    _emit(args, payload, "\n".join(lines))
    if failed:
        raise Exit(CHECK_FAILED, f"tmt: check failed: {why}")


async def positions(args: argparse.Namespace, client: Any) -> None:
    snap = await _snapshot(client)
    rows = [p for p in snap.positions if p.units]
    w = max([len("ACCOUNT")] + [len(p.account) for p in rows])
    lines = [
        f"{'ACCOUNT':<{w}} {'INSTRUMENT':<10} {'UNITS':>12} {'AVG':>12} {'UPL':>12} {'REAL':>12}"
        "  TRADES"
    ]
    lines += [
        f"{p.account:<{w}} {p.instrument:<10} {p.units:>+12,} {p.avg_price:>12} "
        f"{p.unrealized_pl:>12,.2f} {p.realized_pl:>12,.2f}  "
        + " ".join(f"{t.id}:{t.units:+,}" for t in p.trades)
        for p in rows
    ]
    _emit(args, [to_wire(p) for p in rows], "\n".join(lines) if rows else "no open positions")


def _order_line(o: Order, w: int) -> str:
    if o.type is OrderType.TRAILING_STOP_LOSS and o.trailing_stop_distance is not None:
        price = f"~{o.trailing_stop_distance}"  # a trailing stop: its distance
    else:
        price = "" if o.price is None else str(o.price)
    return (
        f"{o.id:<14} {o.account:<{w}} {o.instrument:<8} {o.side:<4} {abs(o.units):>10,} "
        f"{o.type.value:<11} {price:>10} {o.status.value:<16} {o.reason}"
    ).rstrip()


async def orders(args: argparse.Namespace, client: Any) -> None:
    snap = await _snapshot(client)
    w = max([10] + [len(o.account) for o in snap.orders])
    lines = [_order_line(o, w) for o in snap.orders]
    _emit(args, [to_wire(o) for o in snap.orders], "\n".join(lines) if lines else "no orders")


async def quote(args: argparse.Namespace, client: Any) -> None:
    name = args.instrument.upper()
    stream: AsyncIterator[StreamItem] = client.subscribe()
    try:
        async for item in stream:
            quotes = item.quotes
            if isinstance(item, Snapshot) and name not in {i.name for i in item.instruments}:
                raise refused("UNKNOWN_INSTRUMENT", f"unknown instrument {name}")
            for q in quotes:
                if q.instrument == name:
                    _emit(args, to_wire(q), f"{q.instrument} bid {q.bid} ask {q.ask} ts {q.ts:.3f}")
                    if not args.watch:
                        return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    raise ConnectionError("the engine stream ended")


def _event_line(e: Event) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(e.ts))
    detail = " ".join(f"{k}={v}" for k, v in e.data.items() if k not in ("order", "config"))
    if "order" in e.data:
        o = e.data["order"]
        detail = f"{o['id']} {o['account']} {o['type']} {o['instrument']} {o['units']:+} {detail}"
    return f"{e.seq:>8} {stamp} {e.origin:<6} {e.kind.value:<22} {detail}".rstrip()


async def events(args: argparse.Namespace, client: Any) -> None:
    stream: AsyncIterator[StreamItem] = client.subscribe()
    try:
        async for item in stream:
            for e in item.events:
                _emit(args, to_wire(e), _event_line(e))
            if not args.follow:
                return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


# acting -------------------------------------------------------------------------------------


def _rejection(reply: Reply) -> str:
    return f"tmt: rejected: {reply.code}: {reply.message}"


def _reply_text(reply: Reply) -> str:
    return reply.message + (f" ({reply.order_id})" if reply.order_id else "")


def _answer(args: argparse.Namespace, reply: Reply) -> None:
    """Print a reply; a refusal leaves with code 3 and the reason on one line."""
    if not reply.ok:
        raise Exit(REJECTED, _rejection(reply), to_wire(reply))
    _emit(args, to_wire(reply), _reply_text(reply))


def _entry(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except EntryError as exc:
        raise refused("INVALID_INPUT", str(exc)) from None


async def _default_account(client: Any, account: str | None) -> str:
    if account:
        return account
    snap = await _snapshot(client)
    if not snap.accounts:
        raise refused("NO_ACCOUNT", "the engine has no accounts")
    return snap.accounts[0].id


async def _place(args: argparse.Namespace, client: Any, side: int) -> None:
    size = _entry(lambda: parse_units(args.units))
    limit = _entry(lambda: parse_price(args.limit or "", "--limit", required=False))
    stop = _entry(lambda: parse_price(args.stop or "", "--stop", required=False))
    tp = _entry(lambda: parse_price(args.tp or "", "--tp", required=False))
    sl = _entry(lambda: parse_price(args.sl or "", "--sl", required=False))
    tsl = _entry(lambda: parse_price(args.tsl or "", "--tsl", required=False))
    kind = OrderType.LIMIT if limit else OrderType.STOP if stop else OrderType.MARKET
    account = await _default_account(client, args.account)
    command = SubmitOrder(
        account, args.instrument.upper(), side * size, kind, limit or stop,
        take_profit=tp, stop_loss=sl, trailing_stop_distance=tsl, origin=Origin.CLI,
    )  # fmt: skip
    if args.wait != "fill":
        _answer(args, await client.execute(command))
        return
    stream: AsyncIterator[StreamItem] = client.subscribe()
    order_id = ""
    try:
        await stream.__anext__()  # subscribed before the order goes, so no fill is missed
        reply = await client.execute(command)
        if not reply.ok or "filled" in reply.message:
            _answer(args, reply)
            return
        order_id = reply.order_id or ""
        order = await asyncio.wait_for(_until_done(stream, order_id), WAIT_FILL_S)
    except TimeoutError:
        message = f"not filled within {WAIT_FILL_S:.0f}s: still working"
        raise refused("NOT_FILLED", message, order_id=order_id or None) from None
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    if order.status.value != "FILLED":
        status = order.status.value
        message = f"{order.id} {status}" + (f": {order.reason}" if order.reason else "")
        raise refused(status, message, order_id=order.id, **to_wire(order))
    text = (
        f"filled {order.filled_units:+,} {order.instrument} @ {order.avg_fill_price} ({order.id})"
    )
    _emit(args, to_wire(order), text)


async def _until_done(stream: AsyncIterator[StreamItem], order_id: str) -> Order:
    async for item in stream:
        orders = item.orders if isinstance(item, (Update, Snapshot)) else ()
        for order in orders:
            if order.id == order_id and order.status.is_terminal:
                return order
    raise ConnectionError("the engine stream ended")


async def buy(args: argparse.Namespace, client: Any) -> None:
    await _place(args, client, +1)


async def sell(args: argparse.Namespace, client: Any) -> None:
    await _place(args, client, -1)


async def modify(args: argparse.Namespace, client: Any) -> None:
    price = _entry(lambda: parse_price(args.price or "", "--price", required=False))
    units = _entry(lambda: parse_units(args.units)) if args.units else None
    if price is None and units is None:
        raise refused("INVALID_INPUT", "give --price and/or --units")
    _answer(args, await client.execute(ModifyOrder(args.order_id, price, units, Origin.CLI)))


async def cancel(args: argparse.Namespace, client: Any) -> None:
    if args.all:
        _answer(args, await client.execute(CancelAll(args.account, Origin.CLI)))
    elif args.order_id:
        _answer(args, await client.execute(CancelOrder(args.order_id, Origin.CLI)))
    else:
        raise refused("INVALID_INPUT", "give an order ID or --all")


async def close(args: argparse.Namespace, client: Any) -> None:
    units = _entry(lambda: parse_units(args.units)) if args.units else None
    name = args.instrument.upper()
    accounts = [args.account] if args.account else None
    if accounts is None:
        snap = await _snapshot(client)
        accounts = [
            p.account
            for p in snap.positions
            if p.instrument == name
            and p.units
            and (args.trade is None or any(t.id == args.trade for t in p.trades))
        ]
        if not accounts:
            what = f"trade {args.trade} in" if args.trade else "open"
            message = f"no {what} {name} position"
            raise refused("NO_POSITION", message, text=f"tmt: rejected: NO_POSITION: {message}")
    commands = [ClosePosition(a, name, units, Origin.CLI, args.trade) for a in accounts]
    if len(commands) == 1:
        _answer(args, await client.execute(commands[0]))
    else:
        await _close_each(args, client, commands)


async def _close_each(args: argparse.Namespace, client: Any, commands: list[Any]) -> None:
    """Close each in turn, trying every one even after a refusal; one JSON object for all
    (``replies``: each reply), and exit 3 when any was refused."""
    replies: list[Reply] = []
    for command in commands:
        reply = await client.execute(command)
        replies.append(reply)
        if not args.json:
            if reply.ok:
                print(_reply_text(reply), flush=True)
            else:
                print(_rejection(reply), file=sys.stderr, flush=True)
    refusals = [r for r in replies if not r.ok]
    done = len(replies) - len(refusals)
    payload = {
        "ok": not refusals,
        "code": refusals[0].code if refusals else "OK",
        "message": f"closed {done} of {len(replies)} positions" if replies else "already flat",
        "replies": [to_wire(r) for r in replies],
    }
    if refusals:
        raise Exit(REJECTED, "", payload)  # the text went out line by line above
    if args.json:
        print(json.dumps(payload), flush=True)
    elif not replies:
        print("already flat", flush=True)


async def flatten(args: argparse.Namespace, client: Any) -> None:
    if not args.yes:
        raise refused("CONFIRM_REQUIRED", "flatten closes every position: add --yes")
    snap = await _snapshot(client)
    held = [p for p in snap.positions if p.units]
    await _close_each(
        args, client, [ClosePosition(p.account, p.instrument, None, Origin.CLI) for p in held]
    )


async def kill(args: argparse.Namespace, client: Any) -> None:
    reply = await client.execute(EngageKillSwitch("tmt kill (CLI)", Origin.CLI))
    if not reply.ok:
        _answer(args, reply)
    snap = await _snapshot(client)  # the reply came after the halt was durable: confirm it
    states = {a.id: a.trading_state.value for a in snap.accounts}
    if any(state != TradingState.HALTED.value for state in states.values()):
        message = f"not every account is HALTED: {states}"
        raise refused("NOT_HALTED", message, CHECK_FAILED, accounts=states)
    _emit(
        args,
        {**to_wire(reply), "accounts": states},
        f"{reply.message}; {len(states)} accounts HALTED",
    )


async def reduce(args: argparse.Namespace, client: Any) -> None:
    _answer(args, await client.execute(SetReducing(not args.off, args.account, Origin.CLI)))


async def reset_kill(args: argparse.Namespace, client: Any) -> None:
    if not args.yes:
        raise refused("CONFIRM_REQUIRED", "reset-kill re-arms trading: add --yes")
    _answer(args, await client.execute(ResetKillSwitch(Origin.CLI)))


async def stop(args: argparse.Namespace, client: Any) -> None:
    _answer(args, await client.execute(StopEngine(Origin.CLI)))


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], Awaitable[None]]] = {
    "status": status,
    "positions": positions,
    "orders": orders,
    "quote": quote,
    "events": events,
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
}
