"""The analytics pane: one account's metric table beside its equity curve and drawdown."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tmt_tui.tui.analytics_view import AccountView
from tmt_tui.tui.state import QuerySchedule
from tmt_tui.tui.widgets.chart import Chart
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: Seconds between two analytics questions while the pane is on screen (the engine computes
#: the report off its loop: cheap, not free).
ANALYTICS_INTERVAL = 5.0
_TRADING_NAMES = ("muted",)
PERIOD_LABELS = {
    "all": "all time",
    "today": "today",
    "week": "this week",
    "month": "this month",
}


class AnalyticsPane(Widget, can_focus=True):
    """The metrics of the account picked with `a` (a scrolling list) beside two charts: equity
    over time and, under it, how far below its running peak it stood. With two accounts or
    more, the first is all of them together in the report currency."""

    COMPONENT_CLASSES = {"analytics-pane--muted"}
    """
    | Class | Description |
    | :- | :- |
    | `analytics-pane--muted` | Metric names, and the text shown before a report arrives. |
    """

    DEFAULT_CSS = """
    AnalyticsPane { height: 1fr; layout: vertical; }
    AnalyticsPane > #analytics-title { height: 1; padding: 0 1; text-style: bold; }
    AnalyticsPane > Horizontal { height: 1fr; }
    AnalyticsPane VerticalScroll { width: 32; height: 1fr; scrollbar-size-vertical: 1; }
    AnalyticsPane #analytics-metrics { padding: 0 1; }
    AnalyticsPane #analytics-equity { height: 2fr; }
    AnalyticsPane #analytics-drawdown { height: 1fr; }
    """ + trading_css("AnalyticsPane", "analytics-pane", _TRADING_NAMES)

    BINDINGS = [
        Binding("up,k", "scroll_metrics(-1)", "Up", show=False),
        Binding("down,j", "scroll_metrics(1)", "Down", show=False),
        Binding("pageup", "page_metrics(-1)", "Page up", show=False),
        Binding("pagedown", "page_metrics(1)", "Page down", show=False),
    ]

    views: reactive[tuple[AccountView, ...]] = reactive((), init=False)
    """Each account's analytics as the feed worked them out, in the engine's order."""
    account: reactive[str | None] = reactive(None, init=False)
    """The account on show (None: the first one in the report)."""
    period: reactive[str] = reactive("all", init=False)
    """The period on show (`p` cycles all, today, this trading week, this month)."""
    problem: reactive[str] = reactive("", init=False)
    """Why there is no report (the engine refused or could not be reached), or empty."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._style = ComponentStyles(self, "analytics-pane")
        self.schedule = QuerySchedule(ANALYTICS_INTERVAL)
        self.as_of: float | None = None  # the engine's clock at its last report

    def compose(self) -> ComposeResult:
        yield Static(id="analytics-title")
        with Horizontal():
            with VerticalScroll(can_focus=False):
                yield Static(id="analytics-metrics")
            with Vertical():
                yield Chart(id="analytics-equity")
                yield Chart(id="analytics-drawdown")

    def on_mount(self) -> None:
        self._show()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def watch_views(self) -> None:
        self._show()

    def watch_account(self) -> None:
        self._show()

    def watch_problem(self) -> None:
        self._show()

    def watch_period(self) -> None:
        self._show()

    @property
    def shown(self) -> AccountView | None:
        """The view of the account on show, if the report has it."""
        for view in self.views:
            if self.account is None or view.account == self.account:
                return view
        return None

    def _show(self) -> None:
        if not self.is_mounted:
            return
        muted = self._style("muted")
        view = self.shown
        title = self.query_one("#analytics-title", Static)
        metrics = self.query_one("#analytics-metrics", Static)
        equity = self.query_one("#analytics-equity", Chart)
        drawdown = self.query_one("#analytics-drawdown", Chart)
        if view is None:
            text = self.problem or f"{self._period_label}: waiting for the engine's equity rows…"
            title.update(Text(text, muted))
            metrics.update("")
            equity.series, drawdown.series = (), ()
            equity.caption, drawdown.caption = "equity", "drawdown"
            return
        others = len(self.views) - 1
        hint = f"  (a: {others} other account{'s' if others != 1 else ''})" if others else ""
        title.update(Text.assemble(f"{view.title} · {self._period_label}", (hint, muted)))
        rows = [*view.metrics, *view.exposure, *view.attribution]
        width = max(len(label) for label, value in rows if value) + 1
        lines = Text()
        for section in (view.metrics, view.exposure, view.attribution):
            for label, value in section:
                if lines:
                    lines.append("\n")
                if not value:  # a section heading
                    lines.append(label, "bold")
                    continue
                lines.append(f"{label:<{width}}", muted)
                lines.append(f"{value:>10}")
        metrics.update(lines)
        equity.series, equity.caption = view.curve, view.curve_caption
        drawdown.series, drawdown.caption = view.drawdown, view.drawdown_caption

    @property
    def _period_label(self) -> str:
        return PERIOD_LABELS.get(self.period, self.period) + " (p)"

    def action_scroll_metrics(self, lines: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_page_metrics(self, pages: int) -> None:
        """A page is what the metric list shows at once, less a line kept for context."""
        scroller = self.query_one(VerticalScroll)
        step = max(1, scroller.scrollable_content_region.height - 1)
        scroller.scroll_relative(y=pages * step, animate=False)
