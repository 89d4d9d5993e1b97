"""What happened to trades once closed: the blotter a trader reads (`tmt trades`, the history
pane), answered by the engine to a ``QueryTrades`` command."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tmt_tui.domain.codec import wire_type


@wire_type
@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """One trade from open to close: ``units`` as opened (signed), prices in the instrument's
    terms, ``realized_pl`` in the account currency, and why it closed (``reason``: take-profit,
    stop-loss, trailing stop, close, flatten, kill switch, reversal, outside tmt). ``mae`` and
    ``mfe`` are the furthest the price it could have been closed at went against and for it
    while it was open, as price distances, from every quote the engine accepted."""

    account: str
    instrument: str
    trade_id: str
    units: int
    open_ts: float
    open_price: Decimal
    close_ts: float
    close_price: Decimal
    realized_pl: Decimal
    reason: str
    mae: Decimal = Decimal(0)  # maximum adverse excursion: how far against it went (price)
    mfe: Decimal = Decimal(0)  # maximum favourable excursion: how far for it went (price)

    @property
    def holding_s(self) -> float:
        return max(0.0, self.close_ts - self.open_ts)


@wire_type
@dataclass(frozen=True, slots=True)
class TradeHistory:
    """A ``QueryTrades`` answer: the closed trades that matched, newest first."""

    trades: tuple[ClosedTrade, ...] = ()


#: Why a close was sent, when it is part of something larger than one position: kept as the
#: closing order's reason and given as its trades' reason to close.
KILL_SWITCH = "kill switch"
FLATTEN = "flatten"
DAILY_LOSS = "daily loss"  # an account's daily_loss_action = "flatten"
CLOSE_PURPOSES = frozenset({KILL_SWITCH, FLATTEN, DAILY_LOSS})
