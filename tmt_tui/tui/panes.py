"""The panes of the main screen, registered in one place: what each is, its key, where it goes.

A `PaneSpec` names a pane's id, title and key (`1`-`8` today), the widget that is it, how the
frame timer feeds it from the view model, its cell in the wide grid and its place in the 80x24
layout. The main screen composes, titles, lays out and feeds panes from `PANES` alone, and the
action registry binds each pane's key from it, so a new pane is one entry here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Literal, Protocol, TypeVar

from textual.widget import Widget

from tmt_tui.analytics.summary import AnalyticsReport
from tmt_tui.domain.calendar import period_start
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import Command, QueryAnalytics, QueryBars, QueryTrades
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.history import TradeHistory
from tmt_tui.domain.market import Candles
from tmt_tui.tui.analytics_view import report_views
from tmt_tui.tui.board_view import BY_SORT, RESORT_SECONDS, board_rows
from tmt_tui.tui.state import Dirty, ViewModel
from tmt_tui.tui.widgets.analytics import AnalyticsPane
from tmt_tui.tui.widgets.candles import CandleChart
from tmt_tui.tui.widgets.event_log import EventLog
from tmt_tui.tui.widgets.history import TradeBlotter
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.risk import RiskGauges
from tmt_tui.tui.widgets.tables import OrdersTable, PositionsTable

#: Below either of these the layout is compact (80x24 and up): one top pane over one tab.
WIDE_MIN_WIDTH, WIDE_MIN_HEIGHT = 120, 36
#: Column widths and row heights of the wide grid (a pane's `Cell` spans some of them).
WIDE_COLUMNS = ("50", "1fr", "1fr")
WIDE_ROWS = ("1fr", "1fr", "14", "16")

W = TypeVar("W", bound=Widget)
W_co = TypeVar("W_co", bound=Widget, covariant=True)


@dataclass(frozen=True, slots=True)
class Frame:
    """One tick of the frame timer: the model, what changed since the last tick, and when.

    `slow` frames (a few a second) also refresh the panes that are costly to repaint.
    `query(pane_id, command)` asks the engine for a pane; the answer reaches the pane's `answer`.
    """

    model: ViewModel
    dirty: Dirty
    now: float
    slow: bool
    query: Callable[[str, Command], None] = lambda pane_id, command: None
    #: The account whose view the screen shows (board, positions, orders), or None: all.
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """Where a pane sits in the wide grid: top-left row and column, and how far it spans.

    Textual places grid children in order, row by row, so the screen composes panes sorted by
    (row, column); the cells must tile the grid without holes.
    """

    row: int
    column: int
    row_span: int = 1
    column_span: int = 1


class PaneFactory(Protocol[W_co]):
    """A pane widget's constructor: the screen gives it its id and classes."""

    def __call__(self, *, id: str | None = None, classes: str | None = None) -> W_co: ...


@dataclass(frozen=True, slots=True)
class PaneSpec(Generic[W]):
    """One pane: id (also its CSS id), title, key, what it is and where it goes.

    `compact` is its place at 80x24: `top` is always shown in the upper half, `tab` panes take
    turns in the lower half (tab, shift+tab or the key brings one forward). A pane that asks the
    engine (`frame.query`) gets the reply in `answer`, with the model for what it needs of it.
    """

    id: str
    title: str
    key: str
    tooltip: str
    factory: PaneFactory[W]
    feed: Callable[[W, Frame], None]
    wide: Cell
    compact: Literal["top", "tab"] = "tab"
    answer: Callable[[W, Reply, ViewModel], None] | None = None

    @property
    def label(self) -> str:
        """The border title: the key, then the name."""
        return f"{self.key} {self.title}"

    def build(self) -> tuple[W, Callable[[Frame], None]]:
        """The pane's widget, and what hands it each frame."""
        widget = self.factory(id=self.id, classes=f"pane {self.compact}")
        return widget, partial(self.feed, widget)


def _feed_quotes(board: QuoteBoard, frame: Frame) -> None:
    """The watchlist's rows in the board's sort and view (tui/board_view.py); rows are set
    again only when what is shown or its order changed, else only rows that ticked repaint."""
    model, dirty, account = frame.model, frame.dirty, frame.account
    reshape = board.reshape or dirty.reset or dirty.watchlist or board.account != account
    board.account = account
    held_moved = account is not None and (dirty.positions or dirty.orders)
    resort = BY_SORT[board.sort].live and frame.now - board.sorted_at >= RESORT_SECONDS
    if reshape or held_moved or resort:
        rows = board_rows(model, board.sort, account)
        board.sorted_at = frame.now
        if reshape or [row.instrument.name for row in rows] != board.names:
            board.reshape = False
            board.set_rows(rows)
            board.expire_flashes(frame.now)
            return
    if dirty.quotes:
        board.rows_changed(dirty.quotes, frame.now)
    board.expire_flashes(frame.now)


def _feed_positions(table: PositionsTable, frame: Frame) -> None:
    if frame.slow:
        positions, account = frame.model.positions, frame.account
        if account is not None:
            positions = {k: p for k, p in positions.items() if p.account == account}
        table.show(positions, frame.model.instruments)


def _feed_orders(table: OrdersTable, frame: Frame) -> None:
    if frame.slow:
        orders, account = frame.model.orders_for_display(), frame.account
        if account is not None:
            orders = [o for o in orders if o.account == account]
        table.show(orders, frame.model.instruments)


def _feed_log(log: EventLog, frame: Frame) -> None:
    if frame.dirty.events:
        log.add_events(frame.dirty.events, frame.model.orders.get)


def _feed_risk(gauges: RiskGauges, frame: Frame) -> None:
    if frame.slow:
        gauges.show(list(frame.model.accounts.values()), frame.model.alerts)


def _visible(widget: Widget) -> bool:
    """On show: displayed (not a hidden tab at 80x24) on the screen in front or under a dialog."""
    return widget.display and widget.is_on_screen


def _feed_history(blotter: TradeBlotter, frame: Frame) -> None:
    schedule = blotter.schedule
    if any(event.kind is EventKind.ORDER_FILLED for event in frame.dirty.events):
        schedule.stale = True
    if schedule.due(frame.now, _visible(blotter)):
        schedule.asked(frame.now)
        query = QueryTrades(account=blotter.account, instrument=blotter.instrument)
        frame.query(str(blotter.id), query)


def _answer_history(blotter: TradeBlotter, reply: Reply, model: ViewModel) -> None:
    blotter.schedule.answered()
    if reply.ok and isinstance(reply.payload, TradeHistory):
        precisions = {name: i.display_precision for name, i in model.instruments.items()}
        blotter.show(reply.payload.trades, precisions)


def _feed_analytics(pane: AnalyticsPane, frame: Frame) -> None:
    schedule = pane.schedule
    if schedule.due(frame.now, _visible(pane)):
        schedule.asked(frame.now)
        since = period_start(pane.period, pane.as_of or time.time())
        frame.query(str(pane.id), QueryAnalytics(since=since))


def _answer_analytics(pane: AnalyticsPane, reply: Reply, model: ViewModel) -> None:
    pane.schedule.answered()
    if reply.ok and isinstance(reply.payload, AnalyticsReport):
        pane.as_of = reply.payload.as_of  # periods follow the engine's clock
        pane.views = report_views(reply.payload)
        pane.problem = ""
    else:
        pane.problem = f"no analytics: {reply.code}: {reply.message}"


def _feed_chart(chart: CandleChart, frame: Frame) -> None:
    """Ask for the selected instrument's candles: at once when it or the size changed, then
    for the live candle every ``LIVE_INTERVAL`` while the chart is on screen."""
    if chart.instrument is None:
        first = next(iter(frame.model.quotes), None)
        if first is None:
            return
        chart.follow(first)
    schedule = chart.schedule
    if chart.instrument is not None and schedule.due(frame.now, _visible(chart)):
        schedule.asked(frame.now)
        frame.query(str(chart.id), QueryBars(chart.instrument, chart.bar_size, chart.capacity))


def _answer_chart(chart: CandleChart, reply: Reply, model: ViewModel) -> None:
    chart.schedule.answered()
    candles = reply.payload
    if not (reply.ok and isinstance(candles, Candles)):
        chart.problem = f"no chart: {reply.code}: {reply.message}"
        chart.show(None)
        return
    if (candles.instrument, candles.size) != (chart.instrument, chart.bar_size):
        return  # asked before the selection moved: the next frame asks again
    chart.problem = ""
    instrument = model.instruments.get(candles.instrument)
    chart.show(candles, instrument.display_precision if instrument is not None else None)


#: Every pane, in key and tab order.
PANES: tuple[PaneSpec[Any], ...] = (
    PaneSpec(
        "quotes",
        "Quotes",
        "1",
        "Focus the quote board.",
        QuoteBoard,
        _feed_quotes,
        wide=Cell(0, 0, row_span=2),
        compact="top",
    ),
    PaneSpec(
        "positions",
        "Positions",
        "2",
        "Focus the positions table.",
        PositionsTable,
        _feed_positions,
        wide=Cell(0, 1, column_span=2),
    ),
    PaneSpec(
        "orders",
        "Orders",
        "3",
        "Focus the orders table.",
        OrdersTable,
        _feed_orders,
        wide=Cell(1, 1, column_span=2),
    ),
    PaneSpec("log", "Log", "4", "Focus the event log.", EventLog, _feed_log, wide=Cell(2, 2)),
    PaneSpec(
        "risk", "Risk", "5", "Focus the risk gauges.", RiskGauges, _feed_risk, wide=Cell(2, 0)
    ),
    PaneSpec(
        "history",
        "History",
        "6",
        "Focus the blotter of closed trades (a: next account).",
        TradeBlotter,
        _feed_history,
        wide=Cell(3, 0, column_span=2),
        answer=_answer_history,
    ),
    PaneSpec(
        "analytics",
        "Analytics",
        "7",
        "Focus the analytics: metrics, equity curve, drawdown (a: next account).",
        AnalyticsPane,
        _feed_analytics,
        wide=Cell(3, 2),
        answer=_answer_analytics,
    ),
    PaneSpec(
        "chart",
        "Chart",
        "8",
        "Focus the candle chart of the selected instrument ([ and ]: bar size).",
        CandleChart,
        _feed_chart,
        wide=Cell(2, 1),
        answer=_answer_chart,
    ),
)

BY_PANE_ID: dict[str, PaneSpec[Any]] = {pane.id: pane for pane in PANES}


def in_grid_order(panes: tuple[PaneSpec[Any], ...] = PANES) -> Iterator[PaneSpec[Any]]:
    """The panes in the order Textual's grid must receive them to put each in its cell."""
    return iter(sorted(panes, key=lambda pane: (pane.wide.row, pane.wide.column)))


def tab_titles(panes: tuple[PaneSpec[Any], ...] = PANES) -> list[str]:
    """The labels of the panes that take turns below the top pane at 80x24."""
    return [pane.label for pane in panes if pane.compact == "tab"]


def layout_css(screen: str, panes: tuple[PaneSpec[Any], ...] = PANES) -> str:
    """The screen's grid for both layouts, from the registry.

    Wide: every pane in its cell. Compact (the screen has `-compact`): one column, the `top`
    pane over whichever `tab` pane has `-active`; the others are not displayed.
    """
    rules = [
        f"#panes {{ layout: grid; height: 1fr; grid-size: {len(WIDE_COLUMNS)} {len(WIDE_ROWS)}; "
        f"grid-columns: {' '.join(WIDE_COLUMNS)}; grid-rows: {' '.join(WIDE_ROWS)}; }}",
        f"{screen}.-compact #panes {{ grid-size: 1 2; grid-columns: 1fr; grid-rows: 1fr 1fr; }}",
        f"{screen}.-compact .tab {{ display: none; }}",
        f"{screen}.-compact .tab.-active {{ display: block; }}",
    ]
    for pane in panes:
        cell = pane.wide
        rules.append(
            f"#{pane.id} {{ row-span: {cell.row_span}; column-span: {cell.column_span}; }}"
        )
        rules.append(f"{screen}.-compact #{pane.id} {{ row-span: 1; column-span: 1; }}")
    return "\n".join(rules) + "\n"
