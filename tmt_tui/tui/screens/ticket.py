"""The order ticket: a modal form that checks its fields, sends one SubmitOrder and shows the reply.

It validates only what a form can know (numbers that are not numbers, zero, negative or absurd
sizes, missing prices); every trading rule is the engine's, and its refusal is shown here with
the code and message while the ticket stays open for a fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import Command, QueryPreview, SubmitOrder
from tmt_tui.domain.entry import EntryError, parse_price, parse_units
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.preview import OrderPreview
from tmt_tui.domain.quotes import Quote
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.formatting import preview_text, price
from tmt_tui.tui.screens.command_form import CommandForm, FormInput
from tmt_tui.tui.widgets.header import TradingBanner

#: How often an unchanged ticket asks for its preview again (prices move under it).
PREVIEW_EVERY_S = 1.0

#: Good till cancelled, or now or never: IOC fills what it can at once, FOK all or nothing.
_TIFS = (("GTC", TimeInForce.GTC), ("IOC", TimeInForce.IOC), ("FOK", TimeInForce.FOK))
_TICKET_TYPES = (("Market", OrderType.MARKET), ("Limit", OrderType.LIMIT), ("Stop", OrderType.STOP))


class OrderTicketScreen(CommandForm):
    """Buy or sell one instrument: account, type, units, price, optional take-profit, stop-loss."""

    MESSAGE_ID = "ticket-message"

    BINDINGS = bindings("ticket")

    DEFAULT_CSS = """
    OrderTicketScreen {
        align: center middle;
    }
    OrderTicketScreen #ticket {
        width: 60;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        padding: 0 1;
        background: $surface;
        border: thick $bid;
        border-title-style: bold;
    }
    OrderTicketScreen.-sell #ticket {
        border: thick $ask;
    }
    OrderTicketScreen .field {
        height: 1;
        margin-top: 1;
    }
    OrderTicketScreen .field > Label {
        width: 14;
    }
    OrderTicketScreen .field Input, OrderTicketScreen .field Select {
        width: 1fr;
    }
    OrderTicketScreen #ticket-quote {
        height: 1;
        color: $text-muted;
    }
    OrderTicketScreen #ticket-preview {
        height: auto;
        margin-top: 1;
        color: $text-muted;
    }
    OrderTicketScreen #ticket-preview.-fails {
        color: $warning;
    }
    OrderTicketScreen #ticket-message {
        height: auto;
        margin-top: 1;
    }
    OrderTicketScreen #ticket-message.-error {
        color: $error;
        text-style: bold;
    }
    OrderTicketScreen #ticket-buttons {
        height: 1;
        margin-top: 1;
        align-horizontal: right;
    }
    OrderTicketScreen #ticket-buttons Button {
        margin-left: 2;
    }
    """

    def __init__(
        self,
        client: EngineClient,
        instrument: Instrument,
        side: int,
        accounts: Sequence[AccountState],
        quote: Callable[[], Quote | None],
        account: str | None = None,
    ) -> None:
        super().__init__(client, classes="-buy" if side > 0 else "-sell")
        self.instrument = instrument
        self.side = 1 if side > 0 else -1
        self._accounts = tuple(accounts)
        self._quote = quote
        self._account = account or (self._accounts[0].id if self._accounts else "")
        self.sent: list[SubmitOrder] = []  # what this ticket sent: the reply shows what came of it
        self._previewed: SubmitOrder | None = None
        self._previewed_at = 0.0

    @property
    def side_label(self) -> str:
        return "BUY" if self.side > 0 else "SELL"

    def compose(self) -> ComposeResult:
        yield TradingBanner()
        with Vertical(id="ticket") as box:
            box.border_title = f"{self.side_label} {self.instrument.name}"
            box.border_subtitle = "ctrl+s send · esc close"
            yield Static(id="ticket-quote")
            with Horizontal(classes="field"):
                yield Label("Account")
                yield Select(
                    [(f"{a.id} ({a.currency})", a.id) for a in self._accounts],
                    value=self._account,
                    allow_blank=False,
                    compact=True,
                    id="account",
                )
            with Horizontal(classes="field"):
                yield Label("Type")
                yield Select(
                    [(label, kind.value) for label, kind in _TICKET_TYPES],
                    value=OrderType.MARKET.value,
                    allow_blank=False,
                    compact=True,
                    id="type",
                )
            with Horizontal(classes="field"):
                yield Label("Units")
                yield FormInput(placeholder="e.g. 10000 or 10k", compact=True, id="units")
            with Horizontal(classes="field"):
                yield Label("Price")
                yield FormInput(
                    placeholder="limit/stop only", compact=True, id="price", disabled=True
                )
            with Horizontal(classes="field"):
                yield Label("Time in force")
                yield Select(
                    [(label, tif.value) for label, tif in _TIFS],
                    value=TimeInForce.GTC.value,
                    allow_blank=False,
                    compact=True,
                    id="time-in-force",
                    disabled=True,
                )
            with Horizontal(classes="field"):
                yield Label("Take profit")
                yield FormInput(placeholder="optional", compact=True, id="take-profit")
            with Horizontal(classes="field"):
                yield Label("Stop loss")
                yield FormInput(placeholder="optional", compact=True, id="stop-loss")
            yield Static(id="ticket-preview")
            yield Static(id="ticket-message")
            with Horizontal(id="ticket-buttons"):
                yield Button(
                    self.side_label,
                    id="send",
                    variant="success" if self.side > 0 else "error",
                    compact=True,
                )
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#units", Input).focus()
        self._show_quote()
        self.set_interval(0.25, self._tick)

    def _tick(self) -> None:
        self._show_quote()
        self._ask_preview()

    def _ask_preview(self) -> None:
        """Ask the engine for a dry run of what the fields say: again when they change, and
        every second as prices move. The verdict is the engine's, never the ticket's."""
        try:
            command = self.build_command()
        except EntryError:
            command = None
        now = time.monotonic()
        if command == self._previewed and now - self._previewed_at < PREVIEW_EVERY_S:
            return
        self._previewed, self._previewed_at = command, now
        if command is None:
            self._show_preview(None)
            return
        self.run_worker(self._preview(command), group="preview", exclusive=True)

    async def _preview(self, command: SubmitOrder) -> None:
        try:
            reply = await self.client.execute(QueryPreview.of(command))
        except Exception:  # a broken connection: the preview just waits for the next try
            return
        if isinstance(reply.payload, OrderPreview):
            self._show_preview(reply.payload)

    def _show_preview(self, preview: OrderPreview | None) -> None:
        widget = self.query_one("#ticket-preview", Static)
        widget.set_class(preview is not None and not preview.ok, "-fails")
        widget.update("" if preview is None else preview_text(preview))

    def _show_quote(self) -> None:
        quote = self._quote()
        precision = self.instrument.display_precision
        text = (
            f"Bid {price(quote.bid, precision)}   Ask {price(quote.ask, precision)}"
            if quote
            else "no quote yet"
        )
        self.query_one("#ticket-quote", Static).update(text)

    @property
    def order_type(self) -> OrderType:
        value = self.query_one("#type", Select).value
        return OrderType(value) if isinstance(value, str) else OrderType.MARKET

    @on(Select.Changed, "#type")
    def _type_changed(self) -> None:
        """A limit or stop takes a price, pre-filled from the touch (the side's own: the ask
        to buy, the bid to sell), and a time in force."""
        market = self.order_type is OrderType.MARKET
        field = self.query_one("#price", Input)
        field.disabled = market
        self.query_one("#time-in-force", Select).disabled = market
        quote = self._quote()
        if not market and not field.value.strip() and quote is not None:
            touch = quote.ask if self.side > 0 else quote.bid
            field.value = price(touch, self.instrument.display_precision)

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def build_command(self) -> SubmitOrder:
        """The SubmitOrder the fields describe; raises EntryError naming the first bad field."""
        account = self.query_one("#account", Select).value
        if not isinstance(account, str):
            raise EntryError("Account: choose an account")
        kind = self.order_type
        size = parse_units(self.field("units"))
        limit = None
        if kind is not OrderType.MARKET:
            limit = parse_price(self.field("price"), "Price", required=True)
        tif = None
        if kind is not OrderType.MARKET:
            chosen = self.query_one("#time-in-force", Select).value
            tif = TimeInForce(chosen) if isinstance(chosen, str) else None
        take_profit = parse_price(self.field("take-profit"), "Take profit", required=False)
        stop_loss = parse_price(self.field("stop-loss"), "Stop loss", required=False)
        return SubmitOrder(
            account=account,
            instrument=self.instrument.name,
            units=self.side * size,
            type=kind,
            price=limit,
            time_in_force=tif,
            take_profit=take_profit,
            stop_loss=stop_loss,
        )

    def action_submit(self) -> None:
        self.send_form()

    def sending(self, command: Command) -> None:
        if isinstance(command, SubmitOrder):
            self.sent.append(command)
