"""How price alerts read on screen: the event log's line for a set, a cancel and a hit, and the
notification a hit raises, from the journaled event alone (so a screen attached later, or a
remote one, says the same)."""

from __future__ import annotations

from typing import Any, Literal

from tmt_tui.domain.events import Event, EventKind

PRICE_ALERT_KINDS = frozenset(
    {EventKind.PRICE_ALERT_SET, EventKind.PRICE_ALERT_CANCELLED, EventKind.PRICE_ALERT_HIT}
)
#: What decides each side: the bid for above, the ask for below (domain/price_alerts.py).
_TOUCH = {"above": "bid", "below": "ask"}
_MARK = {"above": "≥", "below": "≤"}


def _note(data: dict[str, Any]) -> str:
    note = str(data.get("note") or "")
    return f" — {note}" if note else ""


def price_alert_line(event: Event) -> tuple[str, Literal["plain", "muted", "warning"]]:
    """The log line and its tone for a ``price_alert.*`` event."""
    data = event.data
    alert_id, name = data.get("id"), data.get("instrument")
    if event.kind is EventKind.PRICE_ALERT_HIT:
        return f"PRICE ALERT {alert_id} HIT: {hit_text(data)}", "warning"
    if event.kind is EventKind.PRICE_ALERT_CANCELLED:
        return f"PRICE ALERT {alert_id} cancelled: {name}", "muted"
    side = str(data.get("side"))
    touch = f"{_TOUCH.get(side, '?')} {_MARK.get(side, '?')} level"
    return (
        f"PRICE ALERT {alert_id} set: {name} {side} {data.get('level')} ({touch}){_note(data)}",
        "plain",
    )


def hit_text(data: dict[str, Any]) -> str:
    """``EUR_USD above 1.09500: bid 1.09503 — breakout``: what was reached, by which price."""
    side = str(data.get("side"))
    touch = _TOUCH.get(side, "bid")
    return (
        f"{data.get('instrument')} {side} {data.get('level')}: "
        f"{touch} {data.get(touch)}{_note(data)}"
    )
