"""The top of every screen: the trading-state banner, and the accounts header with the clocks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from tmt_tui.domain.positions import AccountState, PortfolioTotals, TradingState
from tmt_tui.tui.formatting import NEW_YORK, clock, compact_money, money, signed_money
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, Palette

#: Below this width the header drops the balance and shortens numbers.
WIDE_HEADER = 110


class TradingBanner(Static):
    """A full-width line saying HALTED (or REDUCING) and why; hidden while trading is ACTIVE.

    Every screen composes one, and the app's `-halted` / `-reducing` classes show it, so the
    state is in view whatever dialog is open.
    """

    DEFAULT_CSS = """
    TradingBanner {
        dock: top;
        width: 100%;
        height: 1;
        display: none;
        text-style: bold;
        content-align: center middle;
    }
    """

    def on_mount(self) -> None:
        style_screen = getattr(self.app, "style_screen", None)
        if style_screen is not None:
            style_screen(self.screen)


class AccountHeader(Widget):
    """One line per account (equity, balance, margin, day P&L, state) under a status line.

    Every number is the engine's (from `AccountState` and `PortfolioTotals`, which the engine
    converts into the reporting currency); the header only formats them.
    """

    DEFAULT_CSS = """
    AccountHeader {
        height: auto;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, clock_fn: Callable[[], float] = time.time, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock_fn
        self._accounts: tuple[AccountState, ...] = ()
        self._positions = 0
        self._working = 0
        self._status = "connecting…"
        self._totals: PortfolioTotals | None = None
        self._palette = Palette.from_variables(TRADING_VARIABLE_DEFAULTS)

    def show(
        self,
        accounts: Sequence[AccountState],
        *,
        positions: int,
        working: int,
        status: str,
        totals: PortfolioTotals | None = None,
    ) -> None:
        """Show these accounts and counts (the engine's latest), and the stream status."""
        resized = len(accounts) != len(self._accounts)
        self._totals = totals
        self._accounts = tuple(accounts)
        self._positions = positions
        self._working = working
        self._status = status
        self.refresh(layout=resized)

    def set_palette(self, palette: Palette) -> None:
        self._palette = palette
        self.refresh()

    def tick(self) -> None:
        """Repaint for the clock."""
        self.refresh()

    def render(self) -> RenderableType:
        wide = self.size.width >= WIDE_HEADER
        lines = [self._status_line(wide)]
        lines += [self._account_line(account, wide) for account in self._accounts]
        return Group(*lines)

    def _status_line(self, wide: bool) -> Text:
        palette = self._palette
        now = self._clock()
        states = {a.trading_state for a in self._accounts}
        if TradingState.HALTED in states:
            state = Text("HALTED", palette.halted)
        elif TradingState.REDUCING in states:
            state = Text("REDUCING", palette.reducing)
        elif states:
            state = Text("ACTIVE", palette.profit)
        else:
            state = Text("—", palette.muted)
        line = Text.assemble(("tmt ", "bold"), state, "  ")
        line.no_wrap, line.overflow = True, "ellipsis"
        totals = self._totals
        if wide:
            line.append(f"UTC {clock(now)}  NY {clock(now, NEW_YORK)}")
            if totals is not None:
                line.append(f"  Total Eq {money(totals.equity)} {totals.currency}  Day ")
                line.append(signed_money(totals.daily_pl), palette.signed(totals.daily_pl))
                if totals.excluded:
                    line.append(f" (excl. {', '.join(totals.excluded)}: no rate)", palette.warning)
            line.append(f"  pos {self._positions}  working {self._working}", palette.muted)
        else:
            line.append(f"{clock(now)} UTC")
            if totals is not None:
                line.append(f"  Tot {compact_money(totals.equity)} {totals.currency} Day ")
                line.append(signed_money(totals.daily_pl), palette.signed(totals.daily_pl))
                if totals.excluded:
                    line.append(f" excl.{len(totals.excluded)}", palette.warning)
            line.append(f"  pos {self._positions} wrk {self._working}", palette.muted)
        if wide or self._status != "live":
            line.append(
                f"  {self._status}", palette.muted if self._status == "live" else palette.warning
            )
        return line

    def _account_line(self, account: AccountState, wide: bool) -> Text:
        palette = self._palette
        day_pl = account.daily_pl
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{account.id:<8}", "bold")
        if wide:
            line.append(f" Eq {money(account.equity)} {account.currency}")
            line.append(f"  Bal {money(account.balance)}")
            line.append("  uPL ")
            line.append(signed_money(account.unrealized_pl), palette.signed(account.unrealized_pl))
            line.append(f"  Margin {money(account.margin_used)}/{money(account.margin_available)}")
            line.append(f"  Lev {account.leverage:.2f}x")
            line.append("  Day P&L ")
            line.append(signed_money(day_pl), palette.signed(day_pl))
            line.append(f"  orders {account.working_orders}", palette.muted)
        else:
            line.append(f" Eq {money(account.equity)} {account.currency}")
            line.append(
                f" M {compact_money(account.margin_used)}/{compact_money(account.margin_available)}"
            )
            line.append(" Day ")
            line.append(signed_money(day_pl), palette.signed(day_pl))
        if account.trading_state is not TradingState.ACTIVE:
            style = (
                palette.halted if account.trading_state is TradingState.HALTED else palette.reducing
            )
            line.append(f" {account.trading_state.value}", style)
        return line
