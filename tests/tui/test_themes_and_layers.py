"""Themes carry the trading colours, the stylesheet uses only variables, the UI keeps its layer."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from importlib import resources

import pytest
from rich.color import Color as RichColor
from textual.color import Color

from tests.support.pilot import pane, until
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, ThemeFileError, load_themes, parse_theme
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.tables import OrdersTable


def theme_colour(app: TmtApp, theme: str, variable: str) -> RichColor:
    return Color.parse(app.get_theme(theme).variables[variable]).rich_color  # type: ignore[union-attr]


def board_colours(board: QuoteBoard) -> set[RichColor | None]:
    """Every foreground and background colour the board's rows are painted in right now."""
    strips = [board.render_line(y) for y in range(1, board.size.height)]
    styles = [segment.style for strip in strips for segment in strip if segment.style]
    return {colour for style in styles for colour in (style.color, style.bgcolor)}


def test_every_shipped_theme_defines_every_trading_colour() -> None:
    themes = {theme.name: theme for theme in load_themes()}
    assert {"tmt-dark", "tmt-light", "tmt-high-contrast", "tmt-amber"} <= set(themes)
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


async def test_switching_theme_recolours_the_quote_board(app: TmtApp, ready) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        board = pane(app, "quotes", QuoteBoard)
        dark_bid, light_bid = (theme_colour(app, t, "bid") for t in ("tmt-dark", "tmt-light"))
        assert dark_bid in board_colours(board)

        app.theme = "tmt-light"

        await until(pilot, lambda: light_bid in board_colours(board), "the light $bid")
        assert dark_bid not in board_colours(board)


async def test_switching_theme_recolours_the_tables_without_waiting_for_the_engine(
    app: TmtApp, client, ready
) -> None:
    async with app.run_test(size=(200, 60)) as pilot:
        await ready(pilot)
        row = app.model.quotes["EUR_USD"]
        assert row.quote is not None
        limit = (row.quote.bid * Decimal("0.99")).quantize(Decimal("0.00001"))
        reply = await client.execute(
            SubmitOrder("SIM-USD", "EUR_USD", 5_000, type=OrderType.LIMIT, price=limit)
        )
        assert reply.order_id is not None
        table = pane(app, "orders", OrdersTable)

        def side_colour() -> RichColor | None:
            cell = table.get_cell(reply.order_id, "side")
            return cell.style.color if cell.style and not isinstance(cell.style, str) else None

        await until(pilot, lambda: reply.order_id in table.rows, "the order's row")
        assert side_colour() == theme_colour(app, "tmt-dark", "bid")

        app.theme = "tmt-light"

        await until(
            pilot, lambda: side_colour() == theme_colour(app, "tmt-light", "bid"), "the light $bid"
        )


def test_the_tui_never_imports_engine_venues_or_store() -> None:
    code = (
        "import sys, tmt_tui.tui.app\n"
        "bad = [m for m in sys.modules if m.startswith(('tmt_tui.engine', 'tmt_tui.venues',"
        " 'tmt_tui.store'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("theme", ["tmt-high-contrast", "tmt-amber"])
async def test_each_theme_paints_the_board_in_its_own_bid_colour(
    app: TmtApp, ready, theme: str
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        app.theme = theme
        board = pane(app, "quotes", QuoteBoard)
        await until(pilot, lambda: theme_colour(app, theme, "bid") in board_colours(board))


async def test_no_color_is_honoured_and_the_board_still_says_which_way_prices_moved(
    settings, client, monkeypatch: pytest.MonkeyPatch, visible
) -> None:
    """NO_COLOR (no-color.org): the screen goes monochrome, and nothing is said by colour
    alone: the change column keeps its sign and the last move its arrow."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(settings, client)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "▲" in visible(app) or "▼" in visible(app), "an arrow")
        assert app.no_color
        assert any(type(f).__name__ in ("Monochrome", "NoColor") for f in app._filters)
