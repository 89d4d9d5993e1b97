"""A feed's quote must be finite, positive and uncrossed before anything uses it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tmt_tui.domain.codec import from_wire, to_wire
from tmt_tui.domain.quotes import Quote, quote_problem


@pytest.mark.parametrize(
    ("bid", "ask", "problem"),
    [
        ("NaN", "1.10010", "not a finite number"),
        ("1.10000", "NaN", "not a finite number"),
        ("Infinity", "1.10010", "not a finite number"),
        ("1.10000", "-Infinity", "not a finite number"),
        ("-1.10000", "1.10010", "not positive"),
        ("0", "1.10010", "not positive"),
        ("1.10000", "0", "not positive"),
        ("1.10020", "1.10010", "crossed"),
    ],
)
def test_quote_problem_names_what_is_wrong(bid: str, ask: str, problem: str) -> None:
    found = quote_problem(Decimal(bid), Decimal(ask))

    assert found is not None and problem in found


@pytest.mark.parametrize(("bid", "ask"), [("1.10000", "1.10010"), ("1.10000", "1.10000")])
def test_sane_or_locked_quote_has_no_problem(bid: str, ask: str) -> None:
    assert quote_problem(Decimal(bid), Decimal(ask)) is None


def test_quote_wire_form_round_trips_exactly() -> None:
    quote = Quote("USD_JPY", Decimal("150.000"), Decimal("150.010"), 1781092800.25)

    assert from_wire(Quote, to_wire(quote)) == quote
