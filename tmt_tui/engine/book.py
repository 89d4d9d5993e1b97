"""The latest quote per instrument, and currency conversion through it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.quotes import Quote

ONE = Decimal(1)

# A conversion path is a list of (instrument, invert): multiply mids, inverting where flagged.
Path = tuple[tuple[str, bool], ...]


class QuoteBook:
    """Latest quotes plus precomputed conversion paths (direct, else through USD)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments: dict[str, Instrument] = {i.name: i for i in instruments}
        self.quotes: dict[str, Quote] = {}
        # float mirrors of bid / ask for marks and risk arithmetic (prices stay Decimal in quotes)
        self.fbid: dict[str, float] = {}
        self.fask: dict[str, float] = {}
        self._paths: dict[tuple[str, str], Path | None] = {}

    def __getitem__(self, instrument: str) -> Quote:
        return self.quotes[instrument]

    def get(self, instrument: str) -> Quote | None:
        return self.quotes.get(instrument)

    def update(self, quote: Quote) -> None:
        name = quote.instrument
        self.quotes[name] = quote
        self.fbid[name] = float(quote.bid)
        self.fask[name] = float(quote.ask)

    def path(self, from_ccy: str, to_ccy: str) -> Path | None:
        """How to convert ``from_ccy`` into ``to_ccy`` with the pairs we quote, or None."""
        key = (from_ccy, to_ccy)
        if key not in self._paths:
            self._paths[key] = self._find_path(from_ccy, to_ccy)
        return self._paths[key]

    def _direct(self, a: str, b: str) -> Path | None:
        if a == b:
            return ()
        if f"{a}_{b}" in self.instruments:
            return ((f"{a}_{b}", False),)
        if f"{b}_{a}" in self.instruments:
            return ((f"{b}_{a}", True),)
        return None

    def _find_path(self, a: str, b: str) -> Path | None:
        direct = self._direct(a, b)
        if direct is not None:
            return direct
        first, second = self._direct(a, "USD"), self._direct("USD", b)
        if first is None or second is None:
            return None
        return first + second

    def rate(self, from_ccy: str, to_ccy: str) -> Decimal | None:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at current mids, or None without prices."""
        path = self.path(from_ccy, to_ccy)
        if path is None:
            return None
        rate = ONE
        for instrument, invert in path:
            quote = self.quotes.get(instrument)
            if quote is None:
                return None
            mid = (quote.bid + quote.ask) / 2
            rate = rate / mid if invert else rate * mid
        return rate

    def frate(self, from_ccy: str, to_ccy: str) -> float | None:
        """``rate`` in floats: for marks and limits, never for booked money."""
        path = self.path(from_ccy, to_ccy)
        if path is None:
            return None
        rate = 1.0
        fbid, fask = self.fbid, self.fask
        for instrument, invert in path:
            bid = fbid.get(instrument)
            if bid is None:
                return None
            mid = (bid + fask[instrument]) * 0.5
            rate = rate / mid if invert else rate * mid
        return rate

    def depends_on(self, from_ccy: str, to_ccy: str) -> tuple[str, ...]:
        path = self.path(from_ccy, to_ccy)
        return tuple(name for name, _ in path) if path else ()
