"""The view model folds the engine stream: snapshots replace, updates upsert, flat rows leave."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

from tmt_tui.domain.client import Snapshot, Update
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.market import MarketRead, Regime, Signal
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.positions import AccountState, Position, TradingState
from tmt_tui.domain.quotes import Quote
from tmt_tui.tui.state import TERMINAL_ORDERS_SHOWN, TradingFlags, ViewModel

EUR_USD = Instrument("EUR_USD", 5, -4, Decimal("0.0333"))


def snapshot(seq: int, *, positions=(), orders=(), quotes=()) -> Snapshot:
    return Snapshot(seq, 0.0, (EUR_USD,), (), tuple(positions), tuple(orders), tuple(quotes), (),
                    "2026-11-27", False, "")  # fmt: skip


def position(units: int) -> Position:
    return Position("A", "EUR_USD", units, Decimal("1.1"), (), Decimal(0), Decimal(0), Decimal(0))


def order(order_id: str, status: OrderStatus, ts: float) -> Order:
    return Order(order_id, "A", "EUR_USD", 1000, OrderType.LIMIT, status, Decimal("1.0"),
                 created_ts=ts, updated_ts=ts)  # fmt: skip


def test_a_flat_position_leaves_and_a_new_snapshot_replaces_everything() -> None:
    model = ViewModel()
    model.apply(
        snapshot(1, positions=[position(1000)], orders=[order("o1", OrderStatus.WORKING, 1)])
    )
    assert set(model.positions) == {"A:EUR_USD"}

    model.apply(Update(2, positions=(position(0),)))
    assert model.positions == {}

    model.apply(snapshot(9, orders=[order("o2", OrderStatus.WORKING, 2)]))
    assert set(model.orders) == {"o2"} and model.seq == 9
    assert model.take_dirty().reset


def test_change_since_first_seen_survives_a_snapshot() -> None:
    model = ViewModel()
    model.apply(snapshot(1, quotes=[Quote("EUR_USD", Decimal("1.1000"), Decimal("1.1002"), 0)]))
    model.apply(snapshot(5, quotes=[Quote("EUR_USD", Decimal("1.1010"), Decimal("1.1012"), 1)]))
    row = model.quotes["EUR_USD"]
    assert row.first_mid == Decimal("1.1001")


def test_quotes_between_frames_coalesce_into_one_dirty_row() -> None:
    model = ViewModel()
    model.apply(snapshot(1))
    model.take_dirty()
    for i in range(50):
        bid = Decimal("1.1000") + Decimal(i) / 10_000
        model.apply(Update(2 + i, quotes=(Quote("EUR_USD", bid, bid + Decimal("0.0002"), i),)))
    dirty = model.take_dirty()
    assert dirty.quotes == {"EUR_USD"}
    assert model.quotes["EUR_USD"].direction == 1


def test_orders_show_working_first_then_the_latest_finished() -> None:
    model = ViewModel()
    finished = [order(f"f{i}", OrderStatus.CANCELLED, float(i)) for i in range(80)]
    working = [order("w1", OrderStatus.WORKING, 100.0)]
    model.apply(snapshot(1, orders=[*finished, *working]))
    shown = model.orders_for_display()
    assert shown[0].id == "w1"
    assert len(shown) == 1 + TERMINAL_ORDERS_SHOWN
    assert shown[1].id == "f79"


def test_alert_events_update_the_active_alerts() -> None:
    from tmt_tui.domain.client import Update
    from tmt_tui.domain.events import Event, EventKind
    from tmt_tui.tui.state import ViewModel

    model = ViewModel()
    raised = Event(1, 0.0, EventKind.ALERT_RAISED, "auto", {"key": "reject_burst", "message": "m"})
    cleared = Event(2, 0.0, EventKind.ALERT_CLEARED, "auto", {"key": "reject_burst", "message": ""})

    model.apply(Update(seq=1, events=(raised,)))
    assert model.alerts == {"reject_burst": "m"}
    model.apply(Update(seq=2, events=(cleared,)))
    assert model.alerts == {}


def test_a_live_stream_gone_quiet_is_shown_as_stale() -> None:
    now = [100.0]
    model = ViewModel(monotonic=lambda: now[0])
    model.apply(snapshot(1))
    model.set_stream("live")
    model.take_dirty()

    now[0] += 3
    model.note_silence(5.0)
    assert model.stream == "live" and not model.take_dirty().status

    now[0] += 3
    model.note_silence(5.0)
    assert model.stream == "stale: nothing from the engine for 6s"
    assert model.take_dirty().status


def account(state: TradingState, reason: str = "") -> AccountState:
    zero = Decimal(0)
    return AccountState("A", "USD", Decimal(1000), zero, zero, zero, Decimal(1000), zero, state,
                        reason, 0, Decimal(50), Decimal(30), False)  # fmt: skip


def test_the_banner_says_halted_and_why_and_the_header_state_follows() -> None:
    model = ViewModel()
    model.apply(snapshot(1))
    assert model.trading_flags() == TradingFlags() and model.trading_state is None

    model.apply(Update(2, accounts=(account(TradingState.REDUCING, "manual"),)))
    assert model.trading_flags() == TradingFlags(
        False, True, "REDUCING — only risk-reducing orders: manual"
    )
    assert model.trading_state is TradingState.REDUCING

    model.apply(Update(3, accounts=(account(TradingState.HALTED, "kill switch (UI)"),)))
    flags = model.trading_flags()
    assert (flags.halted, flags.reducing) == (True, False)
    assert flags.banner.startswith("HALTED — kill switch (UI) — closing and cancelling")
    assert model.trading_state is TradingState.HALTED


def test_after_a_daily_loss_breach_the_banner_says_why_reset_is_refused_and_until_when() -> None:
    """ctrl+r would be refused (the engine holds a breach until the New York rollover): the
    banner says so instead of offering it. 2026-11-27 15:00 UTC is 10:00 in New York."""
    model = ViewModel(wall=lambda: datetime(2026, 11, 27, 15, 0, tzinfo=UTC).timestamp())
    model.apply(snapshot(1))
    breached = dataclasses.replace(
        account(TradingState.HALTED, "daily loss limit breached"), daily_loss_breached=True
    )

    model.apply(Update(2, accounts=(breached,)))

    banner = model.trading_flags().banner
    assert "ctrl+r" not in banner
    assert banner == (
        "HALTED — daily loss limit breached on A: closing and cancelling allowed; reset after "
        "17:00 New York (22:00 UTC)"
    )


def test_a_market_read_lands_on_its_row_and_marks_it_dirty_only_when_it_changed() -> None:
    model = ViewModel()
    model.apply(snapshot(1))
    model.take_dirty()
    read = MarketRead("EUR_USD", "M1", 60.0, Regime.RANGING, Signal.NONE, rsi=48.0)

    model.apply(Update(1, market=(read,)))
    first = model.take_dirty()
    model.apply(Update(1, market=(read,)))

    assert model.quotes["EUR_USD"].market == read and first.quotes == {"EUR_USD"}
    assert not model.take_dirty().quotes


def test_the_model_asks_for_one_frame_per_change_and_none_for_what_it_already_had() -> None:
    """`on_change` is how the screen learns there is something to draw: once for a burst of
    quotes (until the frame takes the dirty set), again after it, and not at all for accounts
    the engine republished as they were."""
    model = ViewModel()
    asked: list[int] = []
    model.on_change = lambda: asked.append(model.seq)
    model.apply(snapshot(1))
    assert asked == [1]
    model.take_dirty()

    for i in range(3):
        bid = Decimal("1.1000") + Decimal(i) / 10_000
        model.apply(Update(2 + i, quotes=(Quote("EUR_USD", bid, bid + Decimal("0.0002"), i),)))
    assert asked == [1, 2]
    model.take_dirty()

    same = account(TradingState.ACTIVE)
    model.apply(Update(5, accounts=(same,)))
    assert asked == [1, 2, 5]
    model.take_dirty()
    model.apply(Update(6, accounts=(same,)))  # the marks timer's republication, unchanged
    assert asked == [1, 2, 5] and not model.take_dirty()

    model.apply(Update(7, accounts=(account(TradingState.REDUCING),)))
    assert asked == [1, 2, 5, 7] and model.take_dirty().accounts
