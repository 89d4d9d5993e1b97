"""Themes from `resources/themes/*.toml` as Textual `Theme`s, and trading colours as Rich styles.

Trading colours (bid, ask, profit, loss, halted, reducing) are theme variables so `.tcss` can say
`$profit`; Line-API widgets paint Rich styles, so `Palette` resolves the same variables for them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from rich.style import Style
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


@dataclass(frozen=True, slots=True)
class Palette:
    """The current theme's trading colours as Rich styles, for widgets that paint Rich segments."""

    bid: Style
    ask: Style
    bid_flash: Style
    ask_flash: Style
    profit: Style
    loss: Style
    halted: Style
    reducing: Style
    muted: Style
    warning: Style
    error: Style

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        """Resolve the theme variables (as `App.theme_variables` holds them) to Rich styles."""

        def colour(name: str, fallback: str = "#888888") -> Color:
            raw = variables.get(name) or TRADING_VARIABLE_DEFAULTS.get(name, fallback)
            try:
                return Color.parse(raw)
            except ColorParseError:
                return Color.parse(fallback)

        background = colour("background", "#000000")
        foreground = colour("foreground", "#ffffff")

        def flash(name: str) -> Style:
            tint = colour(name)
            text = background if tint.brightness > 0.5 else foreground
            return Style(color=text.rich_color, bgcolor=tint.rich_color, bold=True)

        return cls(
            bid=Style(color=colour("bid").rich_color),
            ask=Style(color=colour("ask").rich_color),
            bid_flash=flash("bid"),
            ask_flash=flash("ask"),
            profit=Style(color=colour("profit").rich_color),
            loss=Style(color=colour("loss").rich_color),
            halted=Style(color=colour("halted").rich_color, bold=True),
            reducing=Style(color=colour("reducing").rich_color, bold=True),
            muted=Style(color=foreground.blend(background, 0.45).rich_color),
            warning=Style(color=colour("warning", "#d29922").rich_color),
            error=Style(color=colour("error", "#f85149").rich_color),
        )

    def signed(self, value: float | Decimal) -> Style:
        """Profit colour above zero, loss colour below, plain at zero."""
        if value > 0:
            return self.profit
        if value < 0:
            return self.loss
        return Style()
