"""Prices for the local Polygon server: the sim's FX pairs from its market, and a seeded random
walk for the stocks and crypto pairs it also serves."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tmt_tui.venues.sim.market import SimMarket
from tmt_tui.venues.sim.universe import SPECS


@dataclass(frozen=True, slots=True)
class Listing:
    """A stock or crypto pair the local server quotes: start price, tick, spread in ticks."""

    start: float
    tick: float
    spread_ticks: int
    annual_vol: float


#: What the local server quotes beside the sim's FX pairs.
LISTINGS: dict[str, Listing] = {
    "AAPL": Listing(232.50, 0.01, 2, 0.25),
    "MSFT": Listing(418.20, 0.01, 3, 0.22),
    "SPY": Listing(598.40, 0.01, 1, 0.15),
    "BTC_USD": Listing(97_250.0, 0.01, 800, 0.55),
    "ETH_USD": Listing(3_620.0, 0.01, 60, 0.65),
}


class Tape:
    """The next bid / ask of every instrument it knows, as floats rounded to its tick."""

    def __init__(self, seed: int = 11, ticks_per_second: float = 4.0) -> None:
        self._fx = SimMarket(seed=seed, ticks_per_second=ticks_per_second)
        self._rng = random.Random(seed)
        self._mid = {name: listing.start for name, listing in LISTINGS.items()}
        per_year = 252 * 8 * 3600 * ticks_per_second
        self._sigma = {n: v.annual_vol / math.sqrt(per_year) for n, v in LISTINGS.items()}

    @staticmethod
    def knows(name: str) -> bool:
        return name in SPECS or name in LISTINGS

    @staticmethod
    def names() -> list[str]:
        return [*SPECS, *LISTINGS]

    def step(self, name: str) -> tuple[float, float]:
        """Move ``name`` one tick: (bid, ask)."""
        if name in SPECS:
            quote = self._fx.step(name)
            return float(quote.bid), float(quote.ask)
        listing = LISTINGS[name]
        mid = self._mid[name] * math.exp(self._sigma[name] * self._rng.gauss(0.0, 1.0))
        self._mid[name] = mid
        half = listing.spread_ticks * listing.tick / 2
        digits = max(0, -int(math.floor(math.log10(listing.tick))))
        bid = round(mid - half, digits)
        return bid, round(max(mid + half, bid + listing.tick), digits)
