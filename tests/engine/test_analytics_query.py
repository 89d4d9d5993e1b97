"""The analytics query: each account's metrics, trade statistics and chart curve, computed off
the engine's loop from its journal's equity rows and closed trades, over the API too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.engines import engine_settings, running, write_equity_rows
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
