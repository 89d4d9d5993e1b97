"""Small modal dialogs: a yes/no confirmation, and the modify-order form."""

from __future__ import annotations

from decimal import Decimal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import ModifyOrder
from tmt_tui.domain.entry import parse_price, parse_units
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.formatting import price, units
from tmt_tui.tui.screens.command_form import CommandForm, FormInput
from tmt_tui.tui.widgets.header import TradingBanner

DIALOG_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 64;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    padding: 0 1;
    background: $surface;
    border: thick $primary;
}}
{name} .buttons {{
    height: 1;
    margin-top: 1;
    align-horizontal: right;
}}
{name} .buttons Button {{
    margin-left: 2;
}}
{name} .message {{
    height: auto;
    margin-top: 1;
}}
{name} .message.-error {{
    color: $error;
    text-style: bold;
}}
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask one yes/no question; `y` confirms, `n` or escape declines, and "No" has focus."""

    BINDINGS = bindings("dialog") + bindings("confirm")
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmScreen")

    def __init__(self, title: str, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = self._title
            box.border_subtitle = "y yes · n/esc no"
            yield Static(self._question, classes="message")
            with Horizontal(classes="buttons"):
                yield Button(self._yes, id="yes", variant="warning", compact=True)
                yield Button("No", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_apply(self) -> None:
        self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)


class ModifyOrderScreen(CommandForm):
    """Change a working order's price and/or units; only what changed is sent."""

    BINDINGS = bindings("dialog")
    DEFAULT_CSS = (
        DIALOG_CSS.format(name="ModifyOrderScreen")
        + """
    ModifyOrderScreen .field {
        height: 1;
        margin-top: 1;
    }
    ModifyOrderScreen .field Label {
        width: 10;
    }
    ModifyOrderScreen .field Input {
        width: 1fr;
    }
    """
    )

    MESSAGE_ID = "modify-message"

    def __init__(self, client: EngineClient, order: Order, instrument: Instrument | None) -> None:
        super().__init__(client)
        self.order = order
        self._precision = instrument.display_precision if instrument else None

    def compose(self) -> ComposeResult:
        order = self.order
        yield TradingBanner()
        with Vertical() as box:
            box.border_title = f"Modify {order.id}"
            box.border_subtitle = "ctrl+s/enter apply · esc close"
            yield Static(
                f"{order.account} {order.side} {units(order.units, signed=False)} "
                f"{order.instrument} {order.type.value} @ {price(order.price, self._precision)}"
            )
            with Horizontal(classes="field"):
                yield Label("Price")
                yield FormInput(price(order.price, self._precision), compact=True, id="price")
            with Horizontal(classes="field"):
                yield Label("Units")
                yield FormInput(str(abs(order.remaining_units)), compact=True, id="units")
            yield Static(classes="message", id="modify-message")
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Close", id="close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#price", Input).focus()

    def build_command(self) -> ModifyOrder | None:
        """The ModifyOrder for what changed (None when nothing did); raises EntryError."""
        order = self.order
        new_price = parse_price(self.field("price"), "Price", required=False)
        size = parse_units(self.field("units"))
        signed = size if order.units > 0 else -size
        change_price: Decimal | None = new_price if new_price != order.price else None
        change_units = signed if size != abs(order.remaining_units) else None
        if change_price is None and change_units is None:
            return None
        return ModifyOrder(order.id, price=change_price, units=change_units)

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        self.send_form()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
