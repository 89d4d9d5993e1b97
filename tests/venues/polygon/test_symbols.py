"""Polygon symbols <-> tmt instruments, by the documented rule; the kind decides the topics."""

from __future__ import annotations

import pytest

from tmt_tui.domain.instruments import InstrumentKind, kind_of
from tmt_tui.venues.polygon.symbols import Topics, instrument_of, subscription, symbol_of


@pytest.mark.parametrize(
    ("instrument", "symbol", "kind"),
    [
        ("EUR_USD", "EUR/USD", InstrumentKind.FX),
        ("USD_JPY", "USD/JPY", InstrumentKind.FX),
        ("AAPL", "AAPL", InstrumentKind.STOCK),
        ("BTC_USD", "BTC-USD", InstrumentKind.CRYPTO),
        ("ETH_EUR", "ETH-EUR", InstrumentKind.CRYPTO),
    ],
)
def test_each_instrument_has_one_symbol_and_back(
    instrument: str, symbol: str, kind: InstrumentKind
) -> None:
    assert kind_of(instrument) is kind
    assert symbol_of(instrument) == symbol
    assert instrument_of(symbol) == instrument


def test_quotes_are_always_subscribed_trades_and_bars_when_asked() -> None:
    names = ["EUR_USD", "AAPL", "BTC_USD"]

    assert subscription(names, Topics()) == {
        "forex": ["C.EUR/USD"],
        "stocks": ["Q.AAPL"],
        "crypto": ["XQ.BTC-USD"],
    }
    assert subscription(names, Topics(trades=True, bars="minute")) == {
        "forex": ["C.EUR/USD", "CA.EUR/USD"],  # forex has no trades
        "stocks": ["Q.AAPL", "T.AAPL", "AM.AAPL"],
        "crypto": ["XQ.BTC-USD", "XT.BTC-USD", "XA.BTC-USD"],
    }
    assert subscription(["GBP_USD"], Topics(bars="second")) == {
        "forex": ["C.GBP/USD", "CAS.GBP/USD"]
    }
