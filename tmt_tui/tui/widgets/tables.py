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

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, Cells] = {}
        self._order: list[str] = []
        self._follow: str | None = None  # a key to put the cursor on once it is shown
        self._style = ComponentStyles(self, "keyed-table")

    def on_mount(self) -> None:
        for key, label, _ in self.COLUMNS:
            self.add_column(label, key=key)  # sized to content: never a cut number or id
        self.app.theme_changed_signal.subscribe(self, self._recolour)

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
        if keys != self._order:
            self._rebuild(rows)
            self._catch_follow()
            return
        columns = [column for column, _, _ in self.COLUMNS]
        for key, cells in rows:
            old = self._shown.get(key, ())
            changed = _changed_columns(old, cells)
            for i in changed:
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
        for key, cells in rows:
            if key in existing:
                for i in _changed_columns(self._shown.get(key, ()), cells):
                    self.update_cell(key, columns[i], cells[i], update_width=True)
            else:
                self.add_row(*cells, key=key)
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

    Status sits before TP/SL so it is on screen at 80 columns without scrolling sideways.
    """

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
