"""What the analytics pane shows of one account, worked out from the engine's report.

The pane and its charts only render: the metric labels and texts, the drawdown series under
the equity curve and the charts' captions are derived here, once per report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tmt_tui.analytics.summary import ALL_ACCOUNTS, AccountAnalytics, AnalyticsReport
from tmt_tui.tui.formatting import compact_money, duration

MISSING = "-"


@dataclass(frozen=True, slots=True)
class AccountView:
    """One account's analytics as text and two series (equity, drawdown in percent)."""

    account: str
    currency: str
    metrics: tuple[tuple[str, str], ...]
    curve: tuple[float, ...]
    curve_caption: str
    drawdown: tuple[float, ...]
    drawdown_caption: str
    exposure: tuple[tuple[str, str], ...] = ()  # a heading (empty value), then a row a currency
    attribution: tuple[tuple[str, str], ...] = ()  # a heading, then a row an instrument

    @property
    def title(self) -> str:
        """`SIM-EUR EUR`, or `All accounts in USD` for the report-currency total."""
        if self.account == ALL_ACCOUNTS:
            return f"All accounts in {self.currency}"
        return f"{self.account} {self.currency}"


def _pct(value: float | None) -> str:
    return MISSING if value is None else f"{value * 100:+.2f}%"


def _num(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def _money(value: float | None) -> str:
    return MISSING if value is None else f"{value:+,.2f}"


def _short(value: float | None) -> str:
    """`+1.20M`, `-150.0k`, `+950`: a size that fits a narrow column."""
    return MISSING if value is None else compact_money(value, signed=True, decimals=0)


def exposure_rows(account: AccountAnalytics) -> tuple[tuple[str, str], ...]:
    """Per currency held or owed: net units, then their worth in the account currency."""
    if not account.exposure:
        return ()
    rows = [(f"Exposure ({account.currency})", "")]
    for e in account.exposure:
        rows.append((f"{e.currency} units", _short(e.net)))
        if e.currency != account.currency:
            rows.append((f"  in {account.currency}", _short(e.net_value)))
    return tuple(rows)


def attribution_rows(account: AccountAnalytics) -> tuple[tuple[str, str], ...]:
    """P&L per instrument, realized in the period plus unrealized now, best first."""
    if not account.attribution:
        return ()
    return (
        (f"P&L by instrument ({account.currency})", ""),
        *((row.instrument, _money(row.total)) for row in account.attribution),
    )


def drawdown_series(curve: Sequence[float]) -> tuple[float, ...]:
    """Each point's distance below the running peak, in percent (0 at a peak, negative under)."""
    peak = float("-inf")
    out: list[float] = []
    for value in curve:
        peak = max(peak, value)
        out.append((value / peak - 1) * 100 if peak > 0 else 0.0)
    return tuple(out)


def account_view(account: AccountAnalytics) -> AccountView:
    """The metric table, the curve and its drawdown, with captions, for one account."""
    m, t = account.metrics, account.trades
    dd, tail = m.drawdown, m.tail
    worst = dd.max
    metrics = (
        ("Total return", _pct(m.total_return)),
        ("CAGR", _pct(m.cagr)),
        ("Volatility", _pct(m.volatility)),
        ("Sharpe", _num(m.sharpe)),
        ("Sortino", _num(m.sortino)),
        ("Calmar", _num(m.calmar)),
        ("Max drawdown", _pct(worst.depth if worst else None)),
        ("Max DD length", duration(worst.duration_s) if worst else MISSING),
        ("Drawdown now", _pct(dd.current)),
        ("DD now for", duration(dd.current_s)),
        ("Under water", _pct(dd.underwater_fraction)),
        ("VaR 95", _pct(tail.var_95)),
        ("CVaR 95", _pct(tail.cvar_95)),
        ("VaR 99", _pct(tail.var_99)),
        ("CVaR 99", _pct(tail.cvar_99)),
        ("Trades", str(t.trades)),
        ("Win rate", _pct(t.win_rate)),
        ("Profit factor", _num(t.profit_factor)),
        ("Expectancy", _money(t.expectancy)),
        ("Avg win", _money(t.avg_win)),
        ("Avg loss", _money(t.avg_loss)),
        ("Largest win", _money(t.largest_win)),
        ("Largest loss", _money(t.largest_loss)),
        ("Avg held", duration(t.avg_holding_s)),
    )
    curve = account.curve
    drawdown = drawdown_series(curve)
    if curve:
        curve_caption = f"equity {curve[-1]:,.2f} hi {max(curve):,.2f} lo {min(curve):,.2f}"
        drawdown_caption = f"drawdown now {drawdown[-1]:+.2f}%  worst {min(drawdown):+.2f}%"
    else:
        curve_caption, drawdown_caption = "equity", "drawdown"
    return AccountView(
        account.account,
        account.currency,
        metrics,
        curve,
        curve_caption,
        drawdown,
        drawdown_caption,
        exposure_rows(account),
        attribution_rows(account),
    )


def report_views(report: AnalyticsReport) -> tuple[AccountView, ...]:
    """Every account of the report, in the engine's order."""
    return tuple(account_view(account) for account in report.accounts)
