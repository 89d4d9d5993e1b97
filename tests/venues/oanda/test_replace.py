"""Our client's replaces (an order, a trade's take-profit and stop-loss) and account list
against the local v20 server over loopback: what it reads from the answers, and a replace whose
answer is lost or refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.oanda import TOKEN, make_order
from tmt_tui.domain.orders import OrderType
from tmt_tui.venues.oanda.client import (
    Filled,
    OandaClient,
    Rejected,
    Replaced,
    Resting,
    Token,
    TradeOrdersSet,
)
from tmt_tui.venues.oanda_sim.server import V20ServerThread


async def _open(client: OandaClient, units: int = 1000, **kw: str) -> Filled:
    outcome = await client.submit(make_order(units, **kw))  # type: ignore[arg-type]
    assert isinstance(outcome, Filled) and outcome.trade_id
    return outcome


async def test_replace_changes_price_and_units_under_a_new_id(calm: OandaClient) -> None:
    order = make_order(1000, OrderType.LIMIT, "1.00000")
    resting = await calm.submit(order)
    assert isinstance(resting, Resting) and resting.txn_ids == (resting.venue_id,)

    changed = order.with_changes({"price": Decimal("1.01000"), "units": 2000})
    result = await calm.replace(f"@{order.id}", changed)

    assert isinstance(result, Replaced) and result.filled is None
    assert result.replaced_id == resting.venue_id and result.venue_id != resting.venue_id
    assert len(result.txn_ids) == 2  # the cancel, then the replacing order
    old = await calm.order(resting.venue_id)
    new = await calm.order(result.venue_id)
    assert old is not None and old["state"] == "CANCELLED"
    assert old["replacedByOrderID"] == result.venue_id
    assert new is not None and new["state"] == "PENDING" and new["replacesOrderID"] == old["id"]
    assert (new["price"], new["units"]) == ("1.01000", "2000")
    again = await calm.order(f"@{order.id}")  # the client id now names the replacing order
    assert again is not None and again["id"] == result.venue_id
    (cancel,) = [t for t in (await calm.transactions_since("0"))[0] if t["type"] == "ORDER_CANCEL"]
    assert cancel["reason"] == "CLIENT_REQUEST_REPLACED"
    assert cancel["replacedByOrderID"] == result.venue_id


async def test_a_replacing_limit_through_the_market_fills_at_once(calm: OandaClient) -> None:
    order = make_order(1000, OrderType.LIMIT, "1.00000")
    await calm.submit(order)

    result = await calm.replace(order.id, order.with_changes({"price": Decimal("1.20000")}))
    assert isinstance(result, Rejected)  # a bare client id is not an order specifier

    result = await calm.replace(f"@{order.id}", order.with_changes({"price": Decimal("1.20000")}))

    assert isinstance(result, Replaced) and result.filled is not None
    assert result.filled.venue_id == result.venue_id and result.filled.price == Decimal("1.1001")


async def test_replacing_an_unknown_order_is_rejected(calm: OandaClient) -> None:
    result = await calm.replace("@never-sent", make_order(1000, OrderType.LIMIT, "1.00000"))

    assert isinstance(result, Rejected) and result.code == "ORDER_DOESNT_EXIST"
    assert len(result.txn_ids) == 1


@pytest.mark.parametrize("by_client_id", [False, True])
async def test_a_replace_whose_answer_is_lost_is_looked_up_not_resent(
    still: V20ServerThread, by_client_id: bool
) -> None:
    order = make_order(1000, OrderType.LIMIT, "1.00000")
    async with OandaClient(
        account_id=still.account_id, token=Token(TOKEN), rest_url=still.url, timeout=0.3
    ) as impatient:
        resting = await impatient.submit(order)
        assert isinstance(resting, Resting)
        still.call(lambda s: setattr(s.faults, "swallow_orders", 1))
        spec = f"@{order.id}" if by_client_id else resting.venue_id

        result = await impatient.replace(spec, order.with_changes({"units": 3000}))
        pending = await impatient.pending_orders()

    assert isinstance(result, Replaced) and result.replaced_id == resting.venue_id
    assert [(o["id"], o["units"]) for o in pending] == [(result.venue_id, "3000")]


async def test_a_replace_refused_by_a_5xx_before_it_ran_is_resent(
    still: V20ServerThread, calm: OandaClient
) -> None:
    order = make_order(1000, OrderType.LIMIT, "1.00000")
    resting = await calm.submit(order)
    assert isinstance(resting, Resting)
    still.call(lambda s: setattr(s.faults, "fail_status", 503))
    still.call(lambda s: setattr(s.faults, "fail_next", 1))

    result = await calm.replace(resting.venue_id, order.with_changes({"units": 3000}))

    assert isinstance(result, Replaced) and result.replaced_id == resting.venue_id
    pending = await calm.pending_orders()
    assert [(o["id"], o["units"]) for o in pending] == [(result.venue_id, "3000")]
    assert calm.retries == 1


async def test_take_profit_and_stop_loss_set_then_replaced_on_an_open_trade(
    calm: OandaClient,
) -> None:
    fill = await _open(calm)
    assert fill.account_balance == Decimal("100000.0000")
    assert fill.trade_id is not None

    first = await calm.set_trade_orders(
        fill.trade_id, take_profit=Decimal("1.2"), stop_loss=Decimal("1.05")
    )
    assert isinstance(first, TradeOrdersSet) and first.replaced == {}
    assert set(first.created) == {"tp", "sl"}

    second = await calm.set_trade_orders(fill.trade_id, take_profit=Decimal("1.25"))

    assert isinstance(second, TradeOrdersSet)
    assert second.replaced == {"tp": first.created["tp"]}
    (trade,) = await calm.open_trades()
    assert trade["takeProfitOrder"]["id"] == second.created["tp"]
    assert trade["takeProfitOrder"]["price"] == "1.25000"
    assert trade["stopLossOrder"]["id"] == first.created["sl"]
    old = await calm.order(first.created["tp"])
    assert old is not None and old["state"] == "CANCELLED"


async def test_accounts_and_another_accounts_summary(calm: OandaClient) -> None:
    (account,) = await calm.account_list()

    assert account["id"] == calm.account_id and "tags" in account
    summary = await calm.summary_of(account["id"])
    assert summary["id"] == calm.account_id and summary["hedgingEnabled"] is False
