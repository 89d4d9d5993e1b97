"""Typed, frozen, strict settings loaded once from TOML.

An unknown key, a wrong type or a value out of its range fails at start with the file, the key
and what was expected, because a typo in a risk limit must never silently fall back to a default
(nor an interval of 0 spin the engine).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A config file that cannot be used, with where and why."""


#: The built-in simulated market's pairs, the names ``sim.instruments`` may list. Their price
#: models live in ``venues/sim/universe.py`` (a layer config does not import); a test keeps the
#: two the same.
SIM_INSTRUMENTS: tuple[str, ...] = (
    "EUR_USD", "GBP_USD", "USD_JPY", "USD_CHF", "AUD_USD", "USD_CAD", "NZD_USD", "EUR_JPY",
    "GBP_JPY", "EUR_GBP", "AUD_JPY", "EUR_CHF", "AUD_CAD", "GBP_CHF", "EUR_AUD", "CAD_JPY",
    "NZD_JPY", "AUD_NZD", "CHF_JPY", "GBP_AUD",
)  # fmt: skip

#: A Unix socket's ``sun_path`` holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107


def socket_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot name a Unix socket (``"is N bytes, over the 107-byte limit ..."``),
    or None if it can."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        return f"is {size} bytes, over the {MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths"
    return None


@dataclass(frozen=True)
class RiskLimits:
    """Pre-trade limits for one account (money in the account currency)."""

    max_order_units: int = 10_000_000  # largest single order
    max_order_notional: Decimal = Decimal("10000000")  # |units| x price, in account currency
    max_position_units: int = 20_000_000  # net units per instrument after the order
    max_leverage: Decimal = Decimal("30")  # gross exposure / equity after the order
    daily_loss_limit: Decimal = Decimal("5000")  # realized + unrealized since 17:00 New York
    reduce_at_loss_fraction: Decimal = Decimal("0.8")  # enter REDUCING at this share of the limit
    price_collar_pct: Decimal = Decimal("5")  # limit / stop price within this % of mid
    max_quote_age_s: float = 10.0  # market orders need a quote at most this old
    max_working_orders: int = 200
    max_orders_per_second: int = 50


@dataclass(frozen=True)
class AccountSettings:
    id: str
    currency: str = "USD"
    balance: Decimal = Decimal("100000")  # opening balance of a new sim account
    risk: RiskLimits = field(default_factory=RiskLimits)


@dataclass(frozen=True)
class EngineSettings:
    journal_path: str = ""  # empty: $XDG_DATA_HOME/tmt/journal.db
    market_data: str = "sim"  # which venue feeds quotes
    broker: str = "sim"  # which venue executes orders
    tick_flush_ms: int = 250  # ticks are journaled in batches this often
    marks_interval_ms: int = 50  # full revaluation and publication of marks
    equity_snapshot_s: float = 60.0  # equity rows in the derived table
    report_currency: str = "USD"  # the header's total across accounts is shown in this currency
    on_shutdown: str = "leave"  # graceful stop: "leave" working orders at the venue, or "cancel"


@dataclass(frozen=True)
class SimSettings:
    seed: int = 7
    ticks_per_second: float = 4.0  # per instrument
    volatility_scale: float = 1.0
    instruments: tuple[str, ...] = ()  # empty: the whole built-in universe


OANDA_HOSTS = {
    "practice": ("https://api-fxpractice.oanda.com", "https://stream-fxpractice.oanda.com"),
    "live": ("https://api-fxtrade.oanda.com", "https://stream-fxtrade.oanda.com"),
    "local": ("http://127.0.0.1:8090", "http://127.0.0.1:8090"),
}


@dataclass(frozen=True)
class OandaSettings:
    """The OANDA v20 venue. The token comes from ``$OANDA_TOKEN`` only (never this file); the
    account id from ``account_id`` or, when empty, ``$OANDA_ACCOUNT_ID``."""

    environment: str = "practice"  # "practice" | "live" | "local" (tmt oanda-sim)
    rest_url: str = ""  # empty: the environment's REST host
    stream_url: str = ""  # empty: the environment's streaming host
    account_id: str = ""  # empty: $OANDA_ACCOUNT_ID
    instruments: tuple[str, ...] = ()  # empty: every CURRENCY instrument of the account
    i_understand_this_is_live: bool = False  # required for environment = "live"
    request_timeout_s: float = 10.0
    stream_silence_s: float = 10.0  # a stream silent this long is dead (heartbeats every 5 s)
    reconnect_backoff_s: float = 0.5  # first reconnect delay, doubled (with jitter) per failure
    max_backoff_s: float = 10.0
    max_connects_per_s: float = 2.0  # new stream connections (OANDA refuses more)
    max_requests_per_s: float = 90.0  # REST requests on the connection (OANDA allows 100)

    def urls(self) -> tuple[str, str]:
        """(REST, stream) base URLs."""
        rest, stream = OANDA_HOSTS.get(self.environment, OANDA_HOSTS["practice"])
        return (self.rest_url or rest).rstrip("/"), (
            self.stream_url or self.rest_url or stream
        ).rstrip("/")

    def resolved_account_id(self) -> str:
        return self.account_id or os.environ.get("OANDA_ACCOUNT_ID", "")


@dataclass(frozen=True)
class KillSwitchSettings:
    flatten: bool = False  # close every position on engage, then cancel what is left


@dataclass(frozen=True)
class UiSettings:
    fps: int = 20  # redraw at most this often
    theme: str = "tmt-dark"
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys


@dataclass(frozen=True)
class ApiSettings:
    """The control API that `tmt attach`, the CLI and scripts use (token from TMT_API_TOKEN or
    the state dir's api.token; never from this file)."""

    enabled: bool = True
    socket_path: str = ""  # empty: $XDG_RUNTIME_DIR/tmt/engine.sock, else ~/.local/state/tmt/
    tcp_port: int = 0  # 0: no TCP listener
    tcp_host: str = "127.0.0.1"
    allow_remote: bool = False  # a non-loopback tcp_host needs this and TLS
    tls_cert: str = ""
    tls_key: str = ""


@dataclass(frozen=True)
class MonitoringSettings:
    """Metrics endpoint, health thresholds and alert rule thresholds (defaults documented here)."""

    metrics_enabled: bool = True  # serve /metrics and /healthz (embedded and headless engines)
    metrics_host: str = "127.0.0.1"  # loopback only unless allow_remote
    metrics_port: int = 9464  # 0: any free port (tests)
    allow_remote: bool = False  # a non-loopback metrics_host needs this (metrics carry balances)
    health_heartbeat_s: float = 2.0  # /healthz 503 when the engine loop is silent this long
    health_feed_stale_s: float = 10.0  # /healthz 503 when the newest accepted quote is this old
    stale_quote_s: float = 10.0  # alert: one instrument without an accepted quote this long
    daily_loss_alert_fraction: Decimal = Decimal("0.8")  # alert: daily loss >= this x the limit
    margin_alert_fraction: Decimal = Decimal("0.5")  # alert: margin used / equity above this
    reject_burst_count: int = 10  # alert: this many order rejects ...
    reject_burst_window_s: float = 60.0  # ... within this many seconds
    ack_latency_alert_s: float = 0.05  # alert: order ack latency quantile above this ...
    ack_latency_quantile: float = 0.99  # ... at this quantile ...
    ack_latency_window_s: float = 60.0  # ... over the replies of this many seconds ...
    ack_latency_min_samples: int = 10  # ... once at least this many replies are in the window
    alert_clear_s: float = 5.0  # a raised alert clears after its condition held false this long

    def validate(self, source: str = "<monitoring>") -> None:
        """Raise ValueError naming the first key that cannot be used."""

        def bad(key: str, expected: str) -> ValueError:
            return ValueError(f"{source}: key 'monitoring.{key}' must be {expected}")

        if not 0 <= self.metrics_port <= 65535:
            raise bad("metrics_port", "between 0 and 65535")
        if not self.allow_remote and not is_loopback(self.metrics_host):
            raise bad("metrics_host", "a loopback address unless monitoring.allow_remote = true")
        positive = (
            "health_heartbeat_s", "health_feed_stale_s", "stale_quote_s",
            "reject_burst_window_s", "ack_latency_alert_s", "ack_latency_window_s",
        )  # fmt: skip
        for key in positive:
            if not getattr(self, key) > 0:
                raise bad(key, "positive")
        if self.alert_clear_s < 0:
            raise bad("alert_clear_s", "zero or positive")
        for key in ("reject_burst_count", "ack_latency_min_samples"):
            if getattr(self, key) < 1:
                raise bad(key, "at least 1")
        if not 0 < self.ack_latency_quantile <= 1:
            raise bad("ack_latency_quantile", "in (0, 1]")
        if not Decimal(0) < self.daily_loss_alert_fraction <= Decimal(1):
            raise bad("daily_loss_alert_fraction", "in (0, 1]")
        if not self.margin_alert_fraction > 0:
            raise bad("margin_alert_fraction", "positive")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    oanda: OandaSettings = field(default_factory=OandaSettings)
    kill_switch: KillSwitchSettings = field(default_factory=KillSwitchSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    accounts: tuple[AccountSettings, ...] = ()
    source: str = "<defaults>"

    def journal_path(self) -> Path:
        """Where the journal lives: the configured path, else under ``$XDG_DATA_HOME/tmt``."""
        if self.engine.journal_path:
            return Path(os.path.expanduser(self.engine.journal_path))
        data_home = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
        return Path(data_home) / "tmt" / "journal.db"

    def to_plain(self) -> dict[str, Any]:
        """The effective config as JSON-able data, journaled at every start."""

        def plain(value: Any) -> Any:
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, Decimal):
                return str(value)
            return value

        return typing.cast(dict[str, Any], plain(self))


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "a table of strings"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        Decimal: "a decimal number (string or number)",
    }.get(tp, str(tp))


def _convert(value: Any, tp: Any, where: str, source: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it.

    Raises ConfigError naming the key ``where`` and the expected type.
    """

    def bad() -> ConfigError:
        return ConfigError(
            f"{source}: key '{where}' must be {_type_name(tp)}, "
            f"got {type(value).__name__} {value!r}"
        )

    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise bad()
        return _build(tp, value, where, source)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise bad()
        (item_type, *_) = typing.get_args(tp)
        return tuple(_convert(v, item_type, f"{where}[{i}]", source) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise bad()
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        raise bad()
    if tp is bool:
        if not isinstance(value, bool):
            raise bad()
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if not math.isfinite(value):
            raise ConfigError(f"{source}: key '{where}' must be a finite number, got {value}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise bad()
        if "\x00" in value:
            raise ConfigError(f"{source}: key '{where}' must not contain a NUL character")
        return value
    if tp is Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise bad()
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise bad() from None
        if not result.is_finite():
            raise bad()
        return result
    raise bad()


def _build(cls: type[Any], table: dict[str, Any], where: str, source: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.name != "source"}
    for key in table:
        if key not in names:
            path = f"{where}.{key}" if where else key
            raise ConfigError(
                f"{source}: unknown key '{path}' (expected one of: {', '.join(sorted(names))})"
            )
    kwargs = {}
    for key, value in table.items():
        path = f"{where}.{key}" if where else key
        kwargs[key] = _convert(value, hints[key], path, source)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{source}: table '{where or '<top>'}' is incomplete: {exc}") from None


def parse_settings(text: str, source: str) -> Settings:
    """Settings from TOML text; ``source`` names the file in every error."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    settings: Settings = _build(Settings, table, "", source)
    settings = dataclasses.replace(settings, source=source)
    _validate(settings)
    return settings


# Ranges of the settings whose useful values are bounded on both sides.
MAX_INTERVAL_MS = 60_000  # engine timers: a minute of unflushed ticks or unpublished marks
MAX_EQUITY_SNAPSHOT_S = 86_400.0
MAX_SIM_TICKS_PER_SECOND = 1_000.0  # per instrument
MAX_SIM_VOLATILITY_SCALE = 100.0


def _validate(settings: Settings) -> None:
    source = settings.source

    def check(key: str, value: Any, ok: bool, allowed: str) -> None:
        if not ok:
            shown = repr(value) if isinstance(value, str) else value
            raise ConfigError(f"{source}: key '{key}' must be {allowed}, got {shown}")

    if not settings.accounts:
        raise ConfigError(f"{source}: at least one [[accounts]] table is required")
    seen: set[str] = set()
    for i, account in enumerate(settings.accounts):
        at = f"accounts[{i}]"
        if not (account.id or settings.engine.broker == "oanda") or account.id in seen:
            raise ConfigError(f"{source}: key '{at}.id' must be a unique, non-empty string")
        seen.add(account.id)
        check(f"{at}.currency", account.currency, _is_currency(account.currency), "a 3-letter code")
        check(f"{at}.balance", account.balance, account.balance >= 0, "zero or positive")
        risk = account.risk
        for name in (
            "max_order_units", "max_position_units", "max_working_orders",
            "max_orders_per_second",
        ):  # fmt: skip
            value = getattr(risk, name)
            check(f"{at}.risk.{name}", value, value >= 1, "at least 1")
        for name in (
            "max_order_notional", "max_leverage", "daily_loss_limit", "price_collar_pct",
            "max_quote_age_s",
        ):  # fmt: skip
            value = getattr(risk, name)
            check(f"{at}.risk.{name}", value, value > 0, "positive")
        fraction = risk.reduce_at_loss_fraction
        check(f"{at}.risk.reduce_at_loss_fraction", fraction, 0 < fraction <= 1, "in (0, 1]")

    engine = settings.engine
    for name in ("tick_flush_ms", "marks_interval_ms"):
        value = getattr(engine, name)
        check(
            f"engine.{name}",
            value,
            1 <= value <= MAX_INTERVAL_MS,
            f"between 1 and {MAX_INTERVAL_MS} (milliseconds)",
        )
    check(
        "engine.equity_snapshot_s",
        engine.equity_snapshot_s,
        0 < engine.equity_snapshot_s <= MAX_EQUITY_SNAPSHOT_S,
        f"in (0, {MAX_EQUITY_SNAPSHOT_S:g}] (seconds)",
    )
    check(
        "engine.report_currency",
        engine.report_currency,
        _is_currency(engine.report_currency),
        "a 3-letter code",
    )
    if engine.on_shutdown not in ("leave", "cancel"):
        raise ConfigError(f'{source}: key \'engine.on_shutdown\' must be "leave" or "cancel"')
    _validate_venues(settings)

    sim = settings.sim
    check(
        "sim.ticks_per_second",
        sim.ticks_per_second,
        0 < sim.ticks_per_second <= MAX_SIM_TICKS_PER_SECOND,
        f"in (0, {MAX_SIM_TICKS_PER_SECOND:g}] (per instrument)",
    )
    check(
        "sim.volatility_scale",
        sim.volatility_scale,
        0 <= sim.volatility_scale <= MAX_SIM_VOLATILITY_SCALE,
        f"between 0 and {MAX_SIM_VOLATILITY_SCALE:g}",
    )
    unknown = [n for n in sim.instruments if n not in SIM_INSTRUMENTS]
    if unknown:
        raise ConfigError(
            f"{source}: key 'sim.instruments' names unknown instruments {', '.join(unknown)} "
            f"(expected some of: {', '.join(sorted(SIM_INSTRUMENTS))})"
        )
    twice = sorted({n for n in sim.instruments if sim.instruments.count(n) > 1})
    if twice:
        raise ConfigError(
            f"{source}: key 'sim.instruments' names {', '.join(twice)} more than once"
        )

    oanda = settings.oanda  # checked with any venue: a bad value waits for the switch to it
    for name in (
        "request_timeout_s", "stream_silence_s", "reconnect_backoff_s", "max_backoff_s",
        "max_connects_per_s", "max_requests_per_s",
    ):  # fmt: skip
        value = getattr(oanda, name)
        check(f"oanda.{name}", value, value > 0, "positive")
    check(
        "oanda.max_backoff_s",
        oanda.max_backoff_s,
        oanda.max_backoff_s >= oanda.reconnect_backoff_s,
        f"at least oanda.reconnect_backoff_s ({oanda.reconnect_backoff_s:g})",
    )

    api = settings.api
    check(
        "api.tcp_port",
        api.tcp_port,
        0 <= api.tcp_port <= 65535,
        "between 0 and 65535 (0: no TCP listener)",
    )
    if api.tcp_port and not is_loopback(api.tcp_host):
        if not api.allow_remote:
            raise ConfigError(
                f"{source}: key 'api.tcp_host' is not loopback: set api.allow_remote = true "
                "(and TLS) to listen beyond this machine"
            )
        if not (api.tls_cert and api.tls_key):
            raise ConfigError(
                f"{source}: keys 'api.tls_cert' and 'api.tls_key' are required for a remote bind"
            )
    if api.socket_path:
        socket = os.path.expanduser(api.socket_path)
        problem = socket_path_problem(socket)
        if problem:
            raise ConfigError(f"{source}: key 'api.socket_path' {problem}: {socket}")
    try:
        settings.monitoring.validate(source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    fps = settings.ui.fps
    check("ui.fps", fps, 1 <= fps <= 120, "between 1 and 120")


def _is_currency(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha()


VENUES = ("sim", "oanda")


def _validate_venues(settings: Settings) -> None:
    source, engine = settings.source, settings.engine
    for key in ("market_data", "broker"):
        if getattr(engine, key) not in VENUES:
            raise ConfigError(
                f"{source}: key 'engine.{key}' must be one of {', '.join(map(repr, VENUES))}, "
                f"got {getattr(engine, key)!r}"
            )
    if engine.market_data != engine.broker:
        raise ConfigError(
            f"{source}: keys 'engine.market_data' and 'engine.broker' must name the same venue "
            f"(got {engine.market_data!r} and {engine.broker!r})"
        )
    if engine.broker != "oanda":
        return
    oanda = settings.oanda
    if oanda.environment not in OANDA_HOSTS:
        raise ConfigError(
            f"{source}: key 'oanda.environment' must be one of "
            f"{', '.join(map(repr, OANDA_HOSTS))}, got {oanda.environment!r}"
        )
    if oanda.environment == "live" and not oanda.i_understand_this_is_live:
        raise ConfigError(
            f'{source}: oanda.environment = "live" trades real money: set '
            "oanda.i_understand_this_is_live = true to confirm"
        )
    if len(settings.accounts) != 1:
        raise ConfigError(
            f"{source}: the oanda venue trades one account: exactly one [[accounts]] table is "
            f"required (its risk limits apply; its id, currency and balance come from OANDA)"
        )


def default_config_text() -> str:
    return resources.files("tmt_tui").joinpath("resources/config/default.toml").read_text("utf-8")


def load_settings(path: str | Path | None = None) -> Settings:
    """Load ``path``, or the packaged ``config/default.toml`` when None."""
    if path is None:
        return parse_settings(default_config_text(), "config/default.toml")
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start
        line = data.count(b"\n", 0, at) + 1
        column = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise ConfigError(
            f"{file}: not UTF-8: byte 0x{data[at]:02x} at position {at} (line {line}, "
            f"column {column}); save the file as UTF-8"
        ) from None
    return parse_settings(text, str(file))
