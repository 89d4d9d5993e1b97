"""The help screen: every key, generated from the action registry with the user's keymap applied."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tmt_tui.tui.actions import bindings, help_rows
from tmt_tui.tui.widgets.header import TradingBanner


class HelpScreen(ModalScreen[None]):
    """A scrollable table of keys, names and what they do; `?`, `q` or escape closes it.

    A Rich table wraps each description in the width the terminal leaves it, so nothing is cut
    at 80 columns (a DataTable row is one line, and cut)."""

    BINDINGS = [
        *bindings("dialog"),
        Binding("question_mark,q", "close", "Close", show=False, id="help-close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        background: $surface;
        border: thick $primary;
        padding: 0 1;
    }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with VerticalScroll(id="help-keys") as box:
            box.border_title = "Keys"
            box.border_subtitle = "? / q / esc close · up/down scroll"
            yield Static(self._table())

    def _table(self) -> Table:
        table = Table(box=None, expand=True, header_style="bold", pad_edge=False)
        table.add_column("Keys", no_wrap=True)
        table.add_column("Action", no_wrap=True)
        table.add_column("What it does", ratio=1)
        for keys, name, tooltip in self.rows:
            table.add_row(keys, name, tooltip)
        return table

    def on_mount(self) -> None:
        self.query_one("#help-keys").focus()

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """The (keys, action, description) rows shown, for tests."""
        return list(help_rows(self._keymap))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(None)
