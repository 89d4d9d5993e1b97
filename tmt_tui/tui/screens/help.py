"""The help screen: every key, generated from the action registry with the user's keymap applied."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable

from tmt_tui.tui.actions import bindings, help_rows
from tmt_tui.tui.widgets.header import TradingBanner


class HelpScreen(ModalScreen[None]):
    """A scrollable table of keys, names and what they do; `?`, `q` or escape closes it."""

    BINDINGS = [
        *bindings("dialog"),
        Binding("question_mark,q", "close", "Close", show=False, id="help-close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 100;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        background: $surface;
        border: thick $primary;
    }
    HelpScreen DataTable {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = dict(keymap)

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = "Keys"
            box.border_subtitle = "? / q / esc close"
            table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="help-keys")
            yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Keys", "Action", "What it does")
        for keys, name, tooltip in help_rows(self._keymap):
            table.add_row(keys, name, tooltip)
        table.focus()

    @property
    def rows(self) -> list[tuple[str, str, str]]:
        """The (keys, action, description) rows shown, for tests."""
        return list(help_rows(self._keymap))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(None)
