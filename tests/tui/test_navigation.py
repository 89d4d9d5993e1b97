"""Layout and keys: every pane reachable at 80x24, all visible at 200x60; help; keymap."""

from __future__ import annotations

import dataclasses

from textual.command import CommandList

from tmt_tui.config import Settings
from tmt_tui.tui.actions import REGISTRY, effective_keys
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.screens.help import HelpScreen
from tmt_tui.tui.screens.main import PANES


def on_screen(app: TmtApp, name: str) -> bool:
    pane = app.main_screen.pane(name)
    return pane.display and pane.region.width > 0 and pane.region.height > 2


async def test_tab_reaches_every_pane_at_80x24(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        seen = []
        for _ in PANES:
            await pilot.press("tab")
            name = app.main_screen.focused_pane
            assert name is not None and on_screen(app, name), name
            seen.append(name)
        assert set(seen) == set(PANES)

        await pilot.press("shift+tab")
        assert app.main_screen.focused_pane == seen[-2]


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
            assert app.main_screen.focused_pane == name
            assert on_screen(app, name), name


async def test_every_pane_is_on_screen_at_200x60(app: TmtApp, ready) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        assert not app.main_screen.compact
        assert all(on_screen(app, name) for name in PANES)


async def test_help_lists_every_key(app: TmtApp, ready, eventually, visible) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        await pilot.press("question_mark")
        await eventually(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)

        listed = {(keys, name) for keys, name, _ in help_screen.rows}
        for spec in REGISTRY:
            assert (effective_keys(spec, {}), spec.description) in listed, spec.id
        assert "ctrl+k, f12" in visible(app)

        await pilot.press("escape")
        await eventually(pilot, lambda: app.screen is app.main_screen, "help closed")


async def test_keymap_from_settings_rebinds_keys(settings: Settings, client, ready, eventually):
    ui = dataclasses.replace(settings.ui, keymap={"help": "f1"})
    app = create_app(dataclasses.replace(settings, ui=ui), client)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await eventually(pilot, lambda: isinstance(app.screen, HelpScreen), "help on f1")
        assert ("f1", "Help") in {(keys, name) for keys, name, _ in app.screen.rows}


async def test_command_palette_runs_the_same_actions(app: TmtApp, ready, eventually) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"KILL")
        await eventually(
            pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "a match"
        )
        await pilot.press("enter")

        await eventually(pilot, lambda: app.model.halted, "HALTED from the palette")
