"""Price alerts: a trader's "tell me when EUR_USD trades above 1.0950", set from the CLI or the
screen, journaled, and hit once by the engine as quotes arrive.

Not the engine's operator alerts (``Snapshot.alerts``: a feed apart, a venue down), which come
and go by themselves; a price alert is the trader's own, and ends once: hit or cancelled.

Which side of the quote decides: ``above`` fires when the **bid** reaches the level (bid >=
level: a long could now be sold there), ``below`` when the **ask** reaches it (ask <= level: a
short could now be bought back there). So an alert never fires on a spread that widened alone,
and the price it names is one a trader could actually have dealt at.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from tmt_tui.domain.codec import wire_type
from tmt_tui.domain.events import Event

#: Active price alerts one instrument may hold: more is a script gone wrong, not a trader.
MAX_ACTIVE_PER_INSTRUMENT = 100
#: A level further than this share of the mid from it is a typo (1.0950 typed as 10.950).
MAX_DISTANCE = Decimal("0.5")
#: The notes a price alert may carry, in characters.
MAX_NOTE = 200


class AlertSide(StrEnum):
    """Which way the price must go: ``above`` (the bid reaches the level), ``below`` (the ask)."""

    ABOVE = "above"
    BELOW = "below"


class AlertStatus(StrEnum):
    ACTIVE = "active"
    HIT = "hit"
    CANCELLED = "cancelled"


@wire_type
@dataclass(frozen=True, slots=True)
class PriceAlert:
    """One price alert, as the engine folded it from its events. ``level`` keeps the
    instrument's decimals; a hit one carries the quote that hit it (``hit_bid``/``hit_ask``, at
    the quote's time ``done_ts``), a cancelled one when it was cancelled (``done_ts``)."""

    id: str
    instrument: str
    side: AlertSide
    level: Decimal
    note: str = ""
    status: AlertStatus = AlertStatus.ACTIVE
    created_ts: float = 0.0
    origin: str = ""
    done_ts: float = 0.0
    hit_bid: Decimal | None = None
    hit_ask: Decimal | None = None

    @property
    def touch_name(self) -> str:
        """The side of the quote that decides: "bid" for above, "ask" for below."""
        return "bid" if self.side is AlertSide.ABOVE else "ask"

    @property
    def hit_price(self) -> Decimal | None:
        """The price that hit it: the bid of an above alert, the ask of a below one."""
        return self.hit_bid if self.side is AlertSide.ABOVE else self.hit_ask

    def met_by(self, bid: Decimal, ask: Decimal) -> bool:
        """Whether a quote of ``bid``/``ask`` reaches the level."""
        if self.side is AlertSide.ABOVE:
            return bid >= self.level
        return ask <= self.level


@wire_type
@dataclass(frozen=True, slots=True)
class PriceAlertList:
    """A ``QueryPriceAlerts`` answer: the active alerts (oldest first), then, when asked for,
    the finished ones the engine remembers (newest first)."""

    alerts: tuple[PriceAlert, ...] = ()


def alert_set_by(event: Event) -> PriceAlert:
    """The alert a ``price_alert.set`` event made (the engine's fold and a screen's alike)."""
    data = event.data
    return PriceAlert(
        data["id"],
        data["instrument"],
        AlertSide(data["side"]),
        Decimal(data["level"]),
        data.get("note", ""),
        created_ts=event.ts,
        origin=event.origin,
    )
