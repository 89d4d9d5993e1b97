"""The analytics query: each account's metrics, trade statistics and chart curve, computed off
the engine's loop from its journal's equity rows and closed trades, over the API too."""

from __future__ import annotations

from pathlib import Path

from tests.support.engines import engine_settings, running, write_equity_rows
from tmt_tui.analytics.summary import AnalyticsReport
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
