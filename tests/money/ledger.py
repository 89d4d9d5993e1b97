"""An independent FIFO ledger: what a trader expects an OANDA-style netting account to hold.

It imports nothing of tmt (no portfolio, no conversion, no rounding), so the money suite can
hold the engine to numbers it did not compute itself. The rules are OANDA v20's, as the paper
broker follows them:

- A market order fills at the touch: a buy at the ask, a sell at the bid.
- The account nets per instrument: a fill first reduces open trades of the other side, oldest
  first; what is left opens one new trade at the fill price. A trade close takes only from the
  trade it names.
- Take-profit and stop-loss "on fill" belong to the trade the fill opened (none when it opened
  nothing). They watch the price the trade would close at (the bid for a long, the ask for a
  short), close whatever is left of the trade when it reaches them, and fill at that touch: a
  stop slips and a gap pays. A trade that closes takes its TP and SL with it. Orders a quote
  reaches fill oldest first, whatever the account.
- Realized P&L of each closed piece is (close - open) x units in the quote currency,
  converted into the account currency at the mid rate of the moment, and booked rounded to 4
  places (the precision of v20's ``AccountUnits``: ``"pl": "-0.1455"``), ties to even. The
  balance moves by exactly what is booked.
- Unrealized P&L marks every trade at its closing side, converted at mid rates. Margin used is
  |net units| x mid x rate x the instrument's margin rate. Equity (NAV) is balance plus
  unrealized.
- Conversion uses the direct pair when one is traded (its mid, or one over it), else the
  cross through USD.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)
BOOKED = Decimal("0.0001")  # realized P&L is booked to 4 places of the account currency


def book(amount: Decimal) -> Decimal:
    """``amount`` as it is booked to a balance: 4 places, ties to even."""
    return amount.quantize(BOOKED, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Spec:
    """What the ledger needs to know of an instrument: its name and its margin rate."""

    name: str
    margin_rate: Decimal

    @property
    def base(self) -> str:
        return self.name[:3]

    @property
    def quote(self) -> str:
        return self.name[4:]


@dataclass(slots=True)
class Lot:
    """One open trade: signed units left, the price it opened at, what it realized so far."""

    id: str
    units: int
    initial_units: int
    price: Decimal
    realized: Decimal = ZERO
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    opened: int = 0  # when, among every trade of the ledger: TP/SL work oldest first


@dataclass(slots=True)
class Book:
    """One account's trades in one instrument, oldest first, and what closed ones realized."""

    lots: list[Lot] = field(default_factory=list)
    realized: Decimal = ZERO

    @property
    def units(self) -> int:
        return sum(lot.units for lot in self.lots)


@dataclass(slots=True)
class Holder:
    """One account: its currency, the money it started with, and what it realized."""

    currency: str
    opening: Decimal
    realized: Decimal = ZERO

    @property
    def balance(self) -> Decimal:
        return self.opening + self.realized


@dataclass(frozen=True, slots=True)
class Closed:
    """A piece of a trade that a fill closed, as booked."""

    account: str
    instrument: str
    trade_id: str
    units: int  # signed as the trade was
    open_price: Decimal
    close_price: Decimal
    pnl: Decimal
    why: str  # fill, close, trade close, take-profit, stop-loss


@dataclass(frozen=True, slots=True)
class Finished:
    """A trade closed in full: as opened, the price its last piece closed at, all it realized."""

    account: str
    instrument: str
    trade_id: str
    units: int  # as opened, signed
    open_price: Decimal
    close_price: Decimal
    realized: Decimal
    why: str  # what closed its last piece


class Ledger:
    """Accounts, FIFO trades and their take-profits and stop-losses, driven by quotes and fills."""

    def __init__(self, specs: Iterable[Spec], accounts: dict[str, tuple[str, Decimal]]) -> None:
        self.specs = {s.name: s for s in specs}
        self.holders = {a: Holder(ccy, opening) for a, (ccy, opening) in accounts.items()}
        self.books: dict[tuple[str, str], Book] = {}
        self.quotes: dict[str, tuple[Decimal, Decimal]] = {}
        self.closed: list[Closed] = []
        self.finished: list[Finished] = []
        self.trades_opened = 0

    # the market -----------------------------------------------------------------------------

    def quote(self, instrument: str, bid: Decimal, ask: Decimal) -> list[Closed]:
        """A new price; returns what the take-profits and stop-losses it reached closed."""
        self.quotes[instrument] = (bid, ask)
        before = len(self.closed)
        guarded = sorted(
            ((lot, account) for (account, name), held in self.books.items() if name == instrument
             for lot in held.lots),
            key=lambda pair: pair[0].opened,
        )  # fmt: skip
        for lot, account in guarded:  # the oldest order first, across accounts
            why = self._reached(lot, bid, ask) if lot.units else None
            if why is not None:
                self._fill(account, instrument, -lot.units, why, lot.id)
        return self.closed[before:]

    @staticmethod
    def _reached(lot: Lot, bid: Decimal, ask: Decimal) -> str | None:
        """Which of its take-profit and stop-loss the price the trade closes at has reached."""
        long = lot.units > 0
        touch = bid if long else ask
        if lot.take_profit is not None and (
            touch >= lot.take_profit if long else touch <= lot.take_profit
        ):
            return "take-profit"
        if lot.stop_loss is not None and (
            touch <= lot.stop_loss if long else touch >= lot.stop_loss
        ):
            return "stop-loss"
        return None

    def mid(self, instrument: str) -> Decimal:
        bid, ask = self.quotes[instrument]
        return (bid + ask) / TWO

    def rate(self, source: str, target: str) -> Decimal:
        """Units of ``target`` one unit of ``source`` is worth at mid prices."""
        if source == target:
            return ONE
        if f"{source}_{target}" in self.specs:
            return self.mid(f"{source}_{target}")
        if f"{target}_{source}" in self.specs:
            return ONE / self.mid(f"{target}_{source}")
        if "USD" in (source, target):
            raise KeyError(f"no pair converts {source} into {target}")
        return self.rate(source, "USD") * self.rate("USD", target)

    # orders ---------------------------------------------------------------------------------

    def market(
        self,
        account: str,
        instrument: str,
        units: int,
        new_trade_id: str,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> Decimal:
        """A market order filled at the touch; returns the fill price. A trade it opens is
        called ``new_trade_id`` (the venue names trades) and carries the TP and SL."""
        price = self._touch(instrument, units)
        opened = self._fill(account, instrument, units, "fill", None, new_trade_id)
        if opened is not None:
            opened.take_profit, opened.stop_loss = take_profit, stop_loss
            bid, ask = self.quotes[instrument]
            why = self._reached(opened, bid, ask)  # a stop inside the spread goes at once
            if why is not None:
                self._fill(account, instrument, -opened.units, why, opened.id)
        return price

    def close_position(self, account: str, instrument: str, units: int | None = None) -> None:
        """Close ``units`` (a size; all when None) of a position, oldest trades first."""
        held = self.books[(account, instrument)].units
        size = abs(held) if units is None else min(abs(units), abs(held))
        self._fill(account, instrument, -size if held > 0 else size, "close")

    def close_trade(
        self, account: str, instrument: str, trade_id: str, units: int | None = None
    ) -> None:
        """Close ``units`` (a size; all when None) of one trade."""
        lot = self.trade(account, instrument, trade_id)
        size = abs(lot.units) if units is None else min(abs(units), abs(lot.units))
        self._fill(account, instrument, -size if lot.units > 0 else size, "trade close", trade_id)

    def _touch(self, instrument: str, units: int) -> Decimal:
        bid, ask = self.quotes[instrument]
        return ask if units > 0 else bid

    def _fill(
        self,
        account: str,
        instrument: str,
        units: int,
        why: str,
        named: str | None = None,
        new_trade_id: str | None = None,
    ) -> Lot | None:
        """Net ``units`` at the touch into the book: the named trade first, then the oldest;
        returns the trade the remainder opened, if any."""
        price = self._touch(instrument, units)
        held = self.books.setdefault((account, instrument), Book())
        holder = self.holders[account]
        rate = self.rate(self.specs[instrument].quote, holder.currency)
        order = sorted(held.lots, key=lambda lot: lot.id != named)  # stable: FIFO after it
        left = units
        for lot in order:
            if not left or (lot.units > 0) == (left > 0):
                break
            taken = min(abs(left), abs(lot.units)) * (1 if lot.units > 0 else -1)
            pnl = book((price - lot.price) * taken * rate)
            lot.units -= taken
            lot.realized += pnl
            held.realized += pnl
            holder.realized += pnl
            left += taken
            self.closed.append(
                Closed(account, instrument, lot.id, taken, lot.price, price, pnl, why)
            )
            if not lot.units:
                self.finished.append(
                    Finished(
                        account,
                        instrument,
                        lot.id,
                        lot.initial_units,
                        lot.price,
                        price,
                        lot.realized,
                        why,
                    )
                )
        held.lots = [lot for lot in held.lots if lot.units]
        if not left:
            return None
        if named is not None or new_trade_id is None:
            raise ValueError(f"a close of {units} left {left} units over in {instrument}")
        self.trades_opened += 1
        opened = Lot(new_trade_id, left, left, price, opened=self.trades_opened)
        held.lots.append(opened)
        return opened

    # what it holds --------------------------------------------------------------------------

    def trade(self, account: str, instrument: str, trade_id: str) -> Lot:
        for lot in self.books[(account, instrument)].lots:
            if lot.id == trade_id:
                return lot
        raise KeyError(trade_id)

    def positions(self, account: str) -> Iterator[tuple[str, Book]]:
        """The instruments ``account`` has traded, with their books."""
        for (holder, instrument), held in self.books.items():
            if holder == account:
                yield instrument, held

    def units(self, account: str, instrument: str) -> int:
        held = self.books.get((account, instrument))
        return 0 if held is None else held.units

    def average_price(self, account: str, instrument: str) -> Decimal:
        """The units-weighted price of the open trades (exact)."""
        held = self.books[(account, instrument)]
        units = held.units
        return sum((lot.price * lot.units for lot in held.lots), ZERO) / units

    def unrealized(self, account: str, instrument: str | None = None) -> Decimal:
        """Open trades marked at the price they would close at, in the account currency."""
        if instrument is None:
            return sum((self.unrealized(account, i) for i, _ in self.positions(account)), ZERO)
        held = self.books.get((account, instrument))
        if held is None or not held.lots:
            return ZERO
        bid, ask = self.quotes[instrument]
        in_quote = sum(
            ((bid if lot.units > 0 else ask) - lot.price) * lot.units for lot in held.lots
        )
        return in_quote * self.rate(self.specs[instrument].quote, self.holders[account].currency)

    def margin(self, account: str, instrument: str | None = None) -> Decimal:
        """|net units| x mid x margin rate, in the account currency."""
        if instrument is None:
            return sum((self.margin(account, i) for i, _ in self.positions(account)), ZERO)
        units = self.units(account, instrument)
        if not units:
            return ZERO
        spec = self.specs[instrument]
        rate = self.rate(spec.quote, self.holders[account].currency)
        return abs(units) * self.mid(instrument) * rate * spec.margin_rate

    def balance(self, account: str) -> Decimal:
        return self.holders[account].balance

    def realized(self, account: str) -> Decimal:
        return self.holders[account].realized

    def equity(self, account: str) -> Decimal:
        return self.balance(account) + self.unrealized(account)
