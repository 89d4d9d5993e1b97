"""The settings' shape: one frozen dataclass per TOML table, each default documented at its field.

The annotations are the schema the loader enforces, so a closed choice is a ``Literal``: a value
outside it fails at loading like any other wrong type, naming the file, the key and the choices.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import typing
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal


class ConfigError(Exception):
    """A config file that cannot be used, with where and why."""


#: A venue that executes orders (and feeds quotes).
Venue = Literal["sim", "oanda"]
#: Where quotes come from: a venue's own, or a data-only feed.
Feed = Literal["sim", "oanda", "polygon"]
#: What an account does at its daily loss limit: HALT (closing stays possible), or HALT and
#: close every position at the market.
DailyLossAction = Literal["halt", "flatten"]
#: Which Polygon / Massive cluster: real-time, 15-minute delayed, or `tmt polygon-sim` here.
PolygonCluster = Literal["realtime", "delayed", "local"]
#: What a graceful stop does with working orders: leave them at the venue, or cancel them.
OnShutdown = Literal["leave", "cancel"]
#: Which OANDA hosts to use; "local" is `tmt oanda-sim` on loopback.
OandaEnvironment = Literal["practice", "live", "local"]


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
    daily_loss_action: DailyLossAction = "halt"  # at the limit: HALT, or HALT and close all


@dataclass(frozen=True)
class AccountSettings:
    id: str
    currency: str = "USD"
    balance: Decimal = Decimal("100000")  # opening balance of a new sim account
    risk: RiskLimits = field(default_factory=RiskLimits)
    broker: Literal["", "sim", "oanda"] = ""  # the venue of its orders; "": engine.broker


@dataclass(frozen=True)
class EngineSettings:
    journal_path: str = ""  # empty: $XDG_DATA_HOME/tmt/journal.db
    #: Where quotes come from, first the feed accounts trade at (the OANDA account's broker's
    #: own when there is one), then feeds shown beside it and compared (a bare string: one feed)
    market_data: tuple[Feed, ...] = ("sim",)
    broker: Venue = "sim"  # the venue of every account that names none
    feeds_apart_pips: float = 5.0  # two feeds' mids further apart than this disagree
    feeds_apart_for_s: float = 10.0  # an alert when they disagree this long
    tick_flush_ms: int = 250  # ticks are journaled in batches this often
    marks_interval_ms: int = 50  # full revaluation and publication of marks
    equity_snapshot_s: float = 60.0  # equity rows in the derived table
    report_currency: str = "USD"  # the header's total across accounts is shown in this currency
    on_shutdown: OnShutdown = "leave"  # graceful stop: "leave" working orders, or "cancel" them
    #: Closed bars of each size (S5, M1, M5, M15, H1) filled in at start, in the background,
    #: from the venue's history (OANDA candles, Polygon aggregates, the sim's own model) and the
    #: journal's ticks, so a chart is never empty; 0: none
    backfill_bars: int = 200
    #: Days of bars kept per size; older ones are pruned from the journal in small batches. A
    #: size not named is kept for ever (M5 and up: a few hundred thousand rows a year a pair)
    bar_retention_days: dict[str, float] = field(default_factory=lambda: {"S5": 7.0, "M1": 90.0})


@dataclass(frozen=True)
class SimSettings:
    seed: int = 7
    ticks_per_second: float = 4.0  # per instrument
    volatility_scale: float = 1.0
    instruments: tuple[str, ...] = ()  # empty: the whole built-in universe


#: (REST, stream) base URLs of each environment; a test keeps the keys those of the Literal.
OANDA_HOSTS: dict[OandaEnvironment, tuple[str, str]] = {
    "practice": ("https://api-fxpractice.oanda.com", "https://stream-fxpractice.oanda.com"),
    "live": ("https://api-fxtrade.oanda.com", "https://stream-fxtrade.oanda.com"),
    "local": ("http://127.0.0.1:8090", "http://127.0.0.1:8090"),
}


@dataclass(frozen=True)
class OandaSettings:
    """The OANDA v20 venue. The token comes from ``$OANDA_TOKEN`` only (never this file); the
    account id from ``account_id`` or, when empty, ``$OANDA_ACCOUNT_ID``."""

    environment: OandaEnvironment = "practice"
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


#: Base WebSocket URL of each cluster (old hosts: socket.polygon.io, delayed.polygon.io).
POLYGON_URLS: dict[PolygonCluster, str] = {
    "realtime": "wss://socket.massive.com",
    "delayed": "wss://delayed.massive.com",
    "local": "ws://127.0.0.1:8091",
}


@dataclass(frozen=True)
class PolygonSettings:
    """Polygon.io / Massive market data over WebSocket. The key comes from
    ``$MASSIVE_API_KEY`` (or ``$POLYGON_API_KEY``) only, never this file."""

    cluster: PolygonCluster = "realtime"
    url: str = ""  # empty: the cluster's, e.g. "ws://10.0.0.5:8091" for a polygon-sim elsewhere
    instruments: tuple[str, ...] = ()  # empty: the paper broker's 20 pairs
    trades: bool = False  # also subscribe to trades (stocks and crypto)
    bars: Literal["", "second", "minute"] = ""  # also subscribe to aggregates
    queue_frames: int = 4096  # frames read but not yet parsed; beyond, the oldest gives way
    reconnect_backoff_s: float = 0.5  # first reconnect delay, doubled (with jitter) per failure
    max_backoff_s: float = 30.0

    def resolved_url(self) -> str:
        return (self.url or POLYGON_URLS.get(self.cluster, POLYGON_URLS["realtime"])).rstrip("/")


@dataclass(frozen=True)
class KillSwitchSettings:
    flatten: bool = False  # close every position on engage, then cancel what is left


@dataclass(frozen=True)
class UiSettings:
    #: Frames a second at most: a change is drawn when it arrives, or at the next frame when
    #: one was drawn less than 1/fps ago. 100 draws each engine push (every 10 ms) at once.
    fps: int = 100
    theme: str = "tmt-dark"  # a tmt theme or any Textual built-in; an unknown name: tmt-dark
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    confirm_close: bool = True  # `x` asks before closing a position
    #: The terminal bell on a fill or a reject: "on", "off", or "auto" (on, but off over SSH,
    #: where a bell can mean a beep on someone else's laptop)
    bell: Literal["auto", "on", "off"] = "auto"


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
class ServeSettings:
    """`tmt serve`: the workstation in a browser (the page asks for the control API's token)."""

    host: str = "127.0.0.1"  # loopback only unless allow_remote
    port: int = 8765
    allow_remote: bool = False  # a non-loopback host needs this (and a TLS proxy with auth)
    max_tabs: int = 8  # browser tabs at once, each a `tmt attach` process; more are turned away

    def validate(self, source: str = "<serve>") -> None:
        """Raise ValueError naming the first key that cannot be used."""
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{source}: key 'serve.port' must be between 0 and 65535")
        if self.max_tabs < 1:
            raise ValueError(f"{source}: key 'serve.max_tabs' must be at least 1")
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"{source}: key 'serve.host' must be a loopback address unless "
                "serve.allow_remote = true (behind a TLS reverse proxy with authentication)"
            )


#: The in-engine alert rules (monitoring/alerts.py), by the names `halt_on` takes.
ALERT_RULES = ("quote_stale", "daily_loss", "margin", "reject_burst", "ack_latency")


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
    halt_on: tuple[str, ...] = ()  # rules whose alert engages the kill switch, e.g. ["margin"]

    def validate(self, source: str = "<monitoring>") -> None:
        """Raise ValueError naming the first key that cannot be used.

        A method rather than a rule in ``checks``, because monitoring code checks its table on
        its own, without a whole ``Settings``."""

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
        unknown = [rule for rule in self.halt_on if rule not in ALERT_RULES]
        if unknown:
            raise bad("halt_on", f"alert rules among {', '.join(ALERT_RULES)} ({unknown[0]!r}?)")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: Whether to use TimescaleDB: "auto" when the extension is available, "off" for plain tables.
TimescaleUse = Literal["auto", "off"]


@dataclass(frozen=True)
class SyncSettings:
    """History sync of the journal into PostgreSQL / TimescaleDB (tmt_tui/sync). The DSN comes
    only from ``$TMT_PG_DSN`` (its password from the DSN, PGPASSFILE or PGPASSWORD), never from
    this file, so a config can be shared without the database's password in it."""

    enabled: bool = False  # run the sync beside the engine (it never holds up an order)
    batch_rows: int = 5000  # journal rows per database transaction, per table
    poll_interval_s: float = 1.0  # how often a caught-up sync looks for new rows
    backoff_s: float = 1.0  # first wait after a database error, doubled per failure ...
    max_backoff_s: float = 30.0  # ... up to this
    connect_timeout_s: float = 5.0  # an unreachable host is given up after this long
    lag_alert_s: float = 60.0  # "sync lagging" once the oldest unsynced row is this old
    prune_ticks_after_days: float = 0.0  # drop synced ticks this old from the journal; 0: never
    timescale: TimescaleUse = "auto"  # hypertables when the extension is available
    compress_after_days: int = 7  # TimescaleDB: compress chunks older than this; 0: never
    retention_days: int = 0  # TimescaleDB: drop ticks older than this from the database; 0: never

    def validate(self, source: str = "<sync>") -> None:
        """Raise ValueError naming the first key that cannot be used (as monitoring does: the
        sync process checks its table on its own, without a whole ``Settings``)."""
        for key in ("batch_rows", "poll_interval_s", "backoff_s", "max_backoff_s",
                    "connect_timeout_s", "lag_alert_s"):  # fmt: skip
            if not getattr(self, key) > 0:
                raise ValueError(f"{source}: key 'sync.{key}' must be positive")
        if self.max_backoff_s < self.backoff_s:
            raise ValueError(f"{source}: key 'sync.max_backoff_s' must be at least backoff_s")
        for key in ("prune_ticks_after_days", "compress_after_days", "retention_days"):
            if getattr(self, key) < 0:
                raise ValueError(f"{source}: key 'sync.{key}' must be zero (off) or positive")


@dataclass(frozen=True)
class Settings:
    engine: EngineSettings = field(default_factory=EngineSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    oanda: OandaSettings = field(default_factory=OandaSettings)
    polygon: PolygonSettings = field(default_factory=PolygonSettings)
    kill_switch: KillSwitchSettings = field(default_factory=KillSwitchSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    accounts: tuple[AccountSettings, ...] = ()
    source: str = "<defaults>"

    def broker_of(self, account: AccountSettings) -> str:
        """The venue that executes ``account``'s orders."""
        return account.broker or self.engine.broker

    def brokers(self) -> tuple[str, ...]:
        """Every venue some account trades on, in the accounts' order."""
        return tuple(dict.fromkeys(self.broker_of(a) for a in self.accounts))

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
