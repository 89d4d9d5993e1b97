"""Exposure per currency (long and short kept apart) and P&L per instrument."""

from __future__ import annotations

import pytest

from tmt_tui.analytics.exposure import CurrencyExposure, currency_exposure, pnl_attribution


def test_a_long_pair_is_long_the_base_and_short_the_quote() -> None:
    result = currency_exposure([("EUR_USD", 10_000, 1.10)], {"EUR": 1.10}, "USD")
    eur, usd = sorted(result, key=lambda e: e.currency)
    assert eur == CurrencyExposure("EUR", 10_000.0, 0.0, 10_000.0, 11_000.0, 0.0, 11_000.0)
    assert usd.currency == "USD" and (usd.long, usd.long_value) == (0.0, 0.0)
    assert usd.short == usd.net == usd.short_value == usd.net_value == pytest.approx(-11_000.0)


def test_offsetting_positions_keep_both_sides() -> None:
    positions = [("EUR_USD", 10_000, 1.10), ("EUR_GBP", -10_000, 0.85)]
    rates = {"EUR": 1.10, "GBP": 1.30}
    eur = next(e for e in currency_exposure(positions, rates, "USD") if e.currency == "EUR")
    assert (eur.long, eur.short, eur.net) == (10_000.0, -10_000.0, 0.0)


def test_a_currency_without_a_rate_has_units_but_no_value_and_sorts_last() -> None:
    result = currency_exposure([("USD_JPY", 1_000, 150.0)], {}, "USD")
    assert [e.currency for e in result] == ["USD", "JPY"]
    jpy = result[1]
    assert jpy.short == -150_000.0 and jpy.net_value is None and jpy.long_value is None


def test_the_largest_net_value_comes_first() -> None:
    positions = [("EUR_USD", 1_000, 1.1), ("GBP_USD", 100_000, 1.3)]
    result = currency_exposure(positions, {"EUR": 1.1, "GBP": 1.3}, "USD")
    assert [e.currency for e in result] == ["USD", "GBP", "EUR"]  # USD -131,100; GBP 130,000


def test_no_positions_no_exposure() -> None:
    assert currency_exposure([], {}, "USD") == ()


def test_a_name_that_is_not_a_pair_is_refused() -> None:
    with pytest.raises(ValueError, match="BASE_QUOTE"):
        currency_exposure([("EURUSD", 1, 1.1)], {}, "USD")


def test_pnl_is_summed_per_instrument_best_first() -> None:
    rows = pnl_attribution(
        ["EUR_USD", "USD_JPY", "EUR_USD", "GBP_USD"],
        [10.0, -5.0, 2.5, 0.0],
        [1.0, 0.0, float("nan"), 4.0],
    )
    assert [(r.instrument, r.realized, r.unrealized, r.total) for r in rows] == [
        ("EUR_USD", 12.5, 1.0, 13.5),
        ("GBP_USD", 0.0, 4.0, 4.0),
        ("USD_JPY", -5.0, 0.0, -5.0),
    ]


def test_no_rows_no_attribution() -> None:
    assert pnl_attribution([], []) == ()
