"""When a workstation is ready to trade in a test: the board has a quote for every instrument."""

from __future__ import annotations

from tmt_tui.tui.app import TmtApp


def board_ready(app: TmtApp) -> bool:
    return bool(
        app.model.quotes
        and all(row.quote is not None for row in app.model.quotes.values())
        and app.main_screen.board.selected is not None
    )
