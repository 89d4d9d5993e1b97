"""Accounts, positions and trades: exact cash and realized P&L, live marks.

Balances and realized P&L are Decimal, rounded to 4 places of the account currency per closed
piece (as OANDA books them). Unrealized P&L, margin and exposure are marks: long positions at
the bid, shorts at the ask, converted at current mids; they are recomputed whenever a quote
they depend on ticks, so risk checks read them in O(1). Marks are floats (a mark is an
estimate, and Decimal arithmetic on every tick cost 3x the quote budget); they become Decimal,
rounded to 4 places, when published, and a full revaluation bounds any drift of the sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

from tmt_tui.config import AccountSettings, RiskLimits
from tmt_tui.domain.netting import reduce_order
from tmt_tui.domain.positions import AccountState, Position, Trade, TradingState
from tmt_tui.engine.quote_book import QuoteBook

ZERO = Decimal(0)
CENT4 = Decimal("0.0001")


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT4, rounding=ROUND_HALF_EVEN)


class UnknownInstrument(KeyError):
    """A position (from the journal) in an instrument this engine was not configured with."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class OpenTrade:
    """A mutable open lot inside the portfolio (published as a frozen ``Trade``)."""

    __slots__ = (
        "id", "units", "initial_units", "price", "open_ts", "tp_id", "sl_id", "realized",
        "best", "worst",
    )  # fmt: skip

    def __init__(self, trade_id: str, units: int, price: Decimal, open_ts: float) -> None:
        self.id = trade_id
        self.units = units
        self.initial_units = units
        self.price = price
        self.open_ts = open_ts
        self.tp_id: str | None = None
        self.sl_id: str | None = None
        self.realized = ZERO
        # the best and worst prices it could have been closed at while open (bid for a long,
        # ask for a short): its favourable and adverse excursions (MFE, MAE)
        self.best = self.worst = float(price)

    def excursions(self) -> tuple[float, float]:
        """(MAE, MFE) so far, as price distances (never negative)."""
        entry = float(self.price)
        if self.initial_units > 0:
            return max(0.0, entry - self.worst), max(0.0, self.best - entry)
        return max(0.0, self.worst - entry), max(0.0, entry - self.best)


class PositionBook:
    """One account's holding of one instrument: FIFO trades plus cached marks."""

    __slots__ = (
        "account", "instrument", "quote_ccy", "base_ccy", "margin_rate", "trades",
        "units", "cost", "fcost", "fmargin_rate", "realized", "upl", "margin", "exposure",
        "trades_view",
    )  # fmt: skip

    def __init__(
        self, account: str, instrument: str, quote_ccy: str, base_ccy: str, margin_rate: Decimal
    ) -> None:
        self.account = account
        self.instrument = instrument
        self.quote_ccy = quote_ccy
        self.base_ccy = base_ccy
        self.margin_rate = margin_rate
        self.trades: list[OpenTrade] = []
        self.units = 0
        self.cost = ZERO  # sum of price x units over open trades, in quote currency
        self.fcost = 0.0
        self.fmargin_rate = float(margin_rate)
        self.realized = ZERO
        self.upl = 0.0  # marks, in the account currency
        self.margin = 0.0
        self.exposure = 0.0
        self.trades_view: tuple[Trade, ...] | None = None  # published form, until trades change

    def recount(self) -> None:
        self.trades_view = None
        self.units = sum(t.units for t in self.trades)
        self.cost = sum((t.price * t.units for t in self.trades), ZERO)
        self.fcost = float(self.cost)


class Account:
    """One account's money and state; the marks are sums over its books."""

    __slots__ = (
        "id", "currency", "balance", "opening", "realized", "financing", "transfers",
        "day_start_equity", "state", "reason", "breached", "upl", "margin", "exposure", "limits",
    )  # fmt: skip

    def __init__(self, settings: AccountSettings) -> None:
        self.id = settings.id
        self.currency = settings.currency
        self.balance = settings.balance
        # balance == opening + realized + financing + transfers, always (the ledger identity)
        self.opening = settings.balance
        self.realized = ZERO
        self.financing = ZERO
        self.transfers = ZERO  # deposits, withdrawals and any other venue correction
        self.day_start_equity = settings.balance
        self.state = TradingState.ACTIVE
        self.reason = ""
        self.breached = False
        self.upl = 0.0  # marks (floats), in the account currency
        self.margin = 0.0
        self.exposure = 0.0
        self.limits: RiskLimits = settings.risk

    @property
    def equity(self) -> Decimal:
        """Balance plus unrealized P&L, rounded to 4 places."""
        return self.balance + round_money(Decimal(self.upl))

    @property
    def fequity(self) -> float:
        return float(self.balance) + self.upl


class Portfolio:
    """Every account's books; applies fills and keeps marks current."""

    def __init__(self, book: QuoteBook) -> None:
        self.quotes = book
        self.accounts: dict[str, Account] = {}
        self.books: dict[tuple[str, str], PositionBook] = {}
        self._dependents: dict[str, set[tuple[str, str]]] = {}
        self._books_of: dict[str, list[PositionBook]] = {}  # instrument -> its books

    def open_account(self, settings: AccountSettings) -> None:
        if settings.id not in self.accounts:
            self.accounts[settings.id] = Account(settings)
        else:
            self.accounts[settings.id].limits = settings.risk

    def book_for(self, account: str, instrument: str) -> PositionBook:
        key = (account, instrument)
        book = self.books.get(key)
        if book is None:
            inst = self.quotes.instruments.get(instrument)
            if inst is None:
                raise UnknownInstrument(instrument)
            book = PositionBook(account, instrument, inst.quote, inst.base, inst.margin_rate)
            self.books[key] = book
            self._books_of.setdefault(instrument, []).append(book)
            currency = self.accounts[account].currency
            for name in (instrument, *self.quotes.depends_on(inst.quote, currency)):
                self._dependents.setdefault(name, set()).add(key)
        return book

    def units(self, account: str, instrument: str) -> int:
        book = self.books.get((account, instrument))
        return book.units if book is not None else 0

    # fills ----------------------------------------------------------------------------------

    def apply_fill(
        self,
        account: str,
        instrument: str,
        units: int,
        price: Decimal,
        rate: Decimal | None,
        fill_id: str,
        ts: float,
        trade_id: str | None = None,
        closes: Sequence[tuple[str, int, Decimal]] | None = None,
    ) -> list[OpenTrade]:
        """Net a fill into the book; returns the trades it closed.

        With ``closes`` (trade id, units signed like the fill, realized in the account currency)
        the venue booked the P&L: exactly those trades and amounts are taken. Without, the named
        trade goes first for this fill only, then FIFO (``domain.netting``), and ``rate``
        converts quote currency into the account currency; it is part of the journaled fill so
        that replay books exactly the same P&L.
        """
        book = self.book_for(account, instrument)
        acct = self.accounts[account]
        trades = book.trades
        closed: list[OpenTrade] = []
        remaining = units
        if closes is not None:
            for close_id, step, pnl in closes:
                trade = next((t for t in trades if t.id == close_id and t.units), None)
                if trade is None:  # not in our book: the oldest, and reconciliation will see
                    trade = next(
                        (t for t in trades if t.units and (t.units > 0) != (step > 0)), None
                    )
                if trade is None:
                    acct.realized += pnl
                    acct.balance += pnl
                    book.realized += pnl
                    remaining -= step
                    continue
                self._realize(book, acct, trade, -step, pnl)
                remaining -= step
                if trade.units == 0:
                    closed.append(trade)
        else:
            sequence = (
                range(len(trades))
                if trade_id is None
                else reduce_order([t.id for t in trades], trade_id)
            )
            for i in sequence:
                trade = trades[i]
                if not remaining or (trade.units > 0) == (remaining > 0):
                    break
                if rate is None:
                    raise ValueError(f"fill {fill_id} closes {trade.id} without a conversion rate")
                take = min(abs(remaining), abs(trade.units))
                closing = take if trade.units > 0 else -take  # in the trade's direction
                self._realize(
                    book, acct, trade, closing, round_money((price - trade.price) * closing * rate)
                )
                remaining += closing
                if trade.units == 0:
                    closed.append(trade)
        if closed:
            trades[:] = [t for t in trades if t.units]
        if remaining:
            trades.append(OpenTrade(fill_id, remaining, price, ts))
        book.recount()
        self.mark_book(book)
        return closed

    @staticmethod
    def _realize(
        book: PositionBook, acct: Account, trade: OpenTrade, closing: int, pnl: Decimal
    ) -> None:
        """Take ``closing`` units (in the trade's direction) off a trade, booking ``pnl``."""
        trade.realized += pnl
        book.realized += pnl
        acct.realized += pnl
        acct.balance += pnl
        trade.units -= closing

    def book_cash(self, account: str, amount: Decimal, financing: bool) -> None:
        """Money the venue moved outside a trade's P&L: financing, or a transfer/correction."""
        acct = self.accounts[account]
        acct.balance += amount
        if financing:
            acct.financing += amount
        else:
            acct.transfers += amount

    def find_trade(self, account: str, instrument: str, trade_id: str) -> OpenTrade | None:
        book = self.books.get((account, instrument))
        if book is None:
            return None
        for trade in book.trades:
            if trade.id == trade_id:
                return trade
        return None

    def margin_shortfall(
        self, account: str, instrument: str, units: int, price: Decimal
    ) -> str | None:
        """Why ``account`` cannot carry ``units`` more at ``price``; None if it can."""
        acct = self.accounts.get(account)
        if acct is None:
            return f"unknown account {account}"
        position = self.units(account, instrument)
        added_units = abs(position + units) - abs(position)
        if added_units <= 0:
            return None
        inst = self.quotes.instruments[instrument]
        rate = self.quotes.frate(inst.quote, acct.currency)
        if rate is None:
            return f"no rate to convert {inst.quote} into {acct.currency}"
        needed = added_units * float(price) * rate * float(inst.margin_rate)
        available = acct.fequity - acct.margin
        if needed > available:
            return f"needs {needed:,.2f} {acct.currency} margin, {available:,.2f} available"
        return None

    # marks ----------------------------------------------------------------------------------

    def mark_book(self, book: PositionBook) -> bool:
        """Recompute one book's marks and fold the change into its account; False without prices."""
        acct = self.accounts[book.account]
        units = book.units
        if units == 0:
            upl = margin = exposure = 0.0
        else:
            quotes = self.quotes
            bid = quotes.fbid.get(book.instrument)
            rate = quotes.frate(book.quote_ccy, acct.currency)
            if bid is None or rate is None:
                return False
            ask = quotes.fask[book.instrument]
            upl = ((bid if units > 0 else ask) * units - book.fcost) * rate
            exposure = abs(units) * (bid + ask) * 0.5 * rate
            margin = exposure * book.fmargin_rate
        acct.upl += upl - book.upl
        acct.margin += margin - book.margin
        acct.exposure += exposure - book.exposure
        book.upl, book.margin, book.exposure = upl, margin, exposure
        return True

    def track_excursions(self, instrument: str, bid: float, ask: float) -> None:
        """Widen the excursions of every open trade in ``instrument`` (the hot path: a compare
        or two per trade, at the price each could be closed at)."""
        for book in self._books_of.get(instrument, ()):
            for trade in book.trades:
                if trade.units > 0:
                    if bid > trade.best:
                        trade.best = bid
                    elif bid < trade.worst:
                        trade.worst = bid
                elif ask < trade.best:
                    trade.best = ask
                elif ask > trade.worst:
                    trade.worst = ask

    def on_quote(self, instrument: str) -> set[tuple[str, str]]:
        """Re-mark every book whose price or conversion uses ``instrument``; returns their keys."""
        keys = self._dependents.get(instrument)
        if not keys:
            return set()
        for key in keys:
            self.mark_book(self.books[key])
        return keys

    def revalue(self) -> None:
        """Recompute every mark from scratch (bounds rounding drift from the incremental sums)."""
        for acct in self.accounts.values():
            acct.upl = acct.margin = acct.exposure = 0.0
        for book in self.books.values():
            book.upl = book.margin = book.exposure = 0.0
            self.mark_book(book)

    # views ----------------------------------------------------------------------------------

    def account_state(self, account_id: str, working_orders: int) -> AccountState:
        a = self.accounts[account_id]
        return AccountState(
            id=a.id,
            currency=a.currency,
            balance=a.balance,
            unrealized_pl=round_money(Decimal(a.upl)),
            realized_pl=a.realized,
            margin_used=round_money(Decimal(a.margin)),
            day_start_equity=a.day_start_equity,
            gross_exposure=round_money(Decimal(a.exposure)),
            trading_state=a.state,
            state_reason=a.reason,
            working_orders=working_orders,
            daily_loss_limit=a.limits.daily_loss_limit,
            max_leverage=a.limits.max_leverage,
            daily_loss_breached=a.breached,
            opening_balance=a.opening,
            financing=a.financing,
            transfers=a.transfers,
        )

    def position_view(self, key: tuple[str, str]) -> Position:
        book = self.books[key]
        trades = book.trades_view
        if trades is None:
            trades = book.trades_view = self._trades_view(book)
        avg = (book.cost / book.units) if book.units else ZERO
        inst = self.quotes.instruments[book.instrument]
        return Position(
            account=book.account,
            instrument=book.instrument,
            units=book.units,
            avg_price=avg.quantize(Decimal(1).scaleb(-inst.display_precision - 1)),
            trades=trades,
            unrealized_pl=round_money(Decimal(book.upl)),
            realized_pl=book.realized,
            margin_used=round_money(Decimal(book.margin)),
        )

    @staticmethod
    def _trades_view(book: PositionBook) -> tuple[Trade, ...]:
        return tuple(
            Trade(
                id=t.id,
                account=book.account,
                instrument=book.instrument,
                units=t.units,
                initial_units=t.initial_units,
                price=t.price,
                open_ts=t.open_ts,
                take_profit_order_id=t.tp_id,
                stop_loss_order_id=t.sl_id,
                realized_pl=t.realized,
            )
            for t in book.trades
        )
