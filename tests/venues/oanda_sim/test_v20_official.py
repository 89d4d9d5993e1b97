"""OANDA's own ``v20`` package against our local server: if it parses us, we speak v20."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

v20 = pytest.importorskip("v20")

from tests.support.oanda import TOKEN  # noqa: E402
from tmt_tui.venues.oanda_sim.server import V20ServerThread  # noqa: E402


@pytest.fixture
def ctx(server: V20ServerThread) -> Iterator[object]:
    context = v20.Context("127.0.0.1", server.port, ssl=False, token=TOKEN)
    yield context


def test_account_summary_parses(ctx: object, server: V20ServerThread) -> None:
    response = ctx.account.summary(server.account_id)  # type: ignore[attr-defined]

    assert response.status == 200
    account = response.get("account", 200)
    assert account.id == server.account_id and account.currency == "USD"


def test_instruments_parse(ctx: object, server: V20ServerThread) -> None:
    response = ctx.account.instruments(server.account_id)  # type: ignore[attr-defined]

    names = {i.name: i for i in response.get("instruments", 200)}
    assert names["USD_JPY"].pipLocation == -2


def test_market_order_fills_through_the_official_client(
    ctx: object, server: V20ServerThread
) -> None:
    response = ctx.order.market(  # type: ignore[attr-defined]
        server.account_id,
        instrument="EUR_USD",
        units=-1000,
        clientExtensions={"id": "v20-official-1"},
        stopLossOnFill={"price": "1.20000"},
    )

    fill = response.get("orderFillTransaction", 201)
    assert fill.units == -1000 and fill.clientOrderID == "v20-official-1"
    assert fill.tradeOpened.units == -1000
    found = ctx.order.get(server.account_id, "@v20-official-1")  # type: ignore[attr-defined]
    assert found.get("order", 200).state == "FILLED"


def test_reject_parses_with_its_reason(ctx: object, server: V20ServerThread) -> None:
    response = ctx.order.market(server.account_id, instrument="NOPE_XXX", units=1)  # type: ignore[attr-defined]

    assert response.status == 400
    assert response.get("orderRejectTransaction", 400).rejectReason == "INSTRUMENT_UNKNOWN"


def test_pricing_stream_parses(server: V20ServerThread) -> None:
    stream_ctx = v20.Context("127.0.0.1", server.port, ssl=False, token=TOKEN)
    response = stream_ctx.pricing.stream(  # type: ignore[attr-defined]
        server.account_id, snapshot=True, instruments="EUR_USD,USD_JPY"
    )
    kinds: dict[str, int] = {}
    for kind, message in response.parts():
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "pricing.ClientPrice":
            assert message.bids[0].price < message.asks[0].price
        if kinds.get("pricing.ClientPrice", 0) >= 3 and "pricing.PricingHeartbeat" in kinds:
            break
    response.lines.close() if hasattr(response.lines, "close") else None

    assert kinds["pricing.ClientPrice"] >= 3
