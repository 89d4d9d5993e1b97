"""Good till date: a limit or stop that expires at its time on the venue's clock, with OANDA's
reason; an expiry that is missing, past or on a market order is refused before anything goes
out, and the preview says so."""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness, restarted
from tmt_tui.domain.commands import QueryPreview, SubmitOrder
from tmt_tui.domain.orders import OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.preview import OrderPreview

D = Decimal
GTD = TimeInForce.GTD


def started() -> Harness:
    h = Harness()
    h.quote("EUR_USD", "1.10000", "1.10010")
    return h


def test_a_gtd_limit_rests_until_its_time_then_the_venue_cancels_it_as_oanda_does() -> None:
    h = started()
    expiry = h.clock() + 3600
    placed = h.limit("EUR_USD", 10_000, "1.09000", time_in_force=GTD, gtd_time=expiry)
    assert placed.ok, placed

    h.clock.advance(3599)
    h.quote("EUR_USD", "1.10001", "1.10011")
    assert h.order(str(placed.order_id)).status is OrderStatus.WORKING

    h.clock.advance(1)
    h.quote("EUR_USD", "1.08900", "1.08910")  # through its price, but too late: it has expired

    done = h.order(str(placed.order_id))
    assert (done.status, done.reason) == (OrderStatus.CANCELLED, "TIME_IN_FORCE_EXPIRED")
    assert h.units("EUR_USD") == 0


def test_a_gtd_order_keeps_its_expiry_across_a_restart() -> None:
    h = started()
    placed = h.limit("EUR_USD", 10_000, "1.09000", time_in_force=GTD, gtd_time=h.clock() + 60)

    after = restarted(h)
    assert after.order(str(placed.order_id)).gtd_time == h.clock() + 60
    after.clock.advance(61)
    after.quote("EUR_USD", "1.10000", "1.10010")

    assert after.order(str(placed.order_id)).reason == "TIME_IN_FORCE_EXPIRED"


def test_a_past_or_missing_expiry_is_refused_with_the_reason() -> None:
    h = started()
    past = h.limit("EUR_USD", 10_000, "1.09000", time_in_force=GTD, gtd_time=h.clock() - 1)
    missing = h.limit("EUR_USD", 10_000, "1.09000", time_in_force=GTD)
    stray = h.limit("EUR_USD", 10_000, "1.09000", gtd_time=h.clock() + 60)
    market = h.submit("EUR_USD", 10_000, time_in_force=GTD, gtd_time=h.clock() + 60)

    assert (past.code, past.message) == ("INVALID_EXPIRY", "the GTD expiry is in the past")
    assert (missing.code, missing.message) == ("INVALID_EXPIRY", "GTD needs an expiry time")
    assert (stray.code, stray.message) == ("INVALID_EXPIRY", "an expiry needs time in force GTD")
    assert market.code == "INVALID_EXPIRY" and "market" in market.message
    assert h.open_orders() == []


def test_a_preview_checks_the_expiry_like_a_real_order() -> None:
    h = started()
    order = SubmitOrder(
        "SIM-USD", "EUR_USD", 10_000, OrderType.LIMIT, D("1.09000"),
        time_in_force=GTD, gtd_time=h.clock() - 5,
    )  # fmt: skip

    reply = h.do(QueryPreview.of(order))

    assert isinstance(reply.payload, OrderPreview)
    assert [(c.name, c.code) for c in reply.payload.failed] == [("expiry", "INVALID_EXPIRY")]
    fine = h.do(QueryPreview.of(SubmitOrder(**{**_fields(order), "gtd_time": h.clock() + 5})))
    assert isinstance(fine.payload, OrderPreview) and fine.payload.ok


def test_a_nonsense_expiry_is_out_of_range_whatever_the_state() -> None:
    h = started()
    for junk in (float("nan"), float("inf"), 1e20, -5.0):
        reply = h.limit("EUR_USD", 10_000, "1.09000", time_in_force=GTD, gtd_time=junk)
        assert reply.code == "INVALID_EXPIRY", junk


def _fields(order: SubmitOrder) -> dict[str, object]:
    return {name: getattr(order, name) for name in order.__dataclass_fields__}
