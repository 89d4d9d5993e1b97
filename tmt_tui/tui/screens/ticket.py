"""The order ticket: a modal form that checks its fields, sends one SubmitOrder and shows the reply.

It validates only what a form can know (numbers that are not numbers, zero, negative or absurd
sizes, missing prices); every trading rule is the engine's, and its refusal is shown here with
the code and message while the ticket stays open for a fix.

Risk sizes the order: while the Risk field holds `0.5%` or `500` (account currency), with the
stop as pips after it (`0.5% 20p`) or from the Stop loss price, Units follows it, worked out
by `domain/sizing.py` from the account's equity and the quote-to-account rate, and the line
under it says how (`risk 500.00 USD / 20.0 pips → 250,000 units`). A GTD order's expiry is
`+30m`, `+2h`, `+1d` or a date and time in UTC (`2026-12-03 17:00`, or with an offset); the
ticket echoes it in UTC and local time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from tmt_tui.domain.client import EngineClient
from tmt_tui.domain.commands import Command, QueryPreview, SubmitOrder
from tmt_tui.domain.entry import EntryError, parse_expiry, parse_price, parse_units
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import OrderType, TimeInForce
from tmt_tui.domain.positions import AccountState
from tmt_tui.domain.preview import OrderPreview
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.sizing import Sizing, parse_risk, size_for_risk
from tmt_tui.tui.actions import bindings
from tmt_tui.tui.formatting import duration, preview_text, price
from tmt_tui.tui.screens.command_form import CommandForm, FormInput
from tmt_tui.tui.widgets.header import TradingBanner

#: How often an unchanged ticket asks for its preview again (prices move under it).
PREVIEW_EVERY_S = 1.0

#: Good till cancelled or till a date, or now or never: IOC fills what it can at once, FOK all
#: or nothing.
_TIFS = (
    ("GTC", TimeInForce.GTC),
    ("GTD", TimeInForce.GTD),
    ("IOC", TimeInForce.IOC),
    ("FOK", TimeInForce.FOK),
)
#: Below this many rows the fields lose their spacing, so the whole ticket fits 80x24.
SHORT_TICKET_ROWS = 34
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
    OrderTicketScreen.-short .field {
        margin-top: 0;
    }
    OrderTicketScreen .field #time-in-force {
        width: 10;
    }
    OrderTicketScreen .field #expiry {
        margin-left: 1;
    }
    OrderTicketScreen .note {
        height: auto;
        padding-left: 14;
        color: $text-muted;
    }
    OrderTicketScreen .note.-error {
        color: $error;
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
        *,
        equity: Callable[[str], Decimal | None] | None = None,
        rate: Callable[[str, str], Decimal | None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`equity(account)` and `rate(from, to)` are the engine's latest (risk sizing reads
        them); `clock` is what a relative expiry (`+2h`) counts from."""
        super().__init__(client, classes="-buy" if side > 0 else "-sell")
        self.instrument = instrument
        self.side = 1 if side > 0 else -1
        self._accounts = tuple(accounts)
        self._quote = quote
        self._equity = equity or self._opening_equity
        self._rate = rate or (lambda a, b: Decimal(1) if a == b else None)
        self._clock = clock
        self.sizing: Sizing | None = None  # what the Risk field last sized, shown under it
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
                yield FormInput(
                    placeholder="GTD: +2h, +30m, 2026-12-03 17:00",
                    compact=True,
                    id="expiry",
                    disabled=True,
                )
            yield Static(id="ticket-expiry", classes="note")
            with Horizontal(classes="field"):
                yield Label("Take profit")
                yield FormInput(placeholder="optional", compact=True, id="take-profit")
            with Horizontal(classes="field"):
                yield Label("Stop loss")
                yield FormInput(placeholder="optional", compact=True, id="stop-loss")
            with Horizontal(classes="field"):
                yield Label("Risk")
                yield FormInput(
                    placeholder="optional: 0.5% or 500, + 20p stop", compact=True, id="risk"
                )
            yield Static(id="ticket-sizing", classes="note")
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
        self._fit(self.size.height)
        self._show_quote()
        self._note("ticket-expiry", "")
        self._note("ticket-sizing", "")
        self.set_interval(0.25, self._tick)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.height)

    def _fit(self, rows: int) -> None:
        self.set_class(rows < SHORT_TICKET_ROWS, "-short")

    def _note(self, widget_id: str, text: str, *, error: bool = False) -> None:
        """A line under a field (the expiry, the sizing), shown only when it says something."""
        note = self.query_one(f"#{widget_id}", Static)
        note.update(text)
        note.set_class(error, "-error")
        note.display = bool(text)

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
        self._tif_changed()
        quote = self._quote()
        if not market and not field.value.strip() and quote is not None:
            touch = quote.ask if self.side > 0 else quote.bid
            field.value = price(touch, self.instrument.display_precision)
        self._follow_risk()

    @property
    def time_in_force(self) -> TimeInForce | None:
        """The chosen time in force; None for a market order (the engine's FOK)."""
        if self.order_type is OrderType.MARKET:
            return None
        chosen = self.query_one("#time-in-force", Select).value
        return TimeInForce(chosen) if isinstance(chosen, str) else None

    @on(Select.Changed, "#time-in-force")
    def _tif_changed(self) -> None:
        """GTD takes an expiry; nothing else does."""
        gtd = self.time_in_force is TimeInForce.GTD
        self.query_one("#expiry", Input).disabled = not gtd
        self._show_expiry()

    @on(Input.Changed, "#expiry")
    def _show_expiry(self) -> None:
        """Echo the expiry as read, in UTC and local time, or say why it cannot be read."""
        if self.time_in_force is not TimeInForce.GTD:
            self._note("ticket-expiry", "")
            return
        now = self._clock()
        try:
            when = parse_expiry(self.query_one("#expiry", Input).value, now)
        except EntryError as problem:
            self._note("ticket-expiry", str(problem), error=True)
            return
        self._note("ticket-expiry", expiry_text(when, now))

    @on(Input.Changed, "#risk, #stop-loss, #price")
    @on(Select.Changed, "#account")
    def _follow_risk(self) -> None:
        """While Risk holds a risk, Units is what it sizes (shown and explained under it)."""
        try:
            self.sizing = self._sizing()
        except EntryError as problem:
            self.sizing = None
            self._note("ticket-sizing", str(problem), error=True)
            return
        if self.sizing is None:
            self._note("ticket-sizing", "")
            return
        self._note("ticket-sizing", self.sizing.describe())
        units = self.query_one("#units", Input)
        if units.value != str(self.sizing.units):
            units.value = str(self.sizing.units)

    def _sizing(self) -> Sizing | None:
        spec = parse_risk(self.query_one("#risk", Input).value)
        if spec is None:
            return None
        account = self._chosen_account()
        if account is None:
            raise EntryError("Risk: choose an account")
        equity = self._equity(account.id)
        if equity is None:
            raise EntryError(f"Risk: no equity yet for {account.id}")
        entry = None
        if self.order_type is OrderType.MARKET:
            quote = self._quote()
            if quote is not None:
                entry = quote.ask if self.side > 0 else quote.bid
        else:
            entry = parse_price(self.query_one("#price", Input).value, "Price", required=False)
        return size_for_risk(
            spec,
            self.instrument,
            equity=equity,
            currency=account.currency,
            quote_to_account=self._rate(self.instrument.quote, account.currency),
            entry=entry,
            stop_loss=parse_price(
                self.query_one("#stop-loss", Input).value, "Stop loss", required=False
            ),
        )

    def _chosen_account(self) -> AccountState | None:
        chosen = self.query_one("#account", Select).value
        return next((a for a in self._accounts if a.id == chosen), None)

    def _opening_equity(self, account: str) -> Decimal | None:
        """Equity as the ticket opened (when no live source was handed in)."""
        return next((a.equity for a in self._accounts if a.id == account), None)

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
        tif = self.time_in_force
        expiry = None
        if tif is TimeInForce.GTD:
            expiry = parse_expiry(self.field("expiry"), self._clock())
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
            gtd_time=expiry,
        )

    def action_submit(self) -> None:
        self.send_form()

    def sending(self, command: Command) -> None:
        if isinstance(command, SubmitOrder):
            self.sent.append(command)


def expiry_text(when: float, now: float) -> str:
    """``expires 2026-12-03 17:00 UTC (18:00 local) · in 2h00``: the zone orders are entered
    in, the zone the trader lives in, and how long that is."""
    utc = datetime.fromtimestamp(when, UTC)
    local = utc.astimezone()
    text = f"expires {utc:%Y-%m-%d %H:%M} UTC"
    if local.utcoffset() != utc.utcoffset():
        shown = f"{local:%H:%M}" if local.date() == utc.date() else f"{local:%Y-%m-%d %H:%M}"
        text += f" ({shown} local)"
    return f"{text} · in {duration(when - now)}"
