"""What UI tests share (Textual Pilot): when a workstation is ready to trade (the board has a
quote for every instrument), waiting for a condition while the app runs, what the terminal
shows, and where the main screen and its panes are, found the way a user finds them: by id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import events
from textual.pilot import Pilot
from textual.widget import Widget

from tmt_tui.tui.app import TmtApp
from tmt_tui.tui.panes import BY_PANE_ID
from tmt_tui.tui.screens.main import MainScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.widgets.event_log import EventLog
from tmt_tui.tui.widgets.quote_board import QuoteBoard
from tmt_tui.tui.widgets.tables import PositionsTable

from .waiting import TIMEOUT_S, eventually

W = TypeVar("W", bound=Widget)


def main_screen(app: TmtApp) -> MainScreen:
    """The trading screen, at the bottom of the stack whatever dialog is open."""
    screen = app.screen_stack[0]
    assert isinstance(screen, MainScreen)
    return screen


def on_main_screen(app: TmtApp) -> bool:
    """No ticket or dialog is open: the trading screen is in front."""
    return isinstance(app.screen, MainScreen)


def pane(app: TmtApp, name: str, kind: type[W]) -> W:
    """The pane with id `name` (`quotes`, `positions`, `orders`, `log`, `risk`)."""
    return main_screen(app).query_one(f"#{name}", kind)


def focused_pane(app: TmtApp) -> str | None:
    """The id of the pane with the keyboard focus, if a pane has it."""
    focused = app.focused
    return focused.id if focused is not None and focused.id in BY_PANE_ID else None


def log_lines(app: TmtApp) -> list[str]:
    """The event log's latest lines as plain text."""
    return pane(app, "log", EventLog).texts


def ticket_ready(app: TmtApp) -> bool:
    """The order ticket is in front with its first field focused: what is typed or asked now
    reaches it (a ticket just pushed is on the stack before it is composed)."""
    screen = app.screen
    return isinstance(screen, OrderTicketScreen) and screen.focused is not None


def board_ready(app: TmtApp) -> bool:
    return bool(
        app.model.quotes
        and all(row.quote is not None for row in app.model.quotes.values())
        and pane(app, "quotes", QuoteBoard).selected is not None
    )


async def until(
    pilot: Pilot[Any], condition: Callable[[], object], what: str = "", within: float = TIMEOUT_S
) -> None:
    """Let the app run (``pilot.pause``) until ``condition()`` holds, or fail naming ``what``."""
    await eventually(condition, what, within=within, interval=0.05, pause=pilot.pause)


async def select_position(pilot: Pilot[Any], key: str) -> None:
    """Focus the positions pane (2) and wait until its cursor is on ``key`` (ACCOUNT:PAIR)."""
    app = pilot.app
    assert isinstance(app, TmtApp)
    await until(pilot, lambda: key in app.model.positions, f"the position {key}")
    await pilot.press("2")
    await until(
        pilot, lambda: pane(app, "positions", PositionsTable).selected_key == key, f"the row {key}"
    )


def screen_text(app: TmtApp) -> str:
    """What the terminal shows right now, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def burst(*typed: str) -> list[events.Key]:
    """Keys as a terminal delivers a paste or a laggy SSH link: all at once, as the driver
    posts them (a name such as "tab" is a key; anything else is typed character by character)."""
    names = {".": "full_stop", "tab": "tab", "enter": "enter", "shift+tab": "shift+tab"}
    chars = {"tab": "\t", "enter": "\r", "shift+tab": None}
    keys = []
    for item in typed:
        if item in chars:
            keys.append(events.Key(names[item], chars[item]))
        else:
            keys.extend(events.Key(names.get(ch, ch), ch) for ch in item)
    return keys
