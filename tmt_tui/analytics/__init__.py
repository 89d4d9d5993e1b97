"""Portfolio and trade analytics: pure functions over numpy arrays, plain numbers out.

Nothing here knows the engine, a venue, the journal or a screen; the engine, the CLI and the UI
hand in arrays and show the frozen dataclasses that come back. The entry points are
``portfolio_metrics`` (an equity series) and ``trade_stats`` (closed trades), in ``report``.
"""

from __future__ import annotations

from tmt_tui.analytics.report import PortfolioMetrics, portfolio_metrics
from tmt_tui.analytics.trades import TradeStats, trade_stats

__all__ = ["PortfolioMetrics", "TradeStats", "portfolio_metrics", "trade_stats"]
