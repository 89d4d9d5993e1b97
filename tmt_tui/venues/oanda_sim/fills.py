"""A fill against a v20 trade book: the trades it closes or reduces (FIFO, a named trade first
for that fill: ``domain.netting``), the trade it opens, and the P&L it realizes in the home
currency at OANDA's conversion factors. Pure arithmetic on the ledger's trade records."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tmt_tui.domain.netting import reduce_order
from tmt_tui.venues.oanda_sim.wire import Json

CENT = Decimal("0.0001")
#: OANDA converts P&L into the home currency at the mid, marked down 0.5% for a gain and up
#: 0.5% for a loss (its "home currency conversion" FAQ).
CONVERSION_FEE = Decimal("0.005")
_FACTOR = Decimal("1E-10")


def conversion_factors(mid: Decimal, fee: Decimal) -> tuple[Decimal, Decimal]:
    """(gain, loss) factors from the home-per-quote-currency ``mid``: less ``fee`` for a gain,
    plus it for a loss."""
    one = Decimal(1)
    return (mid * (one - fee)).quantize(_FACTOR), (mid * (one + fee)).quantize(_FACTOR)


@dataclass
class Booked:
    """What one fill did to the book, in v20 JSON (``tradesClosed`` / ``tradeReduced`` /
    ``tradeOpened``), and its realized P&L in the home currency."""

    closed: list[Json] = field(default_factory=list)
    reduced: Json | None = None
    opened: Json | None = None
    pl: Decimal = Decimal(0)


def book_fill(
    trades: dict[str, Json],
    fill: Json,
    units: int,
    price: Decimal,
    named: str | None,
    gain: Decimal,
    loss: Decimal,
    trade_extensions: Json | None = None,
) -> Booked:
    """Net ``units`` at ``price`` (the ORDER_FILL ``fill``) against the open ``trades``
    (mutated: reduced, closed, or opened under the fill's id); ``named`` is the trade a trade
    close or a TP/SL names."""
    instrument = fill["instrument"]
    lots = [t for t in trades.values() if t["instrument"] == instrument]
    lots = [lots[i] for i in reduce_order([t["id"] for t in lots], named)]
    booked = Booked()
    remaining = units
    for trade in lots:
        current = int(trade["currentUnits"])
        if not remaining or (current > 0) == (remaining > 0):
            break
        take = min(abs(remaining), abs(current))
        step = take if current < 0 else -take
        quote_pl = (price - Decimal(trade["price"])) * (-step)
        realized = (quote_pl * (gain if quote_pl > 0 else loss)).quantize(CENT)
        booked.pl += realized
        trade["realizedPL"] = str(Decimal(trade["realizedPL"]) + realized)
        remaining -= step
        change = {
            "tradeID": trade["id"],
            "units": str(step),
            "price": str(price),
            "realizedPL": str(realized),
            "financing": "0.0000",
        }
        if current + step == 0:
            booked.closed.append(change)
            del trades[trade["id"]]  # the sim broker cancels its TP/SL itself
        else:
            trade["currentUnits"] = str(current + step)
            booked.reduced = change
    if remaining:
        tid = fill["id"]
        booked.opened = {"tradeID": tid, "units": str(remaining), "price": str(price),
                         "guaranteedExecutionFee": "0.0000",
                         "halfSpreadCost": "0.0000"}  # fmt: skip
        trades[tid] = {
            "id": tid,
            "instrument": instrument,
            "price": str(price),
            "openTime": fill["time"],
            "state": "OPEN",
            "initialUnits": str(remaining),
            "currentUnits": str(remaining),
            "realizedPL": "0.0000",
            "unrealizedPL": "0.0000",
            "marginUsed": "0.0000",
            "financing": "0.0000",
        }
        if trade_extensions:
            booked.opened["clientExtensions"] = trade_extensions
            trades[tid]["clientExtensions"] = trade_extensions
    return booked
