"""The analytics query: each account's metrics, trade statistics and chart curve, computed off
the engine's loop from its journal's equity rows and closed trades, over the API too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.engines import engine_settings, journal_rows, running, write_equity_rows
from tmt_tui.analytics.summary import AnalyticsReport
from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.commands import ClosePosition, QueryAnalytics, SubmitOrder


async def test_the_report_has_each_account_with_metrics_trades_and_a_curve(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok
        assert (await client.execute(ClosePosition("SIM-USD", "EUR_USD"))).ok
        await write_equity_rows(client)
        reply = await client.execute(QueryAnalytics(account="SIM-USD"))

    assert reply.ok, reply
    report = reply.payload
    assert isinstance(report, AnalyticsReport)
    (usd,) = report.accounts
    assert (usd.account, usd.currency) == ("SIM-USD", "USD")
    assert usd.trades.trades == 1
    assert usd.metrics.samples >= 1 and len(usd.curve) == len(usd.curve_ts) >= 1


async def test_a_journal_with_no_equity_rows_yet_answers_an_empty_report(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        reply = await client.execute(QueryAnalytics(account="SIM-NONE"))

    assert reply.ok, reply
    assert isinstance(reply.payload, AnalyticsReport) and reply.payload.accounts == ()


async def test_the_report_has_exposure_by_currency_and_pnl_by_instrument(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok
        assert (await client.execute(ClosePosition("SIM-USD", "EUR_USD"))).ok
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10_000))).ok
        assert (await client.execute(SubmitOrder("SIM-USD", "USD_JPY", -20_000))).ok
        await write_equity_rows(client)
        reply = await client.execute(QueryAnalytics(account="SIM-USD"))
        closed = client.runner.core.state.closed_trades  # type: ignore[union-attr]

    assert reply.ok, reply
    assert isinstance(reply.payload, AnalyticsReport)
    (usd,) = reply.payload.accounts
    exposure = {e.currency: e for e in usd.exposure}
    assert set(exposure) == {"EUR", "USD", "JPY"}
    # long EUR_USD holds euros and owes dollars; short USD_JPY owes dollars and holds yen
    eur, dollars, yen = exposure["EUR"], exposure["USD"], exposure["JPY"]
    assert (eur.long, eur.short, eur.net) == (10_000, 0, 10_000)
    assert yen.net_value == pytest.approx(20_000, rel=1e-9)  # yen bought with 20,000 dollars
    assert dollars.long == 0 and dollars.net_value == pytest.approx(
        -(eur.net_value or 0) - 20_000, rel=1e-9
    )
    sizes = [abs(e.net_value or 0) for e in usd.exposure]
    assert sizes == sorted(sizes, reverse=True)  # the largest exposure first

    pnl = {row.instrument: row for row in usd.attribution}
    assert set(pnl) == {"EUR_USD", "USD_JPY"}
    (first,) = [t for t in closed if t.account == "SIM-USD"]
    assert pnl["EUR_USD"].realized == pytest.approx(float(first.realized_pl), abs=1e-9)
    assert pnl["USD_JPY"].realized == 0
    for row in usd.attribution:
        assert row.total == pytest.approx(row.realized + row.unrealized, abs=1e-9)
    assert [row.total for row in usd.attribution] == sorted(
        (row.total for row in usd.attribution), reverse=True
    )

    wire = json.loads(json.dumps(to_wire(reply.payload)))
    assert from_wire(AnalyticsReport, wire) == reply.payload  # what an attached screen reads


async def test_with_two_accounts_the_first_entry_is_all_of_them_in_the_report_currency(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        for account in ("SIM-USD", "SIM-EUR"):  # a closed trade each, then a position each
            assert (await client.execute(SubmitOrder(account, "EUR_USD", 1_000))).ok
            assert (await client.execute(ClosePosition(account, "EUR_USD"))).ok
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10_000))).ok
        assert (await client.execute(SubmitOrder("SIM-EUR", "EUR_USD", 5_000))).ok
        await write_equity_rows(client)
        reply = await client.execute(QueryAnalytics())
        alone = await client.execute(QueryAnalytics(account="ALL"))
        closed = list(client.runner.core.state.closed_trades)  # type: ignore[union-attr]

    assert reply.ok and isinstance(reply.payload, AnalyticsReport), reply
    total, *accounts = reply.payload.accounts
    assert (total.account, total.currency) == ("ALL", "USD")
    assert sorted(a.account for a in accounts) == ["SIM-EUR", "SIM-USD"]
    assert isinstance(alone.payload, AnalyticsReport) and alone.payload.accounts == (total,)
    # the total is each account's equity at the dollar rate recorded with it
    rows = journal_rows(
        journal_path, "select account, equity, report_currency, report_rate from equity"
    )
    assert {(acct, ccy) for acct, _, ccy, _ in rows} == {("SIM-USD", "USD"), ("SIM-EUR", "USD")}
    rate = {acct: float(r) for acct, _, _, r in rows}
    last = {acct: float(e) for acct, e, _, _ in rows}
    assert rate["SIM-USD"] == 1.0 and 1.0 < rate["SIM-EUR"] < 1.3
    assert total.curve[-1] == pytest.approx(last["SIM-USD"] + last["SIM-EUR"] * rate["SIM-EUR"])
    # both closed trades, the euro one's P&L in dollars
    assert total.trades.trades == 2
    pnl = {t.account: float(t.realized_pl) for t in closed}
    wins = [p for p in (pnl["SIM-USD"], pnl["SIM-EUR"] * rate["SIM-EUR"]) if p > 0]
    assert total.trades.largest_win == (pytest.approx(max(wins)) if wins else None)
    # exposure across accounts: 15,000 euros held, about as many dollars owed
    eur = next(e for e in total.exposure if e.currency == "EUR")
    usd = next(e for e in total.exposure if e.currency == "USD")
    assert eur.net == 15_000 and usd.net == pytest.approx(-15_000 * rate["SIM-EUR"], rel=0.02)
    assert eur.net_value == pytest.approx(-usd.net, rel=1e-9)
    assert [row.instrument for row in total.attribution] == ["EUR_USD"]
