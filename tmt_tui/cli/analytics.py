"""`tmt analytics`: how am I doing? Returns, risk-adjusted ratios, drawdowns and tail risk of an
equity series: a tmt journal's accounts (the config's journal by default, read beside the
engine that owns it), or a CSV of timestamp,equity (or returns).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tmt_tui.analytics import PortfolioMetrics, TradeStats, portfolio_metrics
from tmt_tui.analytics.exposure import CurrencyExposure, InstrumentPnl
from tmt_tui.analytics.summary import ALL_ACCOUNTS, AnalyticsReport
from tmt_tui.cli.answers import OK, UNREACHABLE, Exit, authentication_failed, leave, refused
from tmt_tui.cli.equity_sources import (
    EquitySeries,
    SourceError,
    parse_time,
    read_csv,
    read_journal,
)
from tmt_tui.config import ConfigError, load_settings
from tmt_tui.domain.commands import Origin, QueryAnalytics
from tmt_tui.engine.analytics_query import analyse

#: Series in the JSON only with --series: a year of daily returns is a page of numbers.
_SERIES_FIELDS = ("daily_ts", "daily_returns", "rolling")


@dataclass(frozen=True)
class Entry:
    """One report section: an account (or a file), its metrics and, from the engine, its
    closed trades' statistics."""

    name: str
    currency: str
    metrics: PortfolioMetrics
    trades: TradeStats | None = None
    exposure: tuple[CurrencyExposure, ...] = ()  # from the engine: its open positions now
    attribution: tuple[InstrumentPnl, ...] = ()


def run_analytics(args: argparse.Namespace) -> int:
    """From a CSV or --journal as asked; else from the running engine (the same figures the
    workstation shows, with trade statistics), and from the config's journal when no engine
    answers."""
    as_json = bool(args.json)
    try:
        entries = _from_files(args) if args.source or args.journal or args.returns else None
        if entries is None:
            entries = _from_engine(args)
        if entries is None:
            print("tmt: no engine answered: reading its journal", file=sys.stderr)
            entries = _from_files(args)
    except Exit as exc:
        return leave(as_json, exc)
    if as_json:
        print(json.dumps({"ok": True, "series": [_as_json(e, args.series) for e in entries]}))
    else:
        print("\n\n".join(_as_text(e) for e in entries))
    return OK


def _from_files(args: argparse.Namespace) -> list[Entry]:
    """A CSV's metrics; or a journal's accounts, with their total in the report currency as
    the engine gives it (trade statistics come only from the engine, which keeps the ledger
    of closed trades)."""
    if args.source or args.returns:
        return [
            Entry(s.name, s.currency, portfolio_metrics(s.ts, s.equity, s.flows))
            for s in _sources(args, None)
        ]
    report_currency = _report_currency(args)
    since, until = _period(args)
    query = QueryAnalytics(args.account, since, until, Origin.CLI)
    analysed = analyse(_sources(args, report_currency), query, report_currency=report_currency)
    if not analysed:
        raise refused(
            "NO_DATA", "no account has a report-currency rate in that period", UNREACHABLE
        )
    return [
        Entry(a.account, a.currency, a.metrics, None, a.exposure, a.attribution) for a in analysed
    ]


def _from_engine(args: argparse.Namespace) -> list[Entry] | None:
    """The engine's own analytics over its control API; None when no engine is reachable."""
    from tmt_tui.api.protocol import ApiError, AuthError
    from tmt_tui.api.remote import RemoteEngineClient
    from tmt_tui.cli.environment import socket_path_for, token_source

    since, until = _period(args)
    try:
        settings = load_settings(getattr(args, "config", None))
        client = RemoteEngineClient(
            socket_path_for(settings, getattr(args, "socket", None)), client_name="tmt cli"
        )
        reply = asyncio.run(_ask(client, QueryAnalytics(args.account, since, until, Origin.CLI)))
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None
    except AuthError as exc:  # an engine is there and refused us: never a quiet fallback
        if exc.code == "NO_TOKEN":
            return None
        raise authentication_failed(exc.code, exc.message, client.where, token_source()) from None
    except (ApiError, ConnectionError, OSError, ValueError):
        return None
    if not reply.ok or not isinstance(reply.payload, AnalyticsReport):
        raise refused(reply.code, reply.message or "no analytics in the reply")
    if not reply.payload.accounts:
        raise refused("NO_DATA", "no equity rows yet (the engine writes one a minute)", UNREACHABLE)
    return [
        Entry(a.account, a.currency, a.metrics, a.trades, a.exposure, a.attribution)
        for a in reply.payload.accounts
    ]


async def _ask(client: Any, query: QueryAnalytics) -> Any:
    await client.connect()
    try:
        return await client.execute(query)
    finally:
        await client.close()


def _period(args: argparse.Namespace) -> tuple[float | None, float | None]:
    try:
        since = parse_time(args.since, "--since") if args.since else None
        until = parse_time(args.until, "--until") if args.until else None
    except SourceError as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None
    return since, until


def _sources(args: argparse.Namespace, report_currency: str | None) -> list[EquitySeries]:
    since, until = _period(args)
    try:
        if args.source:
            return [read_csv(Path(args.source), returns=args.returns)]
        if args.returns:
            raise SourceError("--returns reads a CSV: name the file")
        journal = Path(args.journal) if args.journal else Path(_journal_path(args))
        account = None if args.account == ALL_ACCOUNTS else args.account
        found = read_journal(
            journal, account=account, since=since, until=until, report_currency=report_currency
        )
    except SourceError as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None
    if not found:
        raise refused("NO_DATA", f"{journal}: no equity rows in that period", UNREACHABLE)
    return found


def _report_currency(args: argparse.Namespace) -> str | None:
    """The config's report currency; with --journal and a config that will not load, none
    (the accounts are shown, their total is not)."""
    try:
        return load_settings(getattr(args, "config", None)).engine.report_currency
    except ConfigError as exc:
        if args.journal:
            return None
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _journal_path(args: argparse.Namespace) -> str:
    try:
        return str(load_settings(getattr(args, "config", None)).journal_path())
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _as_json(entry: Entry, with_series: bool) -> Any:
    body = dataclasses.asdict(entry.metrics)
    if not with_series:
        for name in _SERIES_FIELDS:
            body.pop(name, None)
    trades = None if entry.trades is None else dataclasses.asdict(entry.trades)
    return {
        "name": entry.name,
        "currency": entry.currency,
        "metrics": body,
        "trades": trades,
        "exposure": [dataclasses.asdict(e) for e in entry.exposure],
        "attribution": [dataclasses.asdict(row) for row in entry.attribution],
    }


def _pct(value: float | None, signed: bool = True) -> str:
    return "-" if value is None else f"{value:+.2%}" if signed else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _day(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86_400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def _held(exposure: CurrencyExposure, currency: str) -> str:
    """`EUR +10,000 (+10,850.00)`: net units, and their worth in ``currency`` when it differs."""
    text = f"{exposure.currency} {exposure.net:+,.0f}"
    if exposure.net_value is None or exposure.currency == currency:
        return text
    return f"{text} ({exposure.net_value:+,.2f})"


def _as_text(entry: Entry) -> str:
    m = entry.metrics
    if entry.name == ALL_ACCOUNTS:
        name = f"All accounts in {entry.currency}"
    else:
        name = f"{entry.name} ({entry.currency})" if entry.currency else entry.name
    dd, tail = m.drawdown, m.tail
    worst = dd.max
    recovered = (
        "not yet"
        if worst is not None and worst.recovery_ts is None
        else (_day(worst.recovery_ts) if worst is not None else "-")
    )
    lines = [
        f"{name}: {m.samples} samples, {m.periods} trading days, "
        f"{_day(m.start_ts)} to {_day(m.end_ts)} UTC",
        f"  total return {_pct(m.total_return)}   CAGR {_pct(m.cagr)}   "
        f"volatility {_pct(m.volatility, signed=False)} a year",
        f"  Sharpe {_num(m.sharpe)}   Sortino {_num(m.sortino)}   Calmar {_num(m.calmar)}",
        f"  max drawdown {_pct(worst.depth if worst else None)}: peak "
        f"{_day(worst.peak_ts if worst else None)}, trough "
        f"{_day(worst.trough_ts if worst else None)}, recovered {recovered} "
        f"({_span(worst.duration_s if worst else None)})",
        f"  current drawdown {_pct(dd.current)} for {_span(dd.current_s)}; "
        f"under water {_pct(dd.underwater_fraction, signed=False)} of the time",
        f"  daily VaR 95% {_pct(tail.var_95)}  99% {_pct(tail.var_99)}   "
        f"CVaR 95% {_pct(tail.cvar_95)}  99% {_pct(tail.cvar_99)}  (historical)",
        f"  daily VaR 95% {_pct(tail.parametric_var_95)}  99% {_pct(tail.parametric_var_99)}   "
        f"CVaR 95% {_pct(tail.parametric_cvar_95)}  99% {_pct(tail.parametric_cvar_99)}  "
        "(normal)",
    ]
    t = entry.trades
    if t is not None:
        lines.append(
            f"  trades {t.trades}: win rate {_pct(t.win_rate, signed=False)}   profit factor "
            f"{_num(t.profit_factor)}   expectancy {_num(t.expectancy)}   largest win "
            f"{_num(t.largest_win)} / loss {_num(t.largest_loss)}   average held "
            f"{_span(t.avg_holding_s)}"
        )
    if entry.exposure:
        held = "   ".join(_held(e, entry.currency) for e in entry.exposure)
        lines.append(f"  exposure now (units, in {entry.currency}): {held}")
    if entry.attribution:
        pnl = "   ".join(f"{row.instrument} {row.total:+,.2f}" for row in entry.attribution)
        lines.append(f"  P&L by instrument (realized + unrealized): {pnl}")
    return "\n".join(lines)
