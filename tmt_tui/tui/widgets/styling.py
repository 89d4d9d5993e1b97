"""Theme colours for widgets that paint Rich text: their component classes as segment styles.

A widget declares `COMPONENT_CLASSES` such as `risk-gauges--profit` and styles them in its
`DEFAULT_CSS` with theme variables (`color: $profit;`); `ComponentStyles` reads them back as Rich
styles once per stylesheet update, so a theme switch recolours the widget and no colour object
is ever handed down from the app.
"""

from __future__ import annotations

from decimal import Decimal

from rich.style import Style
from textual.widget import Widget


class ComponentStyles:
    """A widget's `<prefix>--<name>` component classes as Rich styles for segments, cached.

    The colour is resolved against the widget's background (so `$foreground 55%` is a real
    colour), and the background is left out unless the class sets one: a coloured number on
    the cursor row keeps the cursor's background. Call `clear()` from `notify_style_update`.
    """

    def __init__(self, widget: Widget, prefix: str) -> None:
        self._widget = widget
        self._prefix = prefix
        self._cache: dict[str, Style] = {}

    def __call__(self, name: str) -> Style:
        """The style of component class `<prefix>--<name>`."""
        style = self._cache.get(name)
        if style is None:
            style = self._cache[name] = self._resolve(f"{self._prefix}--{name}")
        return style

    def _resolve(self, component: str) -> Style:
        widget = self._widget
        full = widget.get_component_rich_style(component)
        own = widget.get_component_rich_style(component, partial=True)
        colours = Style.from_color(full.color, full.bgcolor if own.bgcolor is not None else None)
        return colours + own.without_color

    def signed(self, value: float | Decimal) -> Style:
        """`profit` above zero, `loss` below, no colour at zero."""
        if value > 0:
            return self("profit")
        if value < 0:
            return self("loss")
        return Style()

    def clear(self) -> None:
        """Forget the resolved styles: the theme or the stylesheet changed."""
        self._cache.clear()


def trading_css(widget: str, prefix: str, names: tuple[str, ...]) -> str:
    """`DEFAULT_CSS` rules colouring `<prefix>--<name>` with the theme variable of that name.

    `muted` is the foreground faded into the background, `warning` is Textual's own.
    """
    colours = {"muted": "$foreground 55%", "warning": "$warning"}
    bold = {"halted", "reducing"}
    rules = []
    for name in names:
        colour = colours.get(name, f"${name}")
        weight = " text-style: bold;" if name in bold else ""
        rules.append(f"{widget} > .{prefix}--{name} {{ color: {colour};{weight} }}")
    return "\n".join(rules) + "\n"
