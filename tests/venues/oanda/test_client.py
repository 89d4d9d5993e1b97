"""Our adapter against the local v20 server on loopback: orders and their outcomes."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from tests.support.oanda import TOKEN, make_order
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.venues.oanda.client import (
    CancelledOnCreate,
    Filled,
    OandaClient,
    OandaUnavailable,
    Rejected,
    Resting,
    Token,
    TokenRejected,
    order_body,
)
from tmt_tui.venues.oanda.stream import Heartbeat
from tmt_tui.venues.oanda_sim.server import V20Server, V20ServerThread


async def test_instruments_come_back_as_domain_instruments(client: OandaClient) -> None:
    instruments = {i.name: i for i in await client.instruments()}

    assert instruments["USD_JPY"].display_precision == 3
    assert instruments["EUR_USD"].pip == Decimal("0.0001")


async def test_market_order_fills_at_the_ask_and_opens_a_trade(
    client: OandaClient, server: V20ServerThread
) -> None:
    ask = server.call(lambda s: s.ledger.quotes["EUR_USD"].ask)

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, Filled)
    assert outcome.units == 1000
    assert outcome.price == ask
    assert outcome.trade_id == outcome.fill_id
    trades = await client.open_trades()
    assert [t["id"] for t in trades] == [outcome.trade_id]


async def test_limit_order_away_from_the_market_rests(client: OandaClient) -> None:
    outcome = await client.submit(make_order(1000, OrderType.LIMIT, "1.00000"))

    assert isinstance(outcome, Resting)
    found = await client.order(outcome.venue_id)
    assert found is not None and found["state"] == "PENDING" and found["price"] == "1.00000"


async def test_cancel_by_client_id_cancels_a_resting_order(client: OandaClient) -> None:
    order = make_order(-1000, OrderType.LIMIT, "1.20000")
    resting = await client.submit(order)

    result = await client.cancel(f"@{order.id}")

    assert isinstance(resting, Resting)
    assert isinstance(result, CancelledOnCreate)
    assert (result.venue_id, result.reason) == (resting.venue_id, "CLIENT_REQUEST")
    assert result.txn_ids == (result.txn_id,) and result.txn_id
    found = await client.order(resting.venue_id)
    assert found is not None and found["state"] == "CANCELLED"


async def test_cancel_of_an_unknown_order_is_rejected(client: OandaClient) -> None:
    result = await client.cancel("@never-sent")

    assert isinstance(result, Rejected) and result.code == "ORDER_DOESNT_EXIST"


async def test_take_profit_and_stop_loss_are_attached_to_the_trade_on_fill(
    client: OandaClient,
) -> None:
    outcome = await client.submit(make_order(1000, tp="1.20000", sl="1.00000"))

    assert isinstance(outcome, Filled)
    (trade,) = await client.open_trades()
    assert trade["takeProfitOrder"]["price"] == "1.20000"
    assert trade["stopLossOrder"]["price"] == "1.00000"
    assert trade["takeProfitOrder"]["tradeID"] == outcome.trade_id
    assert len(outcome.related_ids) == 4  # create, fill, take-profit, stop-loss


async def test_invalid_order_is_rejected_with_oandas_reject_reason(client: OandaClient) -> None:
    outcome = await client.submit(make_order(1000, OrderType.LIMIT, "1.000001"))

    assert isinstance(outcome, Rejected)
    assert (outcome.code, outcome.message) == (
        "PRICE_PRECISION_EXCEEDED",
        "price has more than 5 decimals",
    )
    assert len(outcome.txn_ids) == 1  # the LIMIT_ORDER_REJECT transaction


async def test_market_order_beyond_its_bound_is_accepted_then_cancelled(
    client: OandaClient, server: V20ServerThread
) -> None:
    def halt(s: V20Server) -> None:
        s.ledger.quotes.pop("EUR_USD")

    server.call(halt)

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, CancelledOnCreate) and outcome.reason == "MARKET_HALTED"


async def test_ioc_limit_that_cannot_fill_is_cancelled_at_once(client: OandaClient) -> None:
    outcome = await client.submit(make_order(1000, OrderType.LIMIT, "1.00000", tif=TimeInForce.IOC))

    assert isinstance(outcome, CancelledOnCreate) and outcome.reason == "TIME_IN_FORCE_EXPIRED"


async def test_accepted_order_that_is_never_answered_is_found_by_client_id_not_resent(
    server: V20ServerThread,
) -> None:
    server.call(lambda s: setattr(s.faults, "swallow_orders", 1))
    order = make_order(1000)

    async with OandaClient(
        account_id=server.account_id, token=Token(TOKEN), rest_url=server.url, timeout=0.3
    ) as impatient:
        outcome = await impatient.submit(order)

    assert isinstance(outcome, Filled)
    orders = server.call(lambda s: [o for o in s.ledger.orders.values() if o["type"] == "MARKET"])
    assert len(orders) == 1
    assert orders[0]["clientExtensions"]["id"] == order.id


async def test_429_is_retried_with_backoff_and_the_order_fills_once(
    client: OandaClient, server: V20ServerThread
) -> None:
    server.call(lambda s: setattr(s.faults, "fail_next", 2))

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, Filled)
    assert client.retries == 2
    assert server.call(lambda s: len(s.ledger.orders)) == 1


async def test_endless_429_gives_up_with_rate_limited_reject(
    client: OandaClient, server: V20ServerThread
) -> None:
    server.call(lambda s: setattr(s.faults, "fail_next", 100))

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, Rejected) and outcome.code == "RATE_LIMITED"
    assert server.call(lambda s: len(s.ledger.orders)) == 0


async def test_5xx_on_submit_looks_up_before_resending(
    client: OandaClient, server: V20ServerThread
) -> None:
    def fail(s: V20Server) -> None:
        s.faults.fail_status = 503
        s.faults.fail_next = 1

    server.call(fail)

    outcome = await client.submit(make_order(1000))

    assert isinstance(outcome, Filled)
    assert server.call(lambda s: len(s.ledger.orders)) == 1


async def test_bad_token_raises_a_clear_error_without_retrying(
    server: V20ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-token-do-not-print"
    caplog.set_level(logging.DEBUG)
    async with OandaClient(
        account_id=server.account_id, token=Token(wrong), rest_url=server.url, backoff=0.001
    ) as bad:
        with pytest.raises(TokenRejected) as raised:
            await bad.submit(make_order(1000))
        retries = bad.retries

    assert "token" in str(raised.value)
    assert "Insufficient authorization" in str(raised.value)
    assert retries == 0
    assert wrong not in str(raised.value) and wrong not in repr(raised.value)
    assert wrong not in caplog.text


async def test_token_never_appears_in_reprs_or_logs(
    client: OandaClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await client.submit(make_order(1000))

    assert TOKEN not in repr(Token(TOKEN)) and TOKEN not in str(Token(TOKEN))
    assert TOKEN not in repr(client)
    assert TOKEN not in caplog.text


async def test_transaction_stream_carries_the_fill_and_heartbeats_with_the_last_id(
    client: OandaClient,
) -> None:
    seen: list[object] = []
    fill_id = ""
    async for message in client.stream_transactions():
        seen.append(message)
        if not fill_id and isinstance(message, Heartbeat):
            outcome = await client.submit(make_order(1000))
            assert isinstance(outcome, Filled)
            fill_id = outcome.fill_id
        if fill_id and isinstance(message, Heartbeat) and message.last_transaction_id == fill_id:
            break

    fills = [m for m in seen if isinstance(m, dict) and m["type"] == "ORDER_FILL"]
    assert [f["id"] for f in fills] == [fill_id]


async def test_a_server_slower_than_the_timeout_leaves_the_outcome_unknown_not_rejected(
    server: V20ServerThread,
) -> None:
    server.call(lambda s: setattr(s.faults, "delay", 0.2))

    async with OandaClient(
        account_id=server.account_id,
        token=Token(TOKEN),
        rest_url=server.url,
        timeout=0.05,
        max_retries=1,
        backoff=0.001,
    ) as hasty:
        with pytest.raises(OandaUnavailable):
            await hasty.submit(make_order(1000))


def test_an_ioc_that_fills_in_part_reports_the_fill_and_the_cancelled_rest() -> None:
    from tmt_tui.venues.oanda.client import Filled, outcome_of

    time = "2026-11-25T15:00:00.000000000Z"
    body = {
        "orderCreateTransaction": {"id": "10", "type": "MARKET_ORDER", "time": time},
        "orderFillTransaction": {
            "id": "11", "type": "ORDER_FILL", "orderID": "10", "units": "600",
            "price": "1.10000", "time": time,
        },
        "orderCancelTransaction": {
            "id": "12", "type": "ORDER_CANCEL", "orderID": "10", "reason": "INSUFFICIENT_LIQUIDITY",
            "time": time,
        },
    }  # fmt: skip

    outcome = outcome_of(201, body)

    assert isinstance(outcome, Filled)
    assert (outcome.units, outcome.rest_cancelled) == (600, "INSUFFICIENT_LIQUIDITY")
    assert outcome.txn_ids == ("10", "11", "12")


def test_order_body_carries_the_trailing_distance_rounded_to_the_instrument() -> None:
    eur = Instrument("EUR_USD", display_precision=5, pip_location=-4, margin_rate=Decimal("0.02"))
    order = make_order(1000).with_changes({"trailing_stop_distance": Decimal("0.0012345")})

    body = order_body(order, eur)

    assert body["trailingStopLossOnFill"] == {"distance": "0.00123", "timeInForce": "GTC"}
