"""v20 JSON shapes shared by the local server and its ledger: times, prices, instruments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.quotes import Quote

Json = dict[str, Any]


def rfc3339(ts: float) -> str:
    """Epoch seconds as OANDA writes them: RFC3339 UTC with nine fractional digits."""
    whole = int(ts)
    nanos = round((ts - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    stamp = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


def price_json(quote: Quote, inst: Instrument, liquidity: int = 10_000_000) -> Json:
    """A quote as a v20 ``ClientPrice``."""
    bid, ask = str(inst.round_price(quote.bid)), str(inst.round_price(quote.ask))
    return {
        "type": "PRICE",
        "instrument": quote.instrument,
        "time": rfc3339(quote.ts),
        "status": "tradeable" if inst.tradeable else "non-tradeable",
        "tradeable": inst.tradeable,
        "bids": [{"price": bid, "liquidity": liquidity}],
        "asks": [{"price": ask, "liquidity": liquidity}],
        "closeoutBid": bid,
        "closeoutAsk": ask,
    }


def instrument_json(inst: Instrument) -> Json:
    """An instrument as v20 ``Instrument``."""
    return {
        "name": inst.name,
        "type": "CURRENCY",
        "displayName": inst.name.replace("_", "/"),
        "pipLocation": inst.pip_location,
        "displayPrecision": inst.display_precision,
        "tradeUnitsPrecision": 0,
        "minimumTradeSize": str(inst.min_units),
        "maximumTrailingStopDistance": "1.00000",
        "minimumTrailingStopDistance": "0.00050",
        "maximumPositionSize": "0",
        "maximumOrderUnits": str(inst.max_units),
        "marginRate": str(inst.margin_rate),
    }
