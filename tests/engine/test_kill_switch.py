"""Kill switch and trading states: HALTED cancels what could add exposure, keeps protection,
lets a trader get out, and is lifted only by an explicit reset that a daily-loss breach blocks.
"""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness, default_settings, with_flatten, with_risk
from tmt_tui.domain.commands import (
    CancelAll,
    CancelOrder,
    ClosePosition,
    EngageKillSwitch,
    ResetKillSwitch,
    SetReducing,
    SubmitOrder,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderStatus, OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.reasons import Reason
from tmt_tui.venues.base import CancelRequest, SubmitRequest, VenueAccepted, send

D = Decimal


def started(flatten: bool = False) -> Harness:
    h = Harness(with_flatten(default_settings(), flatten))
    h.standard_quotes()
    return h


def with_book(h: Harness) -> dict[str, str]:
    """A protected long, a resting buy limit and buy stop on SIM-USD; a long on SIM-EUR."""
    market = h.submit("EUR_USD", 10_000, take_profit=D("1.12000"), stop_loss=D("1.08000"))
    entry_limit = h.limit("EUR_USD", 5_000, "1.09000")
    entry_stop = h.submit("GBP_USD", 5_000, type=OrderType.STOP, price=D("1.28000"))
    h.submit("USD_JPY", 20_000, account="SIM-EUR")
    trade = f"{market.order_id}.1"
    return {
        "limit": entry_limit.order_id or "",
        "stop": entry_stop.order_id or "",
        "tp": f"{trade}.tp",
        "sl": f"{trade}.sl",
    }


def states(h: Harness) -> dict[str, TradingState]:
    return {a: h.account(a).trading_state for a in ("SIM-USD", "SIM-EUR")}


def test_kill_switch_halts_every_account() -> None:
    h = started()

    reply = h.do(EngageKillSwitch("panic"))

    assert reply.ok and reply.message.startswith("HALTED")
    assert states(h) == {"SIM-USD": TradingState.HALTED, "SIM-EUR": TradingState.HALTED}
    assert h.core.state.kill_engaged and h.core.state.kill_reason == "panic"


def test_kill_switch_cancels_resting_entry_orders() -> None:
    h = started()
    ids = with_book(h)

    h.do(EngageKillSwitch())

    assert h.order(ids["limit"]).status is OrderStatus.CANCELLED
    assert h.order(ids["stop"]).status is OrderStatus.CANCELLED


def test_kill_switch_keeps_protective_orders() -> None:
    h = started()
    ids = with_book(h)

    h.do(EngageKillSwitch())

    assert {o.id for o in h.open_orders()} == {ids["tp"], ids["sl"]}
    assert h.order(ids["tp"]).status is OrderStatus.WORKING


def test_kill_switch_keeps_open_positions_without_flatten() -> None:
    h = started()
    with_book(h)

    h.do(EngageKillSwitch())

    assert h.units("EUR_USD") == 10_000
    assert h.units("USD_JPY", "SIM-EUR") == 20_000


def test_kill_switch_rejects_new_opening_orders() -> None:
    h = started()
    h.do(EngageKillSwitch("panic"))

    reply = h.submit("EUR_USD", 1_000, account="SIM-EUR")

    assert (reply.ok, reply.code) == (False, Reason.TRADING_HALTED.value)
    assert "panic" in reply.message
    assert h.last(EventKind.ORDER_REJECTED).data["code"] == Reason.TRADING_HALTED.value


def test_kill_switch_still_allows_closing_a_position() -> None:
    h = started()
    ids = with_book(h)
    h.do(EngageKillSwitch())

    reply = h.do(ClosePosition("SIM-USD", "EUR_USD"))

    assert reply.ok, reply
    assert h.units("EUR_USD") == 0
    # the closed trade's protection goes with it
    assert h.order(ids["tp"]).status is OrderStatus.CANCELLED
    assert h.order(ids["sl"]).status is OrderStatus.CANCELLED


def test_kill_switch_still_allows_cancelling_an_order() -> None:
    h = started()
    ids = with_book(h)
    h.do(EngageKillSwitch())

    reply = h.do(CancelOrder(ids["tp"]))

    assert reply.ok, reply
    assert h.order(ids["tp"]).status is OrderStatus.CANCELLED


def test_flatten_closes_every_position() -> None:
    h = started(flatten=True)
    with_book(h)

    reply = h.do(EngageKillSwitch())

    assert "closing 2 positions" in reply.message
    assert h.core.positions() == []


def test_flatten_leaves_no_open_order() -> None:
    h = started(flatten=True)
    with_book(h)

    h.do(EngageKillSwitch())

    assert h.open_orders() == []


def test_flatten_sends_the_closes_before_any_cancel() -> None:
    h = started(flatten=True)
    with_book(h)

    h.core.handle(EngageKillSwitch())

    kinds = [(type(r), r.order.reduce_only) for r in h.core.take_requests()]
    assert kinds == [
        (SubmitRequest, True),
        (SubmitRequest, True),
        (CancelRequest, False),
        (CancelRequest, False),
    ]


def test_order_acknowledged_by_the_venue_after_the_halt_is_cancelled_on_arrival() -> None:
    h = started()
    submitted = h.core.handle(
        SubmitOrder("SIM-USD", "EUR_USD", 5_000, OrderType.LIMIT, D("1.09000"))
    )
    h.core.take_requests()  # the submit is on its way to the venue
    h.core.handle(EngageKillSwitch())
    h.core.take_requests()  # so is the halt's cancel, which the venue cannot match yet

    h.core.on_venue_event(VenueAccepted(submitted.order_id or "", "V-1"))

    requests = h.core.take_requests()
    assert requests == [CancelRequest(h.order(submitted.order_id or ""))]
    assert requests[0].order.status is OrderStatus.WORKING


def test_order_whose_halt_cancel_overtook_its_submit_ends_cancelled() -> None:
    # the race as a network venue plays it: the halt's cancel reaches the venue before the
    # submit does, so the venue refuses the cancel (no such order), then accepts the order
    h = started()
    submitted = h.core.handle(
        SubmitOrder("SIM-USD", "EUR_USD", 5_000, OrderType.LIMIT, D("1.09000"))
    )
    in_flight = h.core.take_requests()
    h.core.handle(EngageKillSwitch())
    h.dispatch()  # the halt's cancel arrives first

    for request in in_flight:  # then the submit
        send(h.broker, request)
    h.dispatch()

    assert h.order(submitted.order_id or "").status is OrderStatus.CANCELLED


def test_engaging_twice_keeps_the_halt_and_says_so() -> None:
    h = started()
    h.do(EngageKillSwitch())

    reply = h.do(EngageKillSwitch())

    assert reply.ok and reply.message.startswith("still HALTED")
    assert states(h) == {"SIM-USD": TradingState.HALTED, "SIM-EUR": TradingState.HALTED}


def test_reset_returns_every_account_to_active() -> None:
    h = started()
    h.do(EngageKillSwitch())

    reply = h.do(ResetKillSwitch())

    assert reply.ok, reply
    assert states(h) == {"SIM-USD": TradingState.ACTIVE, "SIM-EUR": TradingState.ACTIVE}
    assert not h.core.state.kill_engaged
    assert h.submit("EUR_USD", 1_000).ok


def test_reset_when_nothing_is_halted_is_refused() -> None:
    h = started()

    reply = h.do(ResetKillSwitch())

    assert (reply.ok, reply.code) == (False, Reason.NOT_HALTED.value)
    assert h.last(EventKind.COMMAND_REJECTED).data["code"] == Reason.NOT_HALTED.value


def _breach_usd(h: Harness) -> None:
    # long 1,000,000 EUR_USD at 1.10010, bid to 1.09500: a 5,100 USD loss >= the 5,000 limit
    h.submit("EUR_USD", 1_000_000)
    h.quote("EUR_USD", "1.09500", "1.09510")
    h.core.check_limits()
    h.dispatch()


def test_reset_is_refused_while_a_daily_loss_breach_holds() -> None:
    h = started()
    _breach_usd(h)
    h.do(EngageKillSwitch())

    reply = h.do(ResetKillSwitch())

    assert (reply.ok, reply.code) == (False, Reason.DAILY_LOSS_BREACH_HOLDS.value)
    assert "SIM-USD" in reply.message
    assert states(h) == {"SIM-USD": TradingState.HALTED, "SIM-EUR": TradingState.HALTED}
    assert h.core.state.kill_engaged


def test_daily_loss_breach_halts_its_own_account_only() -> None:
    h = started()

    _breach_usd(h)

    assert states(h) == {"SIM-USD": TradingState.HALTED, "SIM-EUR": TradingState.ACTIVE}
    assert h.last(EventKind.DAILY_LOSS_BREACHED).data == {
        "account": "SIM-USD",
        "daily_pl": "-5100.0000",
        "limit": "5000",
    }
    assert h.submit("EUR_USD", 1_000, account="SIM-EUR").ok


def test_daily_loss_breach_cancels_its_accounts_entries_and_keeps_protection() -> None:
    h = started()
    ids = with_book(h)
    eur_limit = h.limit("EUR_USD", 1_000, "1.09000", account="SIM-EUR")

    _breach_usd(h)

    assert h.order(ids["limit"]).status is OrderStatus.CANCELLED
    assert h.order(ids["tp"]).status is OrderStatus.WORKING
    assert h.order(eur_limit.order_id or "").status is OrderStatus.WORKING


def test_with_daily_loss_action_flatten_a_breach_also_closes_every_position_of_that_account() -> (
    None
):
    h = Harness(with_risk(default_settings(), daily_loss_action="flatten"))
    h.standard_quotes()
    h.submit("GBP_USD", 20_000)
    h.submit("EUR_USD", 5_000, account="SIM-EUR")

    _breach_usd(h)

    assert h.units("EUR_USD") == 0 and h.units("GBP_USD") == 0
    assert h.units("EUR_USD", account="SIM-EUR") == 5_000  # its own account only
    assert states(h)["SIM-USD"] is TradingState.HALTED
    closed = {t.instrument: t.reason for t in h.core.state.closed_trades}
    assert closed == {"EUR_USD": "daily loss", "GBP_USD": "daily loss"}


def test_with_daily_loss_action_halt_a_breach_leaves_the_positions_open() -> None:
    h = started()
    _breach_usd(h)

    assert h.units("EUR_USD") == 1_000_000


def test_daily_loss_breach_is_reported_once() -> None:
    h = started()
    _breach_usd(h)

    h.core.check_limits()
    h.collect()

    assert len(h.of_kind(EventKind.DAILY_LOSS_BREACHED)) == 1


def test_set_reducing_enters_and_leaves_reduce_only() -> None:
    h = started()

    entered = h.do(SetReducing(on=True, account="SIM-USD"))
    after_enter = states(h)
    left = h.do(SetReducing(on=False, account="SIM-USD"))

    assert entered.ok and left.ok
    assert after_enter == {"SIM-USD": TradingState.REDUCING, "SIM-EUR": TradingState.ACTIVE}
    assert states(h)["SIM-USD"] is TradingState.ACTIVE


def test_set_reducing_without_an_account_applies_to_all() -> None:
    h = started()

    h.do(SetReducing(on=True))

    assert states(h) == {"SIM-USD": TradingState.REDUCING, "SIM-EUR": TradingState.REDUCING}


def test_set_reducing_on_an_unknown_account_is_refused() -> None:
    h = started()

    reply = h.do(SetReducing(on=True, account="NOPE"))

    assert (reply.ok, reply.code) == (False, Reason.UNKNOWN_ACCOUNT.value)


def test_set_reducing_cannot_lift_a_halt() -> None:
    h = started()
    h.do(EngageKillSwitch())

    reply = h.do(SetReducing(on=False))

    assert (reply.ok, reply.code) == (False, Reason.TRADING_HALTED.value)
    assert states(h) == {"SIM-USD": TradingState.HALTED, "SIM-EUR": TradingState.HALTED}


def _lose(h: Harness, bid: str) -> None:
    # long 1,000,000 EUR_USD at 1.10010; the loss is (1.10010 - bid) x 1,000,000
    h.quote("EUR_USD", bid, str(D(bid) + D("0.00010")))
    h.core.check_limits()
    h.dispatch()


def test_account_enters_reducing_at_the_configured_share_of_the_loss_limit() -> None:
    # 0.8 x 5,000 = 4,000 USD: a bid of 1.09610 loses exactly 0.00400 x 1,000,000 = 4,000
    h = started()
    h.submit("EUR_USD", 1_000_000)

    _lose(h, "1.09610")

    assert states(h)["SIM-USD"] is TradingState.REDUCING
    event = h.last(EventKind.TRADING_STATE_CHANGED)
    assert (event.origin, event.data["reason"]) == ("auto", "daily loss at 80% of limit")


def test_account_stays_active_just_below_the_reducing_share() -> None:
    # a bid of 1.09611 loses 3,990 USD < 4,000
    h = started()
    h.submit("EUR_USD", 1_000_000)

    _lose(h, "1.09611")

    assert states(h)["SIM-USD"] is TradingState.ACTIVE


def test_automatic_reducing_does_not_return_after_a_manual_override_the_same_day() -> None:
    h = started()
    h.submit("EUR_USD", 1_000_000)
    _lose(h, "1.09610")
    h.do(SetReducing(on=False, account="SIM-USD"))

    _lose(h, "1.09600")

    assert states(h)["SIM-USD"] is TradingState.ACTIVE


def test_reducing_account_is_halted_when_the_loss_reaches_the_limit() -> None:
    h = started()
    h.submit("EUR_USD", 1_000_000)
    _lose(h, "1.09610")

    _lose(h, "1.09500")

    assert states(h)["SIM-USD"] is TradingState.HALTED


def test_cancel_all_naming_an_unknown_account_is_refused_not_a_silent_zero() -> None:
    h = started()

    reply = h.do(CancelAll("SIM-TYPO"))

    assert (reply.ok, reply.code) == (False, Reason.UNKNOWN_ACCOUNT.value)
