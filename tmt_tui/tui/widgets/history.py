"""The blotter: the engine's closed trades, newest first, as a keyed table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.reactive import var

from tmt_tui.domain.history import ClosedTrade
from tmt_tui.tui.formatting import clock, duration, price, signed_money, units
from tmt_tui.tui.state import QuerySchedule
from tmt_tui.tui.widgets.tables import Cells, KeyedTable

#: Seconds between two questions to the engine while the blotter is on screen (a fill asks now).
HISTORY_INTERVAL = 2.0
TradesShown = tuple[tuple[ClosedTrade, int | None], ...]


class TradeBlotter(KeyedTable):
    """Closed trades: when, which account and pair, size, prices, result, time held, MAE/MFE
    and why it closed. `account` and `instrument` are the filters the trader picked (`a`, `i`;
    None: all)."""

    COLUMNS = (
        ("closed", "Closed", 8),
        ("account", "Account", 7),
        ("instrument", "Pair", 7),
        ("units", "Units", 9),
        ("open", "Open", 8),
        ("close", "Close", 8),
        ("realized", "Realized", 10),
        ("held", "Held", 5),
        ("mae", "MAE", 7),
        ("mfe", "MFE", 7),
        ("reason", "Why", 14),
    )

    trades: var[TradesShown] = var((), init=False)
    """The engine's closed trades, newest first, each with its instrument's precision."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.account: str | None = None
        self.instrument: str | None = None  # `i`: only this pair (None: every pair)
        self.schedule = QuerySchedule(HISTORY_INTERVAL)

    def show(self, trades: Sequence[ClosedTrade], precisions: Mapping[str, int]) -> None:
        """These trades (newest first) and the display precision of each instrument."""
        self.trades = tuple((trade, precisions.get(trade.instrument)) for trade in trades)

    @property
    def selected_trade(self) -> ClosedTrade | None:
        """The trade under the cursor, if any."""
        key = self.selected_key
        return next((t for t, _ in self.trades if f"{t.account}:{t.trade_id}" == key), None)

    def watch_trades(self) -> None:
        self.sync()

    def build_rows(self) -> list[tuple[str, Cells]]:
        signed = self._style.signed
        rows: list[tuple[str, Cells]] = []
        for trade, precision in self.trades:
            cells = (
                Text(clock(trade.close_ts)),
                Text(trade.account),
                Text(trade.instrument),
                Text(units(trade.units), signed(trade.units), justify="right"),
                Text(price(trade.open_price, precision), justify="right"),
                Text(price(trade.close_price, precision), justify="right"),
                Text(signed_money(trade.realized_pl), signed(trade.realized_pl), justify="right"),
                Text(duration(trade.holding_s), justify="right"),
                Text(price(trade.mae, precision), justify="right"),
                Text(price(trade.mfe, precision), justify="right"),
                Text(trade.reason),
            )
            rows.append((f"{trade.account}:{trade.trade_id}", cells))
        return rows
