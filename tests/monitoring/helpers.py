"""Shared test helpers: hand-moved clocks, account and event factories, HTTP and scrape readers."""

from __future__ import annotations

import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.engine.waiting import eventually  # noqa: F401 - one polling helper for all suites
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.positions import AccountState, TradingState

D = Decimal


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def account(
    id: str = "SIM-USD",
    currency: str = "USD",
    *,
    balance: str = "100000",
    unrealized: str = "0",
    margin: str = "0",
    day_start: str = "100000",
    state: TradingState = TradingState.ACTIVE,
    working: int = 0,
    limit: str = "5000",
) -> AccountState:
    return AccountState(
        id=id,
        currency=currency,
        balance=D(balance),
        unrealized_pl=D(unrealized),
        realized_pl=D(0),
        margin_used=D(margin),
        day_start_equity=D(day_start),
        gross_exposure=D(0),
        trading_state=state,
        state_reason="",
        working_orders=working,
        daily_loss_limit=D(limit),
        max_leverage=D(30),
        daily_loss_breached=False,
    )


def event(kind: EventKind, seq: int = 1, **data: Any) -> Event:
    return Event(seq, 0.0, kind, "test", data)


def submitted(order_id: str, order_type: str = "MARKET") -> Event:
    return event(EventKind.ORDER_SUBMITTED, order={"id": order_id, "type": order_type})


def rejected(code: str, order_id: str = "O9") -> Event:
    return event(EventKind.ORDER_REJECTED, order={"id": order_id}, code=code, source="risk")


def filled(order_id: str) -> Event:
    return event(EventKind.ORDER_FILLED, order_id=order_id, fill_id=f"F{order_id}", units=1)


def http_get(url: str, accept: str = "") -> tuple[int, str, dict[str, str]]:
    """Status, body and headers of a GET; an error status is an answer, not an exception."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


Scraped = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Scraped:
    """Every sample of an exposition, keyed by name and label set."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: Scraped, name: str, **labels: str) -> float | None:
    return scraped.get((name, frozenset(labels.items())))
