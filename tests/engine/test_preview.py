"""The pre-trade preview: a dry run of an order through the very guards a real order meets,
each judged on its own, with the figures they judge; nothing is sent and nothing journaled."""

from __future__ import annotations

from decimal import Decimal

from tests.support.harness import Harness
from tmt_tui.domain.commands import EngageKillSwitch, QueryPreview, SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.preview import OrderPreview

D = Decimal


def started() -> Harness:
    h = Harness()
    h.quote("EUR_USD", "1.10000", "1.10010")
    return h


def preview(h: Harness, order: SubmitOrder) -> OrderPreview:
    reply = h.do(QueryPreview.of(order))
    assert reply.ok and isinstance(reply.payload, OrderPreview), reply
    return reply.payload


def test_a_market_buy_shows_its_notional_margin_and_leverage_and_sends_nothing() -> None:
    h = started()
    journaled = len(h.events)

    seen = preview(h, SubmitOrder("SIM-USD", "EUR_USD", 100_000))

    # 100,000 EUR at the ask 1.10010 = 110,010 USD; margin at the pair's rate
    margin_rate = float(h.core.quotes.instruments["EUR_USD"].margin_rate)
    assert seen.ok and [c.name for c in seen.checks] == [
        "state", "units", "expiry", "prices", "exposure", "working orders", "order rate",
    ]  # fmt: skip
    assert seen.reference_price == D("1.10010")
    assert abs(seen.notional - 110_010.0) < 1e-6
    assert abs(seen.margin_needed - 110_010.0 * margin_rate) < 1e-6
    assert seen.position_after == 100_000
    assert seen.leverage_now == 0.0 and abs(seen.leverage_after - 1.1001) < 1e-9
    assert seen.loss_headroom == float(h.core.portfolio.accounts["SIM-USD"].limits.daily_loss_limit)
    assert len(h.events) == journaled and h.core.orders.open == {}  # nothing happened


def test_every_failing_check_is_listed_not_only_the_first() -> None:
    h = started()
    order = SubmitOrder(
        "SIM-USD", "EUR_USD", 50_000_000, OrderType.LIMIT, D("1.30000"), take_profit=D("1.2")
    )

    seen = preview(h, order)

    failed = {c.name: c.code for c in seen.failed}
    assert failed == {
        "units": "UNITS_ABOVE_MAXIMUM",
        "prices": "PRICE_COLLAR",
        "exposure": "NOTIONAL_ABOVE_MAXIMUM",
    }
    assert seen.distance_pips == 1999.5  # (1.30000 - 1.10005) / 0.0001
    real = h.do(order)
    assert (real.ok, real.code) == (False, "UNITS_ABOVE_MAXIMUM")  # the first, as the preview said


def test_while_halted_the_state_check_fails_and_a_closing_order_passes() -> None:
    h = started()
    assert h.submit("EUR_USD", 10_000).ok
    h.do(EngageKillSwitch(reason="test"))

    adding = preview(h, SubmitOrder("SIM-USD", "EUR_USD", 10_000))
    closing = preview(h, SubmitOrder("SIM-USD", "EUR_USD", -10_000))

    assert [c.code for c in adding.failed] == ["TRADING_HALTED"]
    assert closing.ok and closing.position_after == 0


def test_a_preview_out_of_every_range_says_why_like_a_submit() -> None:
    h = started()

    seen = preview(h, SubmitOrder("SIM-USD", "EUR_USD", 10**15))

    assert not seen.ok and seen.checks[0].name == "command"
