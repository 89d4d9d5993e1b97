"""What a trader types for units and prices: the usual spellings read, junk refused by name."""

from __future__ import annotations

import pytest

from tmt_tui.domain.entry import EntryError, instrument_name, near_miss, parse_price, parse_units


@pytest.mark.parametrize(
    ("text", "units"), [("10000", 10_000), ("10,000", 10_000), ("10k", 10_000), ("1.5m", 1_500_000)]
)
def test_units_accept_the_usual_spellings(text: str, units: int) -> None:
    assert parse_units(text) == units


@pytest.mark.parametrize(
    "text",
    # 1e999999999 once overflowed inside the parser: a traceback instead of a refusal
    ["", "abc", "0", "-1", "1.5", "inf", "1e10", "2000000000", "1e999999999", "1e999999999k",
     "1e-999999999"],
)  # fmt: skip
def test_units_refuse_junk(text: str) -> None:
    with pytest.raises(EntryError, match="Units"):
        parse_units(text)


@pytest.mark.parametrize(
    "text", ["nan", "inf", "-inf", "0", "-1.1", "abc", "1e12", "1E+999999999", "1e-999999999"]
)
def test_prices_refuse_junk(text: str) -> None:
    with pytest.raises(EntryError, match="Price"):
        parse_price(text, "Price", required=False)


def test_an_optional_price_may_be_empty() -> None:
    assert parse_price("  ", "Take profit", required=False) is None


def test_a_refusal_never_echoes_a_whole_paste() -> None:
    with pytest.raises(EntryError) as caught:
        parse_units("x" * 100_000)

    assert len(str(caught.value)) < 80


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("EUR_USD", "EUR_USD"),
        ("eurusd", "EUR_USD"),
        ("EUR/USD", "EUR_USD"),
        (" eur-usd ", "EUR_USD"),
        ("usd_jpy", "USD_JPY"),
        ("aapl", "AAPL"),
        ("btc-usd", "BTC_USD"),
    ],
)
def test_an_instrument_is_read_as_people_type_it(typed: str, name: str) -> None:
    assert instrument_name(typed) == name


def test_a_near_miss_suggests_the_instrument_meant() -> None:
    assert near_miss("EUR_UDS", ["EUR_USD", "GBP_USD"]) == " (did you mean EUR_USD?)"
    assert near_miss("XAU_XAG", ["EUR_USD", "GBP_USD"]) == ""
