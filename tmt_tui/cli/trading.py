"""The one-shot commands that act: buy, sell, modify, cancel, close, flatten, kill, reduce,
reset-kill, stop."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from tmt_tui.cli.answers import (
    CHECK_FAILED,
    REJECTED,
    WAIT_FILL_S,
    Exit,
    emit,
    refused,
    snapshot,
)
from tmt_tui.cli.presentation import precisions, price_at
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
from tmt_tui.domain.history import FLATTEN
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.positions import TradingState


def _rejection(reply: Reply) -> str:
    return f"tmt: rejected: {reply.code}: {reply.message}"


def _reply_text(reply: Reply) -> str:
    return reply.message + (f" ({reply.order_id})" if reply.order_id else "")


def _answer(args: argparse.Namespace, reply: Reply) -> None:
    """Print a reply; a refusal leaves with code 3 and the reason on one line."""
    if not reply.ok:
        raise Exit(REJECTED, _rejection(reply), to_wire(reply))
    emit(args, to_wire(reply), _reply_text(reply))


def _entry(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except EntryError as exc:
        raise refused("INVALID_INPUT", str(exc)) from None


async def _default_account(client: Any, account: str | None) -> str:
    if account:
        return account
    snap = await snapshot(client)
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
        first = await stream.__anext__()  # subscribed before the order goes: no fill missed
        digits = precisions(first.instruments) if isinstance(first, Snapshot) else {}
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
    price = price_at(order.avg_fill_price, order.instrument, digits)
    text = f"filled {order.filled_units:+,} {order.instrument} @ {price} ({order.id})"
    emit(args, {"ok": True, "code": "OK", "message": text, **to_wire(order)}, text)


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
        snap = await snapshot(client)
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
    snap = await snapshot(client)
    held = [p for p in snap.positions if p.units]
    await _close_each(
        args,
        client,
        [ClosePosition(p.account, p.instrument, None, Origin.CLI, why=FLATTEN) for p in held],
    )


async def kill(args: argparse.Namespace, client: Any) -> None:
    reply = await client.execute(EngageKillSwitch("tmt kill (CLI)", Origin.CLI))
    if not reply.ok:
        _answer(args, reply)
    snap = await snapshot(client)  # the reply came after the halt was durable: confirm it
    states = {a.id: a.trading_state.value for a in snap.accounts}
    if any(state != TradingState.HALTED.value for state in states.values()):
        message = f"not every account is HALTED: {states}"
        raise refused("NOT_HALTED", message, CHECK_FAILED, accounts=states)
    emit(
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
