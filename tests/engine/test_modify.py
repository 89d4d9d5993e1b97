"""Modifying a working order: the venue gets the change, and the change passes the same risk
rules a new order would (a modify must not be a way around a limit).
"""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import EngageKillSwitch, ModifyOrder, SetReducing
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderStatus
from tmt_tui.domain.reasons import Reason

D = Decimal


def with_resting_limit() -> tuple[Harness, str]:
    h = Harness()
    h.standard_quotes()
    reply = h.limit("EUR_USD", 1_000, "1.09000")
    assert reply.ok, reply
    return h, reply.order_id or ""


def assert_refused(h: Harness, reply: Reply, code: Reason) -> None:
    assert (reply.ok, reply.code) == (False, code.value), reply
    event = h.last(EventKind.COMMAND_REJECTED)
    assert (event.data["command"], event.data["code"]) == ("ModifyOrder", code.value)


def test_modify_moves_a_working_limit_to_the_new_price() -> None:
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, price=D("1.09500")))

    assert reply.ok, reply
    assert h.last(EventKind.ORDER_MODIFIED).data == {
        "order_id": order_id,
        "price": "1.09500",
        "units": 1_000,
    }
    assert (h.order(order_id).price, h.order(order_id).status) == (
        D("1.09500"),
        OrderStatus.WORKING,
    )


def test_modify_keeps_the_side_of_the_order_whatever_the_sign_given() -> None:
    h, order_id = with_resting_limit()

    h.do(ModifyOrder(order_id, units=-2_000))

    assert h.order(order_id).units == 2_000


def test_modify_of_an_unknown_order_is_refused() -> None:
    h, _ = with_resting_limit()

    reply = h.do(ModifyOrder("O999", price=D("1.09500")))

    assert_refused(h, reply, Reason.UNKNOWN_ORDER)


def test_modify_to_a_price_finer_than_the_tick_is_refused() -> None:
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, price=D("1.095001")))

    assert_refused(h, reply, Reason.PRICE_PRECISION_EXCEEDED)
    assert h.order(order_id).price == D("1.09000")


def test_modify_to_a_non_positive_price_is_refused() -> None:
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, price=D("-1")))

    assert_refused(h, reply, Reason.INVALID_PRICE)


def test_modify_to_zero_units_is_refused() -> None:
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, units=0))

    assert_refused(h, reply, Reason.INVALID_UNITS)


def test_modify_that_adds_size_on_a_halted_account_is_refused() -> None:
    h, order_id = with_resting_limit()
    h.core.handle(EngageKillSwitch())  # the halt's cancel is still on its way to the venue
    h.core.take_requests()
    h.collect()

    reply = h.do(ModifyOrder(order_id, units=2_000))

    assert_refused(h, reply, Reason.TRADING_HALTED)


def test_modify_that_adds_size_on_a_reducing_account_is_refused_as_reduce_only() -> None:
    h, order_id = with_resting_limit()
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.do(ModifyOrder(order_id, units=2_000))

    assert_refused(h, reply, Reason.REDUCE_ONLY)
    assert h.order(order_id).units == 1_000


def test_modify_that_shrinks_an_order_on_a_reducing_account_is_allowed() -> None:
    h, order_id = with_resting_limit()
    h.do(SetReducing(on=True, account="SIM-USD"))

    reply = h.do(ModifyOrder(order_id, units=500))

    assert reply.ok, reply
    assert h.order(order_id).units == 500


def test_modify_above_the_account_order_limit_is_refused() -> None:
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, units=10_000_001))

    assert_refused(h, reply, Reason.UNITS_ABOVE_MAXIMUM)


def test_modify_that_moves_a_limit_outside_the_price_collar_is_refused() -> None:
    # 0.50000 is about 55% below mid 1.10005; the collar is 5%
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, price=D("0.50000")))

    assert_refused(h, reply, Reason.PRICE_COLLAR)
    assert h.order(order_id).price == D("1.09000")


def test_modify_that_grows_an_order_past_the_leverage_limit_is_refused() -> None:
    # 9,000,000 x 1.09000 = 9,810,000 USD on 100,000 equity: 98x against a 30x limit
    h, order_id = with_resting_limit()

    reply = h.do(ModifyOrder(order_id, units=9_000_000))

    assert_refused(h, reply, Reason.LEVERAGE_LIMIT_EXCEEDED)
    assert h.order(order_id).units == 1_000
