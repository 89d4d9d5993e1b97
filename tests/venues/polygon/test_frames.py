"""Reading frames: every event type the feed subscribes to, statuses apart from data, and a
bad event refused with what and where while the rest of its frame is kept."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.polygon.frames import Bar, Refused, Status, Trade, parse_frame


def frame(*events: dict[str, Any]) -> str:
    return json.dumps(list(events))


def test_the_greeting_and_auth_outcomes_are_statuses() -> None:
    text = frame(
        {"ev": "status", "status": "connected", "message": "Connected Successfully"},
        {"ev": "status", "status": "auth_failed", "message": "authentication failed"},
    )

    assert parse_frame(text) == [
        Status("connected", "Connected Successfully"),
        Status("auth_failed", "authentication failed"),
    ]


def test_quotes_of_every_kind_become_engine_quotes_in_seconds() -> None:
    text = frame(
        {"ev": "C", "p": "USD/CNH", "x": "44", "a": 6.83366, "b": 6.83363, "t": 1536036818784},
        {"ev": "Q", "sym": "MSFT", "bx": 4, "bp": 114.125, "bs": 100, "ax": 7, "ap": 114.128,
         "as": 160, "c": 0, "i": [604], "t": 1536036818784, "q": 50385480, "z": 3},
        {"ev": "XQ", "pair": "BTC-USD", "bp": 97250.5, "bs": 0.5, "ap": 97251.0, "as": 0.1,
         "t": 1536036818785, "x": 1, "r": 1536036818790},
    )  # fmt: skip

    assert parse_frame(text) == [
        Quote("USD_CNH", Decimal("6.83363"), Decimal("6.83366"), 1536036818.784),
        Quote("MSFT", Decimal("114.125"), Decimal("114.128"), 1536036818.784),
        Quote("BTC_USD", Decimal("97250.5"), Decimal("97251.0"), 1536036818.785),
    ]


def test_trades_and_aggregates_are_read_with_their_windows() -> None:
    text = frame(
        {"ev": "T", "sym": "MSFT", "x": 4, "i": "12345", "z": 3, "p": 114.125, "s": 100,
         "c": [0, 12], "t": 1536036818784, "q": 3681328},
        {"ev": "XT", "pair": "BTC-USD", "p": 97250.0, "t": 1536036818784, "s": 0.01, "c": [2]},
        {"ev": "CA", "pair": "USD/EUR", "o": 0.8687, "c": 0.86889, "h": 0.86889, "l": 0.8686,
         "v": 20, "s": 1539145740000},
        {"ev": "AM", "sym": "GTE", "v": 4110, "av": 9470157, "op": 0.4372, "vw": 0.4488,
         "o": 0.4488, "c": 0.4486, "h": 0.4489, "l": 0.4486, "a": 0.4352, "z": 685,
         "s": 1610144640000, "e": 1610144700000},
    )  # fmt: skip

    trade, crypto_trade, fx_bar, stock_bar = parse_frame(text)

    assert trade == Trade("MSFT", Decimal("114.125"), Decimal("100.0"), 1536036818.784)
    assert crypto_trade == Trade("BTC_USD", Decimal("97250.0"), Decimal("0.01"), 1536036818.784)
    assert fx_bar == Bar(
        "USD_EUR", Decimal("0.8687"), Decimal("0.86889"), Decimal("0.8686"),
        Decimal("0.86889"), Decimal("20.0"), 1539145740.0, 0.0, "CA",
    )  # fmt: skip
    assert isinstance(stock_bar, Bar) and (stock_bar.start, stock_bar.end) == (
        1610144640.0,
        1610144700.0,
    )


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"ev": "C", "p": "EUR/USD", "a": 1.0851, "b": "NaN", "t": 1}, "'b' is not a number"),
        ({"ev": "C", "p": "EUR/USD", "a": 1.0851, "b": -1.085, "t": 1}, "'b' is not positive"),
        ({"ev": "C", "p": "EUR/USD", "a": 1.0850, "b": 1.0851, "t": 1}, "crossed"),
        ({"ev": "C", "a": 1.0851, "b": 1.0850, "t": 1}, "'p' (the symbol) is missing"),
        ({"ev": "Q", "sym": "AAPL", "bp": 1.0, "ap": 1.1, "t": 0}, "'t' is not a timestamp"),
        ({"ev": "CA", "pair": "EUR/USD", "o": 1.2, "h": 1.1, "l": 1.0, "c": 1.05, "v": 1,
          "s": 1}, "low <= open, close <= high"),
        ({"status": "connected"}, "no 'ev'"),
    ],
)  # fmt: skip
def test_a_bad_event_is_refused_with_why_and_the_rest_of_its_frame_kept(
    bad: dict[str, Any], why: str
) -> None:
    good = {"ev": "C", "p": "GBP/USD", "a": 1.2701, "b": 1.2700, "t": 1700000000000}

    refused, quote = parse_frame(frame(bad, good))

    assert isinstance(refused, Refused) and why in refused.why
    assert quote == Quote("GBP_USD", Decimal("1.27"), Decimal("1.2701"), 1700000000.0)


def test_a_frame_that_is_not_json_is_one_refusal() -> None:
    (refused,) = parse_frame('[{"ev":"C","p":"EUR/USD", garbage')

    assert isinstance(refused, Refused) and refused.why.startswith("frame is not JSON")


def test_unknown_event_types_are_skipped_and_unsubscribed_instruments_dropped() -> None:
    text = frame(
        {"ev": "LULD", "T": "AAPL", "h": 1, "l": 1, "t": 1},
        {"ev": "C", "p": "USD/TRY", "a": 34.1, "b": 34.0, "t": 1700000000000},
        {"ev": "C", "p": "EUR/USD", "a": 1.0851, "b": 1.085, "t": 1700000000000},
    )

    assert [m.instrument for m in parse_frame(text, frozenset({"EUR_USD"}))] == ["EUR_USD"]  # type: ignore[union-attr]
