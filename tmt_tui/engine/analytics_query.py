"""Answering ``QueryAnalytics``: the journal's equity rows (read on a worker thread through a
read-only connection, so the engine's loop never waits on them) and the engine's closed trades,
through the pure ``analytics`` package."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from tmt_tui.analytics import portfolio_metrics, trade_stats
from tmt_tui.analytics.summary import AccountAnalytics, AnalyticsReport, thin
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import QueryAnalytics
from tmt_tui.domain.history import ClosedTrade
from tmt_tui.domain.reasons import Reason
from tmt_tui.store.equity_rows import SourceError, read_journal

log = logging.getLogger(__name__)


def build_report(
    journal: Path, query: QueryAnalytics, trades: Iterable[ClosedTrade], now: float
) -> AnalyticsReport:
    """Every account's analytics (or ``query.account``'s); an account with no equity rows yet
    is left out. Runs on any thread: it touches no engine state (``trades`` is a copy)."""
    try:
        found = read_journal(journal, account=query.account, since=query.since, until=query.until)
    except SourceError:
        found = []  # no rows yet (a new journal, an account that has not traded)
    closed = list(trades)
    accounts = []
    for series in found:
        mine = [
            t
            for t in closed
            if t.account == series.name
            and (query.since is None or t.close_ts >= query.since)
            and (query.until is None or t.close_ts <= query.until)
        ]
        pnl = np.asarray([float(t.realized_pl) for t in mine], dtype=np.float64)
        held = np.asarray([t.holding_s for t in mine], dtype=np.float64)
        curve_ts, curve = thin(series.ts, series.equity)
        accounts.append(
            AccountAnalytics(
                series.name,
                series.currency,
                portfolio_metrics(series.ts, series.equity, series.flows),
                trade_stats(pnl, held),
                curve_ts,
                curve,
            )
        )
    return AnalyticsReport(tuple(accounts), now)


async def answer_analytics(
    journal: Path,
    query: QueryAnalytics,
    trades: tuple[ClosedTrade, ...],
    now: float,
    seq: int,
    callback: Callable[[Reply], None],
) -> None:
    """Compute the report on a worker thread and hand the reply to ``callback`` (a query that
    fails is an answer that says so, never a hang)."""
    try:
        report = await asyncio.to_thread(build_report, journal, query, trades, now)
    except Exception as exc:
        log.exception("analytics query failed")
        callback(Reply(False, Reason.ENGINE_ERROR.value, f"analytics: {exc}", seq=seq))
        return
    message = f"analytics for {len(report.accounts)} account(s)"
    callback(Reply(True, "OK", message, seq=seq, payload=report))
