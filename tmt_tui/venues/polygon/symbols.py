"""Polygon / Massive topics <-> tmt instrument names, by one documented rule.

======  ==================  =====================  ==============================
kind    instrument          Polygon symbol         topics (quotes, trades, bars)
======  ==================  =====================  ==============================
FX      ``EUR_USD``         ``EUR/USD``            ``C``, ``CA`` / ``CAS``
stock   ``AAPL``            ``AAPL``               ``Q``, ``T``, ``A`` / ``AM``
crypto  ``BTC_USD``         ``BTC-USD``            ``XQ``, ``XT``, ``XA``
======  ==================  =====================  ==============================

A topic is ``EV.SYMBOL`` (``C.EUR/USD``); the WebSocket never takes the REST prefixes
(``C:EURUSD``, ``X:BTCUSD``). The kind comes from the name (``domain.instruments.kind_of``).
Each kind lives on its own cluster path: ``/forex``, ``/stocks``, ``/crypto``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmt_tui.domain.instruments import InstrumentKind, kind_of

#: The cluster path each kind is served on.
MARKET = {
    InstrumentKind.FX: "forex",
    InstrumentKind.STOCK: "stocks",
    InstrumentKind.CRYPTO: "crypto",
}

#: Event codes by kind: (quote, trade, second bars, minute bars); FX has no trades.
EVENTS = {
    InstrumentKind.FX: ("C", None, "CAS", "CA"),
    InstrumentKind.STOCK: ("Q", "T", "A", "AM"),
    InstrumentKind.CRYPTO: ("XQ", "XT", "XAS", "XA"),
}


@dataclass(frozen=True, slots=True)
class Topics:
    """Which event streams to subscribe for every instrument: quotes always (they price the
    board), trades and bars when asked."""

    trades: bool = False
    bars: str = ""  # "", "second" or "minute"

    def codes(self, kind: InstrumentKind) -> list[str]:
        quote, trade, second, minute = EVENTS[kind]
        codes = [quote]
        if self.trades and trade is not None:
            codes.append(trade)
        if self.bars == "second":
            codes.append(second)
        elif self.bars == "minute":
            codes.append(minute)
        return codes


def symbol_of(instrument: str) -> str:
    """The Polygon symbol of a tmt instrument: ``EUR_USD`` -> ``EUR/USD``, ``BTC_USD`` ->
    ``BTC-USD``, ``AAPL`` -> ``AAPL``."""
    kind = kind_of(instrument)
    if kind is InstrumentKind.FX:
        return instrument.replace("_", "/")
    if kind is InstrumentKind.CRYPTO:
        return instrument.replace("_", "-")
    return instrument


def instrument_of(symbol: str) -> str:
    """The tmt instrument of a Polygon symbol (a pair, a crypto pair or a ticker)."""
    return (
        symbol.replace("/", "_").replace("-", "_") if ("/" in symbol or "-" in symbol) else symbol
    )


def subscription(instruments: list[str], topics: Topics) -> dict[str, list[str]]:
    """Per cluster path, the topics to subscribe: ``{"forex": ["C.EUR/USD", ...]}``."""
    by_market: dict[str, list[str]] = {}
    for name in instruments:
        kind = kind_of(name)
        symbol = symbol_of(name)
        topics_here = by_market.setdefault(MARKET[kind], [])
        topics_here.extend(f"{code}.{symbol}" for code in topics.codes(kind))
    return by_market
