"""Trailing stops in the local v20 server's ledger: on fill, set on a trade, trailed, fired."""

from __future__ import annotations

from decimal import Decimal

from tests.support.oanda import make_order
from tmt_tui.domain.orders import Order
from tmt_tui.venues.oanda.client import Filled, OandaClient, TradeOrdersSet
from tmt_tui.venues.oanda_sim.server import V20ServerThread


def _trailing(order: Order, distance: str) -> Order:
    return order.with_changes({"trailing_stop_distance": Decimal(distance)})


def price(server: V20ServerThread, bid: str, ask: str) -> None:
    server.call(lambda s: s.set_price("EUR_USD", bid, ask))


async def test_a_long_trades_trailing_stop_follows_the_bid_up_and_fires_on_the_way_down(
    still: V20ServerThread, calm: OandaClient
) -> None:
    fill = await calm.submit(_trailing(make_order(1000), "0.00100"))
    assert isinstance(fill, Filled)
    (trade,) = await calm.open_trades()
    tsl = trade["trailingStopLossOrder"]
    assert tsl["distance"] == "0.00100" and tsl["trailingStopValue"] == "1.09900"

    price(still, "1.10500", "1.10510")  # up: the stop follows to 1.10400
    price(still, "1.10450", "1.10460")  # down a little: it stays
    (trade,) = await calm.open_trades()
    assert trade["trailingStopLossOrder"]["trailingStopValue"] == "1.10400"

    price(still, "1.10390", "1.10400")  # touched

    assert await calm.open_trades() == []
    txns, _ = await calm.transactions_since(fill.fill_id)
    (closing,) = [t for t in txns if t["type"] == "ORDER_FILL"]
    assert closing["orderID"] == tsl["id"] and closing["reason"] == "TRAILING_STOP_LOSS_ORDER"
    assert closing["units"] == "-1000" and closing["price"] == "1.10390"
    found = await calm.order(tsl["id"])
    assert found is not None and found["state"] == "FILLED"


async def test_a_short_trades_trailing_stop_follows_the_ask_down(
    still: V20ServerThread, calm: OandaClient
) -> None:
    fill = await calm.submit(make_order(-1000))
    assert isinstance(fill, Filled) and fill.trade_id is not None
    done = await calm.set_trade_orders(fill.trade_id, trailing_distance=Decimal("0.002"))
    assert isinstance(done, TradeOrdersSet) and set(done.created) == {"tsl"}

    price(still, "1.09000", "1.09010")
    price(still, "1.09150", "1.09160")  # not yet: the stop is at 1.09210
    assert len(await calm.open_trades()) == 1
    price(still, "1.09200", "1.09210")

    assert await calm.open_trades() == []


async def test_a_trailing_stop_is_cancelled_when_its_trade_closes_another_way(
    calm: OandaClient,
) -> None:
    fill = await calm.submit(_trailing(make_order(1000, tp="1.20000"), "0.00100"))
    assert isinstance(fill, Filled) and fill.trade_id is not None

    closed = await calm.close_trade(fill.trade_id)

    assert isinstance(closed, Filled)
    txns, _ = await calm.transactions_since(fill.fill_id)
    cancels = [t["reason"] for t in txns if t["type"] == "ORDER_CANCEL"]
    assert cancels == ["LINKED_TRADE_CLOSED", "LINKED_TRADE_CLOSED"]
    assert await calm.pending_orders() == []


async def test_replacing_a_trailing_stop_keeps_one(calm: OandaClient) -> None:
    fill = await calm.submit(_trailing(make_order(1000), "0.00100"))
    assert isinstance(fill, Filled) and fill.trade_id is not None
    (trade,) = await calm.open_trades()

    done = await calm.set_trade_orders(fill.trade_id, trailing_distance=Decimal("0.00200"))

    assert isinstance(done, TradeOrdersSet)
    assert done.replaced == {"tsl": trade["trailingStopLossOrder"]["id"]}
    (trade,) = await calm.open_trades()
    assert trade["trailingStopLossOrder"]["distance"] == "0.00200"
    assert [o["type"] for o in await calm.pending_orders()] == ["TRAILING_STOP_LOSS"]


async def test_a_bad_trailing_distance_is_rejected(calm: OandaClient) -> None:
    outcome = await calm.submit(_trailing(make_order(1000), "0.000001"))

    assert not isinstance(outcome, Filled)
    assert getattr(outcome, "code", "") == (
        "TRAILING_STOP_LOSS_ON_FILL_PRICE_DISTANCE_PRECISION_EXCEEDED"
    )
