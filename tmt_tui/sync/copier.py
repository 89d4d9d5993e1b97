"""Journal rows into the database, exactly once: one bounded batch per table per transaction.

For each stream, the rows past its watermark are read from the journal (one short read-only
statement), COPYed into a staging table (a temp table emptied at each commit), merged into the
real table by the table's key, and the watermark moved, all in one database transaction. A
crash anywhere rolls the whole batch back, and a batch copied twice (a backfill beside a
running sync, a watermark restored from an older backup) is absorbed by the keys: append-only
rows insert ``on conflict do nothing``, changing rows upsert only when the incoming sequence
number is newer. Fills and alerts are derived from the events batch and merged with it.
:mod:`tmt_tui.sync.loop` runs a :class:`Copier` until stopped.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tmt_tui.sync.journal_reader import STREAMS, JournalReader, Row

log = logging.getLogger(__name__)

Conn = psycopg.Connection[tuple[Any, ...]]

# staging: the journal's own types; the merge converts (to_timestamp, ::numeric, ::jsonb) ------

_STAGING = {
    "events": "seq bigint, ts float8, kind text, origin text, data text, hash text",
    "ticks": "id bigint, ts float8, instrument text, bid text, ask text",
    "equity": "id bigint, ts float8, account text, balance text, equity text, "
    "unrealized_pl text, margin_used text, trading_state text, report_currency text, "
    "report_rate text",
    "fills": "seq bigint, ts float8, order_id text, fill_id text, account text, "
    "instrument text, units bigint, price text, conversion_rate text",
    "alerts": "seq bigint, ts float8, key text, active boolean, message text",
    "orders": "id text, account text, instrument text, units bigint, type text, status text, "
    "price text, take_profit text, stop_loss text, trade_id text, filled_units bigint, "
    "avg_fill_price text, reason text, origin text, created_ts float8, updated_ts float8, "
    "seq bigint",
    "positions": "key text, account text, instrument text, units bigint, avg_price text, "
    "realized_pl text, trades text, seq bigint",
}

_MERGES: dict[str, tuple[str, ...]] = {
    "events": (
        "insert into tmt.events (journal_id, seq, ts, kind, origin, data, hash) "
        "select %(j)s, seq, to_timestamp(ts), kind, origin, data::jsonb, hash "
        "from stage_events on conflict do nothing",
        "insert into tmt.fills (journal_id, seq, ts, order_id, fill_id, account, instrument, "
        "units, price, conversion_rate) select %(j)s, seq, to_timestamp(ts), order_id, fill_id, "
        "account, instrument, units, price::numeric, conversion_rate::numeric "
        "from stage_fills on conflict do nothing",
        "insert into tmt.alerts (journal_id, seq, ts, key, active, message) "
        "select %(j)s, seq, to_timestamp(ts), key, active, message "
        "from stage_alerts on conflict do nothing",
    ),
    "ticks": (
        "insert into tmt.ticks (journal_id, id, ts, instrument, bid, ask) "
        "select %(j)s, id, to_timestamp(ts), instrument, bid::numeric, ask::numeric "
        "from stage_ticks on conflict do nothing",
    ),
    "equity": (
        "insert into tmt.equity (journal_id, id, ts, account, balance, equity, unrealized_pl, "
        "margin_used, trading_state, report_currency, report_rate) "
        "select %(j)s, id, to_timestamp(ts), account, balance::numeric, equity::numeric, "
        "unrealized_pl::numeric, margin_used::numeric, trading_state, report_currency, "
        "report_rate::numeric from stage_equity on conflict do nothing",
    ),
    "orders": (
        "insert into tmt.orders (journal_id, id, account, instrument, units, type, status, "
        "price, take_profit, stop_loss, trade_id, filled_units, avg_fill_price, reason, origin, "
        "created_ts, updated_ts, seq) select %(j)s, id, account, instrument, units, type, "
        "status, price::numeric, take_profit::numeric, stop_loss::numeric, trade_id, "
        "filled_units, avg_fill_price::numeric, reason, origin, to_timestamp(created_ts), "
        "to_timestamp(updated_ts), seq from stage_orders "
        "on conflict (journal_id, id) do update set account = excluded.account, "
        "instrument = excluded.instrument, units = excluded.units, type = excluded.type, "
        "status = excluded.status, price = excluded.price, take_profit = excluded.take_profit, "
        "stop_loss = excluded.stop_loss, trade_id = excluded.trade_id, "
        "filled_units = excluded.filled_units, avg_fill_price = excluded.avg_fill_price, "
        "reason = excluded.reason, origin = excluded.origin, created_ts = excluded.created_ts, "
        "updated_ts = excluded.updated_ts, seq = excluded.seq "
        "where excluded.seq > tmt.orders.seq",
    ),
    "positions": (
        "insert into tmt.positions (journal_id, key, account, instrument, units, avg_price, "
        "realized_pl, trades, seq) select %(j)s, key, account, instrument, units, "
        "avg_price::numeric, realized_pl::numeric, trades::jsonb, seq from stage_positions "
        "on conflict (journal_id, key) do update set units = excluded.units, "
        "avg_price = excluded.avg_price, realized_pl = excluded.realized_pl, "
        "trades = excluded.trades, seq = excluded.seq where excluded.seq > tmt.positions.seq",
        # the lots a position lists are open; one it no longer lists has closed
        "insert into tmt.trades (journal_id, id, account, instrument, units, initial_units, "
        "price, open_ts, realized_pl, open, seq) select %(j)s, t->>'id', t->>'account', "
        "t->>'instrument', (t->>'units')::bigint, (t->>'initial_units')::bigint, "
        "(t->>'price')::numeric, to_timestamp((t->>'open_ts')::float8), "
        "coalesce((t->>'realized_pl')::numeric, 0), true, p.seq "
        "from stage_positions p, jsonb_array_elements(p.trades::jsonb) t "
        "on conflict (journal_id, id) do update set units = excluded.units, "
        "realized_pl = excluded.realized_pl, open = true, seq = excluded.seq "
        "where excluded.seq >= tmt.trades.seq",
        "update tmt.trades t set open = false, units = 0, seq = p.seq from stage_positions p "
        "where t.journal_id = %(j)s and t.account = p.account and t.instrument = p.instrument "
        "and t.open and t.seq < p.seq and not exists (select 1 from "
        "jsonb_array_elements(p.trades::jsonb) x where x->>'id' = t.id)",
    ),
}

_WATERMARK = (
    "insert into tmt.sync_state (journal_id, stream, watermark, updated) "
    "values (%(j)s, %(s)s, %(w)s, now()) on conflict (journal_id, stream) do update "
    "set watermark = greatest(tmt.sync_state.watermark, excluded.watermark), updated = now()"
)


class JournalMismatch(Exception):
    """The journal is not where the database says it got: behind it (restored from a backup,
    its rows renumbered) or another journal under the same id. Nothing is copied: rows written
    anew under keys the database already holds would be dropped by its keys, silently."""


_WHAT_TO_DO = (
    "nothing is copied until it is resolved: if this journal is the truth, delete journal "
    "{j}'s rows from the database's tmt tables (and its tmt.sync_state rows) and the sync "
    "copies it again from the start; if the database is, restore the newer journal"
)


def _order_id(data: str) -> str:
    """The order an ``order.*`` event names: ``order_id``, or the id of the ``order`` it holds."""
    try:
        found = json.loads(data)
    except ValueError:
        return ""
    order = found.get("order")
    if isinstance(order, dict):
        return str(order.get("id") or "")
    return str(found.get("order_id") or "")


def _jsonb_safe(text: str) -> str:
    """Event data as PostgreSQL's jsonb takes it: a NaN or infinity (which Python's json wrote)
    becomes null and a NUL character U+FFFD; anything else is passed through untouched."""
    if "NaN" not in text and "Infinity" not in text and "\\u0000" not in text:
        return text

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, str):
            return value.replace("\x00", "\ufffd")
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    try:
        return json.dumps(clean(json.loads(text)), separators=(",", ":"))
    except ValueError:
        return json.dumps({"unreadable": text.replace("\x00", "\ufffd")})


@dataclass
class Batch:
    """One stream's rows read from the journal, ready to stage."""

    stream: str
    rows: list[Row]
    last: int  # the watermark once merged
    derived: dict[str, list[Row]] = field(default_factory=dict)  # events: fills, alerts


class Copier:
    """Copies one journal into one database connection, a batch per stream at a time."""

    def __init__(self, conn: Conn, reader: JournalReader, batch_rows: int) -> None:
        self.conn = conn
        self.reader = reader
        self.journal_id = reader.journal_id
        self.batch_rows = batch_rows
        self.watermarks: dict[str, int] = {s: 0 for s in STREAMS}
        for name, columns in _STAGING.items():
            conn.execute(
                f"create temp table if not exists stage_{name} ({columns}) on commit delete rows"
            )
        self.load_watermarks()
        self.verify()

    def load_watermarks(self) -> dict[str, int]:
        """The database's word on how far this journal got (0 for a journal new to it)."""
        found = self.conn.execute(
            "select stream, watermark from tmt.sync_state where journal_id = %s",
            (self.journal_id,),
        ).fetchall()
        self.watermarks = {s: 0 for s in STREAMS} | {str(s): int(w) for s, w in found}
        return dict(self.watermarks)

    def check_heads(self) -> None:
        """JournalMismatch when any stream's newest journal key is below its watermark: the
        journal is behind the database (restored from a backup, or its rows renumbered), so
        its next rows would reuse keys the database holds and be dropped."""
        with self.reader.snapshot():
            heads = self.reader.heads()
        behind = {s: h for s, h in heads.items() if h < self.watermarks.get(s, 0)}
        if behind:
            said = ", ".join(
                f"{s} at {h:,} in the journal, {self.watermarks[s]:,} in the database"
                for s, h in behind.items()
            )
            raise JournalMismatch(
                f"journal {self.journal_id} ({self.reader.path}) is behind what the database "
                f"holds of it ({said}): restored from a backup, renumbered (VACUUM), or "
                "another box's copy; " + _WHAT_TO_DO.format(j=self.journal_id)
            )

    def verify(self) -> None:
        """JournalMismatch unless this journal is the one the database copied: no stream
        behind its watermark, and the event at the events watermark the same on both sides
        (its hash, store/chain.py; its kind and time for an event written before the chain)."""
        self.check_heads()
        seq = self.watermarks.get("events", 0)
        if seq <= 0:
            return
        with self.reader.snapshot():
            mine = self.reader.event_at(seq)
        theirs = self.conn.execute(
            "select extract(epoch from ts)::float8, kind, hash from tmt.events "
            "where journal_id = %s and seq = %s",
            (self.journal_id, seq),
        ).fetchone()
        if mine is None or theirs is None:
            return  # the database no longer holds it: nothing to compare
        same = mine[2] == theirs[2] and mine[1] == theirs[1] and abs(mine[0] - theirs[0]) < 1e-3
        if not same:
            raise JournalMismatch(
                f"journal {self.journal_id} ({self.reader.path}) is not the journal the "
                f"database copied under that id: event {seq:,} differs (a journal restored "
                "from a backup and written since, or another box's journal with the same id); "
                + _WHAT_TO_DO.format(j=self.journal_id)
            )

    def step(
        self,
        since: float | None = None,
        cursors: dict[str, int] | None = None,
        sweep: bool = True,
        pause: Callable[[float], object] | None = None,
    ) -> int:
        """One batch of every stream past its watermark, or past ``cursors`` (a backfill's own
        positions, moved here); returns the rows copied (0: caught up).

        A backfill from the start (``cursors`` at 0, no ``since``) covers every row up to where
        it got, so it moves the watermark on too; one with ``since`` skips older rows, so it
        leaves the watermark to the sync (which copies those again: the keys absorb them).

        The orders an events batch names are copied with it (by id: cheap); the orders stream
        itself, a scan of the journal's orders table by ``seq`` (which has no index), runs only
        with ``sweep``: the loop sweeps now and then for a change no event named. ``pause``
        is called after each batch with the seconds it took (the loop's pacing)."""
        marks = self.watermarks if cursors is None else cursors
        move = since is None
        copied = 0
        for stream in STREAMS:
            if stream == "orders" and not sweep:
                continue
            began = time.perf_counter()
            # each read is one statement, its own short read transaction: a snapshot held
            # while rows are worked on would keep the engine's WAL checkpoints from completing
            batch = self._read(stream, marks[stream], since)
            if batch is None:
                continue
            self._merge(batch, move)
            if pause is not None:
                pause(time.perf_counter() - began)
            copied += len(batch.rows)
            marks[stream] = batch.last
            if move and batch.last > self.watermarks[stream]:
                self.watermarks[stream] = batch.last
        return copied

    # reading ----------------------------------------------------------------------------------

    def _read(self, stream: str, after: int, since: float | None) -> Batch | None:
        r, n = self.reader, self.batch_rows
        if stream == "events":
            rows = r.events_after(after, n, since)
            if not rows:
                return None
            rows = [(*row[:4], _jsonb_safe(row[4]), row[5]) for row in rows]
            return Batch(stream, rows, rows[-1][0], self._derived(rows))
        if stream == "ticks":
            rows = r.ticks_after(after, n, since)
        elif stream == "equity":
            rows = r.equity_after(after, n, since)
        elif stream == "orders":
            rows = r.orders_after(after, n, since)
        else:
            rows = r.positions_after(after, n, since)
        if not rows:
            return None
        last = rows[-1][0] if stream in ("ticks", "equity") else max(row[-1] for row in rows)
        return Batch(stream, rows, int(last))

    def _derived(self, events: list[Row]) -> dict[str, list[Row]]:
        """The fills and alerts an events batch holds, as rows of their own tables, and the
        orders rows it names as they are now."""
        fills, alerts, filled = [], [], []
        named: list[str] = []
        for seq, ts, kind, _origin, data, _hash in events:
            if kind.startswith("order."):
                named.append(_order_id(data))
            if kind == "order.filled":
                filled.append((seq, ts, json.loads(data)))
            elif kind in ("alert.raised", "alert.cleared"):
                d = json.loads(data)
                alerts.append((seq, ts, d.get("key", ""), kind == "alert.raised", d.get("message")))
        if filled:
            keys = self.reader.order_keys([str(d.get("order_id", "")) for _, _, d in filled])
            for seq, ts, d in filled:
                account, instrument = keys.get(str(d.get("order_id", "")), (None, None))
                rate = d.get("conversion_rate")
                fills.append((
                    seq, float(d.get("ts") or ts), str(d.get("order_id", "")), d.get("fill_id"),
                    account, instrument, int(d.get("units", 0)), str(d.get("price", "0")),
                    None if rate is None else str(rate),
                ))  # fmt: skip
        orders = self.reader.orders_by_id([n for n in named if n])
        return {"fills": fills, "alerts": alerts, "orders": orders}

    # writing ----------------------------------------------------------------------------------

    def _merge(self, batch: Batch, move: bool = True) -> None:
        """Stage, merge and (``move``) move the watermark: one transaction."""
        params = {"j": self.journal_id, "s": batch.stream, "w": batch.last}
        with self.conn.transaction():
            self._copy(batch.stream, batch.rows)
            for name, rows in batch.derived.items():
                if rows:
                    self._copy(name, rows)
            for sql in _MERGES[batch.stream]:
                self.conn.execute(sql, params)
            if batch.derived.get("orders"):
                for sql in _MERGES["orders"]:
                    self.conn.execute(sql, params)
            if move:
                self.conn.execute(_WATERMARK, params)

    def _copy(self, table: str, rows: list[Row]) -> None:
        with self.conn.cursor() as cur, cur.copy(f"copy stage_{table} from stdin") as copy:
            for row in rows:
                copy.write_row(row)
