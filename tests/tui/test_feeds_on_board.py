"""The board with more than one feed: another feed's gap in pips beside the trading price, a
mark when they disagree, and stocks a data feed quotes shown as watch-only (the ticket refuses
them). The real app on a real engine; Polygon is a bare WebSocket server the test prices."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.pilot import pane, screen_text, until
from tests.support.polygon_tape import Tape, tape_server
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.tui.app import create_app
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard


@pytest.fixture
async def tape(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Tape]:
    monkeypatch.setenv("MASSIVE_API_KEY", "pk-board-0b6e41d2c9")
    async with tape_server() as player:
        yield player


def beside_polygon(settings: Settings, url: str) -> Settings:
    """The sim market prices trading; Polygon is shown beside it (and quotes a stock)."""
    return dataclasses.replace(
        settings,
        engine=dataclasses.replace(
            settings.engine, market_data=("sim", "polygon"), feeds_apart_pips=5.0
        ),
        polygon=dataclasses.replace(
            settings.polygon, url=url, instruments=("EUR_USD", "AAPL"), reconnect_backoff_s=0.05
        ),
    )


async def test_another_feed_s_gap_shows_beside_the_price_and_a_stock_is_watch_only(
    settings: Settings, tape: Tape, tmp_path: Path
) -> None:
    client = start_embedded(beside_polygon(settings, tape.url))
    app = create_app(settings, client)
    core: Any = client.runner.core
    try:
        async with app.run_test(size=(200, 60)) as pilot:
            await until(pilot, lambda: tape.subscribed.is_set(), "Polygon subscribed")
            await until(pilot, lambda: core.quotes.get("EUR_USD"), "the sim's EUR_USD")
            mid = core.quotes.get("EUR_USD").mid
            tape.fx("EUR/USD", float(mid + Decimal("0.0100")), float(mid + Decimal("0.0101")))
            tape.stock("AAPL", 232.49, 232.51)
            row = app.model.quotes["EUR_USD"]
            await until(pilot, lambda: row.compared is not None, "the Polygon quote compared")
            await until(pilot, lambda: "AAPL" in screen_text(app) and "232.51" in screen_text(app))
            board = pane(app, "quotes", QuoteBoard)
            line = next(ln for ln in screen_text(app).splitlines() if "EUR_USD" in ln)

            assert "≠" in line and re.search(r"\+(9\d|1\d\d)\.\d", line), line  # ~100 pips
            assert "Δfeed" in screen_text(app)  # the narrow board trades Chg for the gap

            board.focus()
            board.select("AAPL")
            await pilot.press("b")
            await pilot.pause()

            assert not isinstance(app.screen, OrderTicketScreen)
            notes = [n.message for n in app._notifications]
            assert any("AAPL is watch-only" in n for n in notes), notes
    finally:
        await client.close()
