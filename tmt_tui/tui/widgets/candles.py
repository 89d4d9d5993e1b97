"""A candle chart of one instrument through Textual's Line API: closed candles cached, only the
live one redrawn.

One column per candle, newest on the right beside a price axis; a wick (`│`) from high to low
and a body from open to close, solid (`█`) when the close is up and shaded (`▒`) when it is
down, so the direction reads without colour. The engine's indicator lines (EMAs, SMA and
Bollinger bands) are dotted behind the candles where they fall inside the candles' range (the
scale is the candles', so a wide band never squashes them). The closed candles only change
when a bar closes (or the scale moves), so their rows are built once into cached segments; a
live tick rebuilds one column and refreshes only that column's region.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tmt_tui.domain.market import BAR_SECONDS, Candles, LiveBar
from tmt_tui.tui.state import QuerySchedule
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: The bar size a chart starts at, and how often it asks for its live candle (seconds).
DEFAULT_SIZE = "M1"
LIVE_INTERVAL = 0.5
#: Cells on the right for the price axis (a space, then the price).
AXIS_W = 11
NO_DATA = "no bars yet"
#: Each indicator line: its glyph and component class, drawn in this order (later on top).
LINES: tuple[tuple[str, str, str], ...] = (
    ("bb_upper", "˙", "band"),
    ("bb_lower", "˙", "band"),
    ("sma", "-", "sma"),
    ("ema_slow", "•", "ema-slow"),
    ("ema_fast", "·", "ema-fast"),
)
UP_BODY, DOWN_BODY, WICK = "█", "▒", "│"
_KINDS = ("up", "down", "live", "ema-fast", "ema-slow", "sma", "band", "muted")

Cell = tuple[str, str]  # (glyph, component class name; "" for none)


def column_cells(row_of: Scale, o: float, h: float, low: float, c: float) -> dict[int, Cell]:
    """One candle's cells by row: the wick, then the body over it."""
    kind = "up" if c >= o else "down"
    cells = {r: (WICK, kind) for r in range(row_of(h), row_of(low) + 1)}
    body = UP_BODY if kind == "up" else DOWN_BODY
    for r in range(row_of(max(o, c)), row_of(min(o, c)) + 1):
        cells[r] = (body, kind)
    return cells


class Scale:
    """Prices from ``low`` to ``high`` onto ``rows`` rows, the highest on row 0."""

    def __init__(self, low: float, high: float, rows: int) -> None:
        self.low, self.high, self.rows = low, high, rows

    def __call__(self, value: float) -> int:
        span = self.high - self.low
        if span <= 0 or self.rows <= 1:
            return self.rows // 2
        row = round((self.high - value) / span * (self.rows - 1))
        return min(max(row, 0), self.rows - 1)

    def covers(self, low: float, high: float) -> bool:
        return self.low <= low and high <= self.high


class CandleChart(Widget, can_focus=True):
    """Candles of one instrument at one bar size, indicator lines, and the live candle.

    Hand it the engine's answer with `show(candles)` and the precision to print prices at; it
    keeps the closed candles' rows until the next answer changes them.
    """

    COMPONENT_CLASSES = {
        "candle-chart--up",
        "candle-chart--down",
        "candle-chart--live",
        "candle-chart--ema-fast",
        "candle-chart--ema-slow",
        "candle-chart--sma",
        "candle-chart--band",
        "candle-chart--muted",
    }
    """
    | Class | Description |
    | :- | :- |
    | `candle-chart--up` / `--down` | Candles that closed up (`$profit`) or down (`$loss`). |
    | `candle-chart--live` | The text style of the live candle (bold). |
    | `candle-chart--ema-fast` / `--ema-slow` / `--sma` / `--band` | The indicator lines. |
    | `candle-chart--muted` | The caption, the axis and "no bars yet". |
    """

    DEFAULT_CSS = """
    CandleChart { height: 1fr; min-height: 3; }
    CandleChart > .candle-chart--up { color: $profit; }
    CandleChart > .candle-chart--down { color: $loss; }
    CandleChart > .candle-chart--live { text-style: bold; }
    CandleChart > .candle-chart--ema-fast { color: $accent; }
    CandleChart > .candle-chart--ema-slow { color: $warning; }
    CandleChart > .candle-chart--sma { color: $secondary; }
    CandleChart > .candle-chart--band { color: $foreground 40%; }
    """ + trading_css("CandleChart", "candle-chart", ("muted",))

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._style = ComponentStyles(self, "candle-chart")
        self.candles: Candles | None = None
        #: What it follows: the board's selected instrument, at the bar size picked by key.
        self.instrument: str | None = None
        self.bar_size = DEFAULT_SIZE
        #: When to ask the engine again: at once on a new instrument or size, then every
        #: ``LIVE_INTERVAL`` (the live candle), and never while the chart is hidden.
        self.schedule = QuerySchedule(LIVE_INTERVAL)
        self.precision = 5
        self.problem = ""
        self._scale: Scale | None = None
        self._closed_rows: list[list[Segment]] = []  # one cached run of segments per plot row
        self._live_cells: dict[int, Cell] = {}
        self._shown = 0  # closed candles drawn
        self._laid_for: tuple[int, int] = (0, 0)
        self._colours: tuple[Style, ...] = ()
        #: How often the closed candles were laid out (a test reads it: a live tick must not).
        self.layouts = 0

    # what it shows -------------------------------------------------------------------------

    def follow(self, instrument: str) -> None:
        """Chart ``instrument`` from now on (asked for at the next frame)."""
        if instrument != self.instrument:
            self.instrument = instrument
            self.schedule.stale = True

    def step_size(self, step: int) -> str:
        """The next (``step`` 1) or previous (-1) bar size; returns it."""
        sizes = list(BAR_SECONDS)
        self.bar_size = sizes[(sizes.index(self.bar_size) + step) % len(sizes)]
        self.schedule.stale = True
        return self.bar_size

    @property
    def capacity(self) -> int:
        """How many candles fit: one a column, the axis aside (what to ask the engine for)."""
        return max(1, self.size.width - AXIS_W)

    def show(self, candles: Candles | None, precision: int | None = None) -> None:
        """The engine's answer: closed candles laid out again only if they changed."""
        if precision is not None:
            self.precision = precision
        old = self.candles
        self.candles = candles
        if (
            old is not None
            and candles is not None
            and (old.instrument, old.size, old.starts, old.closes)
            == (candles.instrument, candles.size, candles.starts, candles.closes)
            and old.lines == candles.lines
        ):
            self.show_live(candles.live)
            return
        self._layout()
        self.refresh()

    def show_live(self, live: LiveBar | None) -> None:
        """A new live candle: one column redrawn, unless it leaves the scale."""
        candles = self.candles
        if candles is None:
            return
        if candles.live != live:
            self.candles = _with_live(candles, live)
        scale = self._scale
        if scale is None or (live is not None and not scale.covers(live.low, live.high)):
            self._layout()
            self.refresh()
            return
        self._live_cells = self._live_column(scale)
        x = self._shown
        self.refresh(Region(x, 1, 1, scale.rows), Region(0, 0, self.size.width, 1))

    # layout --------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._layout()
        self.refresh()

    def notify_style_update(self) -> None:
        """A theme change recolours the cached rows; a focus change (same colours) does not."""
        super().notify_style_update()
        self._style.clear()
        try:
            colours = tuple(self._style(name) for name in _KINDS)
        except KeyError:  # mounting: the component styles are not there yet
            return
        if colours != self._colours:
            self._colours = colours
            if self.candles is not None:
                self._layout()

    def _layout(self) -> None:
        """The scale, and the closed candles' rows as cached segments."""
        self.layouts += 1
        width, height = self.size.width, self.size.height
        self._laid_for = (width, height)
        self._closed_rows, self._live_cells, self._scale = [], {}, None
        candles = self.candles
        rows = height - 1
        if candles is None or rows < 1 or width <= AXIS_W:
            return
        room = width - AXIS_W - 1  # one column kept for the live candle
        first = max(0, len(candles) - room)
        self._shown = len(candles) - first
        prices = [*candles.lows[first:], *candles.highs[first:]]  # lines do not stretch it
        if candles.live is not None:
            prices += [candles.live.low, candles.live.high]
        if not prices:
            return
        scale = self._scale = Scale(min(prices), max(prices), rows)
        grid: list[list[Cell]] = [[(" ", "")] * self._shown for _ in range(rows)]
        for name, glyph, kind in LINES:
            values = candles.lines.get(name, ())[first:]
            for x, value in enumerate(values):
                if value is not None and scale.low <= value <= scale.high:
                    grid[scale(value)][x] = (glyph, kind)
        for x in range(self._shown):
            i = first + x
            cells = column_cells(
                scale, candles.opens[i], candles.highs[i], candles.lows[i], candles.closes[i]
            )
            for r, cell in cells.items():
                grid[r][x] = cell
        self._closed_rows = [self._segments(row) for row in grid]
        self._live_cells = self._live_column(scale)

    def _live_column(self, scale: Scale) -> dict[int, Cell]:
        live = self.candles.live if self.candles is not None else None
        if live is None:
            return {}
        return column_cells(scale, live.open, live.high, live.low, live.close)

    def _segments(self, cells: Sequence[Cell]) -> list[Segment]:
        """A row of cells as few segments as styles allow."""
        out: list[Segment] = []
        run, kind = "", None
        for glyph, name in cells:
            if name != kind and run:
                out.append(Segment(run, self._style(kind) if kind else Style()))
                run = ""
            run, kind = run + glyph, name
        if run:
            out.append(Segment(run, self._style(kind) if kind else Style()))
        return out

    # painting ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if (width, self.size.height) != self._laid_for:
            self._layout()
        muted, base = self._style("muted"), self.rich_style
        if y == 0:
            return (
                Strip([Segment(self._caption(), muted)])
                .crop(0, width)
                .adjust_cell_length(width, base)
            )
        scale = self._scale
        if scale is None:
            text = self.problem or NO_DATA
            line = [Segment(text, muted)] if y == 1 else []
            return Strip(line).crop(0, width).adjust_cell_length(width, base)
        row = y - 1
        if row >= scale.rows:
            return Strip.blank(width, base)
        segments = list(self._closed_rows[row]) if row < len(self._closed_rows) else []
        glyph, kind = self._live_cells.get(row, (" ", ""))
        live_style = self._style(kind) + self._style("live") if kind else Style()
        segments.append(Segment(glyph, live_style))
        label = self._axis_label(row, scale)
        segments.append(Segment(f" {label:>{AXIS_W - 1}}"[: AXIS_W + 1], muted))
        return Strip(segments).adjust_cell_length(width, base)

    def _axis_label(self, row: int, scale: Scale) -> str:
        """A price on the first, last and every fourth row between."""
        if row not in (0, scale.rows - 1) and row % 4:
            return ""
        span = scale.high - scale.low
        value = scale.high - (span * row / (scale.rows - 1) if scale.rows > 1 else 0.0)
        return f"{value:.{self.precision}f}"

    def _caption(self) -> str:
        candles = self.candles
        if candles is None:
            return self.problem or "chart: waiting for the engine"
        last = candles.live.close if candles.live is not None else None
        if last is None and candles.closes:
            last = candles.closes[-1]
        shown = "" if last is None else f" {last:.{self.precision}f}"
        return (
            f"{candles.instrument} {candles.size}{shown}  [ ] size  · ema9 • ema21 - sma20 ˙ bands"
        )


def _with_live(candles: Candles, live: LiveBar | None) -> Candles:
    return replace(candles, live=live)
