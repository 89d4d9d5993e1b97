"""The rules a well-typed config must still pass: ranges, keys that must agree, OS limits.

Loading has already checked every type and closed choice; these run once on the complete
``Settings`` and name the first key that cannot be used, because a value the engine cannot run
with (an interval of 0 spins it, a negative loss limit halts it at once) belongs to the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tmt_tui.config.schema import ConfigError, Settings, is_loopback

#: The built-in simulated market's pairs, the names ``sim.instruments`` may list. Their price
#: models live in ``venues/sim/universe.py`` (a layer config does not import); a test keeps the
#: two the same.
SIM_INSTRUMENTS: tuple[str, ...] = (
    "EUR_USD", "GBP_USD", "USD_JPY", "USD_CHF", "AUD_USD", "USD_CAD", "NZD_USD", "EUR_JPY",
    "GBP_JPY", "EUR_GBP", "AUD_JPY", "EUR_CHF", "AUD_CAD", "GBP_CHF", "EUR_AUD", "CAD_JPY",
    "NZD_JPY", "AUD_NZD", "CHF_JPY", "GBP_AUD",
)  # fmt: skip

#: The bar sizes market state builds (``domain.market.BAR_SECONDS``), as retention names them.
BAR_SIZES: tuple[str, ...] = ("S5", "M1", "M5", "M15", "H1")

#: A Unix socket's ``sun_path`` holds 108 bytes including the terminating NUL.
MAX_SOCKET_PATH_BYTES = 107

# Ranges of the settings whose useful values are bounded on both sides.
MAX_INTERVAL_MS = 60_000  # engine timers: a minute of unflushed ticks or unpublished marks
MAX_EQUITY_SNAPSHOT_S = 86_400.0
MAX_SIM_TICKS_PER_SECOND = 1_000.0  # per instrument
MAX_SIM_VOLATILITY_SCALE = 100.0
#: Money and sizes stay far inside what exact decimal arithmetic and SQLite's 64-bit integers
#: carry (a balance of 1e24 once crashed the start; a loss limit of 1e999999999 overflowed every
#: limit check): a trillion of any currency, a trillion units (the commands' own bound).
MAX_MONEY = 10**12
MAX_UNITS = 10**12
MAX_LEVERAGE = 1_000
MAX_COLLAR_PCT = 100


def socket_path_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot name a Unix socket (``"is N bytes, over the 107-byte limit ..."``),
    or None if it can."""
    size = len(os.fsencode(path))
    if size > MAX_SOCKET_PATH_BYTES:
        return f"is {size} bytes, over the {MAX_SOCKET_PATH_BYTES}-byte limit of Unix socket paths"
    return None


def _checker(source: str) -> Callable[[str, Any, bool, str], None]:
    """``check(key, value, ok, allowed)``: raise ConfigError naming the key unless ``ok``."""

    def check(key: str, value: Any, ok: bool, allowed: str) -> None:
        if not ok:
            shown = repr(value) if isinstance(value, str) else value
            raise ConfigError(f"{source}: key '{key}' must be {allowed}, got {shown}")

    return check


def validate_settings(settings: Settings) -> None:
    """Raise ConfigError naming the file and the first key whose value cannot be used."""
    source = settings.source
    check = _checker(source)
    if not settings.accounts:
        raise ConfigError(f"{source}: at least one [[accounts]] table is required")
    seen: set[str] = set()
    for i, account in enumerate(settings.accounts):
        at = f"accounts[{i}]"
        if not (account.id or settings.broker_of(account) == "oanda") or account.id in seen:
            raise ConfigError(f"{source}: key '{at}.id' must be a unique, non-empty string")
        seen.add(account.id)
        check(
            f"{at}.currency",
            account.currency,
            _is_currency(account.currency),
            "a 3-letter upper-case code (USD)",
        )
        check(
            f"{at}.balance",
            account.balance,
            0 <= account.balance <= MAX_MONEY,
            f"between 0 and {MAX_MONEY:,}",
        )
        risk = account.risk
        for name in (
            "max_order_units", "max_position_units", "max_working_orders",
            "max_orders_per_second",
        ):  # fmt: skip
            value = getattr(risk, name)
            check(
                f"{at}.risk.{name}", value, 1 <= value <= MAX_UNITS, f"between 1 and {MAX_UNITS:,}"
            )
        for name, most in (
            ("max_order_notional", MAX_MONEY),
            ("daily_loss_limit", MAX_MONEY),
            ("max_leverage", MAX_LEVERAGE),
            ("price_collar_pct", MAX_COLLAR_PCT),
            ("max_quote_age_s", MAX_EQUITY_SNAPSHOT_S),
        ):
            value = getattr(risk, name)
            check(f"{at}.risk.{name}", value, 0 < value <= most, f"in (0, {most:,}]")
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
        "a 3-letter upper-case code (USD)",
    )
    check("engine.backfill_bars", engine.backfill_bars, 0 <= engine.backfill_bars <= 5000,
          "between 0 (none) and 5,000 (OANDA's most candles a request)")  # fmt: skip
    for size, days in engine.bar_retention_days.items():
        check(f"engine.bar_retention_days.{size}", size, size in BAR_SIZES,
              f"one of {', '.join(BAR_SIZES)}")  # fmt: skip
        check(f"engine.bar_retention_days.{size}", days, days > 0, "a positive number of days")
    _check_venues(settings)

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
    for name in ("rest_url", "stream_url"):
        url = getattr(oanda, name)
        check(
            f"oanda.{name}",
            url,
            not url or url.startswith(("https://", "http://")),
            "empty (the environment's host) or an http(s):// URL",
        )
    twice = sorted({n for n in oanda.instruments if oanda.instruments.count(n) > 1})
    if twice:
        raise ConfigError(
            f"{source}: key 'oanda.instruments' names {', '.join(twice)} more than once"
        )
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
        settings.sync.validate(source)
        settings.serve.validate(source)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    fps = settings.ui.fps
    check("ui.fps", fps, 1 <= fps <= 120, "between 1 and 120")


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def _is_currency(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def _check_venues(settings: Settings) -> None:
    """The feeds and the accounts' venues agree: an OANDA account trades at OANDA's prices
    (its feed comes first), paper accounts trade at the first feed's, the others are compared."""
    source, engine = settings.source, settings.engine
    check = _checker(source)
    feeds = engine.market_data
    if not feeds or len(set(feeds)) != len(feeds):
        raise ConfigError(
            f"{source}: key 'engine.market_data' must list one feed or more, each once "
            f"(got {list(feeds)!r})"
        )
    for name in ("feeds_apart_pips", "feeds_apart_for_s"):
        value = getattr(engine, name)
        check(f"engine.{name}", value, 0 < value <= 10_000, "in (0, 10,000]")
    brokers = settings.brokers()
    rest = [f for f in feeds[1:] if f != "polygon"]
    if rest:
        raise ConfigError(
            f"{source}: key 'engine.market_data': {rest[0]!r} can only come first (the prices "
            'accounts trade at); only "polygon" can be shown beside another feed'
        )
    if "oanda" in brokers and feeds[0] != "oanda":
        raise ConfigError(
            f"{source}: key 'engine.market_data' must start with \"oanda\": the OANDA account "
            f"is marked and risk-checked at OANDA's own prices (write market_data = "
            f"{_toml_list(['oanda', *(f for f in feeds if f not in ('oanda', 'sim'))])})"
        )
    if feeds[0] == "oanda" and "oanda" not in brokers:
        raise ConfigError(
            f"{source}: key 'engine.market_data' starts with \"oanda\" but no account trades "
            'there: give one [[accounts]] table broker = "oanda" (or engine.broker = "oanda")'
        )
    if "polygon" in feeds:
        polygon = settings.polygon
        check("polygon.queue_frames", polygon.queue_frames, polygon.queue_frames >= 16, ">= 16")
        check(
            "polygon.reconnect_backoff_s", polygon.reconnect_backoff_s,
            0 < polygon.reconnect_backoff_s <= polygon.max_backoff_s,
            "positive and at most polygon.max_backoff_s",
        )  # fmt: skip
        if not polygon.resolved_url().startswith(("ws://", "wss://")):
            raise ConfigError(f"{source}: key 'polygon.url' must start with ws:// or wss://")
    if "oanda" not in brokers:
        return
    oanda = settings.oanda
    if oanda.environment == "live" and not oanda.i_understand_this_is_live:
        raise ConfigError(
            f'{source}: oanda.environment = "live" trades real money: set '
            "oanda.i_understand_this_is_live = true to confirm"
        )
    if sum(settings.broker_of(a) == "oanda" for a in settings.accounts) != 1:
        raise ConfigError(
            f"{source}: the oanda venue trades one account: exactly one [[accounts]] table "
            'with broker "oanda" is required (its risk limits apply; its id, currency and '
            "balance come from OANDA)"
        )
