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


# ranges (defect 6): a value the engine cannot run with is refused where it is written ----------


@pytest.mark.parametrize(
    ("table", "key", "value", "allowed"),
    [
        # an interval of 0 made the idle engine spin a whole core
        ("engine", "tick_flush_ms", "0", "between 1 and 60000"),
        ("engine", "tick_flush_ms", "-5", "between 1 and 60000"),
        ("engine", "tick_flush_ms", "3600000", "between 1 and 60000"),
        ("engine", "marks_interval_ms", "-1", "between 1 and 60000"),
        ("engine", "marks_interval_ms", "0", "between 1 and 60000"),
        ("engine", "equity_snapshot_s", "-1", "in (0, 86400]"),
        ("engine", "equity_snapshot_s", "0", "in (0, 86400]"),
        ("engine", "equity_snapshot_s", "inf", "a finite number"),
        ("engine", "equity_snapshot_s", "nan", "a finite number"),
        ("engine", "report_currency", '"dollars"', "a 3-letter code"),
        ("sim", "ticks_per_second", "0", "in (0, 1000]"),
        ("sim", "ticks_per_second", "1e9", "in (0, 1000]"),
        ("sim", "volatility_scale", "-1", "between 0 and 100"),
        ("sim", "volatility_scale", "1e6", "between 0 and 100"),
        # checked with the sim venue too: a bad value waits for the day someone switches
        ("oanda", "request_timeout_s", "0", "positive"),
        ("oanda", "stream_silence_s", "-1", "positive"),
        ("oanda", "max_requests_per_s", "0", "positive"),
        ("oanda", "max_backoff_s", "0.1", "at least oanda.reconnect_backoff_s (0.5)"),
        ("api", "tcp_port", "70000", "between 0 and 65535"),
        ("monitoring", "metrics_port", "-1", "between 0 and 65535"),
        ("monitoring", "ack_latency_quantile", "1.5", "in (0, 1]"),
        ("ui", "fps", "0", "between 1 and 120"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_file_key_and_range(
    table: str, key: str, value: str, allowed: str
) -> None:
    text = f"[{table}]\n{key} = {value}\n" + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    message = str(caught.value)
    assert message.startswith("test.toml: ")
    assert f"'{table}.{key}'" in message
    assert allowed in message


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("max_order_units", "0", "at least 1"),
        ("max_position_units", "0", "at least 1"),
        ("max_working_orders", "0", "at least 1"),
        ("max_orders_per_second", "0", "at least 1"),
        ("max_order_notional", "'0'", "positive"),
        ("max_leverage", "'0'", "positive"),
        ("daily_loss_limit", "'0'", "positive"),
        ("price_collar_pct", "'0'", "positive"),
        ("max_quote_age_s", "0", "positive"),
        ("reduce_at_loss_fraction", "'0'", "in (0, 1]"),
    ],
)
def test_a_risk_limit_of_zero_is_refused_naming_the_key_and_range(
    key: str, value: str, allowed: str
) -> None:
    text = ACCOUNT + f"[accounts.risk]\n{key} = {value}\n"

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value).startswith("test.toml: ")
    assert f"'accounts[0].risk.{key}'" in str(caught.value)
    assert allowed in str(caught.value)


def test_values_at_the_edges_of_their_ranges_are_accepted() -> None:
    text = (
        "[engine]\ntick_flush_ms = 1\nmarks_interval_ms = 60000\nequity_snapshot_s = 86400\n"
        "[sim]\nticks_per_second = 1000\nvolatility_scale = 0\n"
        "[oanda]\nreconnect_backoff_s = 2.0\nmax_backoff_s = 2.0\n"
        "[api]\ntcp_port = 65535\n" + ACCOUNT + "[accounts.risk]\nreduce_at_loss_fraction = 1\n"
    )

    settings = parse_settings(text, "test.toml")

    assert settings.engine.tick_flush_ms == 1 and settings.sim.volatility_scale == 0.0


@pytest.mark.parametrize("name", ["default.toml", "oanda-local.toml", "oanda-practice.toml"])
def test_the_packaged_configs_are_within_every_range(name: str) -> None:
    load_settings(Path(__file__).resolve().parents[2] / "tmt_tui/resources/config" / name)


# sim.instruments ------------------------------------------------------------------------------


def test_an_unknown_sim_instrument_is_refused_by_config_loading() -> None:
    text = '[sim]\ninstruments = ["EUR_USD", "EURUSD"]\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    message = str(caught.value)
    assert message.startswith("test.toml: key 'sim.instruments'")
    assert "EURUSD" in message and "GBP_USD" in message  # the unknown one, and what is known


def test_a_sim_instrument_named_twice_is_refused() -> None:
    text = '[sim]\ninstruments = ["EUR_USD", "USD_JPY", "EUR_USD"]\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"'sim\.instruments'.*EUR_USD.*more than once"):
        parse_settings(text, "test.toml")


def test_known_sim_instruments_are_accepted() -> None:
    text = '[sim]\ninstruments = ["EUR_USD", "USD_JPY"]\n' + ACCOUNT

    assert parse_settings(text, "test.toml").sim.instruments == ("EUR_USD", "USD_JPY")


def test_configs_list_of_sim_instruments_is_the_sim_markets() -> None:
    from tmt_tui.config import SIM_INSTRUMENTS
    from tmt_tui.venues.sim.universe import SPECS

    assert tuple(SPECS) == SIM_INSTRUMENTS


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


def test_a_socket_path_too_long_for_a_unix_socket_is_refused() -> None:
    long = "/tmp/" + "s" * 110 + ".sock"
    text = f'[api]\nsocket_path = "{long}"\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    message = str(caught.value)
    assert message.startswith("test.toml: key 'api.socket_path'")
    assert "120 bytes" in message and "107-byte limit" in message


def test_a_socket_path_is_measured_after_the_home_directory_is_put_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/" + "h" * 90)
    text = '[api]\nsocket_path = "~/tmt/engine.sock"\n' + ACCOUNT  # 17 bytes as written

    with pytest.raises(ConfigError, match=r"'api\.socket_path' is 112 bytes"):
        parse_settings(text, "test.toml")
