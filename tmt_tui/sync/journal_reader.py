"""The journal's rows past a watermark, read from the file read-only beside the engine.

The connection is ``mode=ro`` (no lock: the engine owns the journal) and every read is one
short transaction: a reader that held a snapshot open would keep the engine's WAL checkpoints
from completing (store/journal.py ``checkpoint_wal``). Each stream is read by its journal key
(``seq`` for events and the changing rows, ``rowid`` for ticks and equity), which only grows.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Row = tuple[Any, ...]

#: Each stream's journal key and table: the watermark is the largest key copied.
STREAM_KEYS: dict[str, tuple[str, str]] = {
    "events": ("seq", "events"),
    "ticks": ("rowid", "ticks"),
    "equity": ("rowid", "equity"),
    "orders": ("seq", "orders"),
    "positions": ("seq", "positions"),
}
STREAMS = tuple(STREAM_KEYS)


class JournalUnreadable(Exception):
    """The journal cannot be read (missing, not a tmt journal): said with its path."""


class JournalReader:
    """One journal, open read-only for the sync."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise JournalUnreadable(f"{path}: no such journal")
        try:
            self.conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            meta = dict(self.conn.execute("select key, value from meta").fetchall())
            events = {r[1] for r in self.conn.execute("pragma table_info(events)")}
            equity = {r[1] for r in self.conn.execute("pragma table_info(equity)")}
        except sqlite3.Error as exc:
            raise JournalUnreadable(f"{path}: cannot read it as a tmt journal ({exc})") from None
        if meta.get("app") != "tmt-journal" or not meta.get("journal_id"):
            raise JournalUnreadable(f"{path}: not a tmt journal (or one without a journal id)")
        self.path = path
        self.journal_id = str(meta["journal_id"])
        self._hash = "hash" if "hash" in events else "null"
        self._rates = "report_currency, report_rate" if "report_rate" in equity else "null, null"

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One consistent read, as short as the caller keeps it."""
        self.conn.execute("begin")
        try:
            yield
        finally:
            self.conn.execute("commit")

    # the streams ------------------------------------------------------------------------------

    def events_after(self, seq: int, limit: int, since: float | None = None) -> list[Row]:
        """(seq, ts, kind, origin, data, hash) past ``seq``, at most ``limit``."""
        return self._rows(
            f"select seq, ts, kind, origin, data, {self._hash} from events where seq > ? "
            "and ts >= ? order by seq limit ?",
            seq, since, limit,
        )  # fmt: skip

    def ticks_after(self, rowid: int, limit: int, since: float | None = None) -> list[Row]:
        """(rowid, ts, instrument, bid, ask) past ``rowid``."""
        return self._rows(
            "select rowid, ts, instrument, bid, ask from ticks where rowid > ? and ts >= ? "
            "order by rowid limit ?",
            rowid, since, limit,
        )  # fmt: skip

    def equity_after(self, rowid: int, limit: int, since: float | None = None) -> list[Row]:
        """(rowid, ts, account, balance, equity, unrealized_pl, margin_used, trading_state,
        report_currency, report_rate) past ``rowid``."""
        return self._rows(
            "select rowid, ts, account, balance, equity, unrealized_pl, margin_used, "
            f"trading_state, {self._rates} from equity where rowid > ? and ts >= ? "
            "order by rowid limit ?",
            rowid, since, limit,
        )  # fmt: skip

    def orders_after(self, seq: int, limit: int, since: float | None = None) -> list[Row]:
        """Every column of the orders rows changed past ``seq`` (``seq`` last): whole groups of
        a sequence number, so a watermark never falls between two rows one commit wrote."""
        return self._grouped(
            "select id, account, instrument, units, type, status, price, take_profit, "
            "stop_loss, trade_id, filled_units, avg_fill_price, reason, origin, created_ts, "
            "updated_ts, seq from orders where seq > ? and coalesce(updated_ts, 0) >= ? "
            "order by seq limit ?",
            (seq, -1e300 if since is None else since, limit),
        )

    def positions_after(self, seq: int, limit: int, since: float | None = None) -> list[Row]:
        """(key, account, instrument, units, avg_price, realized_pl, trades, seq) past ``seq``
        (a position row has no time of its own: ``since`` keeps them all)."""
        return self._grouped(
            "select key, account, instrument, units, avg_price, realized_pl, trades, seq "
            "from positions where seq > ? order by seq limit ?",
            (seq, limit),
        )

    def orders_by_id(self, ids: Sequence[str]) -> list[Row]:
        """The orders rows (as :meth:`orders_after` gives them) of ``ids``, by primary key."""
        found: list[Row] = []
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found += self.conn.execute(
                "select id, account, instrument, units, type, status, price, take_profit, "
                "stop_loss, trade_id, filled_units, avg_fill_price, reason, origin, created_ts, "
                f"updated_ts, seq from orders where id in ({marks})",
                chunk,
            ).fetchall()
        return found

    def order_keys(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Order id -> (account, instrument), for the fills an events batch holds."""
        found: dict[str, tuple[str, str]] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for order_id, account, instrument in self.conn.execute(
                f"select id, account, instrument from orders where id in ({marks})", chunk
            ):
                found[order_id] = (account, instrument)
        return found

    # how far behind ---------------------------------------------------------------------------

    def heads(self) -> dict[str, int]:
        """Each append-only stream's largest key now (0: empty)."""
        return {
            name: int(
                self.conn.execute(f"select coalesce(max({key}), 0) from {table}").fetchone()[0]
            )
            for name, (key, table) in STREAM_KEYS.items()
            if name in ("events", "ticks", "equity")
        }

    def event_at(self, seq: int) -> tuple[float, str, str | None] | None:
        """(ts, kind, hash) of the event ``seq`` (None: the journal has no such event)."""
        row = self.conn.execute(
            f"select ts, kind, {self._hash} from events where seq = ?", (seq,)
        ).fetchone()
        return None if row is None else (float(row[0]), str(row[1]), row[2])

    def first_ts_after(self, stream: str, key_value: int) -> float | None:
        """When the first row past ``key_value`` of an append-only stream was written."""
        key, table = STREAM_KEYS[stream]
        row = self.conn.execute(
            f"select ts from {table} where {key} > ? order by {key} limit 1", (key_value,)
        ).fetchone()
        return None if row is None else float(row[0])

    # helpers ----------------------------------------------------------------------------------

    def _rows(self, sql: str, key: int, since: float | None, limit: int) -> list[Row]:
        return self.conn.execute(sql, (key, -1e300 if since is None else since, limit)).fetchall()

    def _grouped(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        """Rows ordered by ``seq`` (their last column), at most ``limit`` (the last parameter),
        without a partial group at the end; a group bigger than ``limit`` comes whole."""
        limit = int(params[-1])
        rows = self.conn.execute(sql, params).fetchall()
        if len(rows) < limit or not rows:
            return rows
        last = rows[-1][-1]
        whole = [r for r in rows if r[-1] < last]
        if whole:
            return whole
        # one commit changed more rows than a batch holds: take that whole group
        group_sql = sql.replace("where seq > ?", "where seq = ?").rsplit(" limit ?", 1)[0]
        return self.conn.execute(group_sql, (last, *params[1:-1])).fetchall()
