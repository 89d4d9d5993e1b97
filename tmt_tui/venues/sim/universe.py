"""The sim's ~20 FX pairs with realistic mids, spreads and volatility (late-2026 levels)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tmt_tui.domain.instruments import Instrument


@dataclass(frozen=True, slots=True)
class PairSpec:
    name: str
    mid: float
    spread_pips: float
    annual_vol: float  # fraction per year, e.g. 0.08
    precision: int
    pip_location: int
    margin_rate: str


PAIRS: tuple[PairSpec, ...] = (
    PairSpec("EUR_USD", 1.0850, 0.8, 0.07, 5, -4, "0.0333"),
    PairSpec("GBP_USD", 1.2700, 1.1, 0.08, 5, -4, "0.0333"),
    PairSpec("USD_JPY", 151.20, 1.0, 0.10, 3, -2, "0.0333"),
    PairSpec("USD_CHF", 0.8850, 1.4, 0.07, 5, -4, "0.0333"),
    PairSpec("AUD_USD", 0.6550, 1.0, 0.10, 5, -4, "0.0333"),
    PairSpec("USD_CAD", 1.3650, 1.6, 0.06, 5, -4, "0.0333"),
    PairSpec("NZD_USD", 0.6000, 1.6, 0.10, 5, -4, "0.05"),
    PairSpec("EUR_JPY", 164.00, 1.6, 0.09, 3, -2, "0.05"),
    PairSpec("GBP_JPY", 192.00, 2.5, 0.11, 3, -2, "0.05"),
    PairSpec("EUR_GBP", 0.8540, 1.2, 0.05, 5, -4, "0.05"),
    PairSpec("AUD_JPY", 99.00, 1.8, 0.12, 3, -2, "0.05"),
    PairSpec("EUR_CHF", 0.9600, 1.8, 0.05, 5, -4, "0.05"),
    PairSpec("AUD_CAD", 0.8940, 2.0, 0.08, 5, -4, "0.05"),
    PairSpec("GBP_CHF", 1.1240, 2.8, 0.08, 5, -4, "0.05"),
    PairSpec("EUR_AUD", 1.6560, 2.2, 0.08, 5, -4, "0.05"),
    PairSpec("CAD_JPY", 110.80, 2.0, 0.10, 3, -2, "0.05"),
    PairSpec("NZD_JPY", 90.70, 2.4, 0.12, 3, -2, "0.05"),
    PairSpec("AUD_NZD", 1.0920, 2.6, 0.06, 5, -4, "0.05"),
    PairSpec("CHF_JPY", 170.80, 2.6, 0.10, 3, -2, "0.05"),
    PairSpec("GBP_AUD", 1.9390, 3.0, 0.09, 5, -4, "0.05"),
)

SPECS: dict[str, PairSpec] = {p.name: p for p in PAIRS}


def instruments(names: tuple[str, ...] = ()) -> tuple[Instrument, ...]:
    """The sim's instruments: all of them, or the named subset (unknown names raise KeyError)."""
    chosen = [SPECS[n] for n in names] if names else list(PAIRS)
    return tuple(
        Instrument(
            name=p.name,
            display_precision=p.precision,
            pip_location=p.pip_location,
            margin_rate=Decimal(p.margin_rate),
            min_units=1,
            max_units=100_000_000,
        )
        for p in chosen
    )
