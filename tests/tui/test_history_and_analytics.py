"""The history (6) and analytics (7) panes: the engine's closed trades and each account's
metrics and equity chart, asked for only while on screen; reachable at 80x24 by key and tab."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widget import Widget

from tests.support.engines import write_equity_rows
from tests.support.pilot import focused_pane, pane, screen_text, until
from tmt_tui.domain.commands import ClosePosition, SubmitOrder
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.widgets.analytics import AnalyticsPane
from tmt_tui.tui.widgets.chart import Chart
from tmt_tui.tui.widgets.history import TradeBlotter


def _exposure(analytics: AnalyticsPane) -> dict[str, str]:
    shown = analytics.shown
    return dict(shown.exposure) if shown is not None else {}


def _rows(app: TmtApp) -> list[tuple[str, str]]:
    blotter = pane(app, "history", TradeBlotter)
    return [(trade.account, trade.instrument) for trade, _ in blotter.trades]


async def test_history_shows_a_trade_after_a_buy_and_a_close(app: TmtApp, ready) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        assert (await app.client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok
        assert (await app.client.execute(ClosePosition("SIM-USD", "EUR_USD"))).ok

        await pilot.press("6")

        assert focused_pane(app) == "history"
        await until(pilot, lambda: _rows(app) == [("SIM-USD", "EUR_USD")], "the closed trade")
        await until(pilot, lambda: "EUR_USD" in screen_text(app), "the trade on screen")


async def test_a_cycles_the_blotter_through_all_then_each_account(app: TmtApp, ready) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        assert (await app.client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))).ok
        assert (await app.client.execute(ClosePosition("SIM-USD", "EUR_USD"))).ok
        await pilot.press("6")
        await until(pilot, lambda: _rows(app), "the closed trade")
        blotter = pane(app, "history", TradeBlotter)

        await pilot.press("a")
        assert blotter.account == "SIM-EUR" and "SIM-EUR" in str(blotter.border_title)
        await until(pilot, lambda: _rows(app) == [], "no SIM-EUR trades")

        await pilot.press("a")
        await until(pilot, lambda: _rows(app) == [("SIM-USD", "EUR_USD")], "SIM-USD's trade")
        await pilot.press("a")
        assert blotter.account is None


async def test_i_keeps_only_the_highlighted_trades_pair_and_again_every_pair(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        for pair in ("EUR_USD", "USD_JPY"):  # USD_JPY closes last: the newest, on top
            assert (await app.client.execute(SubmitOrder("SIM-USD", pair, 1_000))).ok
            assert (await app.client.execute(ClosePosition("SIM-USD", pair))).ok
        await pilot.press("6")
        everything = [("SIM-USD", "USD_JPY"), ("SIM-USD", "EUR_USD")]
        await until(pilot, lambda: _rows(app) == everything, "both trades")
        blotter = pane(app, "history", TradeBlotter)

        await pilot.press("down", "i")

        assert blotter.instrument == "EUR_USD" and "EUR_USD" in str(blotter.border_title)
        await until(pilot, lambda: _rows(app) == [("SIM-USD", "EUR_USD")], "EUR_USD only")
        await pilot.press("i")
        assert blotter.instrument is None
        await until(pilot, lambda: _rows(app) == everything, "every pair again")


async def test_analytics_shows_the_account_and_its_equity_chart(
    app: TmtApp, client: LocalEngineClient, ready
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        await write_equity_rows(client)

        await pilot.press("7")

        analytics = pane(app, "analytics", AnalyticsPane)
        await until(pilot, lambda: analytics.shown is not None, "a report")
        first = analytics.shown
        assert first is not None
        equity = analytics.query_one("#analytics-equity", Chart)
        await until(pilot, lambda: equity.series, "the equity curve")
        # two accounts: first both together in the report currency, then each
        assert first.account == "ALL"
        await until(pilot, lambda: "All accounts in USD" in screen_text(app), "the total")
        text = screen_text(app)
        assert "Sharpe" in text and "equity " in text
        # the chart redraws on its own timer (at most four times a second), after its caption
        await until(
            pilot,
            lambda: any(0x2800 <= ord(ch) <= 0x28FF for ch in screen_text(app)),
            "a braille chart",
        )

        await pilot.press("a")
        assert analytics.shown is not None and analytics.shown.account != first.account
        await until(pilot, lambda: analytics.shown.title in screen_text(app), "the account")


async def test_page_down_moves_the_metric_list_a_page(
    app: TmtApp, client: LocalEngineClient, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await write_equity_rows(client)
        await pilot.press("7")
        analytics = pane(app, "analytics", AnalyticsPane)
        await until(pilot, lambda: analytics.shown is not None, "a report")
        scroller = analytics.query_one(VerticalScroll)
        await until(pilot, lambda: scroller.max_scroll_y > 0, "more metrics than fit")
        page = scroller.scrollable_content_region.height

        await pilot.press("pagedown")
        await pilot.pause()

        assert scroller.scroll_y == min(page - 1, scroller.max_scroll_y)
        await pilot.press("pageup")
        await pilot.pause()
        assert scroller.scroll_y == 0


async def test_at_80x24_keys_6_and_7_bring_history_and_analytics_forward(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key, name in [("6", "history"), ("7", "analytics")]:
            await pilot.press(key)
            widget = pane(app, name, Widget)
            assert focused_pane(app) == name
            shown = [w for w in ("quotes", "positions", "history", "analytics", "log")]
            assert [n for n in shown if pane(app, n, Widget).display] == ["quotes", name]
            await until(pilot, lambda w=widget: w.region.height > 2, f"{name} on screen")


async def test_a_hidden_pane_never_asks_the_engine(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("2")
        for _ in range(10):
            await pilot.pause(0.05)
        assert pane(app, "history", TradeBlotter).schedule.last == float("-inf")
        assert pane(app, "analytics", AnalyticsPane).schedule.last == float("-inf")

        await pilot.press("6")
        await until(pilot, lambda: pane(app, "history", TradeBlotter).schedule.last > 0, "asked")
        assert pane(app, "analytics", AnalyticsPane).schedule.last == float("-inf")


async def test_analytics_shows_exposure_and_pnl_and_p_cycles_the_period(
    app: TmtApp, client: LocalEngineClient, ready
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        assert (await app.client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10_000))).ok
        await write_equity_rows(client)

        await pilot.press("7")
        analytics = pane(app, "analytics", AnalyticsPane)
        await until(pilot, lambda: analytics.shown is not None, "a report")
        while analytics.shown is not None and analytics.shown.account != "SIM-USD":
            await pilot.press("a")
        await until(pilot, lambda: _exposure(analytics).get("EUR units"), "the euro exposure")
        assert _exposure(analytics)["EUR units"] == "+10.0k"
        assert "all time (p)" in screen_text(app)
        await pilot.press("pagedown", "pagedown", "pagedown")  # the metric list scrolls
        await until(pilot, lambda: "EUR units" in screen_text(app), "the exposure on screen")
        assert "P&L by instrument" in screen_text(app)

        asked = analytics.schedule.last
        await pilot.press("p")
        assert analytics.period == "today"
        await until(pilot, lambda: analytics.schedule.last > asked, "asked again at once")
        await until(pilot, lambda: "today (p)" in screen_text(app), "the period in the title")
        for period in ("week", "month", "all"):
            await pilot.press("p")
            assert analytics.period == period
