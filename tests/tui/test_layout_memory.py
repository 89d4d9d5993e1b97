"""The remembered layout: the maximised pane, the tab and pane in front, the selected
instrument and account and a theme picked at runtime come back on the next start; a broken
layout file is ignored with a line in the log, and the screen starts as new."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.support.pilot import board_ready, focused_pane, log_lines, main_screen, pane, until
from tmt_tui.config import Settings
from tmt_tui.tui.app import create_app
from tmt_tui.tui.layout import LayoutState, beside_journal, for_endpoint, read_layout
from tmt_tui.tui.widgets.quote_board import QuoteBoard


async def test_the_layout_left_on_quit_is_the_one_the_next_start_shows(
    settings: Settings, client, tmp_path: Path
) -> None:
    path = beside_journal(settings.journal_path())
    first = create_app(settings, client, layout_path=path)
    async with first.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_ready(first), "the board")
        await pilot.press("1", "down", "down")
        chosen = pane(first, "quotes", QuoteBoard).selected
        first.theme = "tmt-amber"
        await pilot.press("4", "z")
        await until(pilot, lambda: main_screen(first).maximized is not None, "the log maximised")
        await pilot.press("q")
        await until(pilot, lambda: path.exists(), "the layout file")

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = read_layout(path)
    assert saved is not None
    assert (saved.maximized, saved.tab, saved.focus) == ("log", "log", "log")
    assert (saved.instrument, saved.theme) == (chosen, "tmt-amber")

    second = create_app(settings, client, layout_path=path)
    async with second.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: board_ready(second), "the board")
        board = pane(second, "quotes", QuoteBoard)
        await until(pilot, lambda: board.selected == chosen, f"{chosen} selected again")
        screen = main_screen(second)
        await until(pilot, lambda: screen.maximized is not None, "the log maximised again")
        assert screen.maximized is not None and screen.maximized.id == "log"
        assert focused_pane(second) == "log"
        assert second.theme == "tmt-amber"


async def test_a_broken_layout_file_is_ignored_with_a_note_in_the_log(
    settings: Settings, client
) -> None:
    path = beside_journal(settings.journal_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"version": 1, "maximized": ["not", "a", "name"]')  # cut off mid-write

    app = create_app(settings, client, layout_path=path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: board_ready(app), "the board")
        await until(
            pilot,
            lambda: any("layout ignored" in line for line in log_lines(app)),
            "the log saying the layout was ignored",
        )
        assert main_screen(app).maximized is None
        assert focused_pane(app) == "quotes"


def test_a_theme_picked_at_runtime_yields_to_a_config_that_changed_since() -> None:
    picked = LayoutState(theme="tmt-amber", config_theme="tmt-dark")

    assert picked.runtime_theme("tmt-dark") == "tmt-amber"
    assert picked.runtime_theme("tmt-light") is None  # the config was edited since: it wins


def test_attached_screens_remember_a_layout_per_endpoint(tmp_path: Path) -> None:
    one = for_endpoint(tmp_path, "/run/user/1000/tmt/engine.sock")
    other = for_endpoint(tmp_path, "/tmp/other/engine.sock")

    assert one.parent == tmp_path and one != other
    assert one == for_endpoint(tmp_path, "/run/user/1000/tmt/engine.sock")
    assert json.dumps(str(one))  # a plain file name, no path from the endpoint in it
    assert "/" not in one.name
