"""Statistics of closed trades from their realized P&L and holding times.

A win makes money, a loss loses it, and a trade closed at exactly zero is breakeven: counted
in the trades, the expectancy and the holding time, but neither a win nor a loss, so the win
rate is wins over wins plus losses (as quantstats counts periods). Losses are negative.
Trades whose P&L is not finite are left out; a holding time that is not finite is left out of
the average only. None marks what has no value: no wins for an average win, no losses for a
profit factor or payoff ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tmt_tui.analytics.returns import as_float_array


@dataclass(frozen=True, slots=True)
class TradeStats:
    """What a list of closed trades says about the trading (P&L in the account currency)."""

    trades: int
    wins: int
    losses: int
    breakeven: int
    win_rate: float | None  # wins / (wins + losses)
    total_pnl: float
    gross_profit: float  # >= 0
    gross_loss: float  # <= 0
    profit_factor: float | None  # gross profit / -gross loss
    expectancy: float | None  # mean P&L per trade
    avg_win: float | None
    avg_loss: float | None  # < 0
    payoff_ratio: float | None  # avg win / -avg loss
    largest_win: float | None
    largest_loss: float | None  # < 0
    avg_holding_s: float | None


def trade_stats(pnl: npt.ArrayLike, holding_s: npt.ArrayLike) -> TradeStats:
    """Win rate, profit factor, expectancy, averages and extremes of closed trades."""
    p = as_float_array(pnl, "pnl")
    h = as_float_array(holding_s, "holding_s")
    if p.shape != h.shape:
        raise ValueError(f"pnl and holding_s differ in length: {p.shape[0]} and {h.shape[0]}")
    finite = np.isfinite(p)
    if not finite.all():
        p, h = p[finite], h[finite]
    won, lost = p[p > 0.0], p[p < 0.0]
    wins, losses = int(won.shape[0]), int(lost.shape[0])
    gross_profit, gross_loss = float(won.sum()), float(lost.sum())
    avg_win = float(won.mean()) if wins else None
    avg_loss = float(lost.mean()) if losses else None
    held = h[np.isfinite(h)]
    return TradeStats(
        trades=int(p.shape[0]),
        wins=wins,
        losses=losses,
        breakeven=int(p.shape[0]) - wins - losses,
        win_rate=wins / (wins + losses) if wins + losses else None,
        total_pnl=float(p.sum()),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=gross_profit / -gross_loss if losses else None,
        expectancy=float(p.mean()) if p.shape[0] else None,
        avg_win=avg_win,
        avg_loss=avg_loss,
        payoff_ratio=avg_win / -avg_loss if avg_win is not None and avg_loss is not None else None,
        largest_win=float(won.max()) if wins else None,
        largest_loss=float(lost.min()) if losses else None,
        avg_holding_s=float(held.mean()) if held.shape[0] else None,
    )
