"""Loading is strict: every key is checked against its annotation, and every error names the
file, the key and what was expected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.config import ACCOUNT
from tmt_tui.config import ConfigError, load_settings, parse_settings


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


def test_valid_custom_limits_are_typed_and_frozen() -> None:
    text = ACCOUNT + "[accounts.risk]\nmax_leverage = 12.5\nmax_quote_age_s = 3\n"

    settings = parse_settings(text, "custom.toml")

    risk = settings.accounts[0].risk
    assert risk.max_leverage == Decimal("12.5")
    assert risk.max_quote_age_s == 3.0 and isinstance(risk.max_quote_age_s, float)
    assert settings.source == "custom.toml"
    with pytest.raises(AttributeError):
        risk.max_leverage = Decimal(1)  # type: ignore[misc]


# closed choices: a value outside the Literal is a type error like any other -------------------


@pytest.mark.parametrize(
    ("table", "key", "value", "choices"),
    [
        ("engine", "broker", "OANDA", "'sim', 'oanda'"),  # the choices are case-sensitive
        ("engine", "on_shutdown", "close", "'leave', 'cancel'"),
        ("oanda", "environment", "demo", "'practice', 'live', 'local'"),
    ],
)
def test_a_value_outside_a_closed_choice_is_refused_naming_file_key_and_choices(
    table: str, key: str, value: str, choices: str
) -> None:
    text = f'[{table}]\n{key} = "{value}"\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value) == (
        f"test.toml: key '{table}.{key}' must be one of {choices}, got str '{value}'"
    )


def test_an_unknown_feed_is_refused_naming_its_place_in_the_list() -> None:
    text = '[engine]\nmarket_data = ["sim", "massive"]\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value) == (
        "test.toml: key 'engine.market_data[1]' must be one of 'sim', 'oanda', 'polygon', "
        "got str 'massive'"
    )


def test_a_closed_choice_given_as_another_type_is_refused_naming_the_type() -> None:
    text = "[engine]\non_shutdown = true\n" + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value) == (
        "test.toml: key 'engine.on_shutdown' must be one of 'leave', 'cancel', got bool True"
    )


def test_an_unknown_oanda_environment_is_refused_with_the_sim_venue_too() -> None:
    # like the other [oanda] keys: a bad value must not wait for the day someone switches venue
    text = '[engine]\nbroker = "sim"\n[oanda]\nenvironment = "paper"\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"'oanda\.environment' must be one of"):
        parse_settings(text, "test.toml")


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("engine", "on_shutdown", "leave"),
        ("engine", "on_shutdown", "cancel"),
        ("oanda", "environment", "practice"),
        ("oanda", "environment", "live"),
        ("oanda", "environment", "local"),
    ],
)
def test_every_value_of_a_closed_choice_is_accepted(table: str, key: str, value: str) -> None:
    text = f'[{table}]\n{key} = "{value}"\n' + ACCOUNT

    settings = parse_settings(text, "test.toml")

    assert getattr(getattr(settings, table), key) == value


# what the file is made of ---------------------------------------------------------------------


def test_non_utf8_bytes_are_a_config_error_naming_the_file_and_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(ACCOUNT.encode() + b'[ui]\ntheme = "caf\xe9"\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(path)

    message = str(caught.value)
    position = len(ACCOUNT.encode()) + len(b'[ui]\ntheme = "caf')
    assert message.startswith(f"{path}: ")
    assert "UTF-8" in message
    assert f"byte 0xe9 at position {position}" in message
    assert "line 7, column 13" in message


def test_a_nul_character_in_a_string_is_refused() -> None:
    text = '[engine]\njournal_path = "/tmp/j\\u0000.db"\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"test\.toml: key 'engine\.journal_path' must not"):
        parse_settings(text, "test.toml")


def test_alert_rules_that_halt_are_named_and_an_unknown_one_is_refused() -> None:
    text = ACCOUNT + '[monitoring]\nhalt_on = ["margin", "reject_burst"]\n'
    settings = parse_settings(text, "t.toml")
    assert settings.monitoring.halt_on == ("margin", "reject_burst")

    with pytest.raises(ConfigError, match=r"t\.toml.*monitoring\.halt_on.*'margins'\?"):
        parse_settings(ACCOUNT + '[monitoring]\nhalt_on = ["margins"]\n', "t.toml")
