"""`tmt attach`: the very same app, built by the same factory, on a remote engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.api import make_settings
from tests.support.engines import journal_events
from tests.support.pilot import board_ready, on_main_screen, screen_text, ticket_ready, until
from tests.support.waiting import eventually
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.api.server import ServerThread
from tmt_tui.config import Settings
from tmt_tui.domain.client import Snapshot
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.secret import Secret
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.ticket import OrderTicketScreen


async def engine_snapshot(engine: LocalEngineClient) -> Snapshot:
    stream = engine.subscribe()
    try:
        item = await anext(stream)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert isinstance(item, Snapshot)
    return item


@pytest.fixture
def settings(journal: Path) -> Settings:
    """A calm market: Pilot waits for the process to go idle after each key press."""
    return make_settings(journal, ticks_per_second=1.0)


async def test_an_order_from_the_attached_ui_stays_with_the_engine_after_it_quits(
    settings: Settings,
    server: ServerThread,
    engine: LocalEngineClient,
    token: Secret,
    journal: Path,
) -> None:
    client = RemoteEngineClient(server.socket_path, token=token)
    app = create_app(settings, client)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app, TmtApp)
        await until(
            pilot,
            lambda: board_ready(app),
            "a quote for every instrument",
        )
        await pilot.press("b")
        await until(pilot, lambda: ticket_ready(app), "the ticket")
        instrument = app.screen.instrument.name  # type: ignore[attr-defined]

        await pilot.press(*"10000", "enter")

        key = f"SIM-USD:{instrument}"
        await until(pilot, lambda: on_main_screen(app), "the ticket to close")
        await until(pilot, lambda: key in app.model.positions, "the position on screen")
        assert app.model.positions[key].units == 10_000
        # keys read right after the ticket closed itself were typed for it: q comes after
        await until(pilot, lambda: not app.typing_for_closed_form(), "the ticket's keys")
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to exit")
    await client.close()

    after = await engine_snapshot(engine)
    positions = {f"{p.account}:{p.instrument}": p.units for p in after.positions}
    assert positions.get(key) == 10_000
    await eventually(lambda: server.clients == 0, "the server to see the UI leave")
    submitted = journal_events(journal, "order.submitted")
    assert [e["origin"] for e in submitted] == ["api"]
    still_trading = await engine.execute(SubmitOrder("SIM-USD", instrument, -10_000))
    assert still_trading.ok, still_trading


async def test_a_read_only_viewer_says_so_in_the_header_and_opens_no_ticket(
    settings: Settings, server: ServerThread, token: Secret
) -> None:
    client = RemoteEngineClient(server.socket_path, token=token, read_only=True)
    app = create_app(settings, client)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_ready(app), "a quote for every instrument")
        await until(pilot, lambda: "READ-ONLY" in screen_text(app).splitlines()[0], "the mode")

        await pilot.press("b")
        await pilot.pause()

        assert not isinstance(app.screen, OrderTicketScreen)
        notes = [n.message for n in app._notifications]
        assert any(n.startswith("Read-only viewer") for n in notes), notes
