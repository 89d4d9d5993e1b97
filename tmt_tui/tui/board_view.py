"""What the quote board shows, and in which order: the engine's watchlist, sorted the way the
trader chose, or one account's view of it.

The board (a widget) only paints rows; the choice of rows lives here, computed from the view
model, so every sort and view is a plain function a test can call. Sorts other than the
watchlist's own order move rows as prices move, so the frame pump applies them at most once a
`RESORT_SECONDS` (a row that jumps four times a second cannot be read, let alone clicked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from tmt_tui.domain.market import Regime
from tmt_tui.tui.state import QuoteRow, ViewModel

#: How often a sort by price (change, spread, regime) may reorder the rows.
RESORT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class BoardSort:
    """One way to order the board: its name on screen and its key (lower sorts first)."""

    name: str
    title: str
    live: bool  # the order moves with prices: re-sorted every RESORT_SECONDS
    key: Callable[[QuoteRow], tuple[object, ...]] | None = None


def _change(row: QuoteRow) -> tuple[object, ...]:
    """Biggest rise since first seen first (in percent: comparable across pairs); no quote last."""
    quote, first = row.quote, row.first_mid
    if quote is None or not first:
        return (1, Decimal(0), row.instrument.name)
    return (0, -(quote.mid - first) / first, row.instrument.name)


def _spread(row: QuoteRow) -> tuple[object, ...]:
    """Tightest spread in pips first (what is cheapest to trade now); no quote last."""
    quote = row.quote
    if quote is None:
        return (1, Decimal(0), row.instrument.name)
    return (0, quote.spread / row.instrument.pip, row.instrument.name)


_REGIME_ORDER = {
    Regime.TRENDING_UP: 0,
    Regime.TRENDING_DOWN: 1,
    Regime.VOLATILE: 2,
    Regime.RANGING: 3,
}


def _regime(row: QuoteRow) -> tuple[object, ...]:
    """Trends first (up, then down), then volatile, then ranging, then warming up."""
    regime = row.market.regime if row.market is not None else None
    return (_REGIME_ORDER.get(regime, 4) if regime is not None else 4, row.instrument.name)


def _name(row: QuoteRow) -> tuple[object, ...]:
    return (row.instrument.name,)


#: Every sort, in the order the sort key cycles through them; the first is the watchlist's own.
SORTS: tuple[BoardSort, ...] = (
    BoardSort("manual", "your order", live=False),
    BoardSort("name", "name", live=False, key=_name),
    BoardSort("change", "change %", live=True, key=_change),
    BoardSort("spread", "spread", live=True, key=_spread),
    BoardSort("regime", "regime", live=True, key=_regime),
)
BY_SORT: dict[str, BoardSort] = {sort.name: sort for sort in SORTS}


def next_sort(current: str) -> str:
    """The sort after `current` (the first after the last)."""
    names = [sort.name for sort in SORTS]
    index = names.index(current) if current in names else -1
    return names[(index + 1) % len(names)]


def account_instruments(model: ViewModel, account: str) -> list[str]:
    """What `account` is in: its positions' instruments, then its working orders' (each once)."""
    held = [p.instrument for p in model.positions.values() if p.account == account]
    held += [o.instrument for o in model.working_orders() if o.account == account]
    return list(dict.fromkeys(held))


def board_names(model: ViewModel, account: str | None = None) -> list[str]:
    """The instruments on the board in the watchlist's order; with `account`, only those it
    holds a position or a working order in (watched ones first, in watchlist order)."""
    watched = list(model.watchlist) if model.watchlist is not None else list(model.quotes)
    if account is None:
        return [name for name in watched if name in model.quotes]
    held = account_instruments(model, account)
    ordered = [name for name in watched if name in held] + [n for n in held if n not in watched]
    return [name for name in ordered if name in model.quotes]


def board_rows(
    model: ViewModel, sort: str = "manual", account: str | None = None
) -> list[QuoteRow]:
    """The rows the board shows, in the chosen sort."""
    rows = [model.quotes[name] for name in board_names(model, account)]
    key = BY_SORT.get(sort, SORTS[0]).key
    return sorted(rows, key=key) if key is not None else rows
