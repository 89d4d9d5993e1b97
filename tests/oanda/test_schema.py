"""Server responses checked against OANDA's own OpenAPI definitions (the contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tmt_tui.venues.oanda.server import ServerThread

from .conftest import TOKEN

jsonschema = pytest.importorskip("jsonschema")
SPEC = Path("/work/shared/reference/oanda-v20-openapi/v20.json")
if not SPEC.exists():
    pytest.skip("the v20 OpenAPI spec is not available here", allow_module_level=True)
DEFINITIONS = json.loads(SPEC.read_text())["definitions"]


def check(definition: str, instance: Any) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": DEFINITIONS}
    jsonschema.Draft4Validator(schema).validate(instance)


def get(server: ServerThread, path: str, **params: str) -> Any:
    response = httpx.get(
        f"{server.url}/v3/accounts/{server.account_id}{path}",
        params=params,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    return response.json()


def test_account_matches_the_spec(server: ServerThread) -> None:
    check("Account", get(server, "")["account"])
    check("AccountSummary", get(server, "/summary")["account"])


def test_instruments_match_the_spec(server: ServerThread) -> None:
    for instrument in get(server, "/instruments")["instruments"]:
        check("Instrument", instrument)


def test_client_price_matches_the_spec(server: ServerThread) -> None:
    for price in get(server, "/pricing", instruments="EUR_USD,USD_JPY")["prices"]:
        check("ClientPrice", price)


def test_order_fill_and_trade_match_the_spec(server: ServerThread) -> None:
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
