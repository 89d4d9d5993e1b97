"""Old journals with a real session in them, and ways to look at a journal from outside.

The session is the engine core's own (orders, fills, protection, a partial close, a resting
order, REDUCING, the kill switch); it is written into a v1 journal with v1's own statements.
"""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.monitoring import account
from tmt_tui.domain.commands import ClosePosition, EngageKillSwitch, SetReducing
from tmt_tui.domain.events import Event, EventKind
from tmt_tui.engine.core import EngineCore
from tmt_tui.store.journal import Journal

from .harness import Harness
from .journal_v1 import V1_TABLES, V1Writer, make_v1_journal

D = Decimal
BACKUP_NAME = re.compile(r"journal\.db\.bak-v1-\d{8}T\d{6}Z")
V2_STEP = "v1 -> v2 (record each schema change in schema_history)"
V3_STEP = "v2 -> v3 (record the report currency rate of each equity sample)"
V4_STEP = "v3 -> v4 (chain each event to the one before by its hash)"
V5_STEP = "v4 -> v5 (keep closed bars of every instrument)"


def trading_session() -> Harness:
    """A real session of the engine core: orders, fills, protection, a partial close, a resting
    order, REDUCING, and the kill switch."""
    h = Harness()
    h.standard_quotes()
    for reply in (
        h.submit("EUR_USD", 10_000, take_profit=D("2.00000"), stop_loss=D("0.50000")),
        h.limit("GBP_USD", 5_000, "1.23190"),
        h.do(ClosePosition("SIM-USD", "EUR_USD", units=4_000)),
        h.submit("USD_JPY", -20_000, account="SIM-EUR"),
        h.do(SetReducing(on=True, account="SIM-EUR")),
        h.do(EngageKillSwitch(reason="end of the session")),
    ):
        assert reply.ok, reply
    return h


def fold(
    h: Harness, events: list[Event], checkpoint: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The engine state ``events`` build (after ``checkpoint``), as a restart builds it."""
    core = EngineCore(h.settings, h.instruments, h.clock)
    if checkpoint is not None:
        core.state.load_checkpoint(checkpoint)
    for event in events:
        core.state.evolve(event)
    return core.state.to_checkpoint()


def write_v1_journal(path: Path, h: Harness) -> None:
    """``h``'s session in a v1 journal, as the v1 tmt wrote it, with a checkpoint halfway."""
    make_v1_journal(path)
    half = len(h.events) // 2
    w = V1Writer(path)
    try:
        w.events(h.events[:half])
        w.checkpoint(h.events[half - 1].seq, h.clock(), "2026-06-10", fold(h, h.events[:half]))
        w.events(h.events[half:])
        seq = h.events[-1].seq
        w.orders(seq, [*h.core.orders.recent, *h.core.orders.open.values()])
        w.positions(seq, h.core.positions())
        w.ticks(list(h.core.quotes.quotes.values()))
        w.equity(h.clock(), [h.account("SIM-USD"), h.account("SIM-EUR")])
    finally:
        w.close()


def table_rows(path: Path, tables: tuple[str, ...] = V1_TABLES) -> dict[str, list[object]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: sorted(conn.execute(f"select * from {t}").fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def read(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def meta(path: Path) -> dict[str, str]:
    return dict(read(path, "select key, value from meta"))


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob("journal.db.bak-*"))


DAY = 86_400.0


#: What a euro was worth in dollars at each of ``journal_with_equity``'s samples.
EURUSD_BY_DAY = ("1.10", "1.12", "1.08", "1.10")


def journal_with_equity(path: Path) -> None:
    """A journal with four daily equity rows per account (SIM-USD 100k -> 112k with a 10k
    deposit on day 2 and some financing; SIM-EUR flat at 50k, its dollar rate recorded with
    each sample: ``EURUSD_BY_DAY``)."""
    journal = Journal(path)
    started = Event(
        1, 0.0, EventKind.ENGINE_STARTED, "auto",
        {"accounts": [{"id": "SIM-USD", "currency": "USD", "balance": "100000"},
                      {"id": "SIM-EUR", "currency": "EUR", "balance": "50000"}]},
    )  # fmt: skip
    deposit = Event(
        2, 1.5 * DAY, EventKind.ACCOUNT_SYNCED, "venue",
        {"account": "SIM-USD", "balance": "110000", "was": "100000", "reason": "TRANSFER_FUNDS"},
    )  # fmt: skip
    financing = Event(
        3, 1.6 * DAY, EventKind.ACCOUNT_SYNCED, "venue",
        {"account": "SIM-USD", "balance": "109990", "was": "110000", "reason": "DAILY_FINANCING"},
    )  # fmt: skip
    journal.append([started, deposit, financing])
    for day, (usd, eurusd) in enumerate(
        zip(("100000", "101000", "111000", "112000"), EURUSD_BY_DAY, strict=True)
    ):
        journal.append_equity(day * DAY, [account("SIM-USD", balance=usd),
                                          account("SIM-EUR", "EUR", balance="50000")],
                              "USD", {"SIM-USD": D(1), "SIM-EUR": D(eurusd)})  # fmt: skip
    journal.close()
