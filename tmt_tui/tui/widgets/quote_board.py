"""The live quote board: one line per instrument, painted through Textual's Line API.

Quotes are the hottest data on screen, so each row is rendered once into a cached `Strip` and
only rows that ticked (or whose flash ended) are re-rendered and refreshed by region. A
`DataTable` would repaint everything on every tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tmt_tui.domain.market import Regime, Signal
from tmt_tui.tui.formatting import pips, price
from tmt_tui.tui.messages import InstrumentSelected
from tmt_tui.tui.state import QuoteRow
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

#: How long a changed bid/ask cell stays highlighted.
FLASH_SECONDS = 0.35
#: After the name of an instrument with an active price alert (a glyph, not only a colour).
ALERT_MARK = "◆"

_NAME_W, _PRICE_W, _SPREAD_W, _CHANGE_W = 8, 10, 5, 7
_FEED_W = 13  # " polygon +0.4"
_ROW_W = _NAME_W + 2 * _PRICE_W + _SPREAD_W + _CHANGE_W + 4  # a row up to its arrow
_REGIME_W, _SIGNAL_W = 9, 6  # "trend up", "sell"
_MARKET_W = 1 + _REGIME_W + 1 + _SIGNAL_W  # " Regime    Signal"
_MARKET_SHORT_W = 4  # " ↗ B": what fits beside the prices in the wide layout's 50 columns
#: How the engine's regimes read on the board: words, a glyph, a component class.
_REGIME_TEXT = {
    Regime.TRENDING_UP: ("trend up", "↗", "profit"),
    Regime.TRENDING_DOWN: ("trend dn", "↘", "loss"),
    Regime.RANGING: ("range", "↔", "muted"),
    Regime.VOLATILE: ("volatile", "≈", "loss"),
}
_SIGNAL_TEXT = {Signal.BUY: ("buy", "B", "profit"), Signal.SELL: ("sell", "S", "loss")}
_NO_MARKET = ("", "", "muted")


class QuoteBoard(Widget, can_focus=True):
    """Bid, ask, spread and change per instrument, with a cursor that picks what `b`/`s` trade.

    On a wide board, the engine's regime and signal per instrument follow; they are the first
    columns to go when the board narrows (a price and its change matter more).
    Rows flash in the theme's bid/ask colours when those prices change and show an arrow for
    the last move of the mid; the cursor row is highlighted.
    """

    COMPONENT_CLASSES = {
        "quote-board--header",
        "quote-board--cursor",
        "quote-board--cursor-blurred",
        "quote-board--bid",
        "quote-board--ask",
        "quote-board--bid-flash",
        "quote-board--ask-flash",
        "quote-board--profit",
        "quote-board--loss",
        "quote-board--muted",
        "quote-board--warning",
    }
    """
    | Class | Description |
    | :- | :- |
    | `quote-board--header` | The column titles. |
    | `quote-board--cursor` | The selected row while the board has focus. |
    | `quote-board--cursor-blurred` | The selected row while focus is elsewhere. |
    | `quote-board--bid` / `--ask` | Bid and ask prices (`$bid`, `$ask`). |
    | `quote-board--bid-flash` / `--ask-flash` | A bid or ask that just changed. |
    | `quote-board--profit` / `--loss` | Change since first seen, and the arrow of the last move. |
    | `quote-board--muted` | The dashes of an instrument without a quote yet. |
    | `quote-board--warning` | The marker of an instrument with an active price alert. |
    """

    DEFAULT_CSS = """
    QuoteBoard {
        height: 1fr;
        min-height: 3;
    }
    QuoteBoard > .quote-board--header {
        color: $text-muted;
        text-style: bold;
    }
    QuoteBoard > .quote-board--cursor {
        background: $accent 35%;
        text-style: bold;
    }
    QuoteBoard > .quote-board--cursor-blurred {
        background: $panel-lighten-2;
    }
    QuoteBoard > .quote-board--bid-flash {
        background: $bid;
        color: auto 90%;
        text-style: bold;
    }
    QuoteBoard > .quote-board--ask-flash {
        background: $ask;
        color: auto 90%;
        text-style: bold;
    }
    """ + trading_css(
        "QuoteBoard", "quote-board", ("bid", "ask", "profit", "loss", "muted", "warning")
    )

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="quotes-up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="quotes-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="quotes-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="quotes-page-down"),
        Binding("home", "jump(0)", "First", show=False, id="quotes-first"),
        Binding("end", "jump(-1)", "Last", show=False, id="quotes-last"),
    ]

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    """The row under the cursor: the instrument `b` and `s` trade."""

    #: What an empty board says (no watchlist yet, or an account that holds nothing).
    EMPTY_TEXT = "Nothing on the watchlist: w adds an instrument."

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[QuoteRow] = []
        self._index: dict[str, int] = {}
        self._strips: dict[int, Strip] = {}
        self._header: Strip | None = None
        self._feed_column = False  # the header names the other feeds' column
        self._flash_until: dict[int, float] = {}
        self._top = 0
        self._style = ComponentStyles(self, "quote-board")
        self.rows_rendered = 0  # rows painted since mount: lets tests see the cache work
        #: The trader's choice of rows (tui/board_view.py works them out from the model): the
        #: sort's name, the account whose view it is (None: the whole watchlist), and whether
        #: that choice changed since the rows were last set.
        self.sort = "manual"
        self.account: str | None = None
        self.reshape = True
        self.sorted_at = float("-inf")  # monotonic time the rows were last ordered
        self.empty_text = self.EMPTY_TEXT
        self.follow: str | None = None  # an instrument just added: the cursor goes to it

    # -- data in ---------------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        """The instrument under the cursor, or None while the board is empty."""
        if not self._rows:
            return None
        return self._rows[self.cursor].instrument.name

    @property
    def names(self) -> list[str]:
        """The instruments shown, top to bottom."""
        return [row.instrument.name for row in self._rows]

    def set_rows(self, rows: Sequence[QuoteRow]) -> None:
        """Show these rows (after a snapshot); the cursor stays on its instrument when it can."""
        selected = self.selected
        self._rows = list(rows)
        self._index = {row.instrument.name: i for i, row in enumerate(self._rows)}
        if self.follow in self._index:
            selected, self.follow = self.follow, None
        cursor = self._index.get(selected or "", min(self.cursor, len(self._rows) - 1))
        self.set_reactive(QuoteBoard.cursor, max(cursor, 0))
        self._flash_until.clear()
        self._invalidate_all()
        self._scroll_to_cursor()
        self._announce()

    def rows_changed(self, names: Iterable[str], now: float) -> None:
        """Re-render the rows of `names` (they ticked at monotonic time `now`) and flash them."""
        until = now + FLASH_SECONDS
        rows = [index for name in names if (index := self._index.get(name)) is not None]
        for index in rows:
            self._flash_until[index] = until
        if not self._feed_column and any(self._rows[i].compared for i in rows):
            self._invalidate_all()  # another feed appeared: its column, titled, on every row
            return
        self._invalidate_rows(rows)

    def expire_flashes(self, now: float) -> None:
        """Repaint rows whose flash has run out."""
        done = [index for index, until in self._flash_until.items() if until <= now]
        for index in done:
            del self._flash_until[index]
        self._invalidate_rows(done)

    def notify_style_update(self) -> None:
        """New styles (a theme switch, say): every row renders again in the theme's colours."""
        super().notify_style_update()
        self._style.clear()
        self._invalidate_all()

    # -- cursor ----------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * max(self._body_height() - 1, 1))

    def action_jump(self, where: int) -> None:
        self.move_cursor(len(self._rows) - 1 if where < 0 else where)

    def move_cursor(self, index: int) -> None:
        """Put the cursor on row `index` (clamped) and keep it in view."""
        if self._rows:
            self.cursor = index

    def select(self, instrument: str) -> None:
        """Move the cursor to `instrument` if the board shows it."""
        index = self._index.get(instrument)
        if index is not None:
            self.move_cursor(index)

    def validate_cursor(self, index: int) -> int:
        return max(0, min(index, len(self._rows) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._invalidate_rows((old, new))
        self._scroll_to_cursor()
        self._announce()

    def _announce(self) -> None:
        selected = self.selected
        if selected is not None and self.is_attached:
            self.screen.post_message(InstrumentSelected(selected))

    def _body_height(self) -> int:
        return max(self.size.height - 1, 1)

    def _scroll_to_cursor(self) -> None:
        height = self._body_height()
        top, cursor = self._top, self.cursor
        if cursor < top:
            top = cursor
        elif cursor >= top + height:
            top = cursor - height + 1
        top = max(0, min(top, max(len(self._rows) - height, 0)))
        if top != self._top:
            self._top = top
            self.refresh()

    # -- painting --------------------------------------------------------------------------

    def _invalidate_all(self) -> None:
        self._strips.clear()
        self._header = None
        self.refresh()

    def _invalidate_row(self, index: int) -> None:
        self._invalidate_rows((index,))

    def _invalidate_rows(self, rows: Iterable[int]) -> None:
        """Drop the cached strips of `rows` and repaint the visible ones, in one refresh."""
        width, height, top = self.size.width, self.size.height, self._top
        regions = []
        for index in rows:
            self._strips.pop(index, None)
            y = index - top + 1
            if 1 <= y < height:
                regions.append(Region(0, y, width, 1))
        if regions:
            self.refresh(*regions)

    def on_resize(self, event: events.Resize) -> None:
        self._invalidate_all()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self._invalidate_row(self.cursor)

    def on_blur(self) -> None:
        self._invalidate_row(self.cursor)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(self._top + event.y - 1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self.move_cursor(self.cursor + 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.move_cursor(self.cursor - 1)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            if self._header is None:
                self._header = self._render_header(width)
            return self._header
        index = self._top + y - 1
        if index >= len(self._rows):
            if index == 0:
                muted = self.get_component_rich_style("quote-board--muted")
                return Strip([Segment(self.empty_text, muted)]).adjust_cell_length(width, muted)
            return Strip.blank(width, self.rich_style)
        strip = self._strips.get(index)
        if strip is None:
            strip = self._strips[index] = self._render_row(index, width)
        return strip

    def _show_change(self, width: int) -> bool:
        return width >= _ROW_W

    def _show_feed(self, width: int) -> bool:
        """Room for another feed's gap in pips, after the change column and the arrow."""
        return width >= _ROW_W + _FEED_W

    def _market_at(self, width: int) -> int:
        """Where the regime and signal start: after the arrow, or after another feed's gap."""
        return _ROW_W + (_FEED_W if self._feed_column and self._show_feed(width) else 0)

    def _market_form(self, width: int) -> str:
        """How the regime and signal fit after every other column: "full" (words), "short" (a
        glyph and a letter: the wide layout's board), or "" (no room: they go first)."""
        used = self._market_at(width)
        if width >= used + _MARKET_W:
            return "full"
        return "short" if width >= used + _MARKET_SHORT_W else ""

    def _render_header(self, width: int) -> Strip:
        style = self.get_component_rich_style("quote-board--header")
        text = f"{'Pair':<{_NAME_W}}{'Bid':>{_PRICE_W}}{'Ask':>{_PRICE_W}}{'Spr':>{_SPREAD_W + 1}}"
        self._feed_column = any(r.compared for r in self._rows)
        if self._show_change(width):
            narrow_feed = self._feed_column and not self._show_feed(width)
            text += f"{'Δfeed' if narrow_feed else 'Chg':>{_CHANGE_W + 1}}"
        if self._show_feed(width) and self._feed_column:
            text += f"{'':2}{'Other feed':>{_FEED_W}}"
        form = self._market_form(width)
        if form:
            text = f"{text:<{self._market_at(width)}}"
        if form == "full":
            text += f" {'Regime':<{_REGIME_W}} {'Signal':<{_SIGNAL_W}}"
        elif form == "short":
            text += f"{'Mkt':>{_MARKET_SHORT_W}}"
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

    def _render_row(self, index: int, width: int) -> Strip:
        self.rows_rendered += 1
        row = self._rows[index]
        style = self._style
        instrument = row.instrument
        quote = row.quote
        flashing = index in self._flash_until
        if index == self.cursor:
            cursor_class = (
                "quote-board--cursor" if self.has_focus else "quote-board--cursor-blurred"
            )
            base = self.get_component_rich_style(cursor_class)
        else:
            base = Style()
        name_style = base if instrument.tradeable else base + style("muted")
        segments = [Segment(f"{instrument.name:<{_NAME_W - 1}}", name_style)]
        if row.price_alerts:  # the trader's price alerts wait on it
            segments.append(Segment(ALERT_MARK, base + style("warning")))
        elif len(instrument.name) < _NAME_W:
            segments.append(Segment(" ", base))
        if quote is None:
            segments.append(Segment(f"{'—':>{_PRICE_W}}{'—':>{_PRICE_W}}", base + style("muted")))
            return Strip(segments).adjust_cell_length(width, base)
        precision = instrument.display_precision
        bid_style = style("bid-flash" if flashing and row.bid_move else "bid")
        ask_style = style("ask-flash" if flashing and row.ask_move else "ask")
        spread = pips(quote.spread, instrument.pip_location)
        segments += [
            Segment(f"{price(quote.bid, precision):>{_PRICE_W}}", base + bid_style),
            Segment(f"{price(quote.ask, precision):>{_PRICE_W}}", base + ask_style),
            Segment(f"{spread:>{_SPREAD_W + 1}.1f}", base),
        ]
        other = row.compared
        gap_style = base + style("loss" if other is not None and other.apart else "muted")
        if self._show_change(width) and self._feed_column and not self._show_feed(width):
            # no room for both: the gap to another feed matters more than the day's change
            gap = "" if other is None else f"{other.gap_pips:+.1f}"
            segments.append(Segment(f"{gap:>{_CHANGE_W + 1}}", gap_style))
        elif self._show_change(width):
            change = pips(quote.mid - (row.first_mid or quote.mid), instrument.pip_location)
            segments.append(Segment(f"{change:>+{_CHANGE_W + 1}.1f}", base + style.signed(change)))
        if other is not None and other.apart:
            segments.append(Segment(" ≠", base + style("loss")))  # the feeds disagree
        elif row.direction > 0:
            segments.append(Segment(" ▲", base + style("profit")))
        elif row.direction < 0:
            segments.append(Segment(" ▼", base + style("loss")))
        else:
            segments.append(Segment("  ", base))
        if self._feed_column and self._show_feed(width):
            text = "" if other is None else f"{other.feed[:6]:>7} {other.gap_pips:+.1f}"
            segments.append(Segment(f"{text:>{_FEED_W}}", gap_style))
        form = self._market_form(width)
        if form:
            segments += self._market_cells(row, base, form == "full")
        return Strip(segments).adjust_cell_length(width, base)

    def _market_cells(self, row: QuoteRow, base: Style, full: bool) -> list[Segment]:
        """The regime and signal the engine sent for this row (blank while it warms up)."""
        market = row.market
        regime = _REGIME_TEXT.get(market.regime, _NO_MARKET) if market else _NO_MARKET
        signal = _SIGNAL_TEXT.get(market.signal, _NO_MARKET) if market else _NO_MARKET
        if full:
            cells = (f" {regime[0]:<{_REGIME_W}}", f" {signal[0]:<{_SIGNAL_W}}")
        else:
            cells = (f" {regime[1]:1}", f" {signal[1]:1}")
        return [
            Segment(cells[0], base + self._style(regime[2])),
            Segment(cells[1], base + self._style(signal[2])),
        ]
