"""Answering ``QueryAnalytics``: the journal's equity rows (read on a worker thread through a
read-only connection, so the engine's loop never waits on them), the engine's closed trades and
a copy of its open positions, through the pure ``analytics`` package."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tmt_tui.analytics import portfolio_metrics, trade_stats
from tmt_tui.analytics.combined import AccountSeries, combine
from tmt_tui.analytics.exposure import currency_exposure, pnl_attribution
from tmt_tui.analytics.returns import FloatArray
from tmt_tui.analytics.summary import ALL_ACCOUNTS, AccountAnalytics, AnalyticsReport, thin
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import QueryAnalytics
from tmt_tui.domain.history import ClosedTrade
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.portfolio import Portfolio
from tmt_tui.store.equity_rows import EquityRows, EquitySeries, SourceError, read_journal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Held:
    """One open position as marked now; ``unrealized`` in the currency of its holdings."""

    instrument: str
    units: float
    mid: float
    unrealized: float


@dataclass(frozen=True, slots=True)
class Holdings:
    """Open positions as the engine marks them now, copied on its thread: one account's in its
    currency, or every account's in the report currency. ``rates[ccy]`` is what one unit of
    ``ccy`` is worth in that currency."""

    positions: tuple[Held, ...] = ()
    rates: Mapping[str, float] = field(default_factory=dict)


def holdings_of(portfolio: Portfolio, report_currency: str | None = None) -> dict[str, Holdings]:
    """Every account's open positions and the rates that value them, and with
    ``report_currency`` all of them together under :data:`ALL_ACCOUNTS` in that currency (on
    the engine thread: a few floats per position, never a journal read). A position whose
    account currency has no report-currency rate yet is left out of the total."""
    quotes = portfolio.quotes
    found: dict[str, list[Held]] = {}
    for book in portfolio.books.values():
        bid, ask = quotes.fbid.get(book.instrument), quotes.fask.get(book.instrument)
        if book.units == 0 or bid is None or ask is None:
            continue
        mid = (bid + ask) * 0.5
        found.setdefault(book.account, []).append(
            Held(book.instrument, float(book.units), mid, book.upl)
        )
    holdings = {
        account: _valued(positions, portfolio.accounts[account].currency, portfolio)
        for account, positions in found.items()
    }
    if report_currency is not None and found:
        together = []
        for account, positions in found.items():
            rate = quotes.frate(portfolio.accounts[account].currency, report_currency)
            if rate is not None:
                together += [replace(held, unrealized=held.unrealized * rate) for held in positions]
        holdings[ALL_ACCOUNTS] = _valued(together, report_currency, portfolio)
    return holdings


def _valued(positions: list[Held], currency: str, portfolio: Portfolio) -> Holdings:
    rates = {}
    for ccy in {c for held in positions for c in held.instrument.split("_")}:
        rate = portfolio.quotes.frate(ccy, currency)
        if rate is not None:
            rates[ccy] = rate
    return Holdings(tuple(positions), rates)


def build_report(
    journal: Path,
    query: QueryAnalytics,
    trades: Iterable[ClosedTrade],
    now: float,
    holdings: Mapping[str, Holdings] | None = None,
    report_currency: str | None = None,
    cache: EquityRows | None = None,
) -> AnalyticsReport:
    """Every account's analytics (or ``query.account``'s), and with ``report_currency`` and
    two accounts or more, all of them together in that currency (first, as
    :data:`ALL_ACCOUNTS`; asking for that account gives only it). An account with no equity
    rows yet is left out. Runs on any thread: it touches no engine state (``trades`` and
    ``holdings`` are copies)."""
    together = query.account == ALL_ACCOUNTS
    try:
        found = read_journal(
            journal,
            account=None if together else query.account,
            since=query.since,
            until=query.until,
            report_currency=report_currency,
            cache=cache,
        )
    except SourceError:
        found = []  # no rows yet (a new journal, an account that has not traded)
    return AnalyticsReport(analyse(found, query, trades, holdings, report_currency), now)


def analyse(
    found: Sequence[EquitySeries],
    query: QueryAnalytics,
    trades: Iterable[ClosedTrade] = (),
    holdings: Mapping[str, Holdings] | None = None,
    report_currency: str | None = None,
) -> tuple[AccountAnalytics, ...]:
    """Each series' analytics with the trades that closed in the query's period, and the
    all-accounts total (see :func:`build_report`)."""
    together = query.account == ALL_ACCOUNTS
    closed = [
        t
        for t in trades
        if (query.since is None or t.close_ts >= query.since)
        and (query.until is None or t.close_ts <= query.until)
    ]
    held = holdings or {}
    accounts = [
        _analysed(
            series.name,
            series.currency,
            (series.ts, series.equity, series.flows),
            [(t.instrument, float(t.realized_pl), t.holding_s) for t in closed
             if t.account == series.name],
            held.get(series.name, Holdings()),
        )
        for series in found
    ]  # fmt: skip
    if report_currency is not None and (together or (query.account is None and len(found) > 1)):
        total = _all_accounts(found, closed, report_currency, held.get(ALL_ACCOUNTS, Holdings()))
        return (total,) if together else (total, *accounts)
    return () if together else tuple(accounts)


def _analysed(
    name: str,
    currency: str,
    series: tuple[FloatArray, FloatArray, FloatArray],
    closed: Sequence[tuple[str, float, float]],  # instrument, realized P&L, seconds held
    held: Holdings,
) -> AccountAnalytics:
    ts, equity, flows = series
    pnl = np.asarray([pl for _, pl, _ in closed], dtype=np.float64)
    seconds = np.asarray([s for _, _, s in closed], dtype=np.float64)
    curve_ts, curve = thin(ts, equity)
    names = [name for name, _, _ in closed] + [h.instrument for h in held.positions]
    realized = pnl.tolist() + [0.0] * len(held.positions)
    unrealized = [0.0] * len(closed) + [h.unrealized for h in held.positions]
    positions = [(h.instrument, h.units, h.mid) for h in held.positions]
    return AccountAnalytics(
        name,
        currency,
        portfolio_metrics(ts, equity, flows),
        trade_stats(pnl, seconds),
        curve_ts,
        curve,
        currency_exposure(positions, held.rates, currency),
        pnl_attribution(names, realized, unrealized),
    )


def _all_accounts(
    found: Sequence[EquitySeries],
    closed: Sequence[ClosedTrade],
    report_currency: str,
    held: Holdings,
) -> AccountAnalytics:
    """Every account together in the report currency: the combined curve, and each closed
    trade's P&L at its account's rate recorded nearest before its close (the first after, for
    a trade closed before any; a trade of an account that never had a rate is left out)."""
    parts = {
        s.name: AccountSeries(
            s.ts, s.equity, s.flows, s.rates if s.rates is not None else np.full(len(s.ts), np.nan)
        )
        for s in found
    }
    total = combine(list(parts.values()))
    converted = []
    for t in closed:
        part = parts.get(t.account)
        rate = None if part is None else _rate_at(part, t.close_ts)
        if rate is not None:
            converted.append((t.instrument, float(t.realized_pl) * rate, t.holding_s))
    series = (total.ts, total.equity, total.flows)
    return _analysed(ALL_ACCOUNTS, report_currency, series, converted, held)


def _rate_at(series: AccountSeries, ts: float) -> float | None:
    known = np.isfinite(series.rates)
    times, rates = series.ts[known], series.rates[known]
    if not len(times):
        return None
    at = int(np.searchsorted(times, ts, side="right")) - 1
    return float(rates[max(at, 0)])


async def answer_analytics(
    journal: Path,
    query: QueryAnalytics,
    trades: tuple[ClosedTrade, ...],
    now: float,
    seq: int,
    callback: Callable[[Reply], None],
    holdings: Mapping[str, Holdings] | None = None,
    report_currency: str | None = None,
    cache: EquityRows | None = None,
) -> None:
    """Compute the report on a worker thread and hand the reply to ``callback`` (a query that
    fails is an answer that says so, never a hang)."""
    try:
        report = await asyncio.to_thread(
            build_report, journal, query, trades, now, holdings, report_currency, cache
        )
    except Exception as exc:
        log.exception("analytics query failed")
        callback(Reply(False, Reason.ENGINE_ERROR.value, f"analytics: {exc}", seq=seq))
        return
    message = f"analytics for {len(report.accounts)} account(s)"
    callback(Reply(True, "OK", message, seq=seq, payload=report))
