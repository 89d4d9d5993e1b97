"""What an order would do, before it is sent: the pre-trade preview a ticket shows as the
trader types, and `tmt buy --dry-run` prints. The engine computes it with the very guards that
judge a real order (a dry run), so the screen never carries a copy of the risk rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tmt_tui.domain.codec import wire_type


@wire_type
@dataclass(frozen=True, slots=True)
class PreviewCheck:
    """One pre-trade check: passed, or the code and message a real order would get."""

    name: str  # "state", "units", "prices", "exposure", "working orders", "order rate"
    ok: bool
    code: str = ""
    message: str = ""


@wire_type
@dataclass(frozen=True, slots=True)
class OrderPreview:
    """The order's figures in its account's currency (floats: a preview, never booked money)
    and every check. ``ok`` is the verdict a real order would get now."""

    account: str
    instrument: str
    units: int
    currency: str = ""
    reference_price: Decimal | None = None  # the touch for a market order, else its price
    distance_pips: float | None = None  # the price from mid, in pips (limit and stop orders)
    notional: float = 0.0
    position_after: int = 0
    leverage_now: float = 0.0
    leverage_after: float = 0.0
    margin_needed: float = 0.0
    margin_available_after: float = 0.0
    margin_used_after: float = 0.0  # over ``equity``: the measure the header and gauges show
    equity: float = 0.0
    loss_headroom: float = 0.0  # how much more the account may lose today before its limit
    checks: tuple[PreviewCheck, ...] = ()

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[PreviewCheck, ...]:
        return tuple(check for check in self.checks if not check.ok)
