"""The event log pane: fills, rejects with their reason, state changes and kill-switch events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import RichLog

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import Order
from tmt_tui.tui.formatting import clock, money, units
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, Palette

#: Lines kept on screen; the oldest scroll away.
MAX_LINES = 500

#: Kinds that are audit noise on a trading screen (every command is followed by its outcome).
_QUIET = frozenset({EventKind.COMMAND})

OrderLookup = Callable[[str], Order | None]


class EventLog(RichLog):
    """A bounded log of what the engine did, newest at the bottom, one line per event."""

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            id=id, classes=classes, max_lines=MAX_LINES, wrap=False, markup=False, min_width=40
        )
        self.palette = Palette.from_variables(TRADING_VARIABLE_DEFAULTS)
        self.lines_written = 0
        self.texts: list[str] = []  # plain text of the last lines, for tests and copy

    def add_events(self, events: Iterable[Event], lookup: OrderLookup) -> None:
        for event in events:
            if event.kind in _QUIET:
                continue
            text, style = describe(event, lookup, self.palette)
            self._write(event.ts, text, style)

    def note(self, ts: float, text: str, style: Style | None = None) -> None:
        """A line from the UI itself (a reply to a command), marked with `>`."""
        self._write(ts, f"> {text}", style or Style())

    def _write(self, ts: float, text: str, style: Style) -> None:
        line = Text.assemble((clock(ts) + " ", self.palette.muted), (text, style))
        self.write(line, scroll_end=True)
        self.lines_written += 1
        self.texts.append(text)
        if len(self.texts) > MAX_LINES:
            del self.texts[: len(self.texts) - MAX_LINES]


def describe(event: Event, lookup: OrderLookup, palette: Palette) -> tuple[str, Style]:
    """One line of text and its style for an engine event."""
    data: dict[str, Any] = event.data
    kind = event.kind
    if kind is EventKind.ORDER_FILLED:
        order = lookup(str(data.get("order_id", "")))
        pair = order.instrument if order else ""
        filled = _int(data.get("units"))
        style = palette.bid if filled > 0 else palette.ask
        return f"FILL {data.get('order_id')} {pair} {units(filled)} @ {data.get('price')}", style
    if kind is EventKind.ORDER_REJECTED:
        wire = data.get("order") or {}
        what = f"{wire.get('id', '')} {wire.get('instrument', '')} {units(_int(wire.get('units')))}"
        return f"REJECT {what}: {data.get('code')}: {data.get('message')}", palette.loss
    if kind is EventKind.COMMAND_REJECTED:
        command = data.get("command") or {}
        name = command.get("command", "command") if isinstance(command, dict) else "command"
        return f"REFUSED {name}: {data.get('code')}: {data.get('message')}", palette.loss
    if kind is EventKind.ORDER_SUBMITTED:
        wire = data.get("order") or {}
        return (
            f"SUBMIT {wire.get('id')} {wire.get('account')} {wire.get('type')} "
            f"{wire.get('instrument')} {units(_int(wire.get('units')))}"
            + (f" @ {wire['price']}" if wire.get("price") else ""),
            Style(),
        )
    if kind is EventKind.ORDER_ACCEPTED:
        return f"WORKING {data.get('order_id')}", palette.muted
    if kind is EventKind.ORDER_MODIFIED:
        return (
            f"MODIFY {data.get('order_id')} price {data.get('price')} units {data.get('units')}",
            Style(),
        )
    if kind is EventKind.ORDER_CANCELLED:
        return f"CANCEL {data.get('order_id')} ({data.get('reason', '')})", palette.warning
    if kind is EventKind.PROTECTIVE_ORDER_CREATED:
        wire = data.get("order") or {}
        return (
            f"PROTECT {wire.get('id')} {wire.get('type')} {wire.get('instrument')} "
            f"@ {wire.get('price')}",
            palette.muted,
        )
    if kind is EventKind.TRADING_STATE_CHANGED:
        state = str(data.get("state", ""))
        style = {"HALTED": palette.halted, "REDUCING": palette.reducing}.get(state, palette.profit)
        reason = f": {data['reason']}" if data.get("reason") else ""
        return f"STATE {data.get('account')} -> {state}{reason}", style
    if kind is EventKind.KILL_SWITCH_ENGAGED:
        flatten = " (flatten)" if data.get("flatten") else ""
        return f"KILL SWITCH ENGAGED{flatten}: {data.get('reason', '')}", palette.halted
    if kind is EventKind.KILL_SWITCH_RESET:
        return "KILL SWITCH RESET: trading re-armed", palette.profit
    if kind is EventKind.DAILY_LOSS_BREACHED:
        return (
            f"DAILY LOSS LIMIT {data.get('account')}: {_money(data.get('daily_pl'))} "
            f"(limit {_money(data.get('limit'))})",
            palette.loss,
        )
    if kind is EventKind.ALERT_RAISED:
        return f"ALERT {data.get('key')}: {data.get('message', '')}", palette.warning
    if kind is EventKind.ALERT_CLEARED:
        return f"ALERT CLEARED {data.get('key')}: {data.get('message', '')}", palette.muted
    if kind is EventKind.FEED_PROBLEM:
        quote = f" ({data['bid']}/{data['ask']})" if "bid" in data and "ask" in data else ""
        return f"FEED {data.get('instrument')}: {data.get('problem')}{quote}", palette.warning
    if kind is EventKind.DAY_STARTED:
        return (
            f"DAY {data.get('account')} {data.get('trading_day')} "
            f"start equity {_money(data.get('start_equity'))}",
            palette.muted,
        )
    if kind is EventKind.ENGINE_STARTED:
        return f"ENGINE STARTED {data.get('version', '')}".rstrip(), palette.muted
    if kind is EventKind.ORDER_ADOPTED:
        wire = data.get("order") or {}
        return (
            f"ADOPTED {wire.get('id')} {wire.get('type')} {_int(wire.get('units')):+,} "
            f"{wire.get('instrument')}: placed outside tmt",
            palette.warning,
        )
    if kind is EventKind.POSITION_SYNCED:
        now = sum(_int(t.get("units")) for t in data.get("trades", []))
        return (
            f"SYNCED {data.get('account')} {data.get('instrument')} "
            f"{_int(data.get('was')):+,} -> {now:+,} (the venue's book)",
            palette.warning,
        )
    if kind is EventKind.ACCOUNT_SYNCED:
        return (
            f"BALANCE {data.get('account')} {_money(data.get('was'))} -> "
            f"{_money(data.get('balance'))} ({str(data.get('reason', '')).lower()})",
            palette.muted,
        )
    if kind is EventKind.VENUE_RECONCILED:
        found = data.get("differences") or []
        detail = f": {'; '.join(found)}" if found else ": in step"
        style = palette.warning if found else palette.muted
        return f"RECONCILED with {data.get('venue')}{detail}", style
    return f"{kind.value} {data}", palette.muted


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
