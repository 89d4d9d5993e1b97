"""Fills, trades, positions and account state: what the portfolio is made of."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class TradingState(StrEnum):
    """ACTIVE trades freely; REDUCING takes only risk-reducing orders; HALTED is the kill switch."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True)
class Fill:
    """Units of an order done at one price.

    ``conversion_rate`` turns quote currency into account currency.
    """

    id: str
    order_id: str
    account: str
    instrument: str
    units: int
    price: Decimal
    conversion_rate: Decimal
    ts: float


@dataclass(frozen=True, slots=True)
class Trade:
    """An open lot: units opened at one price, with its protective orders.

    OANDA attaches take-profit and stop-loss orders to trades, so they live here too.
    """

    id: str
    account: str
    instrument: str
    units: int
    initial_units: int
    price: Decimal
    open_ts: float
    take_profit_order_id: str | None = None
    stop_loss_order_id: str | None = None
    realized_pl: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Position:
    """The net holding of one instrument in one account (netting, made of FIFO trades).

    ``unrealized_pl`` and ``margin_used`` are marks in the account currency; ``realized_pl``
    is what closed trades of this instrument booked, exactly.
    """

    account: str
    instrument: str
    units: int
    avg_price: Decimal
    trades: tuple[Trade, ...]
    unrealized_pl: Decimal
    realized_pl: Decimal
    margin_used: Decimal

    @property
    def key(self) -> str:
        return f"{self.account}:{self.instrument}"


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's money and risk picture, in its own currency, as the engine computed it."""

    id: str
    currency: str
    balance: Decimal
    unrealized_pl: Decimal
    realized_pl: Decimal
    margin_used: Decimal
    day_start_equity: Decimal
    gross_exposure: Decimal
    trading_state: TradingState
    state_reason: str
    working_orders: int
    daily_loss_limit: Decimal
    max_leverage: Decimal
    daily_loss_breached: bool
    # the ledger identity: balance == opening_balance + realized_pl + financing + transfers
    opening_balance: Decimal = Decimal(0)
    financing: Decimal = Decimal(0)
    transfers: Decimal = Decimal(0)

    @property
    def equity(self) -> Decimal:
        return self.balance + self.unrealized_pl

    @property
    def margin_available(self) -> Decimal:
        return self.equity - self.margin_used

    @property
    def margin_use(self) -> Decimal:
        """Margin used over equity: tmt's one measure of how much margin an account uses,
        the same in the header, the risk gauges and the ticket (zero without equity)."""
        equity = self.equity
        return self.margin_used / equity if equity > 0 else Decimal(0)

    @property
    def daily_pl(self) -> Decimal:
        """Realized plus unrealized since the trading day began (17:00 New York)."""
        return self.equity - self.day_start_equity

    @property
    def leverage(self) -> Decimal:
        equity = self.equity
        return self.gross_exposure / equity if equity > 0 else Decimal(0)


@dataclass(frozen=True, slots=True)
class PortfolioTotals:
    """Every account summed in one reporting currency, converted by the engine at current mids.

    ``excluded`` names the accounts whose currency has no rate yet: they are left out of the
    sums (and said to be), never the reason the others show nothing.
    """

    currency: str
    equity: Decimal
    balance: Decimal
    unrealized_pl: Decimal
    margin_used: Decimal
    daily_pl: Decimal
    excluded: tuple[str, ...] = ()
