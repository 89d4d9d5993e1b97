"""The latest quote per instrument, and currency conversion through it."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tmt_tui.domain.conversion import Path, conversion_paths, rate_along
from tmt_tui.domain.instruments import Instrument, InstrumentKind
from tmt_tui.domain.quotes import Quote


class QuoteBook:
    """Latest quotes plus precomputed conversion paths (direct, then through USD)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self.instruments: dict[str, Instrument] = {i.name: i for i in instruments}
        self.quotes: dict[str, Quote] = {}
        # float mirrors of bid / ask for marks and risk arithmetic (prices stay Decimal in quotes)
        self.fbid: dict[str, float] = {}
        self.fask: dict[str, float] = {}
        self._paths: dict[tuple[str, str], tuple[Path, ...]] = {}
        #: Only currency pairs convert money: ``BTC_USD`` or a ticker is never a rate.
        self._pairs = {n for n, i in self.instruments.items() if i.kind is InstrumentKind.FX}

    def add(self, instrument: Instrument) -> None:
        """Learn an instrument while trading (one put on the watchlist): a pair may open a
        better conversion path, so the paths are worked out again as they are asked for."""
        self.instruments[instrument.name] = instrument
        if instrument.kind is InstrumentKind.FX:
            self._pairs.add(instrument.name)
            self._paths.clear()

    def __getitem__(self, instrument: str) -> Quote:
        return self.quotes[instrument]

    def get(self, instrument: str) -> Quote | None:
        return self.quotes.get(instrument)

    def update(self, quote: Quote) -> None:
        name = quote.instrument
        self.quotes[name] = quote
        self.fbid[name] = float(quote.bid)
        self.fask[name] = float(quote.ask)

    def paths(self, from_ccy: str, to_ccy: str) -> tuple[Path, ...]:
        """How to convert ``from_ccy`` into ``to_ccy`` with the pairs we quote, best first."""
        key = (from_ccy, to_ccy)
        found = self._paths.get(key)
        if found is None:
            found = self._paths[key] = conversion_paths(self._pairs, from_ccy, to_ccy)
        return found

    def convertible(self, from_ccy: str, to_ccy: str) -> bool:
        """Whether any quoted pairs can convert ``from_ccy`` into ``to_ccy`` (prices or not)."""
        return bool(self.paths(from_ccy, to_ccy))

    def _mid(self, instrument: str) -> Decimal | None:
        quote = self.quotes.get(instrument)
        return None if quote is None else (quote.bid + quote.ask) / 2

    def rate(self, from_ccy: str, to_ccy: str) -> Decimal | None:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at current mids, or None without prices
        (a direct pair with no price yet falls back to the cross through USD)."""
        return rate_along(self.paths(from_ccy, to_ccy), self._mid)

    def frate(self, from_ccy: str, to_ccy: str) -> float | None:
        """``rate`` in floats: for marks and limits, never for booked money (the hot path: a
        call per book per tick)."""
        paths = self._paths.get((from_ccy, to_ccy))
        if paths is None:
            paths = self.paths(from_ccy, to_ccy)
        fbid, fask = self.fbid, self.fask
        for path in paths:
            rate = 1.0
            for instrument, invert in path:
                bid = fbid.get(instrument)
                if bid is None:
                    break
                mid = (bid + fask[instrument]) * 0.5
                rate = rate / mid if invert else rate * mid
            else:
                return rate
        return None

    def depends_on(self, from_ccy: str, to_ccy: str) -> tuple[str, ...]:
        """The instruments whose ticks re-mark this conversion: the preferred path's. (A
        fallback is used only until the preferred pair first quotes; a book's own ticks and the
        periodic revaluation cover that window, at no cost to every tick after it.)"""
        paths = self.paths(from_ccy, to_ccy)
        return tuple(name for name, _ in paths[0]) if paths else ()
