"""The deterministic engine core, composed: the state (a fold over events), decisions (commands
in), reactions (venue events, quotes and the clock in), all writing through one recorder.

Nothing here does I/O or reads a wall clock directly: the runner hands in the clock, feeds
commands, venue events and quotes, and takes what each turn produced as one ``Batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from tmt_tui import __version__
from tmt_tui.config import Settings
from tmt_tui.domain.client import Reply, Snapshot
from tmt_tui.domain.commands import Command
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.history import DAILY_LOSS
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position
from tmt_tui.domain.quotes import Quote
from tmt_tui.engine.batch import Batch, Flags
from tmt_tui.engine.decide import Decisions
from tmt_tui.engine.oms import OpenOrders
from tmt_tui.engine.portfolio import Portfolio
from tmt_tui.engine.quote_book import QuoteBook
from tmt_tui.engine.react import Reactions
from tmt_tui.engine.recorder import Recorder
from tmt_tui.engine.state import EngineState
from tmt_tui.venues.base import BrokerRequest, VenueEvent


class EngineCore:
    """One engine's core: feed it, then ``take_batch()`` to journal, send and publish."""

    def __init__(
        self,
        settings: Settings,
        instruments: Iterable[Instrument],
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.state = EngineState(settings, instruments)
        self.flags = Flags()
        self.rec = Recorder(self.state, clock)
        self.decide = Decisions(self.rec, self.flags)
        self.react = Reactions(self.rec, self.flags)

    # what it holds (the state's; read by the runner, reconciliation and tests) ----------------

    @property
    def quotes(self) -> QuoteBook:
        return self.state.quotes

    @property
    def portfolio(self) -> Portfolio:
        return self.state.portfolio

    @property
    def orders(self) -> OpenOrders:
        return self.state.orders

    @property
    def seq(self) -> int:
        return self.state.seq

    @property
    def alerts(self) -> dict[str, str]:
        return self.state.alerts

    def positions(self) -> list[Position]:
        return self.state.positions()

    def account_view(self, account_id: str) -> AccountState:
        return self.state.account_view(account_id)

    def totals(self) -> PortfolioTotals | None:
        return self.state.totals()

    def report_rates(self) -> dict[str, Decimal]:
        return self.state.report_rates()

    def snapshot(self, now: float) -> Snapshot:
        return self.state.snapshot(now)

    # what it is fed ---------------------------------------------------------------------------

    def start(self) -> None:
        """Journal the effective config and open any configured account the journal lacks."""
        self.rec.emit(
            EventKind.ENGINE_STARTED,
            "auto",
            {
                "version": __version__,
                "config": self.settings.to_plain(),
                "accounts": [
                    {"id": a.id, "currency": a.currency, "balance": str(a.balance)}
                    for a in self.settings.accounts
                    if a.id not in self.state.portfolio.accounts
                ],
            },
        )
        self.react.roll_day(force=False)

    def handle(self, command: Command) -> Reply:
        """Apply one command; the reply is final once the batch it made is durable."""
        return self.decide.handle(command)

    def on_venue_event(self, event: VenueEvent) -> None:
        self.react.on_venue_event(event)

    def on_quote(self, quote: Quote) -> bool:
        """Take a quote into the book and marks; False (counted) when it is unusable."""
        return self.react.on_quote(quote)

    def roll_day(self, force: bool = False) -> bool:
        return self.react.roll_day(force)

    def check_limits(self) -> None:
        """The automatic limits; an account that breached its daily loss limit with
        ``daily_loss_action = "flatten"`` has every position closed at the market."""
        self.react.check_limits()
        flatten, self.react.to_flatten = self.react.to_flatten, []
        for account in flatten:
            self.decide.flatten_account(account, DAILY_LOSS, "auto")

    def emit(
        self, kind: EventKind, origin: str, data: dict[str, Any], order: Order | None = None
    ) -> Event:
        """An event from outside the decisions (an alert rule, reconciliation)."""
        return self.rec.emit(kind, origin, data, order)

    def journal_failed(self, why: str) -> None:
        self.decide.journal_failed(why)

    def outcome(self, reply: Reply) -> Reply:
        """``reply`` with what became of its order within the same batch (filled, rejected):
        the text a trader reads once the batch is durable."""
        if not reply.ok or reply.order_id is None:
            return reply
        order = self.orders.get(reply.order_id)
        if order is None:
            order = next((o for o in reversed(self.orders.recent) if o.id == reply.order_id), None)
        if order is None:
            return reply
        if order.status is OrderStatus.REJECTED:
            code, _, message = order.reason.partition(": ")
            return Reply(False, code, message, order.id, self.seq)
        if order.status is OrderStatus.FILLED:
            inst = self.state.quotes.instruments.get(order.instrument)
            price = order.avg_fill_price  # an average: shown at the instrument's decimals
            shown = f"{price:.{inst.display_precision}f}" if inst and price is not None else price
            text = f"filled {order.filled_units:+,} {order.instrument} @ {shown}"
        elif order.status.is_open and reply.message != "submitted":
            return reply  # a cancel or modify the venue has not answered yet: "cancel sent"
        else:
            text = f"{order.status.value.lower()} {order.units:+,} {order.instrument}"
        return Reply(True, "OK", text, order.id, self.seq)

    def take_requests(self) -> list[BrokerRequest]:
        """The broker requests made so far (the runner sends them within the turn)."""
        return self.rec.take_requests()

    def take_batch(self) -> Batch:
        """Everything produced since the last call: events, broker requests, what changed."""
        return self.rec.take()
