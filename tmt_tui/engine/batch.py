"""What one turn of the engine produced: the unit the runner commits.

A ``Batch`` holds the events (already folded into state), what changed (orders, position books,
accounts) for the subscribers, and any broker request still unsent: requests normally go to
the broker within the turn (a paper fill joins the same batch); one left behind by a failed
dispatch goes out once the batch is durable. Decisions and reactions produce it only through a
``Recorder`` (``engine.recorder``), so "what happened" is never scattered over attributes a
runner must know to reset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tmt_tui.domain.events import Event
from tmt_tui.domain.orders import Order
from tmt_tui.venues.base import BrokerRequest


@dataclass
class Changes:
    """What the events of a batch touched: the latest version of each order, the position books
    and the accounts whose numbers moved."""

    orders: dict[str, Order] = field(default_factory=dict)
    books: set[tuple[str, str]] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)


@dataclass
class Batch:
    events: list[Event]
    requests: list[BrokerRequest]
    changes: Changes


@dataclass
class Flags:
    """Runtime switches that are not state (never journaled, never replayed)."""

    halt_pending: bool = False  # set from any thread the moment a kill switch is asked for
    reconciling: bool = False  # the venue's book is being compared with ours: no new orders
    journal_broken: str = ""  # why a commit failed: HALTED until a restart
