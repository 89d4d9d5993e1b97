"""The account as v20's GET endpoints render it: summary, details, positions, open trades and
pending orders, read from a ``V20Ledger`` (never changing it)."""

from __future__ import annotations

from decimal import Decimal

from tmt_tui.venues.oanda_sim.fills import CENT
from tmt_tui.venues.oanda_sim.ledger import LINKED, V20Ledger
from tmt_tui.venues.oanda_sim.wire import Json, rfc3339


def pending_orders(ledger: V20Ledger) -> list[Json]:
    """Orders still working (v20 ``pendingOrders``), oldest first."""
    return [o for o in ledger.orders.values() if o["state"] == "PENDING"]


def open_trades(ledger: V20Ledger) -> list[Json]:
    """Open trades, newest first, each with its pending TP/SL/TSL orders inlined (v20 ``Trade``)."""
    out = []
    for trade in reversed(ledger.trades.values()):
        full = dict(trade)
        for key, _ in LINKED.values():
            oid = full.pop(key, None)
            if oid is not None and ledger.orders[oid]["state"] == "PENDING":
                full[key.removesuffix("ID")] = ledger.orders[oid]
        out.append(full)
    return out


def positions(ledger: V20Ledger) -> list[Json]:
    """Open positions (one per instrument with open trades), v20 ``Position``."""
    zero = "0.0000"
    positions: dict[str, Json] = {}
    for trade in ledger.trades.values():
        units = Decimal(trade["currentUnits"])
        pos = positions.get(trade["instrument"])
        if pos is None:
            pos = positions[trade["instrument"]] = {
                "instrument": trade["instrument"], "pl": zero, "unrealizedPL": zero,
                "resettablePL": zero, "financing": zero, "commission": zero,
                "long": {"units": "0", "pl": zero, "unrealizedPL": zero, "tradeIDs": []},
                "short": {"units": "0", "pl": zero, "unrealizedPL": zero, "tradeIDs": []},
            }  # fmt: skip
        side = pos["long" if units > 0 else "short"]
        held = Decimal(side["units"])
        price = Decimal(trade["price"])
        average = (Decimal(side.get("averagePrice", "0")) * held + price * units) / (held + units)
        side["units"] = str(held + units)
        side["averagePrice"] = str(ledger.instruments[trade["instrument"]].round_price(average))
        side["tradeIDs"].append(trade["id"])
    return list(positions.values())


def summary(ledger: V20Ledger) -> Json:
    """The v20 ``AccountSummary``: balance, realized P&L, margin in the home currency, counts."""
    margin = sum(
        (
            abs(Decimal(t["currentUnits"]))
            * Decimal(t["price"])
            * ledger.instruments[t["instrument"]].margin_rate
            * ledger.home_mid(ledger.instruments[t["instrument"]].quote)
            for t in ledger.trades.values()
        ),
        Decimal(0),
    ).quantize(CENT)
    positions = {t["instrument"] for t in ledger.trades.values()}
    balance = ledger.balance.quantize(CENT)
    return {
        "id": ledger.account_id,
        "alias": "tmt paper",
        "currency": ledger.currency,
        "balance": str(balance),
        "createdByUserID": 1,
        "createdTime": rfc3339(ledger.created),
        "pl": str(ledger.pl.quantize(CENT)),
        "resettablePL": str(ledger.pl.quantize(CENT)),
        "financing": "0.0000",
        "commission": "0.0000",
        "guaranteedExecutionFees": "0.0000",
        "marginRate": "0.0333",
        "openTradeCount": len(ledger.trades),
        "openPositionCount": len(positions),
        "pendingOrderCount": len(pending_orders(ledger)),
        "hedgingEnabled": ledger.hedging,
        "unrealizedPL": "0.0000",
        "NAV": str(balance),
        "marginUsed": str(margin),
        "marginAvailable": str(balance - margin),
        "positionValue": "0.0000",
        "withdrawalLimit": str(balance - margin),
        "lastTransactionID": ledger.last_id,
    }


def details(ledger: V20Ledger) -> Json:
    """The v20 ``Account``: the summary with its trades, pending orders and positions."""
    account = summary(ledger)
    account.update(
        trades=[dict(t) for t in ledger.trades.values()],
        orders=pending_orders(ledger),
        positions=positions(ledger),
    )
    return account
