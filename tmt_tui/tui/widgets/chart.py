"""A small line chart in braille: a caption over the series, legible without colour.

Our own widget rather than textual-plot: one line series per chart is all the analytics pane
draws, and ~100 lines here cost less than a plotting dependency (and its plotext-era API) in a
trading workstation. Each cell is a 2x4 braille dot grid, so a 30x5 chart has 60x20 points; the
series is bucketed down to the dot columns by index (min and max per bucket, joined to the
previous bucket, so spikes survive thinning and the line never breaks).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: Fewest seconds between two redraws of one chart (at most four a second).
REDRAW_INTERVAL = 0.25
NO_DATA = "no data yet"
_BRAILLE = 0x2800
#: The bit of each braille dot, by [dot row][dot column].
_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
_TRADING_NAMES = ("line", "muted")


def braille_rows(series: Sequence[float], width: int, height: int) -> list[str]:
    """The series drawn as `height` strings of `width` braille cells (blank cells are spaces).

    Highest value on the top dot row, lowest on the bottom one; a flat series is drawn midway;
    a series shorter than the dot columns is stretched across them, a longer one bucketed.
    An empty series (or no room) draws nothing.
    """
    if not series or width <= 0 or height <= 0:
        return []
    dot_rows, columns = height * 4, width * 2
    if len(series) < columns:  # stretch a short series across the width, step by step
        last = len(series) - 1
        series = [series[round(c * last / max(columns - 1, 1))] for c in range(columns)]
    n = len(series)
    low, high = min(series), max(series)
    span = high - low

    def dot_row(value: float) -> int:
        if span <= 0:
            return dot_rows // 2
        return (dot_rows - 1) - round((value - low) / span * (dot_rows - 1))

    cells = [[0] * width for _ in range(height)]
    previous: float | None = None
    for column in range(columns):
        bucket = series[column * n // columns : (column + 1) * n // columns]
        values = [*bucket, previous] if previous is not None else list(bucket)
        top, bottom = dot_row(max(values)), dot_row(min(values))
        for row in range(top, bottom + 1):
            cells[row // 4][column // 2] |= _DOTS[row % 4][column % 2]
        previous = bucket[-1]
    return ["".join(chr(_BRAILLE + bits) if bits else " " for bits in row) for row in cells]


class Chart(Widget):
    """A caption line over a braille line chart of `series`; "no data yet" when it is empty.

    The series changes at most every few seconds, but a redraw is also held to `REDRAW_INTERVAL`
    and to when the chart is on screen: a hidden chart repaints when it is shown again.
    """

    COMPONENT_CLASSES = {f"chart--{name}" for name in _TRADING_NAMES}
    """
    | Class | Description |
    | :- | :- |
    | `chart--line` | The plotted series. |
    | `chart--muted` | The caption and the "no data" text. |
    """

    DEFAULT_CSS = """
    Chart {
        height: 1fr;
        min-height: 2;
    }
    Chart > .chart--line { color: $accent; }
    """ + trading_css("Chart", "chart", ("muted",))

    series: reactive[tuple[float, ...]] = reactive((), init=False, repaint=False)
    """The values to plot, oldest first (bounded: the engine sends at most 2,000)."""
    caption: reactive[str] = reactive("", init=False, repaint=False)
    """What the chart shows and its scale, on the first line (worked out by the feed)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._style = ComponentStyles(self, "chart")
        self._timer: Timer | None = None
        self._drawn_at = 0.0

    def watch_series(self) -> None:
        self._redraw_soon()

    def watch_caption(self) -> None:
        self._redraw_soon()

    def on_show(self) -> None:
        self._redraw_soon()

    def _redraw_soon(self) -> None:
        if self._timer is None:
            wait = max(0.01, self._drawn_at + REDRAW_INTERVAL - time.monotonic())
            self._timer = self.set_timer(wait, self._redraw, name="chart-redraw")

    def _redraw(self) -> None:
        self._timer = None
        if self.is_on_screen:
            self._drawn_at = time.monotonic()
            self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def render(self) -> RenderableType:
        muted = self._style("muted")
        caption = Text(self.caption, muted, no_wrap=True, overflow="ellipsis")
        if not self.series:
            return Group(caption, Text(NO_DATA, muted)) if self.caption else Text(NO_DATA, muted)
        size = self.content_size
        rows = braille_rows(self.series, size.width, max(size.height - 1, 1))
        line = self._style("line")
        return Group(caption, *(Text(row, line, no_wrap=True) for row in rows))
