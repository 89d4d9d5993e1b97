"""Risk gauges per account: margin use, leverage against its cap, day loss against its limit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tmt_tui.domain.positions import AccountState, TradingState
from tmt_tui.tui.formatting import money, percent
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: Share of a limit at which a gauge turns to the warning colour, and to the loss colour.
WARN_AT, ALARM_AT = 0.5, 0.8
#: Cells in a gauge line besides the bar and the figures: label column and percentage.
_FIXED = 9 + 8
_TRADING_NAMES = ("profit", "loss", "warning", "halted", "reducing", "muted")


class RiskGauges(Widget, can_focus=True):
    """Three bars per account, each the engine's number over its limit, coloured by how close.

    A custom bar rather than `ProgressBar`: three gauges per account must fit a few rows at
    80 columns, and the numbers beside them matter more than an animation.
    """

    COMPONENT_CLASSES = {f"risk-gauges--{name}" for name in _TRADING_NAMES}
    """
    | Class | Description |
    | :- | :- |
    | `risk-gauges--profit` | A gauge below half its limit; an ACTIVE account. |
    | `risk-gauges--warning` | A gauge at half its limit or more; the active alerts. |
    | `risk-gauges--loss` | A gauge at 80% of its limit or more; a breached daily loss. |
    | `risk-gauges--halted` / `--reducing` | An account's trading state when not ACTIVE. |
    | `risk-gauges--muted` | The empty part of a bar and the figures. |
    """

    DEFAULT_CSS = """
    RiskGauges {
        height: 1fr;
        padding: 0 1;
        overflow-y: auto;
    }
    """ + trading_css("RiskGauges", "risk-gauges", _TRADING_NAMES)

    accounts: reactive[tuple[AccountState, ...]] = reactive((), init=False)
    """The engine's account states, one block of gauges each."""
    alerts: reactive[tuple[tuple[str, str], ...]] = reactive((), init=False)
    """The engine's active alerts (key, message), listed under the gauges."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._style = ComponentStyles(self, "risk-gauges")

    def show(self, accounts: Sequence[AccountState], alerts: Mapping[str, str]) -> None:
        """The engine's account states and its active alerts (key -> message)."""
        self.accounts = tuple(accounts)
        self.alerts = tuple(sorted(alerts.items()))

    def watch_accounts(self, old: tuple[AccountState, ...], new: tuple[AccountState, ...]) -> None:
        if len(old) != len(new):
            self.refresh(layout=True)

    def watch_alerts(
        self, old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]
    ) -> None:
        if len(old) != len(new):
            self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def render(self) -> RenderableType:
        style = self._style
        if not self.accounts:
            return Text("no accounts yet", style("muted"))
        width = max(self.content_size.width - 1, 30)
        per_account = [(account, self._gauges(account)) for account in self.accounts]
        widest = max(len(figures) for _, gauges in per_account for _, _, figures in gauges)
        bar_width = max(width - _FIXED - widest, 5)
        lines: list[Text] = []
        for account, gauges in per_account:
            lines.append(self._title(account))
            lines += [self._gauge(*gauge, bar_width) for gauge in gauges]
        if self.alerts:
            lines.append(Text(f"ALERTS ({len(self.alerts)})", style("warning")))
            lines += [Text(f" {key}: {message}", style("warning")) for key, message in self.alerts]
        return Group(*lines)

    @staticmethod
    def _gauges(account: AccountState) -> tuple[tuple[str, float, str], ...]:
        """(label, share of the limit, figures) for margin, leverage and day loss."""
        loss = max(-account.daily_pl, Decimal(0))
        return (
            (
                "Margin",
                float(account.margin_use),
                f"{money(account.margin_used)}/{money(account.equity)} eq",
            ),
            (
                "Lever.",
                percent(account.leverage, account.max_leverage),
                f"{account.leverage:.2f}x/{account.max_leverage:.0f}x",
            ),
            (
                "DayLoss",
                percent(loss, account.daily_loss_limit),
                f"{money(loss)}/{money(account.daily_loss_limit)}",
            ),
        )

    def _title(self, account: AccountState) -> Text:
        state = account.trading_state
        name = {TradingState.HALTED: "halted", TradingState.REDUCING: "reducing"}.get(
            state, "profit"
        )
        title = Text.assemble((f"{account.id} ", "bold"), (state.value, self._style(name)))
        if account.daily_loss_breached:
            title.append("  daily loss breached", self._style("loss"))
        return title

    def _gauge(self, label: str, fraction: float, figures: str, bar_width: int) -> Text:
        clamped = min(max(fraction, 0.0), 1.0)
        filled = round(clamped * bar_width)
        style = self._level(fraction)
        return Text.assemble(
            f" {label:<7} ",
            ("█" * filled, style),
            ("░" * (bar_width - filled), self._style("muted")),
            (f" {fraction * 100:5.1f}% ", style),
            (figures, self._style("muted")),
            no_wrap=True,
            overflow="crop",
        )

    def _level(self, fraction: float) -> Style:
        if fraction >= ALARM_AT:
            return self._style("loss")
        if fraction >= WARN_AT:
            return self._style("warning")
        return self._style("profit")
