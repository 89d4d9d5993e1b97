"""TOML text to ``Settings``: every key checked against the dataclass annotations, then the rules.

The conversion reads the schema by reflection, so a new field needs no loader code; an unknown
key, a wrong type or a value outside a ``Literal`` fails with the file, the key and what was
expected, because a typo in a risk limit must never silently fall back to a default.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from tmt_tui.config.checks import validate_settings
from tmt_tui.config.schema import ConfigError, Settings

#: The packaged defaults, inside the ``tmt_tui`` package so the wheel carries them.
DEFAULT_CONFIG = "resources/config/default.toml"


def default_config_text() -> str:
    return resources.files("tmt_tui").joinpath(DEFAULT_CONFIG).read_text("utf-8")


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


def parse_settings(text: str, source: str) -> Settings:
    """Settings from TOML text; ``source`` names the file in every error."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    engine = table.get("engine")
    if isinstance(engine, dict) and isinstance(engine.get("market_data"), str):
        engine["market_data"] = [engine["market_data"]]  # before feeds were a list: one feed
    settings: Settings = _build(Settings, table, "", source)
    settings = dataclasses.replace(settings, source=source)
    validate_settings(settings)
    return settings


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


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        values = {str: "strings", float: "numbers", int: "integers"}
        return f"a table of {values.get(typing.get_args(tp)[1], 'values')}"
    if origin is Literal:
        return f"one of {', '.join(map(repr, typing.get_args(tp)))}"
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
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise bad()
        (_, value_type) = typing.get_args(tp)
        return {k: _convert(v, value_type, f"{where}.{k}", source) for k, v in value.items()}
    if origin is Literal:
        # exact type as well as value: TOML's true must not pass for a choice of 1
        if not any(type(value) is type(c) and value == c for c in typing.get_args(tp)):
            raise bad()
        return value
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
