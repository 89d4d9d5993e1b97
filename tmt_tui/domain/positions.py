"""Fills, trades, positions and account state: what the portfolio is made of."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


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

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "instrument": self.instrument,
            "units": self.units,
            "initial_units": self.initial_units,
            "price": str(self.price),
            "open_ts": self.open_ts,
            "take_profit_order_id": self.take_profit_order_id,
            "stop_loss_order_id": self.stop_loss_order_id,
            "realized_pl": str(self.realized_pl),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Trade:
        return cls(
            id=d["id"],
            account=d["account"],
            instrument=d["instrument"],
            units=int(d["units"]),
            initial_units=int(d["initial_units"]),
            price=Decimal(d["price"]),
            open_ts=float(d["open_ts"]),
            take_profit_order_id=d.get("take_profit_order_id"),
            stop_loss_order_id=d.get("stop_loss_order_id"),
            realized_pl=Decimal(d.get("realized_pl", "0")),
        )


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

    def to_wire(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "instrument": self.instrument,
            "units": self.units,
            "avg_price": str(self.avg_price),
            "trades": [t.to_wire() for t in self.trades],
            "unrealized_pl": str(self.unrealized_pl),
            "realized_pl": str(self.realized_pl),
            "margin_used": str(self.margin_used),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> Position:
        return cls(
            account=d["account"],
            instrument=d["instrument"],
            units=int(d["units"]),
            avg_price=Decimal(d["avg_price"]),
            trades=tuple(Trade.from_wire(t) for t in d["trades"]),
            unrealized_pl=Decimal(d["unrealized_pl"]),
            realized_pl=Decimal(d["realized_pl"]),
            margin_used=Decimal(d["margin_used"]),
        )


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
    def daily_pl(self) -> Decimal:
        """Realized plus unrealized since the trading day began (17:00 New York)."""
        return self.equity - self.day_start_equity

    @property
    def leverage(self) -> Decimal:
        equity = self.equity
        return self.gross_exposure / equity if equity > 0 else Decimal(0)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "currency": self.currency,
            "balance": str(self.balance),
            "unrealized_pl": str(self.unrealized_pl),
            "realized_pl": str(self.realized_pl),
            "margin_used": str(self.margin_used),
            "day_start_equity": str(self.day_start_equity),
            "gross_exposure": str(self.gross_exposure),
            "trading_state": self.trading_state.value,
            "state_reason": self.state_reason,
            "working_orders": self.working_orders,
            "daily_loss_limit": str(self.daily_loss_limit),
            "max_leverage": str(self.max_leverage),
            "daily_loss_breached": self.daily_loss_breached,
            "opening_balance": str(self.opening_balance),
            "financing": str(self.financing),
            "transfers": str(self.transfers),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> AccountState:
        return cls(
            id=d["id"],
            currency=d["currency"],
            balance=Decimal(d["balance"]),
            unrealized_pl=Decimal(d["unrealized_pl"]),
            realized_pl=Decimal(d["realized_pl"]),
            margin_used=Decimal(d["margin_used"]),
            day_start_equity=Decimal(d["day_start_equity"]),
            gross_exposure=Decimal(d["gross_exposure"]),
            trading_state=TradingState(d["trading_state"]),
            state_reason=d["state_reason"],
            working_orders=int(d["working_orders"]),
            daily_loss_limit=Decimal(d["daily_loss_limit"]),
            max_leverage=Decimal(d["max_leverage"]),
            daily_loss_breached=bool(d["daily_loss_breached"]),
            opening_balance=Decimal(d.get("opening_balance", "0")),
            financing=Decimal(d.get("financing", "0")),
            transfers=Decimal(d.get("transfers", "0")),
        )


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

    def to_wire(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "equity": str(self.equity),
            "balance": str(self.balance),
            "unrealized_pl": str(self.unrealized_pl),
            "margin_used": str(self.margin_used),
            "daily_pl": str(self.daily_pl),
            "excluded": list(self.excluded),
        }

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> PortfolioTotals:
        return cls(
            currency=d["currency"],
            equity=Decimal(d["equity"]),
            balance=Decimal(d["balance"]),
            unrealized_pl=Decimal(d["unrealized_pl"]),
            margin_used=Decimal(d["margin_used"]),
            daily_pl=Decimal(d["daily_pl"]),
            excluded=tuple(d.get("excluded", ())),
        )
