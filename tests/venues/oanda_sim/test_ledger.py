"""The simulator's book as OANDA keeps one: TP/SL triggers and linked cancels, trade and
position closes, what it refuses, outside orders, and P&L converted into the home currency.
Driven over loopback by our client (its answers are the adapter's tests) or on the server's loop.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from tests.support.oanda import TOKEN, make_order
from tmt_tui.domain.orders import OrderType
from tmt_tui.venues.oanda.client import (
    Filled,
    OandaClient,
    Rejected,
    Resting,
    Token,
    TradeOrdersSet,
)
from tmt_tui.venues.oanda.stream import Heartbeat
from tmt_tui.venues.oanda_sim.orders import create_order
from tmt_tui.venues.oanda_sim.server import V20Server, V20ServerThread


async def _open(client: OandaClient, units: int = 1000, **kw: str) -> Filled:
    outcome = await client.submit(make_order(units, **kw))  # type: ignore[arg-type]
    assert isinstance(outcome, Filled) and outcome.trade_id
    return outcome


async def test_closing_the_trade_cancels_its_take_profit_and_stop_loss(
    calm: OandaClient,
) -> None:
    await calm.submit(make_order(1000, tp="1.20000", sl="1.00000"))

    await calm.submit(make_order(-1000))

    transactions, _ = await calm.transactions_since("0")
    cancels = [t["reason"] for t in transactions if t["type"] == "ORDER_CANCEL"]
    assert cancels == ["LINKED_TRADE_CLOSED", "LINKED_TRADE_CLOSED"]
    assert await calm.open_trades() == []


async def test_trade_orders_for_an_unknown_trade_or_a_bad_price_are_rejected(
    calm: OandaClient,
) -> None:
    fill = await _open(calm)
    assert fill.trade_id is not None

    unknown = await calm.set_trade_orders("999", take_profit=Decimal("1.2"))
    bad = await calm.set_trade_orders(fill.trade_id, stop_loss=Decimal("1.000001"))

    assert isinstance(unknown, Rejected) and unknown.code == "TRADE_DOESNT_EXIST"
    assert isinstance(bad, Rejected) and bad.code == "PRICE_PRECISION_EXCEEDED"


async def test_a_take_profit_set_on_a_trade_fires_and_cancels_its_stop_loss(
    still: V20ServerThread, calm: OandaClient
) -> None:
    fill = await _open(calm)
    assert fill.trade_id is not None
    done = await calm.set_trade_orders(
        fill.trade_id, take_profit=Decimal("1.11"), stop_loss=Decimal("1.05")
    )
    assert isinstance(done, TradeOrdersSet)

    still.call(lambda s: s.set_price("EUR_USD", "1.11000", "1.11010"))

    assert await calm.open_trades() == []
    txns, _ = await calm.transactions_since(fill.fill_id)
    tp_fill = next(t for t in txns if t["type"] == "ORDER_FILL")
    assert tp_fill["orderID"] == done.created["tp"] and tp_fill["reason"] == "TAKE_PROFIT_ORDER"
    cancels = [(t["orderID"], t["reason"]) for t in txns if t["type"] == "ORDER_CANCEL"]
    assert cancels == [(done.created["sl"], "LINKED_TRADE_CLOSED")]


async def test_close_trade_partly_then_fully_cancels_linked_orders_at_the_end(
    calm: OandaClient,
) -> None:
    fill = await _open(calm, 3000, tp="1.20000", sl="1.00000")
    assert fill.trade_id is not None

    part = await calm.close_trade(fill.trade_id, 1000)

    assert isinstance(part, Filled) and part.units == -1000 and part.price == Decimal("1.1")
    assert part.account_balance is not None and part.account_balance < Decimal("100000")
    (trade,) = await calm.open_trades()
    assert trade["currentUnits"] == "2000" and "takeProfitOrder" in trade

    rest = await calm.close_trade(fill.trade_id)

    assert isinstance(rest, Filled) and rest.units == -2000
    assert await calm.open_trades() == []
    txns, _ = await calm.transactions_since(fill.fill_id)
    reasons = [t["reason"] for t in txns if t["type"] == "ORDER_CANCEL"]
    assert reasons == ["LINKED_TRADE_CLOSED", "LINKED_TRADE_CLOSED"]
    closes = [t for t in txns if t["type"] == "ORDER_FILL"]
    assert {t["reason"] for t in closes} == {"MARKET_ORDER_TRADE_CLOSE"}
    again = await calm.close_trade(fill.trade_id)
    assert isinstance(again, Rejected) and again.code == "TRADE_DOESNT_EXIST"


async def test_closing_more_units_than_the_trade_holds_is_rejected(calm: OandaClient) -> None:
    fill = await _open(calm)
    assert fill.trade_id is not None

    result = await calm.close_trade(fill.trade_id, 5000)

    assert isinstance(result, Rejected) and result.code == "CLOSE_TRADE_UNITS_EXCEED_TRADE_SIZE"


async def test_close_position_closes_every_trade_of_the_side(calm: OandaClient) -> None:
    await _open(calm, 1000)
    await _open(calm, 2000)

    wrong_side = await calm.close_position("EUR_USD", short_units="ALL")
    fills = await calm.close_position("EUR_USD", long_units="ALL")

    assert isinstance(wrong_side, Rejected)
    assert wrong_side.code == "CLOSEOUT_POSITION_DOESNT_EXIST"
    assert isinstance(fills, list) and [f.units for f in fills] == [-3000]
    assert await calm.open_trades() == []
    summary = await calm.summary()
    assert summary["openPositionCount"] == 0


async def test_pending_orders_list_only_working_ones(calm: OandaClient) -> None:
    resting = await calm.submit(make_order(1000, OrderType.LIMIT, "1.00000"))
    await _open(calm)

    pending = await calm.pending_orders()

    assert isinstance(resting, Resting)
    assert [o["id"] for o in pending] == [resting.venue_id]


async def test_a_hedging_account_says_so_in_its_summary() -> None:
    with V20ServerThread(token=TOKEN, hedging=True) as hedged:
        async with OandaClient(
            account_id=hedged.account_id, token=Token(TOKEN), rest_url=hedged.url
        ) as client:
            summary = await client.summary()

    assert summary["hedgingEnabled"] is True


async def test_an_order_placed_outside_tmt_reaches_the_transaction_stream(
    still: V20ServerThread, calm: OandaClient
) -> None:
    created: dict[str, object] = {}

    async def watch() -> list[dict[str, object]]:
        seen: list[dict[str, object]] = []
        async for message in calm.stream_transactions():
            if isinstance(message, Heartbeat):
                if not created:
                    created.update(still.call(lambda s: s.outside_market_order("EUR_USD", 500)))
                    still.call(lambda s: s.outside_limit_order("EUR_USD", -700, "1.30000"))
                continue
            seen.append(message)
            if message["type"] == "LIMIT_ORDER":
                return seen
        return seen

    seen = await asyncio.wait_for(watch(), 10)

    assert [t["type"] for t in seen] == ["MARKET_ORDER", "ORDER_FILL", "LIMIT_ORDER"]
    assert all("clientExtensions" not in t and "clientOrderID" not in t for t in seen)
    assert seen[1]["units"] == "500"


def test_set_price_triggers_resting_orders(still: V20ServerThread) -> None:
    def place(s: V20Server) -> str:
        return str(
            s.outside_limit_order("EUR_USD", 1000, "1.09000")["orderCreateTransaction"]["id"]
        )

    oid = still.call(place)
    still.call(lambda s: s.set_price("EUR_USD", "1.08990", "1.09000"))

    assert still.call(lambda s: s.ledger.orders[oid]["state"]) == "FILLED"


def usd_jpy_round_trip(still: V20ServerThread, close_bid: str) -> tuple[Any, Decimal]:
    """Buy 10,000 USD_JPY at the ask 150.010, sell it back at ``close_bid``: the sell's
    ORDER_FILL and the balance before it."""

    def market(units: str) -> Any:
        order = {"order": {"type": "MARKET", "instrument": "USD_JPY", "units": units}}
        _, body = still.call(lambda s: create_order(s.ledger, order))
        return body

    still.call(lambda s: s.set_price("USD_JPY", "150.000", "150.010"))
    market("10000")
    still.call(
        lambda s: s.set_price("USD_JPY", close_bid, str(Decimal(close_bid) + Decimal("0.010")))
    )
    before = still.call(lambda s: s.ledger.balance)
    return market("-10000")["orderFillTransaction"], before


def test_pl_in_another_currency_is_converted_home_at_the_mid_less_the_fee_for_a_gain(
    still: V20ServerThread,
) -> None:
    # a USD account buys 10,000 USD_JPY at 150.010 and sells at the bid 151.000: +9,900 JPY,
    # converted at mid(USD_JPY)=151.005 inverted, less OANDA's 0.5% for a gain
    fill, before = usd_jpy_round_trip(still, "151.000")

    gain = Decimal(fill["gainQuoteHomeConversionFactor"])
    assert gain == (1 / Decimal("151.005") * Decimal("0.995")).quantize(Decimal("1E-10"))
    (closed,) = fill["tradesClosed"]
    assert Decimal(closed["realizedPL"]) == (Decimal("9900") * gain).quantize(Decimal("0.0001"))
    assert Decimal(fill["pl"]) == Decimal(closed["realizedPL"])  # about 65.23 USD, not 9,900
    assert Decimal(fill["accountBalance"]) == before + Decimal(fill["pl"])


def test_a_loss_in_another_currency_is_converted_at_the_mid_plus_the_fee(
    still: V20ServerThread,
) -> None:
    fill, _ = usd_jpy_round_trip(still, "149.000")

    loss = (1 / Decimal("149.005") * Decimal("1.005")).quantize(Decimal("1E-10"))
    assert Decimal(fill["lossQuoteHomeConversionFactor"]) == loss
    # (149.000 - 150.010) x 10,000 = -10,100 JPY
    assert Decimal(fill["pl"]) == (Decimal("-10100") * loss).quantize(Decimal("0.0001"))
