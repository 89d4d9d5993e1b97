"""Layout and keys: every pane reachable at 80x24, all visible at 200x60; help; keymap; the
pane registry that decides both layouts and the pane keys."""

from __future__ import annotations

import asyncio
import dataclasses

from textual.command import CommandList
from textual.widget import Widget

from tests.support.pilot import focused_pane, log_lines, main_screen, on_main_screen, pane, until
from tmt_tui.config import Settings
from tmt_tui.tui.actions import BY_ID, REGISTRY, effective_keys
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.panes import PANES, in_grid_order
from tmt_tui.tui.screens.help import HelpScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen

PANE_IDS = [spec.id for spec in PANES]


def on_screen(app: TmtApp, name: str) -> bool:
    widget = pane(app, name, Widget)
    return widget.display and widget.region.width > 0 and widget.region.height > 2


async def test_tab_reaches_every_pane_at_80x24(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        seen = []
        for _ in PANES:
            await pilot.press("tab")
            name = focused_pane(app)
            assert name is not None and on_screen(app, name), name
            seen.append(name)
        assert set(seen) == set(PANE_IDS)

        await pilot.press("shift+tab")
        assert focused_pane(app) == seen[-2]


async def test_digits_focus_each_pane_at_80x24(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for digit, name in [
            ("2", "positions"),
            ("5", "risk"),
            ("3", "orders"),
            ("4", "log"),
            ("1", "quotes"),
        ]:
            await pilot.press(digit)
            assert focused_pane(app) == name
            assert on_screen(app, name), name


async def test_every_pane_is_on_screen_at_200x60(app: TmtApp, ready) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        assert not main_screen(app).has_class("-compact")
        assert all(on_screen(app, name) for name in PANE_IDS)

        region = {name: pane(app, name, Widget).region for name in PANE_IDS}
        assert region["quotes"].x == region["risk"].x == 0 and region["quotes"].width == 50
        assert {region[name].x for name in ("positions", "orders", "chart")} == {50}
        assert region["log"].x == region["chart"].right
        assert region["quotes"].y == region["positions"].y
        assert region["positions"].bottom == region["orders"].y
        assert region["risk"].y == region["chart"].y == region["log"].y == region["quotes"].bottom
        assert region["risk"].height == region["chart"].height == region["log"].height == 14


async def test_at_80x24_the_board_sits_over_one_other_pane(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key, name in [("2", "positions"), ("5", "risk"), ("4", "log")]:
            await pilot.press(key)
            shown = [spec.id for spec in PANES if pane(app, spec.id, Widget).display]
            assert shown == ["quotes", name]
            board, other = (pane(app, n, Widget).region for n in shown)
            assert board.bottom == other.y and board.width == other.width == 80


async def test_help_lists_every_key(app: TmtApp, ready, visible) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)

        listed = {(keys, name) for keys, name, _ in help_screen.rows}
        for spec in REGISTRY:
            assert (effective_keys(spec, {}), spec.description) in listed, spec.id
        assert "ctrl+k, f12" in visible(app)

        await pilot.press("escape")
        await until(pilot, lambda: on_main_screen(app), "help closed")


async def test_keymap_from_settings_rebinds_keys(settings: Settings, client, ready):
    ui = dataclasses.replace(settings.ui, keymap={"help": "f1"})
    app = create_app(dataclasses.replace(settings, ui=ui), client)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help on f1")
        assert ("f1", "Help") in {(keys, name) for keys, name, _ in app.screen.rows}


async def test_the_quote_board_hint_names_the_remapped_keys(settings: Settings, client, ready):
    ui = dataclasses.replace(settings.ui, keymap={"buy": "B", "sell": "S"})
    app = create_app(dataclasses.replace(settings, ui=ui), client)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("home")
        board = main_screen(app).query_one("#quotes")
        await until(pilot, lambda: "B buy · S sell" in str(board.border_subtitle), "the hint")
        await pilot.press("B")
        await until(pilot, lambda: isinstance(app.screen, OrderTicketScreen), "a ticket on B")


async def test_command_palette_runs_the_same_actions(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"KILL")
        await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "a match")
        await pilot.press("enter")

        await until(pilot, lambda: app.model.halted, "HALTED from the palette")


def test_every_registered_pane_has_a_key_a_title_and_a_cell() -> None:
    """One registry entry is all a pane needs: its key binding and help row come from it."""
    keys = [spec.key for spec in PANES]
    assert len(set(keys)) == len(keys)
    assert len({spec.id for spec in PANES}) == len(PANES)
    for spec in PANES:
        binding = BY_ID[f"focus-{spec.id}"]
        assert (binding.keys, binding.description) == (spec.key, spec.title)
    cells = {
        (spec.wide.row + r, spec.wide.column + c)
        for spec in PANES
        for r in range(spec.wide.row_span)
        for c in range(spec.wide.column_span)
    }
    assert len(cells) == sum(spec.wide.row_span * spec.wide.column_span for spec in PANES)
    assert [spec.wide for spec in in_grid_order()] == sorted(
        (spec.wide for spec in PANES), key=lambda cell: (cell.row, cell.column)
    )
    assert [spec.compact for spec in PANES].count("top") == 1


async def test_panes_are_titled_with_their_keys_and_compact_tabs_name_the_others(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for spec in PANES:
            assert pane(app, spec.id, Widget).border_title == f"{spec.key} {spec.title}"
        assert (
            pane(app, "positions", Widget).border_subtitle
            == "3 Orders 4 Log 5 Risk 6 History 7 Analytics 8 Chart"
        )


async def test_a_screen_whose_engine_stopped_says_so_once_and_how_old_its_figures_are(
    app: TmtApp, client, ready, visible
) -> None:
    """After the engine stops: the header says DISCONNECTED (never ACTIVE) with the figures'
    age, the panes fade, and the log and notifications hear of it once, not once a retry."""
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        notices = []
        app.notify = lambda message, **kw: notices.append(message)  # type: ignore[method-assign]
        await asyncio.to_thread(client.runner.stop)

        def header() -> str:
            return visible(app).splitlines()[0]

        await until(pilot, lambda: "DISCONNECTED" in header(), "DISCONNECTED")
        await until(pilot, lambda: "figures 3s old" in header(), "the age moving on", within=30)

        assert "ACTIVE" not in header()
        assert app.has_class("-engine-lost")
        failures = [line for line in log_lines(app) if "engine stream failed" in line]
        assert len(failures) == 1, failures
        assert len(notices) == 1, notices


async def test_z_fills_the_screen_with_the_focused_pane_and_z_again_restores_it(
    app: TmtApp, ready
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("4")  # the log, a tab under the board at 80x24
        await pilot.press("z")
        log = pane(app, "log", Widget)
        await until(pilot, lambda: main_screen(app).maximized is log, "the log maximised")
        await until(pilot, lambda: log.region.height >= 18, "the log filling the screen")
        assert not on_screen(app, "quotes")

        await pilot.press("z")
        await until(pilot, lambda: main_screen(app).maximized is None, "the layout back")
        await until(pilot, lambda: on_screen(app, "quotes"), "the board back")
        assert focused_pane(app) == "log"


async def test_help_wraps_every_description_at_80x24_instead_of_cutting_it(
    app: TmtApp, ready, visible
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        seen = ""
        for _ in range(12):  # page through it with the keyboard, collecting what shows
            seen += " " + " ".join(visible(app).replace("█", " ").replace("▌", " ").split())
            await pilot.press("pagedown")
        for _, _, description in app.screen.rows:  # type: ignore[attr-defined]
            assert description.split()[-1] in seen, description
        assert "…" not in seen


async def test_the_log_tab_at_80x24_opens_on_its_newest_lines(app: TmtApp, ready, visible) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        log = pane(app, "log", Widget)
        assert not on_screen(app, "log")  # behind another tab under the board
        for i in range(60):
            log.note(0.0, f"line number {i:02d}")  # type: ignore[attr-defined]
        await pilot.pause()

        await pilot.press("4")

        await until(pilot, lambda: "line number 59" in visible(app), "the newest line")
