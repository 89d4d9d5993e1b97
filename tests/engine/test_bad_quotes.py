"""A bad quote from the feed is dropped and counted; it never reaches the book, marks or risk."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.harness import Harness
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.quotes import Quote

D = Decimal

BAD = [
    ("EUR_USD", "1.10020", "1.10010"),  # crossed
    ("EUR_USD", "0", "1.10010"),  # non-positive bid
    ("EUR_USD", "-1.10000", "1.10010"),  # negative bid
    ("EUR_USD", "1.10000", "NaN"),  # not a number
    ("EUR_USD", "1.10000", "Infinity"),  # infinite
    ("XAU_USD", "2400.00", "2400.50"),  # an instrument the engine does not trade
]
BAD_IDS = ["crossed", "zero-bid", "negative-bid", "nan-ask", "inf-ask", "unknown-instrument"]


def started() -> Harness:
    h = Harness()
    h.standard_quotes()
    return h


@pytest.mark.parametrize(("name", "bid", "ask"), BAD, ids=BAD_IDS)
def test_bad_quote_is_dropped_and_counted(name: str, bid: str, ask: str) -> None:
    h = started()
    before = dict(h.core.quotes.quotes)

    taken = h.core.on_quote(Quote(name, D(bid), D(ask), h.clock()))

    assert taken is False
    assert h.core.react.bad_quotes == 1
    assert h.core.quotes.quotes == before


@pytest.mark.parametrize(("name", "bid", "ask"), BAD, ids=BAD_IDS)
def test_engine_keeps_trading_after_a_bad_quote(name: str, bid: str, ask: str) -> None:
    h = started()
    h.core.on_quote(Quote(name, D(bid), D(ask), h.clock()))

    reply = h.submit("EUR_USD", 1_000)

    assert reply.ok, reply
    assert h.core.positions()[0].avg_price == D("1.10010")


def test_bad_quote_does_not_move_the_marks() -> None:
    h = started()
    h.submit("EUR_USD", 10_000)
    before = h.account()

    h.core.on_quote(Quote("EUR_USD", D("1.20000"), D("1.10010"), h.clock()))

    assert h.account() == before


def test_every_bad_quote_of_a_burst_is_counted() -> None:
    h = started()

    for _ in range(5):
        h.core.on_quote(Quote("EUR_USD", D("1.10020"), D("1.10010"), h.clock()))

    assert h.core.react.bad_quotes == 5


def test_good_quote_after_a_burst_is_taken() -> None:
    h = started()
    h.core.on_quote(Quote("EUR_USD", D("1.10020"), D("1.10010"), h.clock()))

    taken = h.core.on_quote(Quote("EUR_USD", D("1.10100"), D("1.10110"), h.clock()))

    assert taken is True
    assert h.core.quotes.quotes["EUR_USD"].bid == D("1.10100")


def test_first_bad_quote_of_a_burst_is_journaled_as_a_feed_problem() -> None:
    h = started()

    for _ in range(5):
        h.core.on_quote(Quote("EUR_USD", D("1.10020"), D("1.10010"), h.clock()))
    h.collect()

    (event,) = h.of_kind(EventKind.FEED_PROBLEM)
    assert event.data["instrument"] == "EUR_USD"
    assert "crossed" in event.data["problem"]
    assert (event.data["bid"], event.data["ask"]) == ("1.10020", "1.10010")


def test_a_new_burst_after_a_good_quote_is_journaled_again() -> None:
    h = started()
    h.core.on_quote(Quote("EUR_USD", D("1.10020"), D("1.10010"), h.clock()))
    h.core.on_quote(Quote("EUR_USD", D("1.10000"), D("1.10010"), h.clock()))

    h.core.on_quote(Quote("EUR_USD", D("0"), D("1.10010"), h.clock()))
    h.collect()

    assert len(h.of_kind(EventKind.FEED_PROBLEM)) == 2
