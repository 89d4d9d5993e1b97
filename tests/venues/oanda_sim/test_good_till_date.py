"""Good till date over v20: the adapter sends ``timeInForce: GTD`` with an RFC3339 ``gtdTime``,
and ``tmt oanda-sim`` rests the order until then and cancels it as OANDA does
(``TIME_IN_FORCE_EXPIRED``), refusing a missing or past time with OANDA's reject reasons."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

from tests.support.oanda import make_order
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.oanda.answers import order_body
from tmt_tui.venues.oanda.client import OandaClient, Rejected, Resting
from tmt_tui.venues.oanda_sim.ledger import V20Ledger
from tmt_tui.venues.oanda_sim.orders import create_order
from tmt_tui.venues.sim.universe import instruments as sim_instruments

T0 = 1_796_310_000.0  # 2026-12-03 15:00 UTC


def gtd_limit(expiry: float, price: str = "1.00000"):
    order = make_order(1000, OrderType.LIMIT, price, tif=TimeInForce.GTD)
    return dataclasses.replace(order, gtd_time=expiry)


def test_the_adapter_sends_gtd_with_its_time_in_rfc3339_utc() -> None:
    body = order_body(gtd_limit(T0 + 7200))

    assert body["timeInForce"] == "GTD"
    assert body["gtdTime"] == "2026-12-03T17:00:00.000000000Z"


def test_the_simulator_cancels_a_gtd_order_at_its_time_with_oanda_s_reason() -> None:
    now = [T0]
    ledger = V20Ledger("101-001-0000001-001", sim_instruments(("EUR_USD",)), clock=lambda: now[0])
    ledger.on_quote(Quote("EUR_USD", Decimal("1.10000"), Decimal("1.10010"), T0))
    status, answer = create_order(ledger, {"order": order_body(gtd_limit(T0 + 60))})
    assert status == 201 and "orderCancelTransaction" not in answer, answer
    oid = answer["orderCreateTransaction"]["id"]

    now[0] = T0 + 59
    assert ledger.on_quote(Quote("EUR_USD", Decimal("1.10001"), Decimal("1.10011"), now[0])) == []
    now[0] = T0 + 60
    caused = ledger.on_quote(Quote("EUR_USD", Decimal("1.10002"), Decimal("1.10012"), now[0]))

    assert [(t["type"], t["orderID"], t["reason"]) for t in caused] == [
        ("ORDER_CANCEL", oid, "TIME_IN_FORCE_EXPIRED")
    ]
    assert ledger.orders[oid]["state"] == "CANCELLED"


async def test_a_gtd_order_rests_with_its_time_and_a_past_or_missing_one_is_refused(
    calm: OandaClient,
) -> None:
    resting = await calm.submit(gtd_limit(time.time() + 3600))
    past = await calm.submit(gtd_limit(time.time() - 60))
    missing = await calm.submit(gtd_limit(None))  # type: ignore[arg-type]

    assert isinstance(resting, Resting), resting
    assert isinstance(past, Rejected) and past.code == "TIME_IN_FORCE_GTD_TIMESTAMP_IN_PAST"
    assert isinstance(missing, Rejected) and missing.code == "TIME_IN_FORCE_GTD_TIMESTAMP_MISSING"
