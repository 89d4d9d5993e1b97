"""Risk-based sizing: a risk and a stop in, whole units out, never risking more than asked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tmt_tui.domain.entry import EntryError
from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.sizing import RiskSpec, parse_risk, size_for_risk

EUR_USD = Instrument("EUR_USD", 5, -4, Decimal("0.0333"))
USD_JPY = Instrument("USD_JPY", 3, -2, Decimal("0.04"))


@pytest.mark.parametrize(
    ("typed", "spec"),
    [
        ("0.5%", RiskSpec(Decimal("0.5"), True)),
        ("500", RiskSpec(Decimal(500))),
        ("1,000.50", RiskSpec(Decimal("1000.50"))),
        ("0.5% 20p", RiskSpec(Decimal("0.5"), True, Decimal(20))),
        ("500 / 12.5 pips", RiskSpec(Decimal(500), False, Decimal("12.5"))),
        ("1%@30pip", RiskSpec(Decimal(1), True, Decimal(30))),
    ],
)
def test_a_risk_reads_as_an_amount_or_a_share_and_an_optional_stop(typed, spec) -> None:
    assert parse_risk(typed) == spec


def test_an_empty_risk_field_asks_for_no_sizing() -> None:
    assert parse_risk("  ") is None


@pytest.mark.parametrize("typed", ["abc", "-1%", "0", "150%", "0.5% 0p", "1% 20x"])
def test_a_risk_that_is_not_one_is_refused_with_the_field_named(typed) -> None:
    with pytest.raises(EntryError, match="^Risk: "):
        parse_risk(typed)


def test_half_a_percent_of_equity_over_twenty_pips_sizes_exactly() -> None:
    sizing = size_for_risk(
        RiskSpec(Decimal("0.5"), True, Decimal(20)),
        EUR_USD,
        equity=Decimal("100000"),
        currency="USD",
        quote_to_account=Decimal(1),
    )
    assert sizing.units == 250_000  # 500 USD / (0.0020 USD a unit)
    assert sizing.describe() == ("risk 0.5% of 100,000.00 = 500.00 USD / 20.0 pips → 250,000 units")


def test_the_stop_loss_price_gives_the_distance_when_no_pips_are_typed() -> None:
    sizing = size_for_risk(
        RiskSpec(Decimal(300)),
        EUR_USD,
        equity=Decimal("100000"),
        currency="USD",
        quote_to_account=Decimal(1),
        entry=Decimal("1.08505"),
        stop_loss=Decimal("1.08205"),
    )
    assert (sizing.units, sizing.stop_pips) == (100_000, Decimal("30"))


def test_a_quote_currency_apart_from_the_account_converts_and_rounds_down() -> None:
    # 20 pips of USD_JPY lose 0.20 JPY a unit; at 1 JPY = 1/151.37 USD that is 0.0013213 USD
    rate = Decimal(1) / Decimal("151.37")
    sizing = size_for_risk(
        RiskSpec(Decimal(500), False, Decimal(20)),
        USD_JPY,
        equity=Decimal("100000"),
        currency="USD",
        quote_to_account=rate,
        unit_step=100,
    )
    assert sizing.units == 378_400  # 378,425 whole units, down to the step of 100
    assert sizing.units * Decimal("0.20") * rate <= Decimal(500)


def test_no_stop_and_no_rate_are_said_not_guessed() -> None:
    spec = RiskSpec(Decimal(500))
    with pytest.raises(EntryError, match="give a stop"):
        size_for_risk(spec, EUR_USD, equity=Decimal(1), currency="USD", quote_to_account=None)
    with pytest.raises(EntryError, match="no rate yet to convert JPY into USD"):
        size_for_risk(
            RiskSpec(Decimal(500), False, Decimal(20)),
            USD_JPY,
            equity=Decimal(1),
            currency="USD",
            quote_to_account=None,
        )


def test_a_risk_too_small_for_one_unit_says_so() -> None:
    with pytest.raises(EntryError, match="less than 1 unit"):
        size_for_risk(
            RiskSpec(Decimal("0.001"), False, Decimal(20)),
            EUR_USD,
            equity=Decimal(1000),
            currency="USD",
            quote_to_account=Decimal(1),
        )
