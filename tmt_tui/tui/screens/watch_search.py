"""The watchlist's search: type part of a name, pick a match, and the board gains that row."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tmt_tui.domain.watchlist import search
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.screens.dialogs import DIALOG_CSS
from tmt_tui.tui.widgets.header import TradingBanner


class WatchSearchScreen(ModalScreen[str | None]):
    """Search the venue's instruments (`eur` lists the euro pairs; `eurusd`, `EUR/USD` find
    EUR_USD); enter adds the highlighted match, up and down move through the matches, escape
    closes. Dismissed with the chosen name, or None."""

    BINDINGS = [
        *bindings("dialog"),
        Binding("down", "move(1)", "Next match", show=False, id="watch-search-down"),
        Binding("up", "move(-1)", "Previous match", show=False, id="watch-search-up"),
    ]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="WatchSearchScreen")
        + """
    WatchSearchScreen OptionList {
        height: auto;
        max-height: 14;
        border: none;
        padding: 0;
    }
    """
    )

    def __init__(self, universe: Sequence[str], watched: Sequence[str], text: str = "") -> None:
        """`universe` is what the venue quotes, `watched` what the board shows already; `text`
        starts the search (the instrument just removed, so enter puts it back)."""
        super().__init__()
        self._universe = tuple(universe)
        self._watched = frozenset(watched)
        self._text = text
        self.matches: list[str] = []

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = "Add to watchlist"
            box.border_subtitle = "enter add · ↑↓ choose · esc close"
            yield Input(self._text, placeholder="eur, eurusd, EUR/USD ...", id="watch-query")
            yield OptionList(id="watch-matches", compact=True)
            yield Static("", id="watch-note", classes="message")

    def on_mount(self) -> None:
        self._show(self._text)
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self._show(event.value)

    def _show(self, text: str) -> None:
        self.matches = search(text, self._universe)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{name}  (on the board)" if name in self._watched else name, id=name)
            for name in self.matches
        )
        if self.matches:
            options.highlighted = 0
        note = "" if self.matches else f"No instrument here matches {text.strip()!r}."
        self.query_one("#watch-note", Static).update(note)

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.matches:
            current = options.highlighted or 0
            options.highlighted = max(0, min(current + step, len(self.matches) - 1))

    @property
    def chosen(self) -> str | None:
        """The highlighted match (the best one until the trader moves)."""
        highlighted = self.query_one(OptionList).highlighted
        if not self.matches:
            return None
        return self.matches[highlighted or 0]

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_apply()

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_apply(self) -> None:
        chosen = self.chosen
        if chosen is None:
            self.app.bell()
            return
        self.dismiss(chosen)

    def action_close(self) -> None:
        self.dismiss(None)
