"""The one wire codec: every dataclass that crosses the API or the journal reads back equal,
keeps the wire form older journals and clients wrote, and a reply can carry a typed payload."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from tmt_tui.domain.client import Reply, Snapshot, Update
from tmt_tui.domain.codec import from_wire, to_wire, wire_type
from tmt_tui.domain.commands import (
    COMMAND_TYPES,
    command_from_wire,
    command_to_wire,
)
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.positions import AccountState, PortfolioTotals, Position, Trade, TradingState
from tmt_tui.domain.price_alerts import AlertSide
from tmt_tui.domain.quotes import Quote

D = Decimal

ORDER = Order(
    "O7", "SIM-USD", "EUR_USD", -1_000, OrderType.LIMIT, OrderStatus.WORKING, D("1.10500"),
    TimeInForce.GTC, D("1.09000"), None, None, None, False, 0, None, "S-O7", "", "cli", 1.5, 2.5,
)  # fmt: skip
TRADE = Trade(
    "O3.1", "SIM-USD", "EUR_USD", 500, 1_000, D("1.10010"), 1.0, "O3.1.tp", None, D("0.95")
)
POSITION = Position(
    "SIM-USD", "EUR_USD", 500, D("1.100100"), (TRADE,), D("-1.2"), D("0.95"), D("18.3")
)
ACCOUNT = AccountState(
    "SIM-USD", "USD", D("100000.95"), D("-1.2"), D("0.95"), D("18.3"), D("100000"), D("550"),
    TradingState.REDUCING, "manual", 1, D("5000"), D("30"), False, D("100000"), D("0"), D("0"),
)  # fmt: skip
QUOTE = Quote("EUR_USD", D("1.10000"), D("1.10010"), 12.5)
EVENT = Event(9, 3.0, EventKind.ORDER_FILLED, "venue", {"order_id": "O7", "units": -1000})
INSTRUMENT = Instrument("EUR_USD", 5, -4, D("0.0333"), 1, 100_000_000, True)
TOTALS = PortfolioTotals("USD", D("1"), D("2"), D("3"), D("4"), D("5"), ("SIM-CHF",))


@pytest.mark.parametrize(
    "value",
    [
        ORDER,
        TRADE,
        POSITION,
        ACCOUNT,
        QUOTE,
        EVENT,
        INSTRUMENT,
        TOTALS,
        Reply(False, "INVALID_UNITS", "no", "O9", 12),
        Snapshot(
            3,
            4.0,
            (INSTRUMENT,),
            (ACCOUNT,),
            (POSITION,),
            (ORDER,),
            (QUOTE,),
            (EVENT,),
            "2026-06-10",
            True,
            "kill switch",
            TOTALS,
            {"stale": "EUR_USD 12s"},
        ),  # fmt: skip
        Update(4, (EVENT,), (ORDER,), (POSITION,), (ACCOUNT,), (QUOTE,), None, {"x": 1}),
    ],
    ids=lambda v: type(v).__name__,
)
def test_every_wire_type_reads_back_equal(value: object) -> None:
    assert from_wire(type(value), to_wire(value)) == value


def test_an_order_keeps_the_wire_form_journals_already_hold() -> None:
    assert to_wire(ORDER) == {
        "id": "O7", "account": "SIM-USD", "instrument": "EUR_USD", "units": -1000,
        "type": "LIMIT", "status": "WORKING", "price": "1.10500", "time_in_force": "GTC",
        "take_profit": "1.09000", "stop_loss": None, "trailing_stop_distance": None,
        "trade_id": None, "reduce_only": False, "filled_units": 0, "avg_fill_price": None,
        "venue_id": "S-O7", "reason": "", "origin": "cli", "created_ts": 1.5, "updated_ts": 2.5,
        "gtd_time": None,
    }  # fmt: skip


def test_a_field_an_older_writer_did_not_know_takes_its_default() -> None:
    wire = to_wire(ORDER)
    for newer in ("trailing_stop_distance", "venue_id", "reason", "updated_ts", "gtd_time"):
        del wire[newer]

    assert from_wire(Order, wire) == replace(ORDER, venue_id=None, reason="", updated_ts=0.0)


def test_a_quote_travels_as_a_compact_list() -> None:
    assert to_wire(QUOTE) == ["EUR_USD", "1.10000", "1.10010", 12.5]


def test_snapshots_and_updates_say_what_they_are() -> None:
    assert to_wire(Update(1))["type"] == "update"


def test_a_missing_required_field_is_named() -> None:
    with pytest.raises(ValueError, match="Trade: missing price"):
        from_wire(Trade, {k: v for k, v in to_wire(TRADE).items() if k != "price"})


@wire_type
@dataclass(frozen=True, slots=True)
class Preview:
    """A stand-in for a query's answer (a pre-trade preview, analytics...)."""

    margin: Decimal
    lines: tuple[str, ...]


def test_a_reply_carries_a_registered_payload_typed() -> None:
    reply = Reply(True, payload=Preview(D("36.67"), ("margin 36.67 USD",)))

    wire = to_wire(reply)

    assert wire["payload"] == {"$type": "Preview", "margin": "36.67", "lines": ["margin 36.67 USD"]}
    assert from_wire(Reply, wire) == reply


@pytest.mark.parametrize("cls", list(COMMAND_TYPES.values()), ids=list(COMMAND_TYPES))
def test_every_command_reads_back_equal(cls: type) -> None:
    given = {
        "account": "SIM-USD", "instrument": "EUR_USD", "order_id": "O1", "units": 1_000,
        "alert_id": "A1", "side": AlertSide.BELOW, "level": Decimal("1.09500"),
    }  # fmt: skip
    command = cls(**{k: v for k, v in given.items() if k in cls.__dataclass_fields__})

    assert command_from_wire(command_to_wire(command)) == command
