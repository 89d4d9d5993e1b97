"""Themes from `resources/themes/*.toml` as Textual `Theme`s, with the trading colours in them.

Trading colours (bid, ask, profit, loss, halted, reducing) are theme variables, so CSS says
`$profit`. Widgets that paint Rich segments take them through their `COMPONENT_CLASSES`
(`color: $profit;` in `DEFAULT_CSS`, read back with `get_component_rich_style`), so a theme
switch recolours every widget with nothing handed down.
"""

from __future__ import annotations

import tomllib
from importlib import resources

from textual.color import Color, ColorParseError
from textual.theme import Theme

#: Every theme must define these variables; other themes (Textual's built-ins) get these defaults.
TRADING_VARIABLE_DEFAULTS: dict[str, str] = {
    "bid": "#58a6ff",
    "ask": "#ff7b72",
    "profit": "#3fb950",
    "loss": "#f85149",
    "halted": "#b31d28",
    "reducing": "#9e6a03",
}

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "warning",
    "error",
    "success",
    "foreground",
)
_ALLOWED_KEYS = frozenset({"name", "dark", "variables", *_COLOUR_KEYS})


class ThemeFileError(ValueError):
    """A theme file that cannot be used, naming the file and the key."""


def parse_theme(text: str, source: str) -> Theme:
    """A `Theme` from TOML text; unknown keys, missing trading variables or bad colours raise."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"{source}: not valid TOML: {exc}") from None
    unknown = sorted(set(table) - _ALLOWED_KEYS)
    if unknown:
        raise ThemeFileError(f"{source}: unknown key(s) {', '.join(unknown)}")
    if not isinstance(table.get("name"), str) or "primary" not in table:
        raise ThemeFileError(f"{source}: keys 'name' and 'primary' are required")
    variables = table.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{source}: key 'variables' must be a table")
    missing = sorted(set(TRADING_VARIABLE_DEFAULTS) - set(variables))
    if missing:
        raise ThemeFileError(f"{source}: [variables] lacks {', '.join(missing)}")
    for key, value in [*((k, table[k]) for k in _COLOUR_KEYS if k in table), *variables.items()]:
        try:
            Color.parse(str(value))
        except ColorParseError:
            raise ThemeFileError(f"{source}: key '{key}' is not a colour: {value!r}") from None
    colours = {k: str(table[k]) if k in table else None for k in _COLOUR_KEYS}
    return Theme(
        name=table["name"],
        primary=str(table["primary"]),
        secondary=colours["secondary"],
        accent=colours["accent"],
        background=colours["background"],
        surface=colours["surface"],
        panel=colours["panel"],
        warning=colours["warning"],
        error=colours["error"],
        success=colours["success"],
        foreground=colours["foreground"],
        dark=bool(table.get("dark", True)),
        variables={str(k): str(v) for k, v in variables.items()},
    )


def load_themes() -> list[Theme]:
    """Every theme shipped in the package's `resources/themes` folder, sorted by name."""
    folder = resources.files("tmt_tui").joinpath("resources/themes")
    themes = [
        parse_theme(entry.read_text("utf-8"), f"themes/{entry.name}")
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    ]
    return sorted(themes, key=lambda theme: theme.name)
