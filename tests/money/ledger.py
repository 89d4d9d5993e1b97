"""An independent FIFO ledger: what a trader expects an OANDA-style netting account to hold.

It imports nothing of tmt (no portfolio, no conversion, no rounding), so the money suite can
hold the engine to numbers it did not compute itself. The rules are OANDA v20's, as the paper
broker follows them:

- A market order fills at the touch: a buy at the ask, a sell at the bid. A limit or stop
  entry order works until the touch reaches its price (a limit at or better, a stop at or
  worse), then fills like a market order at that touch; one already reached fills at once.
- The account nets per instrument: a fill first reduces open trades of the other side, oldest
  first; what is left opens one new trade at the fill price. A trade close takes only from the
  trade it names.
- Take-profit and stop-loss "on fill" belong to the trade the fill opened (none when it opened
  nothing). They watch the price the trade would close at (the bid for a long, the ask for a
  short), close whatever is left of the trade when it reaches them, and fill at that touch: a
  stop slips and a gap pays. A trade that closes takes its TP and SL with it. A TP or SL moved
  to a price already reached fills at once.
- Working orders a quote reaches fill oldest first, whatever the account; a moved order keeps
  its place (the paper broker's rule; OANDA replaces an order, and says nothing of priority).
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


@dataclass(slots=True)
class Working:
    """An order working at the venue: an entry (a limit or a stop) or a trade's take-profit or
    stop-loss."""

    id: str
    account: str
    instrument: str
    kind: str  # limit, stop, take-profit, stop-loss
    price: Decimal
    units: int = 0  # an entry's, signed (a TP/SL closes whatever is left of its trade)
    trade_id: str = ""  # a TP/SL's trade; an entry's name for the trade it opens
    take_profit: Decimal | None = None  # an entry's, for the trade it opens
    stop_loss: Decimal | None = None

    @property
    def is_entry(self) -> bool:
        return self.kind in ("limit", "stop")


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
    why: str  # fill (a market order), limit, stop, close, trade close, take-profit, stop-loss


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
    """Accounts, FIFO trades and the orders working on them, driven by quotes and fills."""

    def __init__(self, specs: Iterable[Spec], accounts: dict[str, tuple[str, Decimal]]) -> None:
        self.specs = {s.name: s for s in specs}
        self.holders = {a: Holder(ccy, opening) for a, (ccy, opening) in accounts.items()}
        self.books: dict[tuple[str, str], Book] = {}
        self.quotes: dict[str, tuple[Decimal, Decimal]] = {}
        self.working: dict[str, Working] = {}  # oldest first: the order they fill in
        self.closed: list[Closed] = []
        self.finished: list[Finished] = []

    # the market -----------------------------------------------------------------------------

    def quote(self, instrument: str, bid: Decimal, ask: Decimal) -> list[Closed]:
        """A new price; returns what the orders it reached closed."""
        self.quotes[instrument] = (bid, ask)
        before = len(self.closed)
        for order in [w for w in self.working.values() if w.instrument == instrument]:
            if order.id in self.working:  # not gone with a trade an earlier one closed
                self._work(order)
        return self.closed[before:]

    def _work(self, order: Working) -> bool:
        """Fill ``order`` if the touch has reached its price; True when it did."""
        bid, ask = self.quotes[order.instrument]
        if order.is_entry:
            buys = order.units > 0
        else:
            buys = self.trade(order.account, order.instrument, order.trade_id).units < 0
        touch = ask if buys else bid
        if order.kind in ("limit", "take-profit"):  # at the price or better
            reached = touch <= order.price if buys else touch >= order.price
        else:  # a stop: at the price or worse
            reached = touch >= order.price if buys else touch <= order.price
        if not reached:
            return False
        del self.working[order.id]
        if order.is_entry:
            self._execute(
                order.account, order.instrument, order.units, order.kind, order.trade_id,
                order.take_profit, order.stop_loss,
            )  # fmt: skip
        else:
            lot = self.trade(order.account, order.instrument, order.trade_id)
            self._fill(order.account, order.instrument, -lot.units, order.kind, lot.id)
        return True

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
    ) -> None:
        """A market order filled at the touch. A trade it opens is called ``new_trade_id`` (the
        venue names trades) and carries the TP and SL."""
        self._execute(account, instrument, units, "fill", new_trade_id, take_profit, stop_loss)

    def entry(
        self,
        order_id: str,
        account: str,
        instrument: str,
        units: int,
        kind: str,
        price: Decimal,
        new_trade_id: str,
        take_profit: Decimal | None = None,
        stop_loss: Decimal | None = None,
    ) -> bool:
        """A limit or stop order starts working; True when it filled at once."""
        order = Working(
            order_id, account, instrument, kind, price, units, new_trade_id, take_profit, stop_loss
        )
        self.working[order_id] = order
        return self._work(order)

    def cancel(self, order_id: str) -> None:
        del self.working[order_id]

    def guard(self, trade_id: str, kind: str) -> Working | None:
        """A trade's take-profit or stop-loss, if it has one."""
        return self.working.get(f"{trade_id} {kind}")

    def move(self, trade_id: str, kind: str, price: Decimal) -> bool:
        """A trade's take-profit or stop-loss moves to ``price``; True when that filled it."""
        order = self.working[f"{trade_id} {kind}"]
        order.price = price
        return self._work(order)

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

    def _execute(
        self,
        account: str,
        instrument: str,
        units: int,
        why: str,
        new_trade_id: str,
        take_profit: Decimal | None,
        stop_loss: Decimal | None,
    ) -> None:
        """Fill at the touch; the trade it opens gets its TP and SL, which fill at once if
        this very price has reached them."""
        opened = self._fill(account, instrument, units, why, None, new_trade_id)
        if opened is None:
            return
        guards = []
        for kind, price in (("take-profit", take_profit), ("stop-loss", stop_loss)):
            if price is not None:
                guard = Working(f"{opened.id} {kind}", account, instrument, kind, price)
                guard.trade_id = opened.id
                self.working[guard.id] = guard
                guards.append(guard)
        for guard in guards:
            if guard.id in self.working:
                self._work(guard)

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
                        account, instrument, lot.id, lot.initial_units, lot.price, price,
                        lot.realized, why,
                    )
                )  # fmt: skip
                for kind in ("take-profit", "stop-loss"):
                    self.working.pop(f"{lot.id} {kind}", None)
        held.lots = [lot for lot in held.lots if lot.units]
        if not left:
            return None
        if named is not None or new_trade_id is None:
            raise ValueError(f"a close of {units} left {left} units over in {instrument}")
        opened = Lot(new_trade_id, left, left, price)
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
