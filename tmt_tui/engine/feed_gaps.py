"""Comparing feeds: another feed's mid against the price accounts trade at, per instrument.

Two feeds for one pair never agree to the tick (different liquidity, different moments), so a
gap counts only beyond ``engine.feeds_apart_pips``; the board shows it at once, and an alert fires
only when it has lasted ``engine.feeds_apart_for_s`` (a feed stuck on an old price, a wrong
symbol map, a venue off-market), and clears when the feeds agree again.
"""

from __future__ import annotations

from dataclasses import dataclass

from tmt_tui.domain.quotes import FeedQuote, Quote
from tmt_tui.engine.quote_book import QuoteBook

#: Alert keys: ``feeds.apart:EUR_USD:polygon``.
ALERT_PREFIX = "feeds.apart:"


@dataclass(frozen=True, slots=True)
class GapAlert:
    key: str
    active: bool
    message: str


class FeedGaps:
    """The latest quote of every other feed, its gap to the trading price, and how long the
    feeds have been apart."""

    def __init__(self, quotes: QuoteBook, apart_pips: float, apart_for_s: float) -> None:
        self._quotes = quotes
        self._apart_pips = apart_pips
        self._apart_for_s = apart_for_s
        self.latest: dict[tuple[str, str], FeedQuote] = {}
        self._since: dict[tuple[str, str], float] = {}  # apart since (engine clock)
        self._alerted: set[tuple[str, str]] = set()

    def compare(self, feed: str, quote: Quote, now: float) -> FeedQuote | None:
        """Record ``feed``'s quote; the comparison to publish, or None while nothing trades the
        instrument at a price yet."""
        compared = self._measure(feed, quote)
        if compared is not None:
            self._record(compared, now)
        return compared

    def _record(self, compared: FeedQuote, now: float) -> None:
        key = (compared.feed, compared.quote.instrument)
        self.latest[key] = compared
        if compared.apart:
            self._since.setdefault(key, now)
        else:
            self._since.pop(key, None)

    def _measure(self, feed: str, quote: Quote) -> FeedQuote | None:
        mine = self._quotes.get(quote.instrument)
        inst = self._quotes.instruments.get(quote.instrument)
        if mine is None or inst is None:
            return None
        gap = round(float(quote.mid - mine.mid) / float(inst.pip), 1)
        return FeedQuote(feed, quote, gap, abs(gap) > self._apart_pips)

    def refresh(self, now: float) -> list[FeedQuote]:
        """Re-measure every feed against the trading price as it is now (it moves between the
        other feed's ticks); the comparisons whose verdict changed."""
        changed = []
        for was in list(self.latest.values()):
            measured = self._measure(was.feed, was.quote)
            if measured is None:
                continue
            self._record(measured, now)
            if measured.apart != was.apart:
                changed.append(measured)
        return changed

    def alerts(self, now: float) -> list[GapAlert]:
        """Alerts to raise (apart long enough) and to clear (together again)."""
        out = []
        for key, since in self._since.items():
            if key not in self._alerted and now - since >= self._apart_for_s:
                self._alerted.add(key)
                out.append(GapAlert(_key(key), True, self._describe(key, now - since)))
        for key in sorted(self._alerted - set(self._since)):
            self._alerted.discard(key)
            feed, instrument = key
            out.append(
                GapAlert(_key(key), False, f"{instrument}: {feed} agrees with the trading price")
            )
        return out

    def _describe(self, key: tuple[str, str], lasted: float) -> str:
        compared = self.latest[key]
        mine = self._quotes.get(compared.quote.instrument)
        theirs = compared.quote.mid
        where = "above" if compared.gap_pips > 0 else "below"
        return (
            f"{compared.quote.instrument}: {compared.feed} mid {theirs} is "
            f"{abs(compared.gap_pips):.1f} pips {where} the trading mid "
            f"{mine.mid if mine else '?'} for {lasted:.0f}s (limit "
            f"{self._apart_pips:g} pips): check the feeds before trading on either"
        )


def _key(key: tuple[str, str]) -> str:
    feed, instrument = key
    return f"{ALERT_PREFIX}{instrument}:{feed}"
