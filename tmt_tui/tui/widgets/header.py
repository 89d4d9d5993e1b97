"""The top of every screen: the trading-state banner, and the accounts header with the clocks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tmt_tui.domain.positions import AccountState, PortfolioTotals, TradingState
from tmt_tui.domain.replay import ReplayProgress
from tmt_tui.tui.formatting import (
    NEW_YORK,
    clock,
    compact_money,
    margin_use,
    money,
    signed_money,
)
from tmt_tui.tui.messages import BannerMounted
from tmt_tui.tui.state import CONNECTING, TradingFlags
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: Below this width the header drops the balance and shortens numbers.
WIDE_HEADER = 110


class TradingBanner(Static):
    """A full-width line saying HALTED (or REDUCING) and why; hidden while trading is ACTIVE.

    Every screen composes one. The app's `-halted` / `-reducing` classes show it (see
    `tmt.tcss`), and the app fills in the text: a new banner asks for it with `BannerMounted`,
    so the state is in view whatever dialog is open.
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
        self.post_message(BannerMounted(self))

    def show(self, flags: TradingFlags) -> None:
        """Say what `flags` say (the CSS decides whether the line is displayed)."""
        self.update(flags.banner)


@dataclass(frozen=True, slots=True)
class HeaderState:
    """What the header shows: the engine's accounts and totals, counts, and the stream status."""

    accounts: tuple[AccountState, ...] = ()
    trading_state: TradingState | None = None
    positions: int = 0
    working: int = 0  # open orders that add or cut exposure, as the accounts count them
    status: str = CONNECTING
    totals: PortfolioTotals | None = None
    engine_lost: str = ""  # "DISCONNECTED" / "STALE": every figure shown is old
    read_only: bool = False  # a viewer: said up front, not when an order fails
    replay: ReplayProgress | None = None  # the engine replays recorded ticks: where it stands


_TRADING_NAMES = ("profit", "loss", "halted", "reducing", "muted", "warning")


class AccountHeader(Widget):
    """One line per account (equity, balance, margin, day P&L, state) under a status line.

    Every number is the engine's (from `AccountState` and `PortfolioTotals`, which the engine
    converts into the reporting currency); the header only formats them. It repaints itself
    once a second for the clocks.
    """

    COMPONENT_CLASSES = {f"account-header--{name}" for name in _TRADING_NAMES}
    """
    | Class | Description |
    | :- | :- |
    | `account-header--profit` / `--loss` | P&L above / below zero; ACTIVE. |
    | `account-header--halted` / `--reducing` | The trading state when not ACTIVE. |
    | `account-header--muted` | Counts, and the stream status while live. |
    | `account-header--warning` | The stream status when not live; accounts left out of totals. |
    """

    DEFAULT_CSS = """
    AccountHeader {
        height: auto;
        background: $panel;
        padding: 0 1;
    }
    """ + trading_css("AccountHeader", "account-header", _TRADING_NAMES)

    state: reactive[HeaderState] = reactive(HeaderState, init=False)
    """The accounts, counts and status on show; the engine's latest, set by the frame timer."""

    def __init__(self, clock_fn: Callable[[], float] = time.time, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock_fn
        self._style = ComponentStyles(self, "account-header")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh, name="header-clock")

    def watch_state(self, old: HeaderState, new: HeaderState) -> None:
        """One line each: the status, the replay's progress, every account. The height is
        compared with what is on screen, not with the last state: a layout refresh that was
        asked for and lost (seen once in twenty loaded runs) is asked for again."""
        lines = 1 + (new.replay is not None) + len(new.accounts)
        if lines != self.size.height:
            self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def render(self) -> RenderableType:
        wide = self.size.width >= WIDE_HEADER
        lines = [self._status_line(wide)]
        if self.state.replay is not None:
            lines.append(self._replay_line(self.state.replay, wide))
        lines += [self._account_line(account, wide) for account in self.state.accounts]
        if self.state.engine_lost:  # the engine is gone: the figures are as they were, dimmed
            for line in lines[1:]:
                line.stylize("dim")
        return Group(*lines)

    def _trading_state(self, state: TradingState | None) -> Text:
        if state is None:
            return Text("—", self._style("muted"))
        name = {TradingState.HALTED: "halted", TradingState.REDUCING: "reducing"}
        return Text(state.value, self._style(name.get(state, "profit")))

    def _status_line(self, wide: bool) -> Text:
        style, shown = self._style, self.state
        now = self._clock()
        if shown.engine_lost:  # not the engine's trading state: the screen lost the engine
            state = Text(shown.engine_lost, style("warning"))
        else:
            state = self._trading_state(shown.trading_state)
        line = Text.assemble(("tmt ", "bold"), state, "  ")
        if shown.read_only:
            line.append("READ-ONLY", style("warning"))
            line.append("  ")
        line.no_wrap, line.overflow = True, "ellipsis"
        totals = shown.totals
        if wide:
            line.append(f"UTC {clock(now)}  NY {clock(now, NEW_YORK)}")
            if totals is not None:
                line.append(f"  Total Eq {money(totals.equity)} {totals.currency}  Day ")
                line.append(signed_money(totals.daily_pl), style.signed(totals.daily_pl))
                if totals.excluded:
                    excluded = f" (excl. {', '.join(totals.excluded)}: no rate)"
                    line.append(excluded, style("warning"))
            line.append(f"  pos {shown.positions}  working {shown.working}", style("muted"))
        elif shown.engine_lost:  # 80 columns: how old the figures are matters more than the totals
            detail = shown.status.removeprefix("disconnected · ").removeprefix("stale: ")
            line.append(f"{clock(now)} UTC  ")
            line.append(detail, style("warning"))
            return line
        else:
            line.append(f"{clock(now)} UTC")
            if totals is not None:
                line.append(f"  Tot {compact_money(totals.equity)} {totals.currency} Day ")
                line.append(signed_money(totals.daily_pl), style.signed(totals.daily_pl))
                if totals.excluded:
                    line.append(f" excl.{len(totals.excluded)}", style("warning"))
            line.append(f"  pos {shown.positions} wrk {shown.working}", style("muted"))
        if wide or shown.status != "live":
            live = shown.status == "live"
            line.append(f"  {shown.status}", style("muted" if live else "warning"))
        return line

    def _replay_line(self, progress: ReplayProgress, wide: bool) -> Text:
        """``REPLAY ▶ 10x ██████░░░░ 43.2% 2026-11-20 14:03:07 UTC ...``: where the replay
        is in its recording, how fast it plays, and whether it is paused."""
        style = self._style
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("REPLAY ", "bold")
        state = {"paused": "⏸ PAUSED", "finished": "■ FINISHED"}.get(progress.state, "▶")
        line.append(state, style("warning" if progress.paused else "muted"))
        line.append(f" {progress.speed_label}  ")
        at = datetime.fromtimestamp(progress.position_ts, UTC)
        when = f"{at:%Y-%m-%d %H:%M:%S} UTC" if wide else f"{at:%m-%d %H:%M:%S}"
        tail = f" {progress.fraction:6.1%}  {when}"
        if wide:
            tail += f"  {progress.done:,}/{progress.total:,} ticks"
            if progress.skipped:
                tail += f"  {progress.skipped:,} bad rows skipped"
        keys = "  space pause · +/- speed" if wide else "  spc +/-"
        room = self.size.width - 2 - line.cell_len - len(tail) - len(keys)
        width = max(8, min(40, room))
        filled = round(progress.fraction * width)
        line.append("█" * filled, style("profit"))
        line.append("░" * (width - filled), style("muted"))
        line.append(tail)
        line.append(keys, style("muted"))
        return line

    def _account_line(self, account: AccountState, wide: bool) -> Text:
        style = self._style
        day_pl = account.daily_pl
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{account.id:<8}", "bold")
        if wide:
            line.append(f" Eq {money(account.equity)} {account.currency}")
            line.append(f"  Bal {money(account.balance)}")
            line.append("  uPL ")
            line.append(signed_money(account.unrealized_pl), style.signed(account.unrealized_pl))
            line.append(f"  Margin {margin_use(account.margin_used, account.equity)}")
            line.append(f"  Lev {account.leverage:.2f}x")
            line.append("  Day P&L ")
            line.append(signed_money(day_pl), style.signed(day_pl))
            line.append(f"  working {account.working_orders}", style("muted"))
        else:
            line.append(f" Eq {money(account.equity)} {account.currency}")
            line.append(f" M {margin_use(account.margin_used, account.equity, compact=True)}")
            line.append(" Day ")
            line.append(signed_money(day_pl), style.signed(day_pl))
        if account.trading_state is not TradingState.ACTIVE:
            line.append(" ")
            line.append_text(self._trading_state(account.trading_state))
        return line
