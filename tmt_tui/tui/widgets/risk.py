"""Risk gauges per account: margin use, leverage against its cap, day loss against its limit."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tmt_tui.domain.positions import AccountState, TradingState
from tmt_tui.tui.formatting import money, percent
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, Palette

#: Share of a limit at which a gauge turns to the warning colour, and to the loss colour.
WARN_AT, ALARM_AT = 0.5, 0.8
#: Cells in a gauge line besides the bar and the figures: label column and percentage.
_FIXED = 9 + 8


class RiskGauges(Widget, can_focus=True):
    """Three bars per account, each the engine's number over its limit, coloured by how close.

    A custom bar rather than `ProgressBar`: three gauges per account must fit a few rows at
    80 columns, and the numbers beside them matter more than an animation.
    """

    DEFAULT_CSS = """
    RiskGauges {
        height: 1fr;
        padding: 0 1;
        overflow-y: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._accounts: tuple[AccountState, ...] = ()
        self._alerts: tuple[tuple[str, str], ...] = ()
        self.palette = Palette.from_variables(TRADING_VARIABLE_DEFAULTS)

    def show(self, accounts: Sequence[AccountState], alerts: dict[str, str] | None = None) -> None:
        """The engine's account states and its active alerts (key -> message)."""
        shown = tuple(sorted((alerts or {}).items()))
        resized = len(accounts) != len(self._accounts) or len(shown) != len(self._alerts)
        self._accounts = tuple(accounts)
        self._alerts = shown
        self.refresh(layout=resized)

    def set_palette(self, palette: Palette) -> None:
        self.palette = palette
        self.refresh()

    def render(self) -> RenderableType:
        if not self._accounts:
            return Text("no accounts yet", self.palette.muted)
        width = max(self.content_size.width - 1, 30)
        per_account = [(account, self._gauges(account)) for account in self._accounts]
        widest = max(len(figures) for _, gauges in per_account for _, _, figures in gauges)
        bar_width = max(width - _FIXED - widest, 5)
        lines: list[Text] = []
        for account, gauges in per_account:
            lines.append(self._title(account))
            lines += [self._gauge(*gauge, bar_width) for gauge in gauges]
        if self._alerts:
            lines.append(Text(f"ALERTS ({len(self._alerts)})", self.palette.warning))
            lines += [
                Text(f" {key}: {message}", self.palette.warning) for key, message in self._alerts
            ]
        return Group(*lines)

    @staticmethod
    def _gauges(account: AccountState) -> tuple[tuple[str, float, str], ...]:
        """(label, share of the limit, figures) for margin, leverage and day loss."""
        loss = max(-account.daily_pl, Decimal(0))
        return (
            (
                "Margin",
                percent(account.margin_used, account.equity),
                f"{money(account.margin_used)}/{money(account.equity)}",
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
        style = {
            TradingState.HALTED: self.palette.halted,
            TradingState.REDUCING: self.palette.reducing,
        }.get(state, self.palette.profit)
        title = Text.assemble((f"{account.id} ", "bold"), (state.value, style))
        if account.daily_loss_breached:
            title.append("  daily loss breached", self.palette.loss)
        return title

    def _gauge(self, label: str, fraction: float, figures: str, bar_width: int) -> Text:
        clamped = min(max(fraction, 0.0), 1.0)
        filled = round(clamped * bar_width)
        style = self._level(fraction)
        return Text.assemble(
            f" {label:<7} ",
            ("█" * filled, style),
            ("░" * (bar_width - filled), self.palette.muted),
            (f" {fraction * 100:5.1f}% ", style),
            (figures, self.palette.muted),
            no_wrap=True,
            overflow="crop",
        )

    def _level(self, fraction: float) -> Style:
        if fraction >= ALARM_AT:
            return self.palette.loss
        if fraction >= WARN_AT:
            return self.palette.warning
        return self.palette.profit
