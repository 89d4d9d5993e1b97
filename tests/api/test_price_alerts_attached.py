"""Price alerts over the control API (`tmt attach`): the commands and their answers cross the
wire through the one codec, the snapshot carries the active alerts, and an attached screen sets
one with `!` and is told when it fires, exactly as the embedded one is."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input, Select

from tests.support.api import make_settings
from tests.support.engines import journal_events
from tests.support.pilot import board_ready, on_main_screen, pane, until
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.config import Settings
from tmt_tui.domain.client import Snapshot
from tmt_tui.domain.commands import CancelPriceAlert, QueryPriceAlerts, SetPriceAlert
from tmt_tui.domain.price_alerts import AlertSide, AlertStatus, PriceAlert, PriceAlertList
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.secret import Secret
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.price_alerts import PriceAlertScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard


@pytest.fixture
def settings(journal: Path) -> Settings:
    """A calm market: Pilot waits for the process to go idle after each key press."""
    return make_settings(journal, ticks_per_second=1.0)


async def first_snapshot(client: RemoteEngineClient) -> Snapshot:
    stream = client.subscribe()
    try:
        item = await anext(stream)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert isinstance(item, Snapshot)
    return item


async def test_set_list_and_cancel_cross_the_wire_with_their_answers(
    remote: RemoteEngineClient,
) -> None:
    set_reply = await remote.execute(
        SetPriceAlert("EUR_USD", AlertSide.BELOW, Decimal("0.9"), "over the wire")
    )
    assert set_reply.ok, set_reply
    alert = set_reply.payload
    assert isinstance(alert, PriceAlert)
    assert (alert.level, alert.note, alert.origin) == (Decimal("0.90000"), "over the wire", "api")

    assert [a.id for a in (await first_snapshot(remote)).price_alerts] == [alert.id]
    cancelled = await remote.execute(CancelPriceAlert(alert.id))
    listed = await remote.execute(QueryPriceAlerts(finished=True))

    assert cancelled.ok, cancelled
    assert isinstance(listed.payload, PriceAlertList)
    assert [(a.id, a.status) for a in listed.payload.alerts] == [(alert.id, AlertStatus.CANCELLED)]


async def test_an_attached_screen_sets_an_alert_and_hears_it_fire(
    settings: Settings,
    server: ServerThread,
    engine: LocalEngineClient,
    token: Secret,
    journal: Path,
) -> None:
    client = RemoteEngineClient(server.socket_path, token=token)
    app = create_app(settings, client)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app, TmtApp)
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        name = pane(app, "quotes", QuoteBoard).selected
        assert name is not None
        quote = app.model.quotes[name].quote
        assert quote is not None
        tick = Decimal(1).scaleb(-app.model.instruments[name].display_precision)
        level = (quote.mid * Decimal("0.98")).quantize(tick)

        await pilot.press("exclamation_mark")
        await until(pilot, lambda: isinstance(app.screen, PriceAlertScreen), "the alert form")
        app.screen.query_one("#side", Select).value = AlertSide.BELOW
        app.screen.query_one("#level", Input).value = str(level)
        await pilot.press("enter")
        await until(pilot, lambda: on_main_screen(app), "the form to close")
        await until(pilot, lambda: len(app.model.price_alerts) == 1, "the alert on screen")

        runner = engine.runner
        assert runner.loop is not None
        hit = Quote(name, level - tick, level, runner.clock())
        runner.loop.call_soon_threadsafe(runner._on_quote, hit)

        wanted = ("Price alert", f"{name} below {level}: ask {level}")
        await until(
            pilot,
            lambda: wanted in [(n.title, n.message) for n in app._notifications],
            "the notification on the attached screen",
        )
        assert app.model.price_alerts == {}
    await client.close()

    (journaled,) = journal_events(journal, "price_alert.set")
    assert (journaled["origin"], journaled["side"]) == ("api", "below")
    assert [e["id"] for e in journal_events(journal, "price_alert.hit")] == [journaled["id"]]
