"""The trader's hands on the watchlist: add (a search), remove, move, sort, and one account's view.

The main screen owns one of these and turns its keys into calls here. The watchlist is the
engine's (`Watch` / `Unwatch`), so every attached screen sees a change; the sort and the
account view are this screen's own way of looking at it.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from tmt_tui.domain.commands import Unwatch, Watch
from tmt_tui.tui.board_view import BY_SORT, next_sort
from tmt_tui.tui.context import Workstation
from tmt_tui.tui.screens.watch_search import WatchSearchScreen
from tmt_tui.tui.widgets.quote_board import QuoteBoard


class WatchlistControls:
    """Add, remove, move, sort and view, for one screen's quote board."""

    def __init__(self, workstation: Workstation, screen: Screen[Any], board: QuoteBoard) -> None:
        self._workstation = workstation
        self._screen = screen
        self._board = board
        self.account: str | None = None  # whose view the screen shows; None: everything
        #: The last instrument removed and its row: the search offers it first, so `w` then
        #: enter puts it back where it was.
        self._removed: tuple[str, int] | None = None

    def _editable(self) -> tuple[str, ...] | None:
        """The engine's watchlist, or None (said to the trader) when there is none to edit."""
        model = self._workstation.model
        if model.read_only:
            self._screen.notify(
                "Read-only viewer: the watchlist is the engine's (attach without --read-only).",
                severity="warning",
            )
            return None
        if model.watchlist is None:
            self._screen.notify("This engine keeps no watchlist.", severity="warning")
            return None
        return model.watchlist

    def add(self) -> None:
        """Search the venue's instruments; the pick goes on the watchlist (where it was, when it
        is the one just removed) and the cursor follows it once it is on the board."""
        watched = self._editable()
        if watched is None:
            return
        removed = self._removed

        def picked(name: str | None) -> None:
            if name is None:
                return
            at = removed[1] if removed is not None and removed[0] == name else None
            self._board.follow = name
            client = self._workstation.client
            self._workstation.send(f"watch {name}", client.execute(Watch(name, at)))

        universe = self._workstation.model.universe
        text = removed[0] if removed is not None else ""
        self._screen.app.push_screen(WatchSearchScreen(universe, watched, text), picked)

    def remove(self) -> None:
        """Take the selected instrument off the watchlist at once (no question: `w`, enter
        puts it back)."""
        watched = self._editable()
        name = self._board.selected
        if watched is None:
            return
        if name is None or name not in watched:
            self._screen.notify("Select a watched instrument on the board (1).", severity="warning")
            return
        self._removed = (name, watched.index(name))
        client = self._workstation.client
        label = f"unwatch {name} (w, enter: back)"
        self._workstation.send(label, client.execute(Unwatch(name)))

    def move(self, step: int) -> None:
        """Move the selected row up (-1) or down (+1) in the watchlist's own order."""
        watched = self._editable()
        board = self._board
        name = board.selected
        if watched is None or name is None or name not in watched:
            return
        if board.sort != "manual":
            self._screen.notify("Rows move in your own order only: o until it says so.")
            return
        rows = board.names
        index = rows.index(name) + step
        if not 0 <= index < len(rows) or rows[index] not in watched:
            return
        client = self._workstation.client
        at = watched.index(rows[index])
        self._workstation.send(f"move {name}", client.execute(Watch(name, at)))

    def cycle_sort(self) -> str:
        """The next sort (your order, name, change %, spread, regime); returns its title."""
        board = self._board
        board.sort = next_sort(board.sort)
        board.reshape = True
        return BY_SORT[board.sort].title

    def cycle_account(self) -> str | None:
        """Every account's view in turn, then everything again; returns the account or None."""
        choices: list[str | None] = [None, *sorted(self._workstation.model.accounts)]
        index = choices.index(self.account) if self.account in choices else 0
        self.account = choices[(index + 1) % len(choices)]
        board = self._board
        board.empty_text = (
            QuoteBoard.EMPTY_TEXT
            if self.account is None
            else f"{self.account} has no position or working order: v shows every account."
        )
        return self.account
