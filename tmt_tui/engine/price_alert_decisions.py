"""Decisions on price alerts: set, cancel and list them. Each refusal names what and why (an
unknown instrument with the nearest name, a level off the instrument's ticks, implausibly far
from the market or already passed, one alert too many); what is accepted is one journaled event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import (
    CancelPriceAlert,
    Command,
    QueryPriceAlerts,
    SetPriceAlert,
    printable_text,
)
from tmt_tui.domain.entry import near_miss
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.price_alerts import (
    MAX_ACTIVE_PER_INSTRUMENT,
    MAX_DISTANCE,
    AlertSide,
    PriceAlert,
    PriceAlertList,
)
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.batch import Flags
from tmt_tui.engine.recorder import Recorder, Stage

Refuse = Callable[[Command, Reason, str], Reply]


class PriceAlertDecisions(Stage):
    """The handlers of ``SetPriceAlert``, ``CancelPriceAlert`` and ``QueryPriceAlerts``;
    ``refuse`` journals a refusal as every other decision does."""

    def __init__(self, rec: Recorder, flags: Flags, refuse: Refuse) -> None:
        super().__init__(rec, flags)
        self._refuse = refuse

    def handlers(self) -> dict[type, Callable[[Any], Reply]]:
        return {
            SetPriceAlert: self.set,
            CancelPriceAlert: self.cancel,
            QueryPriceAlerts: self.query,
        }

    def set(self, cmd: SetPriceAlert) -> Reply:
        """Accept the alert if its level means something for the market as it is now."""
        name = cmd.instrument
        quotes = self.state.quotes
        inst = quotes.instruments.get(name)
        if inst is None:
            return self._refuse(
                cmd,
                Reason.UNKNOWN_INSTRUMENT,
                f"unknown instrument {name}{near_miss(name, quotes.instruments)}",
            )
        digits = inst.display_precision
        if not inst.is_on_tick(cmd.level):
            return self._refuse(
                cmd,
                Reason.PRICE_PRECISION_EXCEEDED,
                f"level {cmd.level} has more decimals than {name}'s {digits}",
            )
        level = cmd.level.quantize(inst.tick)
        book = self.state.price_alerts
        if book.count(name) >= MAX_ACTIVE_PER_INSTRUMENT:
            return self._refuse(
                cmd,
                Reason.ALERT_LIMIT,
                f"{name} already has {MAX_ACTIVE_PER_INSTRUMENT} active price alerts, the most "
                "one instrument may hold: cancel some first (tmt alert list)",
            )
        quote = quotes.get(name)
        if quote is not None:  # without a price yet, the level cannot be judged: it stands
            mid = quote.mid
            away = abs(level - mid) / mid
            if away > MAX_DISTANCE:
                return self._refuse(
                    cmd,
                    Reason.ALERT_LEVEL_FAR,
                    f"level {level} is {away:.0%} from {name}'s mid {mid:.{digits + 1}f}; more "
                    f"than {MAX_DISTANCE:.0%} away is taken for a typo",
                )
            if cmd.side is AlertSide.ABOVE and quote.bid >= level:
                return self._refuse(
                    cmd,
                    Reason.ALERT_ALREADY_MET,
                    f"{name} bid {quote.bid:.{digits}f} is already at or above {level}: "
                    "an above alert needs a level over the bid",
                )
            if cmd.side is AlertSide.BELOW and quote.ask <= level:
                return self._refuse(
                    cmd,
                    Reason.ALERT_ALREADY_MET,
                    f"{name} ask {quote.ask:.{digits}f} is already at or below {level}: "
                    "a below alert needs a level under the ask",
                )
        alert_id = f"A{self.state.seq}"
        self.rec.emit(
            EventKind.PRICE_ALERT_SET,
            cmd.origin.value,
            {
                "id": alert_id,
                "instrument": name,
                "side": cmd.side.value,
                "level": str(level),
                "note": printable_text(cmd.note),
            },
        )
        alert = self.state.price_alerts.active[alert_id]
        touch = "bid >=" if alert.side is AlertSide.ABOVE else "ask <="
        what = f"{name} {alert.side.value} {level}"
        message = f"price alert {alert_id}: {what} (fires once: {touch} {level})"
        return Reply(True, "OK", message, seq=self.state.seq, payload=alert)

    def cancel(self, cmd: CancelPriceAlert) -> Reply:
        book = self.state.price_alerts
        alert = book.active.get(cmd.alert_id)
        if alert is None:
            done = next((a for a in reversed(book.finished) if a.id == cmd.alert_id), None)
            message = (
                f"price alert {cmd.alert_id} is already {done.status.value}"
                if done is not None
                else f"no active price alert {cmd.alert_id} (tmt alert list)"
            )
            return self._refuse(cmd, Reason.UNKNOWN_ALERT, message)
        self.rec.emit(
            EventKind.PRICE_ALERT_CANCELLED,
            cmd.origin.value,
            {"id": alert.id, "instrument": alert.instrument},
        )
        cancelled = book.finished[-1]
        what = f"{alert.instrument} {alert.side.value} {alert.level}"
        message = f"cancelled price alert {alert.id} ({what})"
        return Reply(True, "OK", message, seq=self.state.seq, payload=cancelled)

    def query(self, cmd: QueryPriceAlerts) -> Reply:
        book = self.state.price_alerts
        wanted: list[PriceAlert] = [
            a for a in book.active.values() if cmd.instrument in (None, a.instrument)
        ]
        active = len(wanted)
        if cmd.finished:
            wanted += [a for a in reversed(book.finished) if cmd.instrument in (None, a.instrument)]
        message = f"{active} active price alerts" + (
            f", {len(wanted) - active} finished" if cmd.finished else ""
        )
        answer = PriceAlertList(tuple(wanted))
        return Reply(True, "OK", message, seq=self.state.seq, payload=answer)
