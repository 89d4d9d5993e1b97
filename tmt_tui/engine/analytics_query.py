"""Answering ``QueryAnalytics``: the journal's equity rows (read on a worker thread through a
read-only connection, so the engine's loop never waits on them), the engine's closed trades and
a copy of its open positions, through the pure ``analytics`` package."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tmt_tui.analytics import portfolio_metrics, trade_stats
from tmt_tui.analytics.exposure import currency_exposure, pnl_attribution
from tmt_tui.analytics.summary import AccountAnalytics, AnalyticsReport, thin
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import QueryAnalytics
from tmt_tui.domain.history import ClosedTrade
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.portfolio import Portfolio
from tmt_tui.store.equity_rows import SourceError, read_journal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Holdings:
    """One account's open positions as the engine marks them now, copied on its thread."""

    positions: tuple[tuple[str, float, float], ...] = ()  # instrument, units, mid
    unrealized: tuple[tuple[str, float], ...] = ()  # instrument, P&L in the account currency
    rates: Mapping[str, float] = field(default_factory=dict)  # account ccy per unit of ccy


def holdings_of(portfolio: Portfolio) -> dict[str, Holdings]:
    """Every account's open positions and the rates that value them (on the engine thread: a
    few floats per position, never a journal read)."""
    quotes = portfolio.quotes
    found: dict[str, tuple[list[tuple[str, float, float]], list[tuple[str, float]]]] = {}
    for book in portfolio.books.values():
        bid, ask = quotes.fbid.get(book.instrument), quotes.fask.get(book.instrument)
        if book.units == 0 or bid is None or ask is None:
            continue
        positions, unrealized = found.setdefault(book.account, ([], []))
        positions.append((book.instrument, float(book.units), (bid + ask) * 0.5))
        unrealized.append((book.instrument, book.upl))
    holdings = {}
    for account, (positions, unrealized) in found.items():
        currency = portfolio.accounts[account].currency
        rates = {}
        for ccy in {c for name, _, _ in positions for c in name.split("_")}:
            rate = quotes.frate(ccy, currency)
            if rate is not None:
                rates[ccy] = rate
        holdings[account] = Holdings(tuple(positions), tuple(unrealized), rates)
    return holdings


def build_report(
    journal: Path,
    query: QueryAnalytics,
    trades: Iterable[ClosedTrade],
    now: float,
    holdings: Mapping[str, Holdings] | None = None,
) -> AnalyticsReport:
    """Every account's analytics (or ``query.account``'s); an account with no equity rows yet
    is left out. Runs on any thread: it touches no engine state (``trades`` and ``holdings``
    are copies)."""
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
        held_now = (holdings or {}).get(series.name, Holdings())
        names = [t.instrument for t in mine] + [name for name, _ in held_now.unrealized]
        realized = pnl.tolist() + [0.0] * len(held_now.unrealized)
        unrealized = [0.0] * len(mine) + [upl for _, upl in held_now.unrealized]
        accounts.append(
            AccountAnalytics(
                series.name,
                series.currency,
                portfolio_metrics(series.ts, series.equity, series.flows),
                trade_stats(pnl, held),
                curve_ts,
                curve,
                currency_exposure(held_now.positions, held_now.rates, series.currency),
                pnl_attribution(names, realized, unrealized),
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
    holdings: Mapping[str, Holdings] | None = None,
) -> None:
    """Compute the report on a worker thread and hand the reply to ``callback`` (a query that
    fails is an answer that says so, never a hang)."""
    try:
        report = await asyncio.to_thread(build_report, journal, query, trades, now, holdings)
    except Exception as exc:
        log.exception("analytics query failed")
        callback(Reply(False, Reason.ENGINE_ERROR.value, f"analytics: {exc}", seq=seq))
        return
    message = f"analytics for {len(report.accounts)} account(s)"
    callback(Reply(True, "OK", message, seq=seq, payload=report))
