"""The main screen: header, quotes, positions, orders, log and risk, in a layout that collapses.

Wide (at least 120x36) shows every pane in a grid. Compact (80x24 and up) shows the quote board
over one other pane; `tab`, `shift+tab` and `1`-`5` bring any pane into view and focus, so every
pane stays reachable by keyboard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tmt_tui.domain.commands import CancelOrder, ClosePosition
from tmt_tui.domain.orders import OrderType
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.messages import InstrumentSelected
from tmt_tui.tui.screens.dialogs import ModifyOrderScreen
from tmt_tui.tui.screens.help import HelpScreen
from tmt_tui.tui.state import Dirty, ViewModel
from tmt_tui.tui.themes import Palette
from tmt_tui.tui.widgets.event_log import EventLog
from tmt_tui.tui.widgets.header import AccountHeader, TradingBanner
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.risk import RiskGauges
from tmt_tui.tui.widgets.tables import OrdersTable, PositionsTable

if TYPE_CHECKING:
    from tmt_tui.tui.app import TmtApp

#: Panes in focus order, with the title each shows (the digit is its key).
PANES: dict[str, str] = {
    "quotes": "1 Quotes",
    "positions": "2 Positions",
    "orders": "3 Orders",
    "log": "4 Log",
    "risk": "5 Risk",
}
LOWER_PANES = ("positions", "orders", "log", "risk")
#: Below either of these the layout collapses to the quote board over one other pane.
WIDE_MIN_WIDTH, WIDE_MIN_HEIGHT = 120, 36


class MainScreen(Screen[None]):
    """The trading screen; it renders what the frame pump hands it and turns keys into commands."""

    is_main_screen = True
    BINDINGS = bindings("main")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._clock = clock
        self._lower = "positions"
        self.selected_instrument: str | None = None
        # Held, not queried: the frame pump touches them twenty times a second.
        self.header = AccountHeader(clock, id="header")
        self.board = QuoteBoard(id="quotes", classes="pane")
        self.positions = PositionsTable(id="positions", classes="pane lower -active")
        self.orders = OrdersTable(id="orders", classes="pane lower")
        self.risk = RiskGauges(id="risk", classes="pane lower")
        self.log_pane = EventLog(id="log", classes="pane lower")

    @property
    def tmt(self) -> TmtApp:
        return cast("TmtApp", self.app)

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        yield self.header
        with Container(id="panes"):
            yield self.board
            yield self.positions
            yield self.orders
            yield self.risk
            yield self.log_pane
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for name, title in PANES.items():
            self.query_one(f"#{name}").border_title = title
        self._layout_for(self.size.width, self.size.height)
        self.board.focus()

    # -- layout ----------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    @property
    def compact(self) -> bool:
        return self.has_class("-compact")

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT, "-compact")
        self._label_panes()

    def _label_panes(self) -> None:
        for name in LOWER_PANES:
            pane = self.query_one(f"#{name}")
            pane.set_class(name == self._lower, "-active")
            pane.border_subtitle = (
                " ".join(t for n, t in PANES.items() if n not in ("quotes", name))
                if self.compact
                else ""
            )

    def show_pane(self, name: str) -> None:
        """Bring `name` into view (in compact mode the lower area shows one pane at a time)."""
        if name in LOWER_PANES and name != self._lower:
            self._lower = name
            self._label_panes()

    def pane(self, name: str) -> Widget:
        return self.query_one(f"#{name}")

    @property
    def focused_pane(self) -> str | None:
        focused = self.focused
        return focused.id if focused is not None and focused.id in PANES else None

    def action_focus_pane(self, name: str) -> None:
        self.show_pane(name)
        self.pane(name).focus()

    def action_cycle_pane(self, step: int) -> None:
        names = list(PANES)
        current = self.focused_pane or "quotes"
        self.action_focus_pane(names[(names.index(current) + step) % len(names)])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id in LOWER_PANES:
            self.show_pane(str(event.widget.id))

    @on(InstrumentSelected)
    def _instrument_selected(self, message: InstrumentSelected) -> None:
        self.selected_instrument = message.instrument
        self.board.border_subtitle = f"{message.instrument}: b buy · s sell"

    # -- rendering (called by the app's frame pump) -----------------------------------------

    def apply_frame(self, model: ViewModel, dirty: Dirty, now: float, *, slow: bool) -> None:
        """Push what changed to the widgets; tables, header and gauges only on `slow` frames."""
        board = self.board
        if dirty.reset:
            board.set_rows(list(model.quotes.values()))
        elif dirty.quotes:
            board.rows_changed(dirty.quotes, now)
        board.expire_flashes(now)
        if dirty.events:
            self.log_pane.add_events(dirty.events, model.orders.get)
        if slow:
            self.refresh_slow(model)

    def refresh_slow(self, model: ViewModel) -> None:
        """Header, gauges and tables: the engine's latest, diffed into the widgets."""
        accounts = list(model.accounts.values())
        self.header.show(
            accounts,
            positions=len(model.positions),
            working=len(model.working_orders()),
            status=_status(self.tmt.stream_status, model.alerts),
            totals=model.totals,
        )
        self.risk.show(accounts, model.alerts)
        self.positions.show(model.positions, model.instruments)
        self.orders.show(model.orders_for_display(), model.instruments)

    def set_palette(self, palette: Palette) -> None:
        self.board.set_palette(palette)
        self.header.set_palette(palette)
        self.risk.set_palette(palette)
        self.positions.set_palette(palette)
        self.orders.set_palette(palette)
        self.log_pane.palette = palette

    def tick_clock(self) -> None:
        self.header.tick()

    def log_note(self, text: str, *, error: bool = False) -> None:
        log = self.log_pane
        log.note(self._clock(), text, log.palette.loss if error else None)

    # -- actions on the selection ------------------------------------------------------------

    def action_buy(self) -> None:
        self._open_ticket(1)

    def action_sell(self) -> None:
        self._open_ticket(-1)

    def _open_ticket(self, side: int) -> None:
        name = self.board.selected
        if name is None:
            self.notify("No instrument yet: waiting for the engine.", severity="warning")
            return
        self.tmt.open_ticket(name, side)

    def action_cancel_order(self) -> None:
        self.show_pane("orders")
        order = self.orders.selected_order(self.tmt.model.orders)
        if order is None or not order.status.is_open:
            self.notify("Select a working order in the orders pane (3).", severity="warning")
            return
        self.tmt.send(f"cancel {order.id}", self.tmt.client.execute(CancelOrder(order.id)))

    def action_modify_order(self) -> None:
        self.show_pane("orders")
        order = self.orders.selected_order(self.tmt.model.orders)
        if order is None or not order.status.is_open or order.type is OrderType.MARKET:
            self.notify(
                "Select a working limit/stop order in the orders pane (3).", severity="warning"
            )
            return
        instrument = self.tmt.model.instruments.get(order.instrument)
        self.app.push_screen(
            ModifyOrderScreen(self.tmt.client, order, instrument),
            callback=lambda reply: self.tmt.report_reply(f"modify {order.id}", reply),
        )

    def action_close_position(self) -> None:
        self.show_pane("positions")
        key = self.positions.selected_key
        position = self.tmt.model.positions.get(key) if key else None
        if position is None:
            self.notify("Select a position in the positions pane (2).", severity="warning")
            return
        command = ClosePosition(position.account, position.instrument)
        self.tmt.send(
            f"close {position.account} {position.instrument}",
            self.tmt.client.execute(command),
        )

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.tmt.settings.ui.keymap))


def _status(stream: str, alerts: dict[str, str]) -> str:
    """The connection to the engine, and the engine's to its venue when that is not well."""
    if stream == "live" and "venue.reconciling" in alerts:
        return "live · reconciling with venue"
    if stream == "live" and "venue.stream" in alerts:
        return "live · venue stream down"
    return stream
