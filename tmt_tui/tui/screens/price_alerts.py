"""Price alerts on the workstation: the small form that sets one on the selected instrument
(`!`), and the list of the active ones (`A`) where `c` cancels the highlighted alert.

The form pre-fills the level from the touch a trader would watch: the ask for `above` (the bid
must climb to where the offer is now), the bid for `below`; changing the side re-fills it until
the level is typed over. The engine judges the level (its ticks, its distance from the market,
whether the market is already past it) and the form shows its refusal without closing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import CancelPriceAlert, Origin, SetPriceAlert
from tmt_tui.domain.entry import parse_price
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.price_alerts import AlertSide, PriceAlert
from tmt_tui.domain.quotes import Quote
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.context import Workstation
from tmt_tui.tui.formatting import price
from tmt_tui.tui.screens.command_form import CommandForm, FormInput
from tmt_tui.tui.screens.dialogs import DIALOG_CSS
from tmt_tui.tui.widgets.header import TradingBanner

_SIDES = (
    ("above: bid ≥ level", AlertSide.ABOVE),
    ("below: ask ≤ level", AlertSide.BELOW),
)
#: How often the list looks at the model for alerts set, hit or cancelled meanwhile (seconds).
LIST_REFRESH_S = 0.25


class PriceAlertScreen(CommandForm):
    """Set a price alert on one instrument: side, level, an optional note."""

    BINDINGS = bindings("dialog")
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="PriceAlertScreen")
        + """
    PriceAlertScreen .field {
        height: 1;
        margin-top: 1;
    }
    PriceAlertScreen .field Label {
        width: 8;
    }
    PriceAlertScreen .field Input, PriceAlertScreen .field Select {
        width: 1fr;
    }
    PriceAlertScreen #alert-quote {
        color: $text-muted;
    }
    """
    )

    MESSAGE_ID = "alert-message"

    def __init__(
        self,
        client: EngineClient,
        instrument: Instrument,
        quote: Callable[[], Quote | None],
        side: AlertSide = AlertSide.ABOVE,
    ) -> None:
        super().__init__(client)
        self.instrument = instrument
        self._quote = quote
        self._side = side
        self._filled = ""  # the level the form put in (a typed one is never replaced)

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = f"Price alert · {self.instrument.name}"
            box.border_subtitle = "ctrl+s/enter set · esc close"
            yield Static(self._quote_text(), id="alert-quote")
            with Horizontal(classes="field"):
                yield Label("Side")
                yield Select(_SIDES, value=self._side, allow_blank=False, compact=True, id="side")
            with Horizontal(classes="field"):
                yield Label("Level")
                yield FormInput(self._touch(self._side), compact=True, id="level")
            with Horizontal(classes="field"):
                yield Label("Note")
                yield FormInput(
                    compact=True, id="note", placeholder="optional: shown when it fires"
                )
            yield Static(classes="message", id=self.MESSAGE_ID)
            with Horizontal(classes="buttons"):
                yield Button("Set", id="apply", variant="primary", compact=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        self._filled = self.query_one("#level", Input).value
        self.query_one("#level", Input).focus()

    def _quote_text(self) -> str:
        quote = self._quote()
        if quote is None:
            return "no quote yet"
        digits = self.instrument.display_precision
        return f"bid {price(quote.bid, digits)}  ask {price(quote.ask, digits)}"

    def _touch(self, side: AlertSide) -> str:
        """The level to start from: the ask for above, the bid for below."""
        quote = self._quote()
        if quote is None:
            return ""
        touch = quote.ask if side is AlertSide.ABOVE else quote.bid
        return price(touch, self.instrument.display_precision)

    @on(Select.Changed, "#side")
    def _side_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, AlertSide):
            return
        self._side = event.value
        self.query_one("#alert-quote", Static).update(self._quote_text())
        level = self.query_one("#level", Input)
        if level.value == self._filled:  # not typed over: follow the side
            level.value = self._filled = self._touch(self._side)

    def build_command(self) -> SetPriceAlert:
        """The alert the fields describe; raises EntryError saying what is wrong."""
        level = parse_price(self.field("level"), "Level", required=True)
        assert level is not None
        note = self.field("note").strip()
        return SetPriceAlert(self.instrument.name, self._side, level, note, Origin.UI)

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        self.send_form()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class PriceAlertsScreen(ModalScreen[None]):
    """The active price alerts by instrument, highest level first; `c` or delete cancels the
    highlighted one (no question asked: an alert trades nothing, and one is quickly set again)."""

    BINDINGS = [
        Binding("c,delete", "cancel_alert", "Cancel alert", id="price-alerts-cancel"),
        Binding("escape", "close", "Close", id="price-alerts-close"),
    ]
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="PriceAlertsScreen")
        + """
    PriceAlertsScreen > Vertical {
        width: 96;
    }
    PriceAlertsScreen DataTable {
        height: auto;
        max-height: 20;
    }
    """
    )

    def __init__(self, workstation: Workstation) -> None:
        super().__init__()
        self._workstation = workstation
        self._shown: tuple[str, ...] | None = None

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = "Price alerts"
            box.border_subtitle = "c/delete cancel · esc close"
            yield DataTable(cursor_type="row", zebra_stripes=True, id="price-alerts")
            yield Static(classes="message", id="price-alerts-message")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("ID", "Pair", "Side", "Level", "Set (UTC)", "Note"):
            table.add_column(label, key=label)
        self._refresh()
        table.focus()
        self.set_interval(LIST_REFRESH_S, self._refresh, name="price-alerts-refresh")

    @property
    def selected(self) -> str | None:
        """The id of the highlighted alert."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return None if key.value is None else str(key.value)

    def _alerts(self) -> list[PriceAlert]:
        model = self._workstation.model
        return sorted(model.price_alerts.values(), key=lambda a: (a.instrument, -a.level))

    def _refresh(self) -> None:
        """Show the model's alerts again when they changed (set, hit or cancelled meanwhile)."""
        alerts = self._alerts()
        ids = tuple(a.id for a in alerts)
        if ids == self._shown:
            return
        self._shown = ids
        table = self.query_one(DataTable)
        selected = self.selected
        digits = {n: i.display_precision for n, i in self._workstation.model.instruments.items()}
        with self.app.batch_update():
            table.clear()
            for a in alerts:
                set_at = datetime.fromtimestamp(a.created_ts, UTC).strftime("%m-%d %H:%M:%S")
                table.add_row(
                    a.id,
                    a.instrument,
                    a.side.value,
                    price(a.level, digits.get(a.instrument)),
                    set_at,
                    a.note,
                    key=a.id,
                )
            if selected in ids:
                table.move_cursor(row=ids.index(selected))
        message = "" if alerts else "No active price alerts: ! on the quote board sets one."
        self.query_one("#price-alerts-message", Static).update(message)

    def action_cancel_alert(self) -> None:
        alert_id = self.selected
        if alert_id is None:
            self.notify("No price alert to cancel.", severity="warning")
            return
        workstation = self._workstation
        command = CancelPriceAlert(alert_id, Origin.UI)
        workstation.send(f"cancel {alert_id}", workstation.client.execute(command))

    def action_close(self) -> None:
        self.dismiss(None)
