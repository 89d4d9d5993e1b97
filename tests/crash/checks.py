"""What a crash round checks after a restart, each check returning the problems it found (an
empty list: none), so a round can report every one of them with its seed.

The journal is read read-only beside the running engine (WAL lets a reader in); the fills are
folded here, independently of the engine's portfolio: for the paper broker the journal's fills
are the broker's record, so the restarted engine's positions and balance must be what they add
up to. For OANDA the local v20 server's ledger is the truth.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from tmt_tui.domain.client import Snapshot
from tmt_tui.store import chain
from tmt_tui.venues.oanda_sim import views
from tmt_tui.venues.oanda_sim.server import V20ServerThread

CENT4 = Decimal("0.0001")


@dataclass
class JournalView:
    """What one read of the journal found."""

    problems: list[str]
    journal_id: str = ""
    submitted: dict[str, list[int]] = field(default_factory=dict)  # order id -> units, each time
    api_sizes: Counter[int] = field(default_factory=Counter)  # |units| of the clients' orders
    fills: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (status, reason)


def read_journal(path: Path) -> JournalView:
    """Integrity, hash chain, and the order events of the journal at ``path``."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return JournalView([f"the journal cannot be opened read-only: {exc}"])
    try:
        return _read(conn)
    except sqlite3.Error as exc:
        return JournalView([f"the journal cannot be read: {exc}"])
    finally:
        conn.close()


def _read(conn: sqlite3.Connection) -> JournalView:
    view = JournalView([])
    conn.execute("begin")  # one snapshot for every read below
    integrity = [row[0] for row in conn.execute("pragma integrity_check")]
    if integrity != ["ok"]:
        view.problems.append(f"integrity_check: {integrity[:5]}")
    meta = dict(conn.execute("select key, value from meta").fetchall())
    view.journal_id = str(meta["journal_id"])
    verdict = chain.verify(conn, view.journal_id, int(meta["chain_from"]))
    if not verdict.ok:
        view.problems.append(f"hash chain: {verdict.breaks} {verdict.head_problem}")
    rows = conn.execute(
        "select kind, origin, data from events where kind in ('order.submitted', 'order.filled') "
        "order by seq"
    )
    for kind, origin, data in rows:
        body = json.loads(data)
        if kind == "order.filled":
            view.fills.append(body)
            continue
        order = body["order"]
        view.submitted.setdefault(order["id"], []).append(int(order["units"]))
        if origin == "api":
            view.api_sizes[abs(int(order["units"]))] += 1
    for oid, status, reason in conn.execute("select id, status, reason from orders"):
        view.orders[oid] = (status, reason or "")
    conn.execute("commit")
    return view


def read_acks(directory: Path) -> list[dict[str, Any]]:
    """Every reply line the clients of a journal wrote."""
    lines = []
    for path in sorted(directory.glob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text().splitlines() if line]
    return lines


def acked(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in replies if r.get("ok")]


# checks -------------------------------------------------------------------------------------


def check_journaled_once(view: JournalView, replies: list[dict[str, Any]]) -> list[str]:
    """Each acknowledged order is in the journal, submitted exactly once with its own size; no
    order of the clients' is there twice (their sizes are unique), or there unasked."""
    problems = []
    sent = {r["size"] for r in replies}
    for ack in acked(replies):
        times = view.submitted.get(ack["order_id"], [])
        if times != [ack["units"]] or view.api_sizes[ack["size"]] != 1:
            problems.append(
                f"acked {ack['order_id']} ({ack['units']:+} {ack['instrument']}) is in the "
                f"journal as {times or 'nothing'}, its size {view.api_sizes[ack['size']]} times"
            )
    for size, count in sorted(view.api_sizes.items()):
        if count > 1:
            problems.append(f"the order of size {size} is journaled {count} times")
        if size not in sent:
            problems.append(f"an order of size {size} is journaled but no client sent it")
    return problems


def check_sim_fills(view: JournalView, replies: list[dict[str, Any]]) -> list[str]:
    """The paper broker fills a market order in the batch that acknowledges it: each acked
    order has exactly one fill, of all its units."""
    fills: dict[str, list[int]] = defaultdict(list)
    for fill in view.fills:
        fills[fill["order_id"]].append(int(fill["units"]))
    return [
        f"acked {ack['order_id']} ({ack['units']:+}) has fills {fills.get(ack['order_id'], [])}"
        for ack in acked(replies)
        if fills.get(ack["order_id"]) != [ack["units"]]
    ]


def fold_fills(
    fills: list[dict[str, Any]],
) -> tuple[dict[tuple[str, str], int], dict[str, Decimal]]:
    """Net positions and realized P&L per account from the fills alone: FIFO lots, each close
    booked at (close - open) x units x the fill's conversion rate, to 4 places half-even."""
    lots: dict[tuple[str, str], deque[list[Any]]] = defaultdict(deque)
    realized: dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills:
        key = (fill["account"], fill["instrument"])
        units, price = int(fill["units"]), Decimal(fill["price"])
        book, remaining = lots[key], units
        while remaining and book and (book[0][0] > 0) != (remaining > 0):
            lot = book[0]
            take = min(abs(remaining), abs(lot[0]))
            closing = take if lot[0] > 0 else -take
            pnl = (price - lot[1]) * closing * Decimal(fill["conversion_rate"])
            realized[key[0]] += pnl.quantize(CENT4, rounding=ROUND_HALF_EVEN)
            lot[0] -= closing
            remaining += closing
            if lot[0] == 0:
                book.popleft()
        if remaining:
            book.append([remaining, price])
    units = {k: sum(lot[0] for lot in book) for k, book in lots.items()}
    return {k: u for k, u in units.items() if u}, dict(realized)


def check_sim_books(view: JournalView, snap: Snapshot) -> list[str]:
    """The restarted engine holds what the journal's fills add up to: positions, realized P&L
    and a balance of opening + realized (nothing else moves a paper account's cash)."""
    positions, realized = fold_fills(view.fills)
    held = {(p.account, p.instrument): p.units for p in snap.positions if p.units}
    problems = []
    if held != positions:
        problems.append(f"positions {held} but the fills add up to {positions}")
    for account in snap.accounts:
        expected = realized.get(account.id, Decimal(0))
        if (account.realized_pl, account.balance) != (
            expected,
            account.opening_balance + expected,
        ):
            problems.append(
                f"{account.id}: realized {account.realized_pl} balance {account.balance}, but "
                f"the fills realized {expected} on an opening {account.opening_balance}"
            )
    return problems


def lasting(snap: Snapshot) -> dict[str, Any]:
    """What a SIGKILL of an idle engine must not change."""
    return {
        "positions": sorted(
            (p.account, p.instrument, p.units, str(p.avg_price), str(p.realized_pl))
            for p in snap.positions
            if p.units
        ),
        "accounts": sorted(
            (a.id, str(a.balance), str(a.realized_pl), a.trading_state.value) for a in snap.accounts
        ),
        "kill_switch": (snap.kill_switch_engaged, snap.kill_switch_reason),
    }


# OANDA ----------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """The v20 server's transactions, read once."""

    txns: list[dict[str, Any]]
    units: dict[str, int]
    balance: Decimal

    @classmethod
    def read(cls, server: V20ServerThread) -> Ledger:
        def take(s: Any) -> tuple[list[dict[str, Any]], dict[str, int], str]:
            units: dict[str, int] = defaultdict(int)
            for t in views.open_trades(s.ledger):
                units[t["instrument"]] += int(Decimal(t["currentUnits"]))
            txns = [dict(t) for t in s.ledger.transactions]
            return txns, dict(units), views.summary(s.ledger)["balance"]

        txns, units, balance = server.call(take)
        return cls(txns, {i: u for i, u in units.items() if u}, Decimal(balance))


def check_oanda_orders(
    view: JournalView, replies: list[dict[str, Any]], ledger: Ledger
) -> tuple[list[str], list[str]]:
    """At OANDA no client order id was ever used twice; each acked order is there at most
    once, and the journal's word on it (filled, cancelled, never arrived) is OANDA's.

    Also returns the acked orders that never reached OANDA (the journal says NOT_AT_VENUE):
    the engine acknowledges a submission once it is journaled, before its request is on the
    wire, so a SIGKILL right after the ack can leave it unsent (see ``CrashRun.unsent``)."""
    problems, unsent = [], []
    creates: Counter[str] = Counter()
    create_of: dict[str, dict[str, Any]] = {}
    for t in ledger.txns:
        cid = (t.get("clientExtensions") or {}).get("id")
        if t.get("rejectReason") == "CLIENT_ORDER_ID_ALREADY_EXISTS":
            problems.append(f"OANDA refused a reused client order id {cid} (txn {t['id']})")
        if cid and t["type"].endswith("_ORDER"):
            creates[cid] += 1
            create_of[cid] = t
    problems += [f"client order id {c} created {n} times" for c, n in creates.items() if n > 1]
    fills: dict[str, list[dict[str, Any]]] = defaultdict(list)
    cancels: set[str] = set()
    for t in ledger.txns:
        if t["type"] == "ORDER_FILL":
            fills[str(t["orderID"])].append(t)
        elif t["type"] == "ORDER_CANCEL":
            cancels.add(str(t["orderID"]))
    for ack in acked(replies):
        oid = ack["order_id"]
        status, reason = view.orders.get(oid, ("MISSING", ""))
        create = create_of.get(f"t{view.journal_id}.{oid}")
        if create is None:
            if status != "REJECTED" or "NOT_AT_VENUE" not in reason:
                problems.append(f"acked {oid} is not at OANDA, but the journal says {status}")
            unsent.append(f"{view.journal_id}:{oid} ({ack['units']:+} {ack['instrument']})")
            continue
        filled = fills.get(str(create["id"]), [])
        at_oanda = "FILLED" if filled else "CANCELLED" if str(create["id"]) in cancels else "?"
        if status != at_oanda:
            problems.append(f"acked {oid} is {at_oanda} at OANDA but {status} in the journal")
        if len(filled) > 1 or (filled and int(Decimal(filled[0]["units"])) != ack["units"]):
            problems.append(f"acked {oid} ({ack['units']:+}) filled at OANDA as {filled}")
    return problems, unsent


def settled(view: JournalView, replies: list[dict[str, Any]]) -> bool:
    """No acked order is still waiting for OANDA's answer in the journal."""
    return all(view.orders.get(a["order_id"], ("",))[0] != "SUBMITTED" for a in acked(replies))


def agreement(snap: Snapshot, ledger: Ledger) -> list[str]:
    """The engine's positions and balance are OANDA's."""
    held = {p.instrument: p.units for p in snap.positions if p.units}
    (account,) = snap.accounts
    problems = []
    if held != ledger.units:
        problems.append(f"positions {held}, OANDA {ledger.units}")
    if account.balance != ledger.balance:
        problems.append(f"balance {account.balance}, OANDA {ledger.balance}")
    return problems
