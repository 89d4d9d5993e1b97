"""The main screen: the header over the registered panes, in a layout that collapses.

Wide (at least 120x36) shows every pane in its cell of a grid. Compact (80x24 and up) shows the
top pane (the quote board) over one other pane; `tab`, `shift+tab` and each pane's key bring any
pane into view and focus, so every pane stays reachable by keyboard. Both layouts come from the
pane registry (`tui/panes.py`).

The screen owns its frames: the view model's changes pushed to the panes at most `fps` times a
second. A frame is driven by data, not by a free-running timer: a change that arrives when the
last frame is at least a frame interval old is drawn at once (the leading edge), one that comes
sooner waits for the next frame boundary, and every change meanwhile joins that one frame, so a
burst of updates costs one repaint and an idle screen costs nothing. A slow housekeeping tick
does what time alone changes (flashes ending, tables due, panes that ask the engine). It also
owns the order ticket, the modify dialog and the event log, and reaches the app only as a
`Workstation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tmt_tui.domain.calendar import PERIODS
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import CancelOrder, ClosePosition, Command
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import why_watch_only
from tmt_tui.domain.orders import Order, OrderType
from tmt_tui.domain.quotes import Quote
from tmt_tui.tui.actions import BY_ID, bindings, effective_keys
from tmt_tui.tui.board_controls import WatchlistControls
from tmt_tui.tui.board_view import BY_SORT
from tmt_tui.tui.context import Workstation
from tmt_tui.tui.formatting import units
from tmt_tui.tui.layout import LayoutState
from tmt_tui.tui.messages import InstrumentSelected, LogNote, PaneAnswered
from tmt_tui.tui.panes import (
    BY_PANE_ID,
    PANES,
    WIDE_MIN_HEIGHT,
    WIDE_MIN_WIDTH,
    Frame,
    in_grid_order,
    layout_css,
    tab_titles,
)
from tmt_tui.tui.price_alert_texts import hit_text
from tmt_tui.tui.replay_controls import ReplayControls
from tmt_tui.tui.screens.dialogs import ConfirmScreen, ModifyOrderScreen
from tmt_tui.tui.screens.price_alerts import PriceAlertScreen, PriceAlertsScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.analytics import AnalyticsPane
from tmt_tui.tui.widgets.candles import CandleChart
from tmt_tui.tui.widgets.event_log import EventLog
from tmt_tui.tui.widgets.header import AccountHeader, HeaderState, TradingBanner
from tmt_tui.tui.widgets.history import TradeBlotter
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.tables import OrdersTable, PositionsTable

#: Tables, header and gauges refresh at most this often (seconds); quotes go every frame.
SLOW_INTERVAL = 0.25
#: A frame at least this often (seconds) while no data comes: flashes end, a table whose change
#: waited for its slow frame is drawn, history, analytics and the chart ask the engine when due.
HOUSEKEEPING_INTERVAL = 0.1
#: What rings the bell (when `[ui] bell` lets it): a fill, an order refused, a price alert hit.
_BELL_KINDS = frozenset(
    {EventKind.ORDER_FILLED, EventKind.ORDER_REJECTED, EventKind.PRICE_ALERT_HIT}
)
_TABS = [pane.id for pane in PANES if pane.compact == "tab"]

W = TypeVar("W", bound=Widget)


class MainScreen(Screen[None]):
    """The trading screen: it shows the model each frame and turns keys into commands."""

    BINDINGS = bindings("main")
    DEFAULT_CSS = layout_css("MainScreen")

    def __init__(
        self,
        workstation: Workstation,
        *,
        fps: float = 20,
        clock: Callable[[], float] = time.time,
        account: str | None = None,
        keymap: Mapping[str, str] | None = None,
        confirm_close: bool = True,
        bell: bool = False,
    ) -> None:
        """`account` is the one a first ticket offers, if the engine has it; `keymap` the
        user's (`[ui.keymap]`), so hints on screen name the keys actually in force."""
        super().__init__()
        self._keymap = dict(keymap or {})
        self._confirm_close = confirm_close
        self._bell = bell  # ring on a fill or a reject
        self._workstation = workstation
        self._frame_interval = 1 / fps
        self._last_frame = float("-inf")  # monotonic time of the last frame
        #: monotonic time of the last frame that drew a change: the pace `fps` limits
        self.drew_change_at = float("-inf")
        self._frame_due = False  # a frame is scheduled (changes until then join it)
        self.frames = 0  # frames drawn since mount: lets tests see what drew a change
        self._clock = clock
        self._last_account = account
        self._lower = _TABS[0]
        #: the layout to come back to (the app reads it from its file), and why a saved one
        #: could not be used
        self.restore: LayoutState | None = None
        self.layout_problem = ""
        self._last_slow = 0.0
        self._slow_pending = True
        self.selected_instrument: str | None = None
        self._header = AccountHeader(clock, id="header")
        self.replay = ReplayControls(workstation, self)
        self._replaying = False  # the replay keys are bound (refreshed when that changes)
        # Held, not queried: each frame hands them the model.
        self._panes: dict[str, Widget] = {}
        self._feeds: list[Callable[[Frame], None]] = []
        for pane in in_grid_order():
            widget, feed = pane.build()
            self._panes[pane.id] = widget
            self._feeds.append(feed)
        self.watchlist = WatchlistControls(workstation, self, self._board)

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        yield self._header
        with Container(id="panes"):
            yield from self._panes.values()
        yield Footer(compact=True)

    def on_mount(self) -> None:
        for pane in PANES:
            self._panes[pane.id].border_title = pane.label
        self._layout_for(self.size.width, self.size.height)
        self._panes[PANES[0].id].focus()
        self._restore_layout()
        self._workstation.model.on_change = self.frame_wanted
        self.set_interval(HOUSEKEEPING_INTERVAL, self._housekeeping, name="housekeeping")

    def layout_state(self) -> LayoutState:
        """What to come back to next time: the maximised pane, the tab and the pane in front,
        the selected instrument and the ticket's account."""
        maximized = self.maximized.id if self.maximized is not None else None
        return LayoutState(
            maximized=maximized if maximized in self._panes else None,
            tab=self._lower,
            focus=self.focused_pane,
            instrument=self._board.selected or self._board.follow,
            account=self._last_account,
        )

    def _restore_layout(self) -> None:
        """Come back as the screen was left (a pane or name no longer there is skipped); the
        instrument is selected once the board shows it."""
        if self.layout_problem:
            self.post_message(LogNote(self.layout_problem, error=True))
        state = self.restore
        if state is None:
            return
        self._last_account = state.account or self._last_account
        self._board.follow = state.instrument
        if state.tab in _TABS:
            self.show_pane(state.tab)
        if state.focus in self._panes:
            self.action_focus_pane(state.focus)
        if state.maximized in self._panes:
            name = state.maximized
            self.call_after_refresh(lambda: self.maximize(self._panes[name], container=False))

    # -- layout ----------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT, "-compact")
        self._label_tabs()

    def _label_tabs(self) -> None:
        compact = self.has_class("-compact")
        titles = tab_titles()
        for pane in PANES:
            if pane.compact != "tab":
                continue
            widget = self._panes[pane.id]
            widget.set_class(pane.id == self._lower, "-active")
            others = " ".join(title for title in titles if title != pane.label)
            widget.border_subtitle = others if compact else ""

    def show_pane(self, name: str) -> None:
        """Bring `name` into view (in compact mode the lower area shows one pane at a time)."""
        if name in _TABS and name != self._lower:
            self._lower = name
            self._label_tabs()

    @property
    def focused_pane(self) -> str | None:
        focused = self.focused
        return focused.id if focused is not None and focused.id in self._panes else None

    def action_focus_pane(self, name: str) -> None:
        self.show_pane(name)
        self._panes[name].focus()

    def action_toggle_maximize(self) -> None:
        """The focused pane fills the screen (a long blotter, the log at 80x24); again: back."""
        if self.maximized is not None:
            self.minimize()
            return
        name = self.focused_pane
        if name is None:
            self.notify("Focus a pane first (1-8, tab).", severity="warning")
            return
        self.show_pane(name)
        self.maximize(self._panes[name], container=False)

    def action_cycle_pane(self, step: int) -> None:
        names = [pane.id for pane in PANES]
        current = self.focused_pane or names[0]
        self.action_focus_pane(names[(names.index(current) + step) % len(names)])

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id in _TABS:
            self.show_pane(str(event.widget.id))

    @on(InstrumentSelected)
    def _instrument_selected(self, message: InstrumentSelected) -> None:
        self.selected_instrument = message.instrument
        buy, sell = (effective_keys(BY_ID[i], self._keymap) for i in ("buy", "sell"))
        self._board.border_subtitle = f"{message.instrument}: {buy} buy · {sell} sell"
        self._pane("chart", CandleChart).follow(message.instrument)

    def action_cycle_bar_size(self, step: int) -> None:
        """The chart's bar size: S5, M1, M5, M15, H1 (`]` up, `[` down), wherever focus is;
        the chart's first line says which."""
        self._pane("chart", CandleChart).step_size(step)

    @on(LogNote)
    def _log_note(self, message: LogNote) -> None:
        log = self._pane("log", EventLog)
        log.note(self._clock(), message.text, error=message.error)

    # -- frames ------------------------------------------------------------------------------

    def frame_wanted(self) -> None:
        """The model changed: draw now if the last frame is a frame interval old, else at the
        next frame boundary. Until the frame runs, further changes join it (no second one)."""
        if self._frame_due:
            return
        self._frame_due = True
        wait = self.drew_change_at + self._frame_interval - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._frame, name="frame")
        else:  # after the messages already queued: the rest of a burst joins this frame
            self.call_later(self._frame)

    def _housekeeping(self) -> None:
        """A frame for what time alone changes, when no data has drawn one lately."""
        if not self._frame_due and time.monotonic() - self._last_frame >= HOUSEKEEPING_INTERVAL:
            self._frame()

    def _frame(self) -> None:
        """Push what changed to the panes; tables, header and gauges only on slow frames."""
        model = self._workstation.model
        now = time.monotonic()
        self._frame_due = False
        self._last_frame = now
        self.frames += 1
        dirty = model.take_dirty()
        if dirty:
            self.drew_change_at = now
        self._slow_pending |= dirty.slow
        slow = self._slow_pending and (dirty.reset or now - self._last_slow >= SLOW_INTERVAL)
        frame = Frame(model, dirty, now, slow, self._query, self.watchlist.account)
        if self._bell and not dirty.reset and any(e.kind in _BELL_KINDS for e in dirty.events):
            self.app.bell()
        if not dirty.reset:
            self._announce_price_alerts_hit(dirty.events)
        with self.app.batch_update():
            for feed in self._feeds:
                feed(frame)
            if slow:
                self._header.state = HeaderState(
                    accounts=tuple(model.accounts.values()),
                    trading_state=model.trading_state,
                    positions=len(model.positions),
                    working=sum(not o.is_protective for o in model.working_orders()),
                    status=model.status_text(),
                    totals=model.totals,
                    engine_lost=model.engine_lost,
                    read_only=model.read_only,
                    replay=model.replay,
                )
        if slow:
            self._last_slow = now
            if self._replaying != self.replay.active:
                self._replaying = self.replay.active
                self.refresh_bindings()  # the replay keys show, and act, only in a replay
            self._slow_pending = False

    def _query(self, pane_id: str, command: Command) -> None:
        """Ask the engine for a pane in a worker; the answer comes back as `PaneAnswered`."""
        self.run_worker(self._ask(pane_id, command), group=f"query-{pane_id}", exit_on_error=False)

    async def _ask(self, pane_id: str, command: Command) -> None:
        try:
            reply = await self._workstation.client.execute(command)
        except Exception as exc:  # a broken connection: the pane says so and asks again later
            reply = Reply(False, "CLIENT_ERROR", str(exc) or type(exc).__name__)
        self.post_message(PaneAnswered(pane_id, reply))

    @on(PaneAnswered)
    def _pane_answered(self, message: PaneAnswered) -> None:
        answer = BY_PANE_ID[message.pane].answer
        if answer is not None:
            answer(self._panes[message.pane], message.reply, self._workstation.model)

    def action_cycle_period(self) -> None:
        """The analytics pane's period: all, today, this trading week, this month."""
        pane = self._panes.get(self.focused_pane or "")
        if not isinstance(pane, AnalyticsPane):
            self.notify("p picks the period in analytics (7).")
            return
        periods: list[str | None] = list(PERIODS)
        pane.period = _next(periods, pane.period) or PERIODS[0]
        pane.schedule.stale = True  # ask again now, for the new period

    def action_filter_instrument(self) -> None:
        """The history pane's pair filter: the highlighted trade's pair, or every pair again."""
        pane = self._panes.get(self.focused_pane or "")
        if not isinstance(pane, TradeBlotter):
            self.notify("i keeps one pair in history (6).")
            return
        if pane.instrument is not None:
            pane.instrument = None
        else:
            trade = pane.selected_trade
            if trade is None:
                self.notify("No trade to take the pair from.", severity="warning")
                return
            pane.instrument = trade.instrument
        pane.schedule.stale = True
        self._title_history(pane)

    def _title_history(self, pane: TradeBlotter) -> None:
        shown = [pane.account or "all accounts", pane.instrument or ""]
        spec = BY_PANE_ID[str(pane.id)]
        pane.border_title = " · ".join([spec.label, *filter(None, shown)])

    def action_cycle_account(self) -> None:
        """The history pane's filter: all, then each account; analytics: each account in turn."""
        pane = self._panes.get(self.focused_pane or "")
        if isinstance(pane, TradeBlotter):
            choices: list[str | None] = [None, *sorted(self._workstation.model.accounts)]
            pane.account = _next(choices, pane.account)
            pane.schedule.stale = True
            self._title_history(pane)
            return
        elif isinstance(pane, AnalyticsPane):
            names: list[str | None] = [view.account for view in pane.views]
            if not names:
                self.notify("No analytics yet: waiting for the engine.", severity="warning")
                return
            current = pane.shown
            pane.account = _next(names, current.account if current else None)
            shown = str(pane.account)
        else:
            self.notify("a picks the account in history (6) or analytics (7).")
            return
        spec = BY_PANE_ID[str(pane.id)]
        pane.border_title = f"{spec.label} · {shown}"

    # -- the watchlist (tui/board_controls.py) ------------------------------------------------

    def action_watch_add(self) -> None:
        self.watchlist.add()

    def action_watch_remove(self) -> None:
        self.watchlist.remove()

    def action_watch_move(self, step: int) -> None:
        self.watchlist.move(step)

    def action_watch_sort(self) -> None:
        title = self.watchlist.cycle_sort()
        self._title_views()
        self.notify(f"Board sorted by {title}.", timeout=2)

    def action_account_view(self) -> None:
        """One account's board, positions and orders (its ticket account too), then all."""
        account = self.watchlist.cycle_account()
        if account is not None:
            self._last_account = account
        self._slow_pending = True  # the tables show the new view at the next frame
        self._title_views()
        self.notify(f"Showing {account or 'every account'}.", timeout=2)

    def _title_views(self) -> None:
        """Pane titles say the board's sort and whose view the panes show."""
        board, account = self._board, self.watchlist.account
        sort = BY_SORT[board.sort]
        by = "" if sort.key is None else f"by {sort.title}"
        board.border_title = " · ".join(filter(None, [BY_PANE_ID["quotes"].label, by, account]))
        for name in ("positions", "orders"):
            label = BY_PANE_ID[name].label
            self._panes[name].border_title = f"{label} · {account}" if account else label

    # -- a replay ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The replay keys are bound only while the engine replays (elsewhere space, + and -
        stay free and out of the footer)."""
        if action.startswith("replay_"):
            return self.replay.active
        return True

    def action_replay_pause(self) -> None:
        self.replay.toggle_pause()

    def action_replay_speed(self, step: int) -> None:
        if step > 0:
            self.replay.faster()
        else:
            self.replay.slower()

    # -- actions on the selection ------------------------------------------------------------

    def action_buy(self) -> None:
        self._open_ticket(1)

    def action_sell(self) -> None:
        self._open_ticket(-1)

    def _open_ticket(self, side: int) -> None:
        if self._workstation.model.read_only:
            self.notify(
                "Read-only viewer: the engine refuses orders from this screen "
                "(attach without --read-only to trade).",
                severity="warning",
            )
            return
        name = self._board.selected
        if name is None:
            self.notify("No instrument yet: waiting for the engine.", severity="warning")
            return
        self.open_ticket(name, side)

    def open_ticket(self, instrument_name: str, side: int) -> None:
        """The order ticket for `instrument_name` (side +1 buys, -1 sells)."""
        model = self._workstation.model
        instrument = model.instruments.get(instrument_name)
        if instrument is None:
            self.notify(f"Unknown instrument {instrument_name}", severity="warning")
            return
        if not instrument.tradeable:
            self.notify(why_watch_only(instrument), severity="warning")
            return

        def quote() -> Quote | None:
            row = model.quotes.get(instrument_name)
            return row.quote if row else None

        def equity(account: str) -> Decimal | None:
            state = model.accounts.get(account)
            return state.equity if state else None

        ticket = OrderTicketScreen(
            self._workstation.client,
            instrument,
            side,
            list(model.accounts.values()),  # the engine's, not this config's
            quote,
            account=self._last_account if self._last_account in model.accounts else None,
            equity=equity,
            rate=model.rate,
            clock=self._clock,
        )

        def done(reply: Reply | None) -> None:
            if reply is not None and reply.ok and reply.order_id:
                self._pane("orders", OrdersTable).follow(reply.order_id)
            if ticket.sent:
                last = ticket.sent[-1]
                self._last_account = last.account
                label = f"{'BUY' if last.units > 0 else 'SELL'} {units(last.units, signed=False)}"
                self._workstation.report_reply(f"{label} {last.instrument}", reply)

        self.app.push_screen(ticket, callback=done)

    # -- price alerts ------------------------------------------------------------------------

    def action_price_alert(self) -> None:
        """The price alert form for the selected instrument."""
        model = self._workstation.model
        if model.read_only:
            self.notify("Read-only viewer: the engine refuses price alerts from this screen.")
            return
        name = self._board.selected
        instrument = model.instruments.get(name or "")
        if instrument is None:
            self.notify("No instrument yet: waiting for the engine.", severity="warning")
            return

        def quote() -> Quote | None:
            row = model.quotes.get(instrument.name)
            return row.quote if row else None

        self.app.push_screen(
            PriceAlertScreen(self._workstation.client, instrument, quote),
            callback=lambda reply: self._workstation.report_reply("alert", reply),
        )

    def action_price_alerts(self) -> None:
        """The active price alerts, where one can be cancelled."""
        self.app.push_screen(PriceAlertsScreen(self._workstation))

    def _announce_price_alerts_hit(self, events: list[Event]) -> None:
        """A notification for each price alert that fired (the log has its line already)."""
        for event in events:
            if event.kind is EventKind.PRICE_ALERT_HIT:
                self.notify(
                    hit_text(event.data), title="Price alert", severity="warning", timeout=15
                )

    def action_cancel_order(self) -> None:
        self.show_pane("orders")
        order = self._selected_order()
        if order is None or not order.status.is_open:
            self.notify("Select a working order in the orders pane (3).", severity="warning")
            return
        client = self._workstation.client
        self._workstation.send(f"cancel {order.id}", client.execute(CancelOrder(order.id)))

    def action_modify_order(self) -> None:
        self.show_pane("orders")
        order = self._selected_order()
        if order is None or not order.status.is_open or order.type is OrderType.MARKET:
            self.notify(
                "Select a working limit/stop order in the orders pane (3).", severity="warning"
            )
            return
        workstation = self._workstation
        instrument = workstation.model.instruments.get(order.instrument)
        self.app.push_screen(
            ModifyOrderScreen(workstation.client, order, instrument),
            callback=lambda reply: workstation.report_reply(f"modify {order.id}", reply),
        )

    def action_close_position(self) -> None:
        self.show_pane("positions")
        key = self._pane("positions", PositionsTable).selected_key
        position = self._workstation.model.positions.get(key) if key else None
        if position is None:
            self.notify("Select a position in the positions pane (2).", severity="warning")
            return
        command = ClosePosition(position.account, position.instrument)
        label = f"close {position.account} {position.instrument}"

        def close() -> None:
            self._workstation.send(label, self._workstation.client.execute(command))

        if not self._confirm_close:
            close()
            return
        side = "long" if position.units > 0 else "short"
        self.app.push_screen(
            ConfirmScreen(
                "Close position",
                f"Close {position.account}'s {side} {units(abs(position.units), signed=False)} "
                f"{position.instrument} at the market?",
                yes="Close",
            ),
            callback=lambda yes: close() if yes else None,
        )

    def _selected_order(self) -> Order | None:
        key = self._pane("orders", OrdersTable).selected_key
        return self._workstation.model.orders.get(key) if key else None

    @property
    def _board(self) -> QuoteBoard:
        return self._pane("quotes", QuoteBoard)

    def _pane(self, name: str, kind: type[W]) -> W:
        widget = self._panes[name]
        assert isinstance(widget, kind), (name, kind)
        return widget


def _next(choices: list[str | None], current: str | None) -> str | None:
    """The choice after `current` (the first when `current` is not among them)."""
    if current not in choices:
        return choices[0]
    return choices[(choices.index(current) + 1) % len(choices)]
