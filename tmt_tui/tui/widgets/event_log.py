"""The event log pane: fills, rejects with their reason, state changes and kill-switch events.

Each line takes its colour from the theme when it is written; lines already written keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import CancelWhy, Order, cancel_reason
from tmt_tui.tui.formatting import clock, money, units
from tmt_tui.tui.price_alert_texts import PRICE_ALERT_KINDS, price_alert_line
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: Lines kept on screen; the oldest scroll away.
MAX_LINES = 500

#: Kinds that are audit noise on a trading screen (every command is followed by its outcome).
_QUIET = frozenset({EventKind.COMMAND})

OrderLookup = Callable[[str], Order | None]
#: How a line looks: a component class of the log (see `EventLog`), or plain.
Tone = Literal["bid", "ask", "profit", "loss", "halted", "reducing", "muted", "warning", "plain"]
_TONES: tuple[Tone, ...] = (
    "bid",
    "ask",
    "profit",
    "loss",
    "halted",
    "reducing",
    "muted",
    "warning",
)


class EventLog(RichLog):
    """A bounded log of what the engine did, newest at the bottom, one line per event."""

    COMPONENT_CLASSES = {f"event-log--{tone}" for tone in _TONES}
    """
    | Class | Description |
    | :- | :- |
    | `event-log--bid` / `--ask` | Fills that bought / sold. |
    | `event-log--loss` | Rejects, refusals, a breached loss limit, a refused command. |
    | `event-log--profit` | Trading re-armed or ACTIVE again. |
    | `event-log--halted` / `--reducing` | The kill switch and state changes. |
    | `event-log--warning` | Cancels, alerts, feed problems, the venue's own changes. |
    | `event-log--muted` | Times, routine acknowledgements, the day's start. |
    """

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """ + trading_css("EventLog", "event-log", _TONES)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, max_lines=MAX_LINES, wrap=False, markup=False, min_width=40
        )
        self._style = ComponentStyles(self, "event-log")
        self.lines_written = 0
        self.texts: list[str] = []  # plain text of the last lines, for tests and copy
        self._unpainted: list[tuple[float, str, Tone]] = []

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def add_events(self, events: Iterable[Event], lookup: OrderLookup) -> None:
        for event in events:
            if event.kind in _QUIET:
                continue
            text, tone = describe(event, lookup)
            self._write(event.ts, text, tone)

    def note(self, ts: float, text: str, *, error: bool = False) -> None:
        """A line from the UI itself (a reply to a command), marked with `>`."""
        self._write(ts, f"> {text}", "loss" if error else "plain")

    def _write(self, ts: float, text: str, tone: Tone) -> None:
        self.lines_written += 1
        self.texts.append(text)
        if len(self.texts) > MAX_LINES:
            del self.texts[: len(self.texts) - MAX_LINES]
        self._unpainted.append((ts, text, tone))
        if len(self._unpainted) == 1:
            self._paint()

    def _paint(self) -> None:
        """Write the lines not painted yet, in order, once the log's colours are known.

        A fast engine can answer before the stylesheet has reached the log (the first line, a
        note that the stream is live, comes within the first frame): those lines wait for the
        next refresh instead of failing or being written without their colours."""
        try:
            self._style("muted")
        except KeyError:  # the stylesheet has not reached the log yet
            self.call_after_refresh(self._paint)
            return
        lines, self._unpainted = self._unpainted, []
        for ts, text, tone in lines:
            style = Style() if tone == "plain" else self._style(tone)
            line = Text.assemble((clock(ts) + " ", self._style("muted")), (text, style))
            self.write(line, scroll_end=True)


def describe(event: Event, lookup: OrderLookup) -> tuple[str, Tone]:
    """One line of text and its tone for an engine event."""
    data: dict[str, Any] = event.data
    kind = event.kind
    if kind is EventKind.ORDER_FILLED:
        order = lookup(str(data.get("order_id", "")))
        pair = order.instrument if order else ""
        filled = _int(data.get("units"))
        tone: Tone = "bid" if filled > 0 else "ask"
        return f"FILL {data.get('order_id')} {pair} {units(filled)} @ {data.get('price')}", tone
    if kind is EventKind.ORDER_REJECTED:
        wire = data.get("order") or {}
        what = f"{wire.get('id', '')} {wire.get('instrument', '')} {units(_int(wire.get('units')))}"
        return f"REJECT {what}: {data.get('code')}: {data.get('message')}", "loss"
    if kind is EventKind.COMMAND_REJECTED:
        command = data.get("command") or {}
        name = command.get("command", "command") if isinstance(command, dict) else "command"
        return f"REFUSED {name}: {data.get('code')}: {data.get('message')}", "loss"
    if kind is EventKind.ORDER_SUBMITTED:
        wire = data.get("order") or {}
        return (
            f"SUBMIT {wire.get('id')} {wire.get('account')} {wire.get('type')} "
            f"{wire.get('instrument')} {units(_int(wire.get('units')))}"
            + (f" @ {wire['price']}" if wire.get("price") else ""),
            "plain",
        )
    if kind is EventKind.ORDER_ACCEPTED:
        return f"WORKING {data.get('order_id')}", "muted"
    if kind is EventKind.ORDER_MODIFIED:
        return (
            f"MODIFY {data.get('order_id')} price {data.get('price')} units {data.get('units')}",
            "plain",
        )
    if kind is EventKind.ORDER_CANCEL_REQUESTED:
        who = f" ({event.origin})" if data.get("why") == CancelWhy.USER else ""
        return f"CANCELLING {data.get('order_id')}: {data.get('why', '')}{who}", "muted"
    if kind is EventKind.ORDER_CANCELLED:
        why = cancel_reason(data.get("why"), data.get("requested_by"), "")
        venue = str(data.get("reason", ""))
        said = f"{why} ({venue})" if why and venue else why or venue
        return f"CANCEL {data.get('order_id')}: {said}", "warning"
    if kind is EventKind.CHAIN_HEAD:
        return f"JOURNAL CHAIN HEAD {data.get('seq')}:{data.get('hash')}", "muted"
    if kind is EventKind.PROTECTIVE_ORDER_CREATED:
        return f"PROTECT {_order_words(data)} @ {(data.get('order') or {}).get('price')}", "muted"
    if kind is EventKind.TRADING_STATE_CHANGED:
        state = str(data.get("state", ""))
        tones: dict[str, Tone] = {"HALTED": "halted", "REDUCING": "reducing"}
        reason = f": {data['reason']}" if data.get("reason") else ""
        return f"STATE {data.get('account')} -> {state}{reason}", tones.get(state, "profit")
    if kind is EventKind.KILL_SWITCH_ENGAGED:
        flatten = " (flatten)" if data.get("flatten") else ""
        return f"KILL SWITCH ENGAGED{flatten}: {data.get('reason', '')}", "halted"
    if kind is EventKind.KILL_SWITCH_RESET:
        return "KILL SWITCH RESET: trading re-armed", "profit"
    if kind is EventKind.DAILY_LOSS_BREACHED:
        return (
            f"DAILY LOSS LIMIT {data.get('account')}: {_money(data.get('daily_pl'))} "
            f"(limit {_money(data.get('limit'))})",
            "loss",
        )
    if kind in PRICE_ALERT_KINDS:
        return price_alert_line(event)
    if kind is EventKind.ALERT_RAISED:
        return f"ALERT {data.get('key')}: {data.get('message', '')}", "warning"
    if kind is EventKind.ALERT_CLEARED:
        return f"ALERT CLEARED {data.get('key')}: {data.get('message', '')}", "muted"
    if kind is EventKind.FEED_PROBLEM:
        quote = f" ({data['bid']}/{data['ask']})" if "bid" in data and "ask" in data else ""
        return f"FEED {data.get('instrument')}: {data.get('problem')}{quote}", "warning"
    if kind is EventKind.DAY_STARTED:
        return (
            f"DAY {data.get('account')} {data.get('trading_day')} "
            f"start equity {_money(data.get('start_equity'))}",
            "muted",
        )
    if kind is EventKind.ENGINE_STARTED:
        return f"ENGINE STARTED {data.get('version', '')}".rstrip(), "muted"
    if kind is EventKind.ORDER_ADOPTED:
        size = _int((data.get("order") or {}).get("units"))
        return f"ADOPTED {_order_words(data, size)}: placed outside tmt", "warning"
    if kind is EventKind.POSITION_SYNCED:
        now = sum(_int(t.get("units")) for t in data.get("trades", []))
        return (
            f"SYNCED {data.get('account')} {data.get('instrument')} "
            f"{_int(data.get('was')):+,} -> {now:+,} (the venue's book)",
            "warning",
        )
    if kind is EventKind.ACCOUNT_SYNCED:
        return (
            f"BALANCE {data.get('account')} {_money(data.get('was'))} -> "
            f"{_money(data.get('balance'))} ({str(data.get('reason', '')).lower()})",
            "muted",
        )
    if kind is EventKind.VENUE_RECONCILED:
        found = data.get("differences") or []
        detail = f": {'; '.join(found)}" if found else ": in step"
        return f"RECONCILED with {data.get('venue')}{detail}", "warning" if found else "muted"
    return f"{kind.value} {data}", "muted"


def _money(value: Any) -> str:
    try:
        return money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _int(value: Any) -> int:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        return 0


def _order_words(data: dict[str, Any], size: int | None = None) -> str:
    """``id TYPE [size] INSTRUMENT`` of the order an event carries."""
    wire = data.get("order") or {}
    signed = "" if size is None else f" {size:+,}"
    return f"{wire.get('id')} {wire.get('type')}{signed} {wire.get('instrument')}"
