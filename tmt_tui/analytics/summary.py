"""The answer to an analytics query: per account, its portfolio metrics, its trade statistics
and its equity curve thinned for a chart. A registered wire type, so the engine, an attached
screen and `tmt analytics` all read the same figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tmt_tui.analytics.exposure import CurrencyExposure, InstrumentPnl
from tmt_tui.analytics.report import PortfolioMetrics
from tmt_tui.analytics.trades import TradeStats
from tmt_tui.domain.codec import wire_type

#: The name of every account together, in the report currency, in a report.
ALL_ACCOUNTS = "ALL"

#: Points of equity a chart gets at most (a terminal is a few hundred cells wide).
CHART_POINTS = 2_000


@dataclass(frozen=True, slots=True)
class AccountAnalytics:
    account: str
    currency: str
    metrics: PortfolioMetrics
    trades: TradeStats
    curve_ts: tuple[float, ...] = ()  # the equity curve, thinned to CHART_POINTS
    curve: tuple[float, ...] = ()
    exposure: tuple[CurrencyExposure, ...] = ()  # now, by currency, in ``currency``
    attribution: tuple[InstrumentPnl, ...] = ()  # realized in the period plus unrealized now


@wire_type
@dataclass(frozen=True, slots=True)
class AnalyticsReport:
    """A ``QueryAnalytics`` answer: one entry per account that has equity rows."""

    accounts: tuple[AccountAnalytics, ...] = ()
    as_of: float = 0.0


def thin(
    ts: npt.ArrayLike, values: npt.ArrayLike, points: int = CHART_POINTS
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """At most ``points`` samples of a curve, evenly spaced by index, always keeping the last
    (a chart must end where the account is now)."""
    times, ys = np.asarray(ts, dtype=np.float64), np.asarray(values, dtype=np.float64)
    if len(times) <= points:
        return tuple(times.tolist()), tuple(ys.tolist())
    keep = np.unique(np.linspace(0, len(times) - 1, points).round().astype(np.int64))
    return tuple(times[keep].tolist()), tuple(ys[keep].tolist())
