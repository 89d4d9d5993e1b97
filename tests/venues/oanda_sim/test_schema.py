"""Server responses checked against OANDA's own OpenAPI definitions (the contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.support.oanda import TOKEN
from tmt_tui.venues.oanda_sim.server import V20ServerThread

#: OANDA's v20 OpenAPI definitions (MIT, ``data/LICENSE.txt``), kept beside the test so every
#: clone checks the contract instead of skipping it.
SPEC = Path(__file__).parent / "data" / "v20.json"
DEFINITIONS = json.loads(SPEC.read_text(encoding="utf-8"))["definitions"]


def check(definition: str, instance: Any) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": DEFINITIONS}
    jsonschema.Draft4Validator(schema).validate(instance)


def get(server: V20ServerThread, path: str, **params: str) -> Any:
    response = httpx.get(
        f"{server.url}/v3/accounts/{server.account_id}{path}",
        params=params,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return response.json()


def test_account_matches_the_spec(server: V20ServerThread) -> None:
    check("Account", get(server, "")["account"])
    check("AccountSummary", get(server, "/summary")["account"])


def test_instruments_match_the_spec(server: V20ServerThread) -> None:
    for instrument in get(server, "/instruments")["instruments"]:
        check("Instrument", instrument)


def test_client_price_matches_the_spec(server: V20ServerThread) -> None:
    for price in get(server, "/pricing", instruments="EUR_USD,USD_JPY")["prices"]:
        check("ClientPrice", price)


def test_order_fill_and_trade_match_the_spec(server: V20ServerThread) -> None:
    body = httpx.post(
        f"{server.url}/v3/accounts/{server.account_id}/orders",
        json={
            "order": {
                "type": "MARKET",
                "instrument": "EUR_USD",
                "units": "100",
                "takeProfitOnFill": {"price": "1.30000"},
            }
        },  # fmt: skip
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()

    check("MarketOrderTransaction", body["orderCreateTransaction"])
    check("OrderFillTransaction", body["orderFillTransaction"])
    for trade in get(server, "/openTrades")["trades"]:
        check("Trade", trade)
    for txn in get(server, "/transactions/sinceid", id="0")["transactions"]:
        check("Transaction", txn)


def put(server: V20ServerThread, path: str, body: Any = None) -> Any:
    response = httpx.put(
        f"{server.url}/v3/accounts/{server.account_id}{path}",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return response.json()


def post_order(server: V20ServerThread, order: dict[str, Any]) -> Any:
    return httpx.post(
        f"{server.url}/v3/accounts/{server.account_id}/orders",
        json={"order": order},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).json()


def test_replace_and_cancel_reject_match_the_spec(server: V20ServerThread) -> None:
    limit = {"type": "LIMIT", "instrument": "EUR_USD", "units": "100", "price": "1.00000",
             "clientExtensions": {"id": "schema-1"}}  # fmt: skip
    created = post_order(server, limit)["orderCreateTransaction"]

    body = put(server, "/orders/@schema-1", {"order": {**limit, "price": "1.01000"}})
    unknown = put(server, "/orders/999999", {"order": limit})

    check("OrderCancelTransaction", body["orderCancelTransaction"])
    check("LimitOrderTransaction", body["orderCreateTransaction"])
    assert body["orderCreateTransaction"]["replacesOrderID"] == created["id"]
    check("OrderCancelRejectTransaction", unknown["orderCancelRejectTransaction"])
    for order in get(server, "/pendingOrders")["orders"]:
        check("LimitOrder", order)
    check("LimitOrder", get(server, f"/orders/{created['id']}")["order"])


def test_trade_orders_closes_and_positions_match_the_spec(server: V20ServerThread) -> None:
    market = {"type": "MARKET", "instrument": "EUR_USD", "units": "300",
              "trailingStopLossOnFill": {"distance": "0.01000"}}  # fmt: skip
    fill = post_order(server, market)["orderFillTransaction"]
    trade_id = fill["tradeOpened"]["tradeID"]

    orders = put(
        server,
        f"/trades/{trade_id}/orders",
        {
            "takeProfit": {"price": "1.90000"},
            "stopLoss": {"price": "0.50000"},
            "trailingStopLoss": {"distance": "0.02000"},
        },  # fmt: skip
    )
    check("TakeProfitOrderTransaction", orders["takeProfitOrderTransaction"])
    check("StopLossOrderTransaction", orders["stopLossOrderTransaction"])
    check("TrailingStopLossOrderTransaction", orders["trailingStopLossOrderTransaction"])
    check("OrderCancelTransaction", orders["trailingStopLossOrderCancelTransaction"])
    (trade,) = get(server, "/openTrades")["trades"]
    check("Trade", trade)
    check("TrailingStopLossOrder", trade["trailingStopLossOrder"])
    for position in get(server, "/openPositions")["positions"]:
        check("Position", position)

    part = put(server, f"/trades/{trade_id}/close", {"units": "100"})
    check("MarketOrderTransaction", part["orderCreateTransaction"])
    check("OrderFillTransaction", part["orderFillTransaction"])
    too_many = put(server, f"/trades/{trade_id}/close", {"units": "1000"})
    check("MarketOrderRejectTransaction", too_many["orderRejectTransaction"])

    closeout = put(server, "/positions/EUR_USD/close", {"longUnits": "ALL"})
    check("MarketOrderTransaction", closeout["longOrderCreateTransaction"])
    check("OrderFillTransaction", closeout["longOrderFillTransaction"])
    nothing = put(server, "/positions/EUR_USD/close", {"shortUnits": "ALL"})
    check("MarketOrderRejectTransaction", nothing["shortOrderRejectTransaction"])

    for txn in get(server, "/transactions/sinceid", id="0")["transactions"]:
        check("Transaction", txn)
        check(txn["type"].title().replace("_", "") + "Transaction", txn)
