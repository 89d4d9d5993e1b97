"""Checks after loading: a value the engine cannot run with, or keys that disagree, are refused
where they are written, naming the file, the key and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.config import ACCOUNT
from tmt_tui.config import SIM_INSTRUMENTS, ConfigError, load_settings, parse_settings


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
        ("engine", "report_currency", '"dollars"', "a 3-letter upper-case code"),
        ("engine", "report_currency", '"usd"', "a 3-letter upper-case code"),
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
        ("oanda", "rest_url", '"not a url"', "an http(s):// URL"),
        ("oanda", "stream_url", '"ftp://x"', "an http(s):// URL"),
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
        ("max_order_units", "0", "between 1 and"),
        ("max_position_units", "0", "between 1 and"),
        ("max_working_orders", "0", "between 1 and"),
        ("max_orders_per_second", "0", "between 1 and"),
        ("max_order_notional", "'0'", "in (0, "),
        ("max_leverage", "'0'", "in (0, "),
        ("daily_loss_limit", "'0'", "in (0, "),
        ("price_collar_pct", "'0'", "in (0, "),
        ("max_quote_age_s", "0", "in (0, "),
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


@pytest.mark.parametrize(
    "name",
    [
        "default.toml",
        "oanda-local.toml",
        "oanda-practice.toml",
        "polygon-sim.toml",
        "polygon-local.toml",
        "polygon-oanda.toml",
    ],
)
def test_the_packaged_configs_are_within_every_range(name: str) -> None:
    load_settings(Path(__file__).resolve().parents[2] / "tmt_tui/resources/config" / name)


# venues: the keys that must agree --------------------------------------------------------------

OANDA = '[engine]\nmarket_data = "oanda"\nbroker = "oanda"\n'


def test_an_oanda_account_priced_by_another_feed_is_refused_saying_what_to_write() -> None:
    text = '[engine]\nmarket_data = "sim"\nbroker = "oanda"\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value) == (
        "test.toml: key 'engine.market_data' must start with \"oanda\": the OANDA account is "
        'marked and risk-checked at OANDA\'s own prices (write market_data = ["oanda"])'
    )


def test_polygon_quotes_feed_the_paper_broker() -> None:
    text = '[engine]\nmarket_data = "polygon"\n[polygon]\ncluster = "local"\n' + ACCOUNT

    settings = parse_settings(text, "test.toml")

    assert settings.engine.market_data == ("polygon",)  # a bare string is a list of one
    assert settings.polygon.resolved_url() == "ws://127.0.0.1:8091"


def test_polygon_first_for_an_oanda_account_is_refused_saying_to_put_oanda_first() -> None:
    text = '[engine]\nmarket_data = "polygon"\nbroker = "oanda"\n' + ACCOUNT

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert str(caught.value).endswith('(write market_data = ["oanda", "polygon"])')


def test_polygon_beside_oanda_with_a_paper_account_is_one_engine() -> None:
    text = (
        '[engine]\nmarket_data = ["oanda", "polygon"]\n'
        '[[accounts]]\nbroker = "oanda"\nid = ""\n'
        '[[accounts]]\nid = "PAPER"\nbroker = "sim"\n'
    )

    settings = parse_settings(text, "test.toml")

    assert settings.brokers() == ("oanda", "sim")
    assert [settings.broker_of(a) for a in settings.accounts] == ["oanda", "sim"]


@pytest.mark.parametrize(
    ("feeds", "says"),
    [
        ('["polygon", "sim"]', "'sim' can only come first"),
        ('["sim", "sim"]', "each once"),
        ("[]", "one feed or more"),
    ],
)
def test_a_feed_list_that_cannot_work_is_refused(feeds: str, says: str) -> None:
    text = f"[engine]\nmarket_data = {feeds}\n" + ACCOUNT

    with pytest.raises(ConfigError, match=re.escape(says)):
        parse_settings(text, "test.toml")


def test_oanda_prices_with_no_account_there_are_refused() -> None:
    text = '[engine]\nmarket_data = "oanda"\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"no account trades there: give one \[\[accounts\]\]"):
        parse_settings(text, "test.toml")


def test_a_polygon_url_that_is_not_a_websocket_is_refused() -> None:
    text = '[engine]\nmarket_data = "polygon"\n[polygon]\nurl = "http://x"\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"key 'polygon.url' must start with ws:// or wss://"):
        parse_settings(text, "test.toml")


def test_the_live_oanda_environment_is_refused_until_confirmed() -> None:
    text = OANDA + '[oanda]\nenvironment = "live"\n' + ACCOUNT

    with pytest.raises(ConfigError, match=r"trades real money: set oanda\.i_understand_this"):
        parse_settings(text, "test.toml")


def test_the_live_oanda_environment_is_accepted_once_confirmed() -> None:
    text = OANDA + '[oanda]\nenvironment = "live"\ni_understand_this_is_live = true\n' + ACCOUNT

    assert parse_settings(text, "test.toml").oanda.environment == "live"


def test_the_oanda_venue_with_two_accounts_is_refused() -> None:
    text = OANDA + ACCOUNT + ACCOUNT.replace('"A"', '"B"')

    with pytest.raises(ConfigError, match=r"exactly one \[\[accounts\]\] table with broker"):
        parse_settings(text, "test.toml")


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
    from tmt_tui.venues.sim.universe import SPECS

    assert tuple(SPECS) == SIM_INSTRUMENTS


# what the operating system allows -------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        # once: a balance of 1e24 crashed the start; a loss limit of 1e999999999 overflowed every
        # limit check, and a collar that large every limit order
        ("balance", '"1e24"', "between 0 and 1,000,000,000,000"),
        ("currency", '"usd"', "a 3-letter upper-case code"),
        ("risk.daily_loss_limit", '"1e999999999"', "in (0, 1,000,000,000,000]"),
        ("risk.max_order_notional", '"1e13"', "in (0, 1,000,000,000,000]"),
        ("risk.price_collar_pct", '"1e999999999"', "in (0, 100]"),
        ("risk.max_leverage", "5000", "in (0, 1,000]"),
        ("risk.max_order_units", "99999999999999999999", "between 1 and 1,000,000,000,000"),
    ],
)
def test_money_and_sizes_past_what_the_engine_can_carry_are_refused(
    key: str, value: str, allowed: str
) -> None:
    table, _, name = key.rpartition(".")
    fields = {"id": '"A"', "currency": '"USD"', "balance": '"1000"'}
    if not table:
        fields[name] = value
    text = "[[accounts]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items())
    if table:
        text += f"[accounts.{table}]\n{name} = {value}\n"

    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "test.toml")

    assert f"'accounts[0].{key}'" in str(caught.value)
    assert allowed in str(caught.value)


def test_an_oanda_instrument_named_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="'oanda.instruments' names EUR_USD more than once"):
        parse_settings(ACCOUNT + '[oanda]\ninstruments = ["EUR_USD", "EUR_USD"]\n', "t.toml")
