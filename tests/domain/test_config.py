"""Config is strict: every error names the file, the key and what was expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tmt_tui.config import ConfigError, load_settings, parse_settings

ACCOUNT = """
[[accounts]]
id = "A"
currency = "USD"
balance = "1000"
"""


def test_default_config_has_the_two_sim_accounts() -> None:
    settings = load_settings()

    assert [(a.id, a.currency, a.balance) for a in settings.accounts] == [
        ("SIM-USD", "USD", Decimal("100000")),
        ("SIM-EUR", "EUR", Decimal("50000")),
    ]


def test_unknown_top_level_key_is_an_error_naming_file_and_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("colour = 'red'\n" + ACCOUNT, "test.toml")

    message = str(caught.value)
    assert message.startswith("test.toml:")
    assert "unknown key 'colour'" in message


def test_unknown_nested_key_is_named_by_its_full_path() -> None:
    text = ACCOUNT + "[accounts.risk]\nmax_lev = '10'\n"

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    message = str(caught.value)
    assert "test.toml" in message
    assert "'accounts[0].risk.max_lev'" in message
    assert "max_leverage" in message  # the keys that would have been accepted


def test_wrong_type_names_file_key_and_expected_type() -> None:
    text = ACCOUNT + "[accounts.risk]\nmax_order_units = '1000'\n"

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    message = str(caught.value)
    assert "test.toml" in message
    assert "'accounts[0].risk.max_order_units'" in message
    assert "must be an integer" in message


def test_boolean_is_not_accepted_where_a_number_is_expected() -> None:
    with pytest.raises(ConfigError, match=r"'sim\.seed' must be an integer"):
        parse_settings("[sim]\nseed = true\n" + ACCOUNT, "test.toml")


def test_non_finite_decimal_is_rejected() -> None:
    text = ACCOUNT + "[accounts.risk]\ndaily_loss_limit = 'NaN'\n"

    with pytest.raises(
        ConfigError, match=r"'accounts\[0\]\.risk\.daily_loss_limit' must be a decimal"
    ):
        parse_settings(text, "test.toml")


def test_broken_toml_names_the_file() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("[engine\nbroker = 'sim'\n", "broken.toml")

    assert str(caught.value).startswith("broken.toml: not valid TOML")


def test_load_settings_names_the_path_of_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(ACCOUNT + "[engine]\ntick_flush_ms = 'fast'\n", "utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    assert str(path) in message
    assert "'engine.tick_flush_ms' must be an integer" in message


def test_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError, match="absent.toml: cannot read config"):
        load_settings(path)


def test_config_without_accounts_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"test\.toml: at least one \[\[accounts\]\]"):
        parse_settings("[sim]\nseed = 1\n", "test.toml")


def test_duplicate_account_ids_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"'accounts\[1\]\.id' must be a unique"):
        parse_settings(ACCOUNT + ACCOUNT, "test.toml")


def test_reduce_fraction_outside_zero_to_one_is_refused() -> None:
    text = ACCOUNT + "[accounts.risk]\nreduce_at_loss_fraction = '1.5'\n"

    with pytest.raises(ConfigError, match=r"reduce_at_loss_fraction' must be in \(0, 1\]"):
        parse_settings(text, "test.toml")


def test_valid_custom_limits_are_typed_and_frozen() -> None:
    text = ACCOUNT + "[accounts.risk]\nmax_leverage = 12.5\nmax_quote_age_s = 3\n"

    settings = parse_settings(text, "custom.toml")

    risk = settings.accounts[0].risk
    assert risk.max_leverage == Decimal("12.5")
    assert risk.max_quote_age_s == 3.0 and isinstance(risk.max_quote_age_s, float)
    assert settings.source == "custom.toml"
    with pytest.raises(AttributeError):
        risk.max_leverage = Decimal(1)  # type: ignore[misc]


def test_journal_path_defaults_under_xdg_data_home(isolated_data_home: Path) -> None:
    settings = parse_settings(ACCOUNT, "test.toml")

    assert settings.journal_path() == isolated_data_home / "tmt" / "journal.db"


@pytest.mark.parametrize(
    "key",
    [
        "max_order_units",
        "max_order_notional",
        "max_position_units",
        "max_leverage",
        "daily_loss_limit",
        "price_collar_pct",
        "max_quote_age_s",
        "max_working_orders",
        "max_orders_per_second",
    ],
)
def test_negative_risk_limit_is_refused_naming_the_key(key: str) -> None:
    # a negative daily loss limit, for one, would halt the account the moment it starts
    text = ACCOUNT + f"[accounts.risk]\n{key} = -1\n"

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value).startswith("test.toml:")
    assert f"'accounts[0].risk.{key}'" in str(caught.value)
