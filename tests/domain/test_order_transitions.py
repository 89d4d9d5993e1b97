"""The order life cycle is an explicit table: every pair of states is either legal or raises."""

from __future__ import annotations

import itertools

import pytest

from tmt_tui.domain.orders import (
    TRANSITIONS,
    IllegalTransition,
    Order,
    OrderStatus,
    OrderType,
)

S = OrderStatus

#: The life cycle written out by hand, independently of the table under test.
LEGAL = {
    (S.INITIALIZED, S.SUBMITTED),
    (S.INITIALIZED, S.REJECTED),
    (S.SUBMITTED, S.WORKING),
    (S.SUBMITTED, S.PARTIALLY_FILLED),
    (S.SUBMITTED, S.FILLED),
    (S.SUBMITTED, S.CANCELLED),
    (S.SUBMITTED, S.REJECTED),
    (S.WORKING, S.WORKING),
    (S.WORKING, S.PARTIALLY_FILLED),
    (S.WORKING, S.FILLED),
    (S.WORKING, S.CANCELLED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
}
ALL_PAIRS = list(itertools.product(OrderStatus, OrderStatus))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def _order(status: OrderStatus) -> Order:
    return Order("O1", "SIM-USD", "EUR_USD", 1000, OrderType.LIMIT, status=status)


def _ids(pair: tuple[OrderStatus, OrderStatus]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def test_transition_table_is_exactly_the_documented_life_cycle() -> None:
    assert set(TRANSITIONS) == LEGAL


@pytest.mark.parametrize("pair", sorted(LEGAL), ids=_ids)
def test_legal_transition_moves_the_order(pair: tuple[OrderStatus, OrderStatus]) -> None:
    old, new = pair
    order = _order(old)

    moved = order.moved_to(new, filled_units=0)

    assert moved.status is new
    assert order.status is old  # orders are values: the original is untouched


@pytest.mark.parametrize("pair", ILLEGAL, ids=_ids)
def test_illegal_transition_raises(pair: tuple[OrderStatus, OrderStatus]) -> None:
    old, new = pair
    order = _order(old)

    with pytest.raises(IllegalTransition) as caught:
        order.moved_to(new)

    assert (caught.value.old, caught.value.new, caught.value.order_id) == (old, new, "O1")
    assert f"{old.value} -> {new.value}" in str(caught.value)


@pytest.mark.parametrize("status", [S.FILLED, S.CANCELLED, S.REJECTED])
def test_terminal_states_never_move_again(status: OrderStatus) -> None:
    assert status.is_terminal
    assert not any(old is status for old, _ in TRANSITIONS)


def test_open_states_are_the_ones_that_can_still_fill() -> None:
    assert {s for s in OrderStatus if s.is_open} == {S.SUBMITTED, S.WORKING, S.PARTIALLY_FILLED}
