"""`tmt quote X --json` carries the engine's market state for X beside the quote."""

from __future__ import annotations

from tests.support.cli import Engine
from tmt_tui.domain.market import Regime, Signal


def test_a_quote_says_the_instrument_s_regime_signal_and_indicators(engine: Engine) -> None:
    quote = engine.json("quote", "EUR_USD")

    market = quote["market"]
    assert market["instrument"] == "EUR_USD" and market["size"] == "M1"
    assert market["regime"] in {r.value for r in Regime}  # "" while it warms up
    assert market["signal"] in {s.value for s in Signal}
    for key in ("ema_fast", "ema_slow", "sma", "rsi", "atr", "bb_upper", "bb_lower", "closes"):
        assert key in market
