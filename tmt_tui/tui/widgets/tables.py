"""Positions and orders as DataTables, updated by key and by diff a few times a second.

Both are low-churn next to quotes, so a `DataTable` is fine here, provided updates come
inside `batch_update()`, touch only cells that changed, and never re-measure widths. Each table
holds what it shows in a reactive and builds its cells from it, so a theme switch can colour
every cell again without waiting for the engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual import events
from textual.reactive import var
from textual.theme import Theme
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from tmt_tui.domain.instruments import Instrument
from tmt_tui.domain.orders import Order, OrderStatus, OrderType
from tmt_tui.domain.positions import Position
from tmt_tui.tui.formatting import money, price, signed_money, units
from tmt_tui.tui.widgets.styling import ComponentStyles, trading_css

Cells = tuple[Text, ...]
#: An item on show with its instrument's display precision (None when the instrument is unknown).
Shown = tuple[tuple[Position, int | None], ...]
OrdersShown = tuple[tuple[Order, int | None], ...]
_TRADING_NAMES = ("bid", "ask", "profit", "loss", "muted")

_TYPE_SHORT = {
    OrderType.MARKET: "MKT",
    OrderType.LIMIT: "LMT",
    OrderType.STOP: "STP",
    OrderType.TAKE_PROFIT: "TP",
    OrderType.STOP_LOSS: "SL",
    OrderType.TRAILING_STOP_LOSS: "TSL",
}


class KeyedTable(DataTable[Text]):
    """A DataTable kept equal to a list of keyed rows by adding, updating and removing only diffs.

    When only cell values change, just those cells are updated; when the order of keys changes
    the rows are rebuilt, keeping the cursor on the same key. Subclasses build the rows from
    what they hold in `build_rows()` and call `sync()` when that changes.
    """

    COMPONENT_CLASSES = {f"keyed-table--{name}" for name in _TRADING_NAMES}
    """
    | Class | Description |
    | :- | :- |
    | `keyed-table--bid` / `--ask` | A buy / a sell. |
    | `keyed-table--profit` / `--loss` | Signed amounts; a fill / a rejection. |
    | `keyed-table--muted` | Orders that are done. |
    """

    DEFAULT_CSS = """
    KeyedTable {
        height: 1fr;
    }
    """ + trading_css("KeyedTable", "keyed-table", _TRADING_NAMES)

    COLUMNS: tuple[tuple[str, str, int], ...] = ()  # (key, label, typical width)
    #: Columns that give way when the table is narrower than its content, the first first
    #: (``FLEX`` may be among them). Every other column is sized to its content, so a number
    #: or an id is shown whole or not at all.
    HIDE_FIRST: tuple[str, ...] = ()
    #: A free-text column (never a number or an id) that takes the width left over, cut short
    #: if it must, and hides only when less than ``FLEX_MIN`` cells are left for it.
    FLEX: str | None = None
    FLEX_MIN = 12

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, Cells] = {}
        self._order: list[str] = []
        self._follow: str | None = None  # a key to put the cursor on once it is shown
        self._style = ComponentStyles(self, "keyed-table")
        #: the columns on show and the flex column's width (None: its content's)
        self._fit: tuple[tuple[str, ...], int | None] = (self._keys(), None)

    @classmethod
    def _keys(cls) -> tuple[str, ...]:
        return tuple(key for key, _, _ in cls.COLUMNS)

    def on_mount(self) -> None:
        self._add_columns()
        self.app.theme_changed_signal.subscribe(self, self._recolour)

    def _add_columns(self) -> None:
        visible, flex_width = self._fit
        for key, label, _ in self.COLUMNS:
            if key in visible:  # sized to content: never a cut number or id
                self.add_column(label, key=key, width=flex_width if key == self.FLEX else None)

    def on_resize(self, event: events.Resize) -> None:
        self.sync()

    def fit_columns(
        self, rows: Sequence[tuple[str, Cells]], width: int
    ) -> tuple[tuple[str, ...], int | None]:
        """Which columns fit ``width`` cells with ``rows`` in them, and the flex column's width:
        columns hide in ``HIDE_FIRST`` order until the rest fit whole."""
        keys = self._keys()
        if width <= 0:  # not laid out yet (a hidden tab): show everything
            return keys, None
        pad = 2 * self.cell_padding
        content = {
            key: max([len(label)] + [cells[i].cell_len for _, cells in rows if i < len(cells)])
            for i, (key, label, _) in enumerate(self.COLUMNS)
        }

        def needed(columns: list[str]) -> int:
            return sum(
                pad + (min(content[c], self.FLEX_MIN) if c == self.FLEX else content[c])
                for c in columns
            )

        visible = list(keys)
        for key in self.HIDE_FIRST:
            if needed(visible) <= width:
                break
            visible.remove(key)
        if self.FLEX not in visible:
            return tuple(visible), None
        room = width - needed([c for c in visible if c != self.FLEX]) - pad
        if room < min(content[self.FLEX], self.FLEX_MIN):
            visible.remove(self.FLEX)
            return tuple(visible), None
        return tuple(visible), None if content[self.FLEX] <= room else room

    def build_rows(self) -> list[tuple[str, Cells]]:
        """(key, cells) for every row, in order, from what the table holds."""
        return []

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style.clear()

    def _recolour(self, theme: Theme) -> None:
        """A new theme: every cell is built again in its colours."""
        self._style.clear()
        self._shown = {key: () for key in self._shown}
        self.sync()

    @property
    def selected_key(self) -> str | None:
        """The key of the row under the cursor, or None for an empty table."""
        if not self._order:
            return None
        row = min(max(self.cursor_row, 0), len(self._order) - 1)
        return self._order[row]

    def follow(self, key: str) -> None:
        """Put the cursor on `key`'s row, now or as soon as it is shown (an order just sent)."""
        self._follow = key
        self._catch_follow()

    def _catch_follow(self) -> None:
        if self._follow is not None and self._follow in self._shown:
            self.move_cursor(row=self._order.index(self._follow), animate=False)
            self._follow = None

    def sync(self) -> None:
        """Make the table show `build_rows()` in their order, by the smallest change."""
        rows = self.build_rows()
        keys = [key for key, _ in rows]
        fit = self.fit_columns(rows, self.scrollable_content_region.width - 1)
        if fit != self._fit:  # other columns on show: lay the table out again
            selected = self.selected_key
            self._fit = fit
            self.clear(columns=True)
            self._add_columns()
            self._order, self._shown = [], {}
            self._rebuild(rows)
            if selected in self._shown:
                self.move_cursor(row=self._order.index(selected), animate=False)
            self._catch_follow()
            return
        if keys != self._order:
            self._rebuild(rows)
            self._catch_follow()
            return
        columns = [column for column, _, _ in self.COLUMNS]
        visible = self._fit[0]
        for key, cells in rows:
            old = self._shown.get(key, ())
            changed = _changed_columns(old, cells)
            for i in changed:
                if columns[i] in visible:
                    self.update_cell(key, columns[i], cells[i], update_width=True)
            if changed:
                self._shown[key] = cells

    def _rebuild(self, rows: Sequence[tuple[str, Cells]]) -> None:
        selected = self.selected_key
        wanted = {key for key, _ in rows}
        for key in [k for k in self._order if k not in wanted]:
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(key)
        keep_order = [k for k in self._order if k in wanted]
        prefix_ok = keep_order == [key for key, _ in rows][: len(keep_order)]
        if not prefix_ok:
            self.clear()
            keep_order = []
        existing = set(keep_order)
        columns = [column for column, _, _ in self.COLUMNS]
        visible = self._fit[0]
        shown = [i for i, column in enumerate(columns) if column in visible]
        for key, cells in rows:
            if key in existing:
                for i in _changed_columns(self._shown.get(key, ()), cells):
                    if columns[i] in visible:
                        self.update_cell(key, columns[i], cells[i], update_width=True)
            else:
                self.add_row(*(cells[i] for i in shown), key=key)
        self._order = [key for key, _ in rows]
        self._shown = dict(rows)
        if selected in self._shown:
            self.move_cursor(row=self._order.index(selected), animate=False)
        elif self._order:
            self.move_cursor(row=min(self.cursor_row, len(self._order) - 1), animate=False)


class PositionsTable(KeyedTable):
    """Open positions per account and instrument, with the engine's P&L and margin."""

    positions: var[Shown] = var((), init=False)
    """The engine's open positions in key order, each with its display precision."""

    COLUMNS = (
        ("account", "Account", 7),
        ("instrument", "Pair", 7),
        ("units", "Units", 10),
        ("avg", "Avg", 8),
        ("upl", "uP&L", 10),
        ("realized", "Real.", 9),
        ("margin", "Margin", 9),
    )

    def show(
        self, positions: Mapping[str, Position], instruments: Mapping[str, Instrument]
    ) -> None:
        """The engine's open positions (by key) and the instruments that say their precision."""
        self.positions = tuple(
            (pos, _precision(instruments, pos.instrument)) for _, pos in sorted(positions.items())
        )

    def watch_positions(self) -> None:
        self.sync()

    def build_rows(self) -> list[tuple[str, Cells]]:
        signed = self._style.signed
        rows: list[tuple[str, Cells]] = []
        for pos, precision in self.positions:
            cells = (
                Text(pos.account),
                Text(pos.instrument),
                Text(units(pos.units), signed(pos.units), justify="right"),
                Text(price(pos.avg_price, precision), justify="right"),
                Text(signed_money(pos.unrealized_pl), signed(pos.unrealized_pl), justify="right"),
                Text(signed_money(pos.realized_pl), signed(pos.realized_pl), justify="right"),
                Text(money(pos.margin_used), justify="right"),
            )
            rows.append((pos.key, cells))
        return rows


class OrdersTable(KeyedTable):
    """Working orders first, then the latest finished ones, with status and reject reason.

    Narrow, columns give way in this order: the account, the take-profit, the reason, the
    stop-loss, then the type (at 80 columns the stop-loss stays: it is what limits a loss);
    id, pair, side, size, price and status always stay, each whole. The reason takes the width
    left over, cut short if it must (the log and the notification have it in full).
    """

    HIDE_FIRST = ("account", "tp", "reason", "sl", "type")
    FLEX = "reason"

    orders: var[OrdersShown] = var((), init=False)
    """The orders on show, in the engine model's display order, each with its precision."""

    COLUMNS = (
        ("id", "Id", 6),
        ("account", "Account", 7),
        ("instrument", "Pair", 7),
        ("side", "Side", 4),
        ("units", "Units", 9),
        ("type", "Type", 4),
        ("price", "Price", 8),
        ("status", "Status", 9),
        ("tp", "TP", 8),
        ("sl", "SL", 8),
        ("reason", "Reason", 30),
    )

    def show(self, orders: Sequence[Order], instruments: Mapping[str, Instrument]) -> None:
        """These orders in this order, and the instruments that say their precision."""
        self.orders = tuple((order, _precision(instruments, order.instrument)) for order in orders)

    def watch_orders(self) -> None:
        self.sync()

    def build_rows(self) -> list[tuple[str, Cells]]:
        style = self._style
        rows: list[tuple[str, Cells]] = []
        for order, precision in self.orders:
            live = not order.status.is_terminal
            dim = style("muted") if not live else None
            status_style = {
                OrderStatus.REJECTED: style("loss"),
                OrderStatus.FILLED: style("profit"),
            }.get(order.status, dim)
            cells = (
                Text(order.id, dim or ""),
                Text(order.account, dim or ""),
                Text(order.instrument, dim or ""),
                Text(order.side, style("bid" if order.units > 0 else "ask")),
                Text(units(order.units, signed=False), dim or "", justify="right"),
                Text(_TYPE_SHORT.get(order.type, order.type.value), dim or ""),
                Text(price(order.price, precision), dim or "", justify="right"),
                Text(_status_label(order.status), status_style or ""),
                Text(price(order.take_profit, precision), dim or "", justify="right"),
                Text(price(order.stop_loss, precision), dim or "", justify="right"),
                Text(order.reason, style("loss") if order.status is OrderStatus.REJECTED else ""),
            )
            rows.append((order.id, cells))
        return rows


def _precision(instruments: Mapping[str, Instrument], name: str) -> int | None:
    instrument = instruments.get(name)
    return instrument.display_precision if instrument else None


def _changed_columns(old: Cells, new: Cells) -> list[int]:
    """Indexes of cells whose text or style differ (Rich's Text equality ignores the style)."""
    return [
        i
        for i, cell in enumerate(new)
        if i >= len(old) or old[i].plain != cell.plain or old[i].style != cell.style
    ]


def _status_label(status: OrderStatus) -> str:
    return "PARTIAL" if status is OrderStatus.PARTIALLY_FILLED else status.value
