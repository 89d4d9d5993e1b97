"""Typed, frozen, strict settings loaded once from TOML.

An unknown key, a wrong type or a value out of its range fails at start with the file, the key
and what was expected, because a typo in a risk limit must never silently fall back to a default
(nor an interval of 0 spin the engine). ``schema`` holds the dataclasses, ``loading`` reads and
converts the TOML, ``checks`` holds the ranges and the rules between keys; import from here.
"""

from __future__ import annotations

from tmt_tui.config.checks import (
    MAX_EQUITY_SNAPSHOT_S,
    MAX_INTERVAL_MS,
    MAX_SIM_TICKS_PER_SECOND,
    MAX_SIM_VOLATILITY_SCALE,
    MAX_SOCKET_PATH_BYTES,
    SIM_INSTRUMENTS,
    socket_path_problem,
    validate_settings,
)
from tmt_tui.config.loading import default_config_text, load_settings, parse_settings
from tmt_tui.config.schema import (
    OANDA_HOSTS,
    POLYGON_URLS,
    AccountSettings,
    ApiSettings,
    ConfigError,
    EngineSettings,
    KillSwitchSettings,
    MonitoringSettings,
    OandaEnvironment,
    OandaSettings,
    OnShutdown,
    PolygonSettings,
    RiskLimits,
    Settings,
    SimSettings,
    UiSettings,
    Venue,
    is_loopback,
)

__all__ = [
    "MAX_EQUITY_SNAPSHOT_S",
    "MAX_INTERVAL_MS",
    "MAX_SIM_TICKS_PER_SECOND",
    "MAX_SIM_VOLATILITY_SCALE",
    "MAX_SOCKET_PATH_BYTES",
    "OANDA_HOSTS",
    "POLYGON_URLS",
    "SIM_INSTRUMENTS",
    "AccountSettings",
    "ApiSettings",
    "ConfigError",
    "EngineSettings",
    "KillSwitchSettings",
    "MonitoringSettings",
    "OandaEnvironment",
    "OandaSettings",
    "PolygonSettings",
    "OnShutdown",
    "RiskLimits",
    "Settings",
    "SimSettings",
    "UiSettings",
    "Venue",
    "default_config_text",
    "is_loopback",
    "load_settings",
    "parse_settings",
    "socket_path_problem",
    "validate_settings",
]
