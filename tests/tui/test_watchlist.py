"""The watchlist on the quote board: search and add, remove and put back, move, sort, one
account's view, and a list that survives a restart; all through keys on the real app and engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.support.pilot import main_screen, pane, screen_text, until
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.watchlist import read_watchlist, watchlist_path
from tmt_tui.tui.actions import BY_ID, keymap_problem
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.watch_search import WatchSearchScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.tables import OrdersTable, PositionsTable

WATCHED = ("EUR_USD", "GBP_USD", "USD_JPY")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The UI tests' settings (tests/tui/conftest.py) on three pairs of the sim's twenty."""
    return dataclasses.replace(settings, sim=dataclasses.replace(settings.sim, instruments=WATCHED))


def board(app: TmtApp) -> QuoteBoard:
    return pane(app, "quotes", QuoteBoard)


async def board_shows(pilot, names: tuple[str, ...] | list[str], what: str = "") -> None:
    app = pilot.app
    await until(pilot, lambda: tuple(board(app).names) == tuple(names), what or f"rows {names}")


async def add_by_search(pilot, typed: str) -> None:
    """`w`, type `typed`, enter: as a trader adds a row."""
    await pilot.press("w")
    await until(pilot, lambda: isinstance(pilot.app.screen, WatchSearchScreen), "the search")
    await pilot.press(*typed)
    await pilot.press("enter")


async def test_typing_eur_lists_the_euro_pairs_and_enter_adds_the_first_with_live_quotes(
    app: TmtApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED, "the config's pairs on a fresh watchlist")
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WatchSearchScreen), "the search")
        await pilot.press("e", "u", "r")
        search = app.screen
        assert isinstance(search, WatchSearchScreen)
        await until(pilot, lambda: search.matches[:1] == ["EUR_AUD"], "euro pairs first")
        assert {"EUR_GBP", "EUR_JPY", "EUR_USD"} <= set(search.matches)
        assert all(name.startswith("EUR_") for name in search.matches[:5])

        await pilot.press("enter")

        await board_shows(pilot, [*WATCHED, "EUR_AUD"])
        await until(pilot, lambda: app.model.quotes["EUR_AUD"].quote is not None, "its quotes")
        await until(pilot, lambda: board(app).selected == "EUR_AUD", "the cursor on it")
        quote = app.model.quotes["EUR_AUD"].quote
        assert quote is not None
        await until(pilot, lambda: "EUR_AUD" in screen_text(app), "the row on screen")


@pytest.mark.parametrize("typed", ["eurgbp", "EUR/GBP", "eur-gbp"])
async def test_a_pair_typed_whole_in_any_spelling_is_added(app: TmtApp, typed: str) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await add_by_search(pilot, typed)
        await board_shows(pilot, [*WATCHED, "EUR_GBP"])


async def test_delete_removes_the_selected_row_at_once_and_w_enter_puts_it_back(
    app: TmtApp,
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await pilot.press("1", "down")
        assert board(app).selected == "GBP_USD"

        await pilot.press("delete")
        await board_shows(pilot, ["EUR_USD", "USD_JPY"], "GBP_USD gone, no question asked")
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WatchSearchScreen), "the search")
        await pilot.press("enter")  # the search starts on what was just removed

        await board_shows(pilot, WATCHED, "GBP_USD back in its row")


async def test_an_instrument_held_stays_quoted_when_removed_and_the_reply_says_why(
    app: TmtApp, client: LocalEngineClient
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await until(pilot, lambda: app.model.quotes["GBP_USD"].quote is not None, "a quote")
        reply = await client.execute(SubmitOrder("SIM-USD", "GBP_USD", 1_000))
        assert reply.ok, reply
        await pilot.press("1", "down", "delete")
        await board_shows(pilot, ["EUR_USD", "USD_JPY"])
        texts = main_screen(app).query_one("#log").texts  # type: ignore[attr-defined]
        await until(
            pilot,
            lambda: any("still quoted" in line and "GBP_USD" in line for line in texts),
            "the log says GBP_USD is still quoted for the position",
        )
        runner = client.runner
        assert "GBP_USD" in runner._quoted


async def test_shift_arrows_move_a_row_in_your_own_order(app: TmtApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await pilot.press("1", "end")
        assert board(app).selected == "USD_JPY"

        await pilot.press("shift+up")
        await board_shows(pilot, ["EUR_USD", "USD_JPY", "GBP_USD"])
        await pilot.press("K")
        await board_shows(pilot, ["USD_JPY", "EUR_USD", "GBP_USD"])
        assert board(app).selected == "USD_JPY"
        await pilot.press("J")
        await board_shows(pilot, ["EUR_USD", "USD_JPY", "GBP_USD"])


async def test_o_cycles_the_sort_and_the_title_says_which(app: TmtApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await until(pilot, lambda: all(app.model.quotes[n].quote for n in WATCHED), "quotes")

        await pilot.press("o")  # by name
        await board_shows(pilot, sorted(WATCHED))
        assert "by name" in str(board(app).border_title)

        await pilot.press("o")  # by change %, biggest rise first

        def by_change() -> bool:
            rows = [app.model.quotes[n] for n in board(app).names]
            changes = [(r.quote.mid - r.first_mid) / r.first_mid for r in rows]  # type: ignore[union-attr, operator]
            return changes == sorted(changes, reverse=True)

        await until(pilot, by_change, "rows by change, biggest rise first")
        await pilot.press("o")  # by spread

        def by_spread() -> bool:
            rows = [app.model.quotes[n] for n in board(app).names]
            pips = [r.quote.spread / r.instrument.pip for r in rows]  # type: ignore[union-attr]
            return pips == sorted(pips)

        await until(pilot, by_spread, "rows by spread, tightest first")
        assert "by spread" in str(board(app).border_title)
        await pilot.press("o", "o")  # regime, then your own order again
        await board_shows(pilot, WATCHED)
        assert "by" not in str(board(app).border_title)


async def test_v_shows_one_accounts_instruments_positions_and_orders(
    app: TmtApp, client: LocalEngineClient
) -> None:
    async with app.run_test(size=(160, 50)) as pilot:
        await board_shows(pilot, WATCHED)
        await until(pilot, lambda: all(app.model.quotes[n].quote for n in WATCHED), "quotes")
        assert (await client.execute(SubmitOrder("SIM-USD", "GBP_USD", 1_000))).ok
        assert (await client.execute(SubmitOrder("SIM-EUR", "USD_JPY", -2_000))).ok
        await until(pilot, lambda: len(app.model.positions) == 2, "both positions")

        await pilot.press("v")  # the first account, by name: SIM-EUR
        await board_shows(pilot, ["USD_JPY"], "SIM-EUR's pair only")
        positions = pane(app, "positions", PositionsTable)
        await until(pilot, lambda: positions.row_count == 1, "SIM-EUR's position only")
        assert "SIM-EUR" in str(board(app).border_title)

        await pilot.press("v")  # SIM-USD
        await board_shows(pilot, ["GBP_USD"], "SIM-USD's pair only")
        await pilot.press("b")
        await until(pilot, lambda: not isinstance(app.screen, type(main_screen(app))), "ticket")
        assert "SIM-USD" in screen_text(app)  # the view's account is the ticket's
        await pilot.press("escape")

        await pilot.press("v")  # every account again
        await board_shows(pilot, WATCHED)
        await until(pilot, lambda: positions.row_count == 2, "both positions again")
        assert pane(app, "orders", OrdersTable).row_count >= 2


async def test_the_watchlist_survives_a_restart_through_its_state_file(
    settings: Settings,
) -> None:
    first = start_embedded(settings)
    app = create_app(settings, first)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await board_shows(pilot, WATCHED)
            await add_by_search(pilot, "chfjpy")
            await board_shows(pilot, [*WATCHED, "CHF_JPY"])
            await pilot.press("1", "home", "delete")
            await board_shows(pilot, ["GBP_USD", "USD_JPY", "CHF_JPY"])
    finally:
        await first.close()
    path = watchlist_path(Path(settings.engine.journal_path))
    assert read_watchlist(path) == ("GBP_USD", "USD_JPY", "CHF_JPY")
    assert path.stat().st_mode & 0o777 == 0o600

    second = start_embedded(settings)
    app = create_app(settings, second)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await board_shows(pilot, ["GBP_USD", "USD_JPY", "CHF_JPY"], "the list as it was left")
            await until(pilot, lambda: app.model.quotes["CHF_JPY"].quote is not None, "quotes")
    finally:
        await second.close()


async def test_a_broken_state_file_falls_back_to_the_config_and_says_so(
    settings: Settings,
) -> None:
    path = watchlist_path(Path(settings.engine.journal_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"instruments": ["EUR_USD", ')
    engine = start_embedded(settings)
    app = create_app(settings, engine)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await board_shows(pilot, WATCHED, "the config's pairs")
            await until(
                pilot,
                lambda: (
                    "watchlist.file" in app.model.alerts
                    and "not JSON" in app.model.alerts["watchlist.file"]
                ),
                "an alert naming the file and what is wrong",
            )
            await add_by_search(pilot, "eurgbp")
            await board_shows(pilot, [*WATCHED, "EUR_GBP"])
            await until(pilot, lambda: "watchlist.file" not in app.model.alerts, "alert cleared")
    finally:
        await engine.close()
    assert read_watchlist(path) == (*WATCHED, "EUR_GBP")
    broken = path.with_name(path.name + ".broken")
    assert broken.read_text() == '{"instruments": ["EUR_USD", '


async def test_the_watchlist_keys_are_remappable_and_known_to_config_check(
    settings: Settings, client: LocalEngineClient
) -> None:
    for action in ("watch-add", "watch-remove", "watch-sort", "account-view", "watch-move-up"):
        assert action in BY_ID
        assert keymap_problem({action: "f5"}) is None
    assert keymap_problem({"watch-ad": "f5"}) is not None
    remapped = dataclasses.replace(
        settings,
        ui=dataclasses.replace(settings.ui, keymap={"watch-add": "f5", "watch-sort": "f6"}),
    )
    app = create_app(remapped, client)
    async with app.run_test(size=(120, 40)) as pilot:
        await board_shows(pilot, WATCHED)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, WatchSearchScreen), "search on f5")
        await pilot.press("escape")
        await pilot.press("f6")
        await board_shows(pilot, sorted(WATCHED))


async def test_the_board_with_an_added_row_still_fits_80x24(app: TmtApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await board_shows(pilot, WATCHED)
        await add_by_search(pilot, "audnzd")
        await board_shows(pilot, [*WATCHED, "AUD_NZD"])
        await until(pilot, lambda: app.model.quotes["AUD_NZD"].quote is not None, "its quote")
        text = screen_text(app)
        lines = text.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        assert "AUD_NZD" in text
        row = app.model.quotes["AUD_NZD"]
        assert row.quote is not None
        await until(pilot, lambda: f"{row.quote.bid:.5f}" in screen_text(app), "its bid shown")
