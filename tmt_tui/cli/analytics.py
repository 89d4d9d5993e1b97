"""`tmt analytics`: how am I doing? Returns, risk-adjusted ratios, drawdowns and tail risk of an
equity series: a tmt journal's accounts (the config's journal by default, read beside the
engine that owns it), or a CSV of timestamp,equity (or returns).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tmt_tui.analytics import PortfolioMetrics, portfolio_metrics
from tmt_tui.cli.answers import OK, UNREACHABLE, Exit, leave, refused
from tmt_tui.cli.equity_sources import (
    EquitySeries,
    SourceError,
    parse_time,
    read_csv,
    read_journal,
)
from tmt_tui.config import ConfigError, load_settings

#: Series in the JSON only with --series: a year of daily returns is a page of numbers.
_SERIES_FIELDS = ("daily_ts", "daily_returns", "rolling")


def run_analytics(args: argparse.Namespace) -> int:
    as_json = bool(args.json)
    try:
        series = _sources(args)
        report = [(s, portfolio_metrics(s.ts, s.equity, s.flows)) for s in series]
    except Exit as exc:
        return leave(as_json, exc)
    if as_json:
        print(json.dumps({"ok": True, "series": [_as_json(s, m, args.series) for s, m in report]}))
    else:
        print("\n\n".join(_as_text(s, m) for s, m in report))
    return OK


def _sources(args: argparse.Namespace) -> list[EquitySeries]:
    try:
        since = parse_time(args.since, "--since") if args.since else None
        until = parse_time(args.until, "--until") if args.until else None
        if args.source:
            return [read_csv(Path(args.source), returns=args.returns)]
        if args.returns:
            raise SourceError("--returns reads a CSV: name the file")
        journal = Path(args.journal) if args.journal else Path(_journal_path(args))
        found = read_journal(journal, account=args.account, since=since, until=until)
    except SourceError as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None
    if not found:
        raise refused("NO_DATA", f"{journal}: no equity rows in that period", UNREACHABLE)
    return found


def _journal_path(args: argparse.Namespace) -> str:
    try:
        return str(load_settings(getattr(args, "config", None)).journal_path())
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _as_json(series: EquitySeries, metrics: PortfolioMetrics, with_series: bool) -> Any:
    body = dataclasses.asdict(metrics)
    if not with_series:
        for name in _SERIES_FIELDS:
            body.pop(name, None)
    return {"name": series.name, "currency": series.currency, "metrics": body}


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


def _as_text(series: EquitySeries, m: PortfolioMetrics) -> str:
    currency = f" ({series.currency})" if series.currency else ""
    dd, tail = m.drawdown, m.tail
    worst = dd.max
    recovered = (
        "not yet"
        if worst is not None and worst.recovery_ts is None
        else (_day(worst.recovery_ts) if worst is not None else "-")
    )
    lines = [
        f"{series.name}{currency}: {m.samples} samples, {m.periods} trading days, "
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
    return "\n".join(lines)
