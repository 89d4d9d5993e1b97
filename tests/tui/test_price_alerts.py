"""Price alerts on the workstation: `!` sets one on the selected instrument from a small form
(the level pre-filled from the touch), the board marks the row, `A` lists the active ones and
`c` cancels one, and a hit raises a notification, a log line and (when `[ui] bell` says so) the
bell. The hit is driven by handing the engine a quote past the level, as its feed would."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static

from tests.support.pilot import log_lines, on_main_screen, pane, screen_text, until
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SetPriceAlert
from tmt_tui.domain.price_alerts import AlertSide
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.price_alerts import PriceAlertScreen, PriceAlertsScreen
from tmt_tui.tui.widgets.quote_board import ALERT_MARK, QuoteBoard


def selected(app: TmtApp) -> tuple[str, Quote]:
    """The instrument under the board's cursor and its quote on screen."""
    name = pane(app, "quotes", QuoteBoard).selected
    assert name is not None
    quote = app.model.quotes[name].quote
    assert quote is not None
    return name, quote


def away(app: TmtApp, name: str, share: str) -> Decimal:
    """A level ``share`` times the instrument's mid, at its precision: where the sim never goes
    within a test."""
    quote = app.model.quotes[name].quote
    assert quote is not None
    digits = app.model.instruments[name].display_precision
    return (quote.mid * Decimal(share)).quantize(Decimal(1).scaleb(-digits))


async def set_from_the_form(pilot: Pilot[Any], level: Decimal, note: str = "") -> None:
    """`!`, the level typed over the pre-filled one, a note, enter: the form closes."""
    app = pilot.app
    await pilot.press("exclamation_mark")
    await until(pilot, lambda: isinstance(app.screen, PriceAlertScreen), "the alert form")
    app.screen.query_one("#level", Input).value = ""
    await pilot.press(*str(level))
    if note:
        await pilot.press("tab", *note)  # the level's next field is the note
    await pilot.press("enter")
    await until(pilot, lambda: on_main_screen(app), "the form to close")


def fire(client: LocalEngineClient, quote: Quote) -> None:
    """Hand ``quote`` to the engine on its own thread, as the feed hands it every quote."""
    runner = client.runner
    assert runner.loop is not None
    runner.loop.call_soon_threadsafe(runner._on_quote, quote)


async def test_bang_sets_a_price_alert_on_the_selected_instrument_and_marks_its_row(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        name, _ = selected(app)
        level = away(app, name, "1.02")

        await set_from_the_form(pilot, level)

        await until(pilot, lambda: len(app.model.price_alerts) == 1, "the alert in the model")
        (alert,) = app.model.price_alerts.values()
        assert (alert.instrument, alert.side, alert.level) == (name, AlertSide.ABOVE, level)
        assert alert.origin == "ui"
        await until(pilot, lambda: f"{name:<7}{ALERT_MARK}" in screen_text(app), "the marker")
        await until(
            pilot,
            lambda: any(f"PRICE ALERT {alert.id} set: {name} above" in t for t in log_lines(app)),
            "the log line",
        )


async def test_the_form_starts_from_the_touch_and_follows_the_side(app: TmtApp, ready) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: isinstance(app.screen, PriceAlertScreen), "the alert form")
        form = app.screen
        assert isinstance(form, PriceAlertScreen)
        level = form.query_one("#level", Input)
        digits = form.instrument.display_precision

        def shown() -> tuple[str, str]:
            """The touch the form's quote line shows, as the level field would hold it."""
            words = str(form.query_one("#alert-quote", Static).content).split()
            return words[1], words[3]  # "bid X  ask Y"

        bid, ask = shown()
        assert level.value == ask and len(ask.split(".")[1]) == digits  # above: the ask
        form.query_one("#side", Select).value = AlertSide.BELOW
        await until(pilot, lambda: level.value == shown()[0], "the bid for below")

        level.value = "1.5"  # typed over: a side change leaves it alone
        form.query_one("#side", Select).value = AlertSide.ABOVE
        await pilot.pause()
        assert level.value == "1.5"


async def test_a_refused_alert_keeps_the_form_open_with_the_engines_reason(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        name, _ = selected(app)
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: isinstance(app.screen, PriceAlertScreen), "the alert form")
        app.screen.query_one("#level", Input).value = str(away(app, name, "0.98"))

        await pilot.press("enter")  # above, but under the bid: already met

        message = app.screen.query_one("#alert-message", Static)
        await until(
            pilot, lambda: "ALERT_ALREADY_MET" in str(message.content), "the engine's reason"
        )
        assert isinstance(app.screen, PriceAlertScreen)
        assert app.model.price_alerts == {}


async def test_a_hit_notifies_writes_the_log_rings_the_bell_and_clears_the_marker(
    settings: Settings, client: LocalEngineClient, ready
) -> None:
    settings = dataclasses.replace(settings, ui=dataclasses.replace(settings.ui, bell="on"))
    app = create_app(settings, client)
    rang: list[str] = []
    app.bell = lambda: rang.append("bell")  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        name, _ = selected(app)
        level = away(app, name, "1.02")
        await set_from_the_form(pilot, level, note="breakout")
        await until(pilot, lambda: len(app.model.price_alerts) == 1, "the alert in the model")
        (alert,) = app.model.price_alerts.values()
        assert alert.note == "breakout"
        spread = Decimal(1).scaleb(-app.model.instruments[name].display_precision)

        fire(client, Quote(name, level, level + spread, client.runner.clock()))

        hit = ("Price alert", f"{name} above {level}: bid {level} — breakout")
        await until(
            pilot,
            lambda: hit in [(n.title, n.message) for n in app._notifications],
            "the notification",
        )
        assert not app.model.price_alerts
        assert any(f"PRICE ALERT {alert.id} HIT: {name} above {level}" in t for t in log_lines(app))
        assert rang == ["bell"]
        await until(pilot, lambda: ALERT_MARK not in screen_text(app), "the marker gone")


async def test_capital_a_lists_the_active_alerts_and_c_cancels_the_highlighted_one(
    app: TmtApp, client: LocalEngineClient, ready
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        name, _ = selected(app)
        for share, side in (("1.03", AlertSide.ABOVE), ("0.97", AlertSide.BELOW)):
            level = away(app, name, share)
            reply = await client.execute(SetPriceAlert(name, side, level, "from a script"))
            assert reply.ok, reply
        await until(pilot, lambda: len(app.model.price_alerts) == 2, "both alerts on screen")

        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, PriceAlertsScreen), "the alert list")
        table = app.screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2, "two rows")
        first = app.screen.selected  # the highest level first: the above one
        assert first is not None and app.model.price_alerts[first].side is AlertSide.ABOVE

        await pilot.press("c")

        await until(pilot, lambda: first not in app.model.price_alerts, "the alert cancelled")
        await until(pilot, lambda: table.row_count == 1, "one row left")
        await pilot.press("escape")
        await until(pilot, lambda: on_main_screen(app), "back on the board")
        assert any(f"PRICE ALERT {first} cancelled" in t for t in log_lines(app))
