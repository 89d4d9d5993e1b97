"""The one-shot commands that look: status, positions, orders, quote, events."""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from tmt_tui.cli.answers import (
    CHECK_FAILED,
    STALE_AFTER_S,
    Exit,
    emit,
    refused,
    snapshot,
)
from tmt_tui.cli.presentation import iso, precisions, price_at
from tmt_tui.domain.client import Snapshot, StreamItem
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import Origin, QueryTrades
from tmt_tui.domain.entry import near_miss
from tmt_tui.domain.history import ClosedTrade, TradeHistory
from tmt_tui.domain.market import MarketRead
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.positions import TradingState


async def status(args: argparse.Namespace, client: Any) -> None:
    snap = await snapshot(client)
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
        "alerts": dict(snap.alerts),
    }
    lines = [
        f"engine seq {snap.seq}  trading day {snap.trading_day}  "
        f"newest quote {'-' if newest == 0 else f'{age:.1f}s'} ago" + ("  STALE" if stale else "")
    ]
    if snap.kill_switch_engaged:
        lines.append(f"KILL SWITCH ENGAGED: {snap.kill_switch_reason}")
    lines += [f"ALERT {key}: {message}" for key, message in sorted(snap.alerts.items())]
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
    emit(args, payload, "\n".join(lines))
    if failed:
        raise Exit(CHECK_FAILED, f"tmt: check failed: {why}")


async def positions(args: argparse.Namespace, client: Any) -> None:
    snap = await snapshot(client)
    rows = [p for p in snap.positions if p.units]
    digits = precisions(snap.instruments)
    w = max([len("ACCOUNT")] + [len(p.account) for p in rows])
    lines = [
        f"{'ACCOUNT':<{w}} {'INSTRUMENT':<10} {'UNITS':>12} {'AVG':>12} {'UPL':>12} {'REAL':>12}"
        "  TRADES"
    ]
    lines += [
        f"{p.account:<{w}} {p.instrument:<10} {p.units:>+12,} "
        f"{price_at(p.avg_price, p.instrument, digits):>12} "
        f"{p.unrealized_pl:>12,.2f} {p.realized_pl:>12,.2f}  "
        + " ".join(f"{t.id}:{t.units:+,}" for t in p.trades)
        for p in rows
    ]
    emit(args, [to_wire(p) for p in rows], "\n".join(lines) if rows else "no open positions")


def _order_line(o: Order, widths: tuple[int, int], digits: dict[str, int]) -> str:
    """One order: placed (UTC), id, account, instrument, side, units, type, price (at the
    instrument's decimals), status."""
    if o.type is OrderType.TRAILING_STOP_LOSS and o.trailing_stop_distance is not None:
        price = f"~{price_at(o.trailing_stop_distance, o.instrument, digits)}"  # its distance
    else:
        price = price_at(o.price, o.instrument, digits)
    placed = iso(o.created_ts) if o.created_ts > 0 else "-"
    idw, w = widths
    return (
        f"{placed:<24} {o.id:<{idw}} {o.account:<{w}} {o.instrument:<8} {o.side:<4} "
        f"{abs(o.units):>10,} {o.type.value:<11} {price:>10} {o.status.value:<16} {o.reason}"
    ).rstrip()


async def orders(args: argparse.Namespace, client: Any) -> None:
    """Working orders (what a trader acts on), or with ``--all`` the engine's order history
    (working and the recent finished ones), newest first."""
    snap = await snapshot(client)
    if args.all:
        shown = sorted(reversed(snap.orders), key=lambda o: o.created_ts, reverse=True)
        empty = "no orders"
    else:
        shown = [o for o in snap.orders if not o.status.is_terminal]
        empty = "no working orders (tmt orders --all: the recent history)"
    widths = (max([6] + [len(o.id) for o in shown]), max([10] + [len(o.account) for o in shown]))
    digits = precisions(snap.instruments)
    lines = [_order_line(o, widths, digits) for o in shown]
    emit(args, [to_wire(o) for o in shown], "\n".join(lines) if lines else empty)


async def quote(args: argparse.Namespace, client: Any) -> None:
    name = args.instrument.upper()
    stream: AsyncIterator[StreamItem] = client.subscribe()
    digits: dict[str, int] = {}
    market: MarketRead | None = None  # the engine's regime, signal and indicators for it
    try:
        async for item in stream:
            market = next((r for r in item.market if r.instrument == name), market)
            quotes = item.quotes
            if isinstance(item, Snapshot):
                digits = precisions(item.instruments)
            if isinstance(item, Snapshot) and name not in digits:
                raise refused(
                    "UNKNOWN_INSTRUMENT", f"unknown instrument {name}{near_miss(name, digits)}"
                )
            for q in quotes:
                if q.instrument == name:
                    wire = {"instrument": q.instrument, "bid": str(q.bid), "ask": str(q.ask),
                            "ts": q.ts}  # fmt: skip  # an object, as every --json answer is
                    bid, ask = (price_at(p, name, digits) for p in (q.bid, q.ask))
                    read = ""
                    if market is not None:
                        wire["market"] = to_wire(market)
                        read = _market_text(market)
                    emit(args, wire, f"{q.instrument} bid {bid} ask {ask}{read} at {iso(q.ts)}")
                    if not args.watch:
                        return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    raise ConnectionError("the engine stream ended")


def _market_text(m: MarketRead) -> str:
    """`` [regime ranging, signal -]``: the read in a few words (--json has every figure); it
    goes before the quote's time, which stays last on the line."""
    return f" [regime {m.regime.value or 'warming up'}, signal {m.signal.value or '-'}]"


# acting -------------------------------------------------------------------------------------


async def trades(args: argparse.Namespace, client: Any) -> None:
    """Closed trades, newest first: the blotter."""
    since = _when(args.since) if args.since else None
    reply = await client.execute(
        QueryTrades(args.account, args.instrument, since, args.limit, Origin.CLI)
    )
    if not reply.ok or not isinstance(reply.payload, TradeHistory):
        raise refused(reply.code, reply.message or "no trade history in the reply")
    rows = reply.payload.trades
    if args.csv:
        out = csv.writer(sys.stdout)
        out.writerow(_TRADE_COLUMNS)
        for t in rows:
            out.writerow(_trade_cells(t))
        return
    digits = {} if args.json else precisions((await snapshot(client)).instruments)
    w = max([len("ACCOUNT")] + [len(t.account) for t in rows])
    lines = [
        f"{'CLOSED':<24} {'ACCOUNT':<{w}} {'INSTRUMENT':<10} {'UNITS':>10} {'OPEN':>10} "
        f"{'CLOSE':>10} {'REALIZED':>11} {'HELD':>8} {'MAE':>9} {'MFE':>9}  WHY"
    ]
    lines += [
        f"{iso(t.close_ts):<24} {t.account:<{w}} {t.instrument:<10} {t.units:>+10,} "
        f"{price_at(t.open_price, t.instrument, digits):>10} "
        f"{price_at(t.close_price, t.instrument, digits):>10} {t.realized_pl:>11,.2f} "
        f"{_held(t.holding_s):>8} {t.mae:>9} {t.mfe:>9}  {t.reason}"
        for t in rows
    ]
    emit(args, [to_wire(t) for t in rows], "\n".join(lines) if rows else "no closed trades")


_TRADE_COLUMNS = (
    "close_time", "account", "instrument", "trade_id", "units", "open_time", "open_price",
    "close_price", "realized_pl", "holding_s", "mae", "mfe", "reason",
)  # fmt: skip


def _trade_cells(t: ClosedTrade) -> list[Any]:
    return [
        iso(t.close_ts), t.account, t.instrument, t.trade_id, t.units, iso(t.open_ts),
        t.open_price, t.close_price, t.realized_pl, round(t.holding_s, 3), t.mae, t.mfe,
        t.reason,
    ]  # fmt: skip


def _held(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _when(text: str) -> float:
    from tmt_tui.cli.equity_sources import SourceError, parse_time  # numpy: only when asked

    try:
        return parse_time(text, "--since")
    except SourceError as exc:
        raise refused("INVALID_INPUT", str(exc)) from None
