"""`tmt analytics` as a trader runs it: a journal's accounts read beside its running engine, a
CSV brought from elsewhere, one JSON object with --json, and a clear refusal for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.cli import Engine
from tests.support.journals import DAY, journal_with_equity
from tests.support.waiting import wait_for
from tmt_tui.analytics import portfolio_metrics
from tmt_tui.cli.equity_sources import read_csv
from tmt_tui.store.journal import Journal


def tmt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "analytics", *args],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_each_account_of_a_journal_is_reported_while_its_engine_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)
    owner = Journal(path)  # the running engine
    try:
        result = tmt("--journal", str(path), "--json")
    finally:
        owner.close()

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["ok"] is True
    by_name = {s["name"]: s for s in answer["series"]}
    assert [s["name"] for s in answer["series"]] == ["ALL", "SIM-EUR", "SIM-USD"]
    usd = by_name["SIM-USD"]["metrics"]
    # samples at 00:00 UTC from Thu 1 Jan 1970: Thursday, Friday, then Saturday and Sunday,
    # which fold into Monday's trading day (it closes at Sunday's 112k). The 10,000 deposit is
    # a flow, not a return: +1% on Friday, then (112k - 10k) / 101k on Monday
    assert usd["total_return"] == pytest.approx(1.01 * (102_000 / 101_000) - 1)
    assert by_name["SIM-EUR"]["metrics"]["volatility"] == 0.0
    assert "daily_returns" not in usd  # the series only with --series
    # all accounts in dollars, the euros at each day's recorded rate: 155k, 157k, then 165k and
    # 167k with the 10k deposit in them, so Monday's return is (167k - 10k) / 157k, nothing
    total = by_name["ALL"]
    assert total["currency"] == "USD" and total["trades"] is None
    assert total["metrics"]["total_return"] == pytest.approx(157_000 / 155_000 - 1, rel=1e-12)


def test_all_accounts_alone_in_the_report_currency(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)

    result = tmt("--journal", str(path), "--account", "ALL")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("All accounts in USD: 4 samples")
    assert "SIM-USD" not in result.stdout


def test_the_text_report_names_the_account_and_its_figures(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)

    result = tmt("--journal", str(path), "--account", "SIM-USD", "--until", str(3 * DAY))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("SIM-USD (USD): 4 samples")
    assert "Sharpe" in result.stdout and "max drawdown" in result.stdout


def test_a_csv_of_returns_gives_the_same_figures_as_the_library(tmp_path: Path) -> None:
    path = tmp_path / "returns.csv"
    returns = [0.01, -0.02, 0.015, 0.003, -0.007, 0.012]
    days = [f"2026-11-{d:02d}T12:00:00" for d in (2, 3, 4, 5, 6, 9)]
    path.write_text("".join(f"{d},{r}\n" for d, r in zip(days, returns, strict=True)))

    result = tmt(str(path), "--returns", "--json")

    assert result.returncode == 0, result.stderr
    (series,) = json.loads(result.stdout)["series"]

    expected = read_csv(path, returns=True)
    direct = portfolio_metrics(expected.ts, expected.equity)
    assert series["metrics"]["sharpe"] == pytest.approx(direct.sharpe)
    assert np.isfinite(series["metrics"]["volatility"])


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--journal", "/nonexistent/j.db"], "BAD_SOURCE", "no such journal"),
        (["--returns"], "BAD_SOURCE", "--returns reads a CSV"),
        (["--journal", "{readme}"], "BAD_SOURCE", "cannot read it"),
        (["--journal", "{readme}", "--since", "nan"], "BAD_SOURCE", "'nan' is not a moment"),
    ],
)
def test_bad_sources_are_one_json_refusal_and_exit_2(args: list[str], code: str, said: str) -> None:
    readme = str(Path(__file__).parents[2] / "README.md")
    result = tmt(*[a.replace("{readme}", readme) for a in args], "--json")

    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert (answer["ok"], answer["code"]) == (False, code)
    assert said in answer["message"]


def test_from_a_running_engine_the_report_carries_its_trade_statistics(engine: Engine) -> None:
    # the same figures the workstation shows: the engine computes them off its loop
    assert engine.tmt("buy", "EUR_USD", "1k").returncode == 0
    assert engine.tmt("close", "EUR_USD").returncode == 0
    assert engine.tmt("buy", "EUR_USD", "2k").returncode == 0  # held now: exposure

    def report() -> Any:
        result = engine.tmt("analytics", "--account", "SIM-USD", "--json")
        if result.returncode != 0:  # no equity row yet: the engine writes one a minute
            return None
        answer = json.loads(result.stdout)
        return answer if answer["series"][0]["trades"]["trades"] == 1 else None

    answer = wait_for(report, "the closed trade in the report", interval=0.2)

    (usd,) = answer["series"]
    assert (usd["name"], usd["currency"]) == ("SIM-USD", "USD")
    assert usd["metrics"]["samples"] >= 1
    euro = next(e for e in usd["exposure"] if e["currency"] == "EUR")
    assert (euro["long"], euro["net"]) == (2_000, 2_000)
    assert {row["instrument"] for row in usd["attribution"]} == {"EUR_USD"}
    text = engine.tmt("analytics", "--account", "SIM-USD").stdout
    assert "trades 1: win rate" in text
    assert "exposure now (units, in USD): " in text and "EUR +2,000" in text
