"""Every cancel says why: the engine journals why it asked (and who asked) before the venue
hears of it, and the venue's confirmation carries both; a cancel the venue made on its own
says so. An audit can tell a trader's cancel from the kill switch's."""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness, restarted, with_risk
from tests.support.harness import default_settings as settings
from tmt_tui.domain.commands import CancelAll, CancelOrder, EngageKillSwitch, Origin
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import CancelWhy, OrderStatus
from tmt_tui.venues.base import CancelRequest

D = Decimal


def resting(h: Harness, account: str = "SIM-USD") -> str:
    reply = h.limit("EUR_USD", 1_000, "1.05000", account=account)
    assert reply.ok and reply.order_id, reply
    return reply.order_id


def cancelled(h: Harness, order_id: str) -> dict[str, object]:
    (event,) = [e for e in h.of_kind(EventKind.ORDER_CANCELLED) if e.data["order_id"] == order_id]
    return {**event.data, "origin": event.origin}


def requested(h: Harness, order_id: str) -> tuple[str, str]:
    (event,) = [
        e for e in h.of_kind(EventKind.ORDER_CANCEL_REQUESTED) if e.data["order_id"] == order_id
    ]
    return event.data["why"], event.origin


def test_a_traders_cancel_says_user_and_where_it_came_from() -> None:
    h = Harness()
    h.standard_quotes()
    order_id = resting(h)

    assert h.do(CancelOrder(order_id, Origin.CLI)).ok

    assert requested(h, order_id) == ("user", "cli")
    data = cancelled(h, order_id)
    assert (data["why"], data["requested_by"], data["origin"]) == ("user", "cli", "venue")
    assert h.order(order_id).reason == "user (cli)"


def test_cancel_all_from_the_api_says_user_for_each_order() -> None:
    h = Harness()
    h.standard_quotes()
    ids = [resting(h), resting(h)]

    assert h.do(CancelAll(origin=Origin.API)).ok

    assert [requested(h, i) for i in ids] == [("user", "api")] * 2


def test_the_kill_switch_cancels_say_kill_switch() -> None:
    h = Harness()
    h.standard_quotes()
    order_id = resting(h)

    assert h.do(EngageKillSwitch("panic", Origin.UI)).ok

    assert requested(h, order_id) == ("kill switch", "ui")
    assert cancelled(h, order_id)["why"] == "kill switch"
    assert h.order(order_id).reason == "kill switch"


def test_a_daily_loss_breach_cancels_say_daily_loss() -> None:
    h = Harness(with_risk(settings(), daily_loss_limit=D("50")))
    h.standard_quotes()
    order_id = resting(h)
    h.submit("GBP_USD", 100_000)
    h.quote("GBP_USD", "1.26000", "1.26010")  # 100k x -0.01 = -1,000: past the limit
    h.core.check_limits()
    h.dispatch()

    assert requested(h, order_id) == ("daily loss", "auto")
    assert h.order(order_id).status is OrderStatus.CANCELLED


def test_a_cancel_the_venue_made_itself_says_venue_with_its_reason() -> None:
    h = Harness()
    h.standard_quotes()
    order_id = h.limit("EUR_USD", 2_500_000, "1.09000").order_id
    h.submit("GBP_USD", 500_000)  # leaves too little margin for the limit when it triggers
    h.quote("EUR_USD", "1.08990", "1.09000")

    data = cancelled(h, order_id or "")
    assert (data["why"], data["requested_by"], data["reason"]) == (
        "venue",
        "venue",
        "INSUFFICIENT_MARGIN",
    )


def test_why_a_cancel_was_asked_survives_a_restart_before_the_venue_answers() -> None:
    h = Harness()
    h.standard_quotes()
    order_id = resting(h)
    order = h.order(order_id)
    h.core.rec.cancel(order, CancelWhy.KILL_SWITCH, "cli")
    h.core.take_batch()  # the request was journaled; the engine stops before sending it

    after = restarted(h)
    after.core.rec.request(CancelRequest(after.order(order_id)))
    after.dispatch()

    assert cancelled(after, order_id)["why"] == "kill switch"
    assert cancelled(after, order_id)["requested_by"] == "cli"
