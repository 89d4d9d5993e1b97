"""Themes carry the trading colours, the stylesheet uses only variables, the UI keeps its layer."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources

import pytest

from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, ThemeFileError, load_themes, parse_theme


def test_both_shipped_themes_define_every_trading_colour() -> None:
    themes = {theme.name: theme for theme in load_themes()}
    assert {"tmt-dark", "tmt-light"} <= set(themes)
    for theme in themes.values():
        assert set(TRADING_VARIABLE_DEFAULTS) <= set(theme.variables), theme.name
    assert themes["tmt-dark"].dark and not themes["tmt-light"].dark


def test_a_theme_file_with_an_unknown_key_is_refused() -> None:
    with pytest.raises(ThemeFileError, match="unknown key"):
        parse_theme('name = "x"\nprimary = "#000000"\nprimry = "#111111"\n', "x.toml")


def test_stylesheet_uses_theme_variables_not_hex() -> None:
    tcss = resources.files("tmt_tui").joinpath("tui/tmt.tcss").read_text("utf-8")
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b", re.sub(r"#[a-z][\w-]*", "", tcss))
    for name in ("$halted", "$reducing"):
        assert name in tcss


async def test_switching_theme_recolours_the_quote_board(app: TmtApp, ready, eventually) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        dark_bid = app.palette.bid

        app.theme = "tmt-light"

        await eventually(pilot, lambda: app.palette.bid != dark_bid, "the light palette")
        assert app.main_screen.board._palette == app.palette


def test_the_tui_never_imports_engine_venues_or_store() -> None:
    code = (
        "import sys, tmt_tui.tui.app\n"
        "bad = [m for m in sys.modules if m.startswith(('tmt_tui.engine', 'tmt_tui.venues',"
        " 'tmt_tui.store'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
