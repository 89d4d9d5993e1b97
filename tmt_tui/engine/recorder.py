"""The one way decisions and reactions change the engine: events folded in as they are made,
broker requests queued behind them, both handed to the runner as one ``Batch``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.orders import CancelWhy, Order, OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.engine.batch import Batch, Flags
from tmt_tui.engine.state import EngineState
from tmt_tui.venues.base import BrokerRequest, CancelRequest


class Recorder:
    """Events and broker requests as decisions make them, until the runner takes the batch.

    ``emit`` folds the event into state at once (later decisions in the same turn see it) and
    keeps it for the journal; ``order`` hands the live order along so the fold need not parse
    the wire form it has just been given.
    """

    def __init__(self, state: EngineState, clock: Callable[[], float]) -> None:
        self.state = state
        self.clock = clock
        self.events: list[Event] = []
        self.requests: list[BrokerRequest] = []

    def emit(
        self, kind: EventKind, origin: str, data: dict[str, Any], order: Order | None = None
    ) -> Event:
        state = self.state
        event = Event(state.seq + 1, self.clock(), kind, origin, data)
        state.evolve(event, order)
        self.events.append(event)
        state.recent_events.append(event)
        return event

    def request(self, request: BrokerRequest) -> None:
        self.requests.append(request)

    def cancel(self, order: Order, why: CancelWhy, origin: str) -> None:
        """Ask the venue to cancel ``order``, journaling why first: the venue's confirmation
        (or its refusal) comes later, and the audit trail must say who wanted it and why."""
        self.emit(
            EventKind.ORDER_CANCEL_REQUESTED,
            origin,
            {"order_id": order.id, "why": why.value},
        )
        self.request(CancelRequest(order))

    def take_requests(self) -> list[BrokerRequest]:
        requests, self.requests = self.requests, []
        return requests

    def take(self) -> Batch:
        events, self.events = self.events, []
        requests, self.requests = self.requests, []
        return Batch(events, requests, self.state.take_changes())

    # writes more than one decision makes ----------------------------------------------------

    def set_trading_state(self, account: str, to: TradingState, reason: str, origin: str) -> None:
        self.emit(
            EventKind.TRADING_STATE_CHANGED,
            origin,
            {"account": account, "state": to.value, "reason": reason},
        )

    def cancel_exposure(
        self, account: str | None, keep_protective: bool, why: CancelWhy, origin: str
    ) -> int:
        """Cancel every working order of ``account`` (all when None) that could add exposure;
        closes on their way out stay, and protective orders too when asked."""
        count = 0
        for order in self.state.orders.for_account(account):
            if order.is_protective and keep_protective:
                continue
            if order.reduce_only and order.type is OrderType.MARKET:
                continue  # a close on its way out
            self.cancel(order, why, origin)
            count += 1
        return count


class Stage:
    """What decisions and reactions both work with: the state they read, the recorder they
    write through, the runtime flags and the clock."""

    def __init__(self, rec: Recorder, flags: Flags) -> None:
        self.rec = rec
        self.state = rec.state
        self.flags = flags
        self.clock = rec.clock
