"""The journal as an audit trail: every event of a period as rows of two stable tables, read
from the file read-only (``mode=ro``, no lock: beside a running engine) and streamed, so a year
of journal exports in constant memory.

``orders``: one row per step of an order's life (submitted past the risk checks or rejected with
the reason code, accepted, modified, each fill, cancel requested and cancelled with why, a
protective order created or an order adopted from the venue). ``controls``: every other event
(the config at each start, trading days, kill switch engagements and resets, trading state
changes such as REDUCING, daily loss breaches, alerts, reconciliation differences, venue status,
refused commands, chain heads), with its data verbatim in ``detail``. Each row carries its
event's sequence number and chain hash, so it can be matched to the journal and verified.
Column names are part of tmt's interface (README, "Audit export"): add, never rename.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.store.chain import Head

ORDER_COLUMNS = (
    "seq", "time_utc", "ts", "account", "order_id", "instrument", "step", "side", "units",
    "order_type", "price", "take_profit", "stop_loss", "trailing_stop", "fill_id", "fill_units",
    "fill_price", "reason_code", "why", "requested_by", "message", "origin", "venue_id", "hash",
)  # fmt: skip
CONTROL_COLUMNS = (
    "seq", "time_utc", "ts", "kind", "account", "state", "reason", "origin", "detail", "hash",
)  # fmt: skip

#: Event kind -> the ``step`` an order row names.
ORDER_STEPS = {
    "order.submitted": "submitted",
    "order.rejected": "rejected",
    "order.accepted": "accepted",
    "order.modified": "modified",
    "order.filled": "filled",
    "order.cancel_requested": "cancel_requested",
    "order.cancelled": "cancelled",
    "order.protective": "protective_created",
    "order.adopted": "adopted",
}
#: Orders remembered between the events that name them only by id (beyond it: a lookup).
_KNOWN_ORDERS = 50_000


class AuditError(ValueError):
    """A journal that cannot be exported, saying where and why."""


@dataclass(frozen=True, slots=True)
class Period:
    """Events with ``since <= ts < until`` (None: open), of ``account`` (None: every one; an
    event that names no account, such as the kill switch, belongs to every account)."""

    since: float | None = None
    until: float | None = None
    account: str | None = None


class AuditReader:
    """One journal, open read-only for an export or a verification."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise AuditError(f"{path}: no such journal")
        try:
            self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            tables = {n for (n,) in self.conn.execute("select name from sqlite_master")}
            if not {"events", "meta", "orders"} <= tables:
                raise AuditError(f"{path}: not a tmt journal (no events, meta and orders tables)")
            meta = dict(self.conn.execute("select key, value from meta").fetchall())
            columns = {row[1] for row in self.conn.execute("pragma table_info(events)")}
        except sqlite3.Error as exc:
            raise AuditError(f"{path}: cannot read it ({exc})") from None
        self.path = path
        self.journal_id = str(meta.get("journal_id", ""))
        #: The first chained event; past the end for a journal written before chains (v1-v3).
        self.chain_from = int(meta.get("chain_from", 0)) or None
        self._hashed = "hash" in columns
        self._orders: dict[str, tuple[str, str, int, str]] = {}

    def close(self) -> None:
        self.conn.close()

    def head(self) -> Head | None:
        """The newest chained event and its hash, None when nothing is chained yet."""
        if not self._hashed:
            return None
        row = self.conn.execute(
            "select seq, hash from events where hash is not null order by seq desc limit 1"
        ).fetchone()
        return None if row is None else Head(int(row[0]), str(row[1]))

    def events(
        self, after_seq: int, since_ts: float | None = None, limit: int = 1_000
    ) -> tuple[list[Event], int]:
        """Up to ``limit`` events after ``after_seq`` (and at or after ``since_ts``), in order,
        and the last sequence number looked at (0: nothing left). One statement per call, so a
        reader paging through history never holds a snapshot that would keep the engine's WAL
        checkpoints from completing. Kinds this version does not know are left out."""
        by_value = {k.value: k for k in EventKind}
        rows = self.conn.execute(
            "select seq, ts, kind, origin, data from events where seq > ? and ts >= ? "
            "order by seq limit ?",
            (after_seq, -math.inf if since_ts is None else since_ts, limit),
        ).fetchall()
        found = [
            Event(seq, ts, by_value[kind], origin, json.loads(data))
            for seq, ts, kind, origin, data in rows
            if kind in by_value
        ]
        return found, int(rows[-1][0]) if rows else 0

    def count(self, period: Period) -> int:
        """Events in the period's time range (the progress bar's 100%)."""
        where, args = _when(period)
        (n,) = self.conn.execute(f"select count(*) from events {where}", args).fetchone()
        return int(n)

    def rows(self, period: Period) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each event of the period as ``("orders" | "controls", row)``, in sequence order."""
        where, args = _when(period)
        hashed = "hash" if self._hashed else "null"
        cursor = self.conn.execute(
            f"select seq, ts, kind, origin, data, {hashed} from events {where} order by seq", args
        )
        try:
            for seq, ts, kind, origin, text, digest in cursor:
                data = json.loads(text)
                base = {"seq": seq, "time_utc": _utc(ts), "ts": ts, "hash": digest or ""}
                step = ORDER_STEPS.get(kind)
                if step is not None:
                    row = self._order_row(base, step, origin, data)
                    table = "orders"
                else:
                    row = _control_row(base, kind, origin, data, text)
                    table = "controls"
                if period.account is None or row["account"] in ("", period.account):
                    yield table, row
        finally:
            cursor.close()

    def _order_row(
        self, base: dict[str, Any], step: str, origin: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        row = dict.fromkeys(ORDER_COLUMNS, "")
        row.update(base)
        row["step"], row["origin"] = step, origin
        wire = data.get("order")
        if isinstance(wire, dict):  # submitted, rejected, protective, adopted: the whole order
            order_id = str(wire.get("id", ""))
            self._remember(order_id, wire)
            row.update(
                order_id=order_id,
                units=wire.get("units", ""),
                order_type=wire.get("type", ""),
                price=wire.get("price") or "",
                take_profit=wire.get("take_profit") or "",
                stop_loss=wire.get("stop_loss") or "",
                trailing_stop=wire.get("trailing_stop_distance") or "",
            )
        else:
            order_id = str(data.get("order_id", ""))
        account, instrument, units, kind = self._lookup(order_id)
        row.update(
            order_id=order_id,
            account=account,
            instrument=instrument,
            side="BUY" if units > 0 else "SELL" if units < 0 else "",
        )
        if row["order_type"] == "":
            row["order_type"] = kind
        if step == "rejected":
            row.update(
                reason_code=data.get("code", ""),
                message=data.get("message", ""),
                why=data.get("source", ""),
            )
        elif step == "submitted":  # past the risk checks; a close says what it is part of
            row.update(reason_code="OK", message="risk checks passed")
            if isinstance(wire, dict) and wire.get("reduce_only"):
                row["why"] = wire.get("reason") or "close"
        elif step == "accepted":
            row["venue_id"] = data.get("venue_id", "")
        elif step == "modified":
            row.update(price=data.get("price") or "", units=data.get("units", ""))
            row["venue_id"] = data.get("venue_id", "")
        elif step == "filled":
            row.update(
                fill_id=data.get("fill_id", ""),
                fill_units=data.get("units", ""),
                fill_price=data.get("price", ""),
            )
        elif step == "cancel_requested":
            row.update(why=data.get("why", ""), requested_by=origin)
        elif step == "cancelled":
            row.update(
                reason_code=data.get("reason", ""),
                why=data.get("why", ""),
                requested_by=data.get("requested_by", ""),
            )
        return row

    def _remember(self, order_id: str, wire: dict[str, Any]) -> None:
        self._keep(
            order_id,
            (
                str(wire.get("account", "")),
                str(wire.get("instrument", "")),
                int(wire.get("units", 0) or 0),
                str(wire.get("type", "")),
            ),
        )

    def _keep(self, order_id: str, known: tuple[str, str, int, str]) -> None:
        if len(self._orders) >= _KNOWN_ORDERS:
            self._orders.clear()  # bounded: older orders are looked up again if named
        self._orders[order_id] = known

    def _lookup(self, order_id: str) -> tuple[str, str, int, str]:
        known = self._orders.get(order_id)
        if known is None:
            row = self.conn.execute(
                "select account, instrument, units, type from orders where id = ?", (order_id,)
            ).fetchone()
            known = ("", "", 0, "") if row is None else (row[0], row[1], int(row[2]), row[3])
            self._keep(order_id, known)
        return known


def _control_row(
    base: dict[str, Any], kind: str, origin: str, data: dict[str, Any], text: str
) -> dict[str, Any]:
    row = dict.fromkeys(CONTROL_COLUMNS, "")
    row.update(base)
    reason = data.get("reason", "")
    if kind == "command.rejected":
        reason = f"{data.get('code', '')}: {data.get('message', '')}"
    elif kind == "kill_switch.engaged" and data.get("flatten"):
        reason = f"{reason} (flatten)"
    row.update(
        kind=kind,
        account=str(data.get("account", "") or ""),
        state=data.get("state", data.get("status", "")),
        reason=reason,
        origin=origin,
        detail=text,
    )
    return row


def _when(period: Period) -> tuple[str, tuple[float, ...]]:
    clauses, args = [], []
    if period.since is not None:
        clauses.append("ts >= ?")
        args.append(period.since)
    if period.until is not None:
        clauses.append("ts < ?")
        args.append(period.until)
    return ("where " + " and ".join(clauses) if clauses else ""), tuple(args)


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
