"""What UI tests share: when a workstation is ready to trade (the board has a quote for every
instrument), waiting for a condition while the app runs, and what the terminal shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from tmt_tui.tui.app import TmtApp


def board_ready(app: TmtApp) -> bool:
    return bool(
        app.model.quotes
        and all(row.quote is not None for row in app.model.quotes.values())
        and app.main_screen.board.selected is not None
    )


async def until(
    pilot: Pilot[Any], condition: Callable[[], object], what: str = "", within: float = 10.0
) -> None:
    """Let the app run until ``condition()`` holds, or fail naming ``what``."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what or condition}")
        await pilot.pause(0.05)


def screen_text(app: TmtApp) -> str:
    """What the terminal shows right now, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)
