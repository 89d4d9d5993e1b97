"""`tmt report` as a compliance officer uses it: a real engine session (orders, fills, a modify,
cancels, REDUCING, a daily loss breach, the kill switch) exported and checked row by row against
the journal's events; and `tmt report verify` finding an edited, a deleted and a moved event,
and a chain recomputed by whoever edited it, by the head kept elsewhere."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import engine_settings, journal_rows, running
from tests.support.harness import with_risk
from tests.support.waiting import eventually
from tmt_tui.domain.commands import (
    CancelOrder,
    ClosePosition,
    EngageKillSwitch,
    ModifyOrder,
    Origin,
    ResetKillSwitch,
    SetReducing,
    SubmitOrder,
)
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.store.audit import CONTROL_COLUMNS, ORDER_COLUMNS, ORDER_STEPS
from tmt_tui.store.chain import genesis, link

D = Decimal


def tmt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "report", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


async def trading_session(path: Path) -> dict[str, str]:
    """A session an audit must be able to follow; the ids of the orders it placed."""
    settings = with_risk(engine_settings(path), daily_loss_limit=D("5"))
    async with running(settings) as client:
        assert (await client.execute(EngageKillSwitch("drill", Origin.CLI))).ok
        assert (await client.execute(ResetKillSwitch(Origin.UI))).ok
        far = SubmitOrder("SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, price=D("1.05000"))
        kept = await client.execute(far)
        dropped = await client.execute(far)
        assert kept.ok and dropped.ok
        assert (await client.execute(ModifyOrder(kept.order_id or "", D("1.05100")))).ok
        assert (await client.execute(CancelOrder(dropped.order_id or "", Origin.CLI))).ok
        assert (await client.execute(SetReducing(True, "SIM-EUR", Origin.API))).ok
        refused = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10**12))
        assert not refused.ok
        filled = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 100_000))  # the spread
        assert filled.ok  # costs ~11: past the 5 daily loss limit, so SIM-USD HALTS

        def halted() -> bool:
            account = client.runner.core.portfolio.accounts["SIM-USD"]  # type: ignore[union-attr]
            return account.state is TradingState.HALTED

        await eventually(halted, "the daily loss breach")
        flatten = ClosePosition("SIM-USD", "EUR_USD", origin=Origin.CLI, why="flatten")
        closed = await client.execute(flatten)
        assert closed.ok, closed
    return {
        "kept": kept.order_id or "",
        "dropped": dropped.order_id or "",
        "refused": refused.order_id or "",
        "filled": filled.order_id or "",
        "closed": closed.order_id or "",
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def events(path: Path) -> dict[int, tuple[float, str, str, dict[str, Any], str]]:
    rows = journal_rows(path, "select seq, ts, kind, origin, data, hash from events")
    return {seq: (ts, kind, origin, json.loads(data), h) for seq, ts, kind, origin, data, h in rows}


async def test_an_exported_session_has_every_event_once_each_as_the_journal_says(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    ids = await trading_session(path)
    out = tmp_path / "export"

    result = tmt("--journal", str(path), "--out", str(out))

    assert result.returncode == 0, result.stderr
    orders, controls = read_csv(out / "orders.csv"), read_csv(out / "controls.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    journal = events(path)
    # every event exactly once, in one file or the other, with its hash
    assert sorted(int(r["seq"]) for r in orders + controls) == sorted(journal)
    assert list(orders[0]) == list(ORDER_COLUMNS) and list(controls[0]) == list(CONTROL_COLUMNS)
    for row in orders:
        ts, kind, origin, data, digest = journal[int(row["seq"])]
        assert (row["step"], row["origin"], row["hash"]) == (ORDER_STEPS[kind], origin, digest)
        assert float(row["ts"]) == ts and row["order_id"]
        if kind == "order.filled":
            assert (row["fill_price"], row["fill_units"]) == (data["price"], str(data["units"]))
        if kind == "order.cancelled":
            assert (row["why"], row["reason_code"]) == (data["why"], data["reason"])
    for row in controls:
        ts, kind, origin, data, digest = journal[int(row["seq"])]
        assert (row["kind"], row["origin"], json.loads(row["detail"])) == (kind, origin, data)

    def life(order_id: str) -> list[tuple[str, str]]:
        return [(r["step"], r["why"]) for r in orders if r["order_id"] == order_id]

    assert life(ids["kept"]) == [
        ("submitted", ""), ("accepted", ""), ("modified", ""),
        ("cancel_requested", "daily loss"), ("cancelled", "daily loss"),
    ]  # fmt: skip
    assert life(ids["dropped"])[-2:] == [("cancel_requested", "user"), ("cancelled", "user")]
    assert [r["requested_by"] for r in orders if r["order_id"] == ids["dropped"]][-1] == "cli"
    (rejected,) = [r for r in orders if r["order_id"] == ids["refused"]]
    assert (rejected["step"], rejected["why"]) == ("rejected", "risk")
    assert rejected["reason_code"] and rejected["message"]
    assert [r["step"] for r in orders if r["order_id"] == ids["filled"]] == ["submitted", "filled"]
    assert life(ids["closed"]) == [("submitted", "flatten"), ("filled", "")]
    kinds = [(r["kind"], r["state"], r["origin"]) for r in controls]
    assert ("trading_state.changed", "REDUCING", "api") in kinds
    assert ("daily_loss.breached", "", "auto") in kinds
    assert ("kill_switch.engaged", "", "cli") in kinds and ("kill_switch.reset", "", "ui") in kinds
    assert json.loads(controls[0]["detail"])["config"]["engine"]  # the config at the start
    # the manifest, and the chain head printed to keep
    last = max(journal)
    assert manifest["chain_head"] == f"{last}:{journal[last][4]}"
    assert f"journal chain head {manifest['chain_head']}" in result.stdout
    assert manifest["rows"] == {"orders": len(orders), "controls": len(controls)}


async def test_a_period_and_an_account_narrow_the_export_and_jsonl_reads_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    await trading_session(path)
    journal = events(path)
    fill_ts = next(ts for ts, kind, *_ in journal.values() if kind == "order.filled")
    out = tmp_path / "export"

    result = tmt(
        "--journal", str(path), "--out", str(out), "--format", "jsonl",
        "--since", str(fill_ts), "--account", "SIM-EUR",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = (out / "orders.jsonl").read_text().splitlines()
    orders = [json.loads(line) for line in lines]
    controls = [json.loads(line) for line in (out / "controls.jsonl").read_text().splitlines()]
    assert all(r["ts"] >= fill_ts for r in orders + controls)
    assert orders == []  # every order was SIM-USD's
    assert {r["account"] for r in controls} <= {"", "SIM-EUR"}
    assert any(r["kind"] == "kill_switch.engaged" for r in controls)  # it is every account's


# tamper evidence ----------------------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Path]:
    import asyncio

    path = tmp_path / "journal.db"
    asyncio.run(trading_session(path))
    yield path


def tamper(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in sql:
            conn.execute(statement)
    conn.close()


def verify(path: Path, *args: str) -> dict[str, Any]:
    result = tmt("verify", "--journal", str(path), "--json", *args)
    answer: dict[str, Any] = json.loads(result.stdout)
    assert result.returncode == (0 if answer["ok"] else 1), result
    return answer


def test_an_untouched_journal_verifies_and_a_kept_head_matches(session: Path) -> None:
    answer = verify(session)
    assert answer["ok"] and answer["checked"] == len(events(session))
    assert answer["unchained"] == 0 and answer["chain_from"] == 1
    assert verify(session, "--head", answer["head"])["ok"]


def test_an_edited_event_is_named(session: Path) -> None:
    seq = min(s for s, (_, kind, *_) in events(session).items() if kind == "order.filled")
    tamper(session, f"update events set data = replace(data, '100000', '1000') where seq = {seq}")

    answer = verify(session)

    assert not answer["ok"]
    assert answer["breaks"] == [{"seq": seq, "what": "edited: its content does not match its hash"}]


def test_a_deleted_event_is_named(session: Path) -> None:
    tamper(session, "delete from events where seq = 7")

    answer = verify(session)

    assert [b["seq"] for b in answer["breaks"]] == [7]
    assert "deleted: seq 7 missing" in answer["breaks"][0]["what"]


def test_a_moved_event_is_named(session: Path) -> None:
    tamper(
        session,
        "update events set seq = -1 where seq = 5",
        "update events set seq = 5 where seq = 6",
        "update events set seq = 6 where seq = -1",
    )

    answer = verify(session)

    assert answer["breaks"][0]["seq"] == 5
    assert any("moved" in b["what"] for b in answer["breaks"][:2])


def test_a_recomputed_chain_is_caught_by_the_head_kept_elsewhere(session: Path) -> None:
    kept = verify(session)["head"]
    (journal_id,) = journal_rows(session, "select value from meta where key = 'journal_id'")[0]
    tamper(session, "update events set origin = 'ui' where kind = 'kill_switch.engaged'")
    rows = journal_rows(session, "select seq, ts, kind, origin, data from events order by seq")
    previous, rewritten = genesis(str(journal_id), 1), []
    for seq, ts, kind, origin, data in rows:  # the forger recomputes every hash after the edit
        previous = link(previous, seq, ts, kind, origin, data)
        rewritten.append((previous, seq))
    tamper(session, *(f"update events set hash = '{h}' where seq = {s}" for h, s in rewritten))

    assert verify(session)["ok"]  # the chain alone holds again...
    caught = verify(session, "--head", kept)

    assert not caught["ok"]
    assert "the chain was rewritten" in caught["head_problem"]


def test_bad_input_is_refused_plainly(tmp_path: Path) -> None:
    missing = tmt("--journal", str(tmp_path / "none.db"), "--out", str(tmp_path), "--json")
    head = tmt("verify", "--journal", str(tmp_path / "none.db"), "--head", "12:zz", "--json")
    no_out = tmt("--journal", str(tmp_path / "none.db"), "--json")

    assert missing.returncode == 2 and "no such journal" in json.loads(missing.stdout)["message"]
    assert json.loads(head.stdout)["code"] == "BAD_HEAD"
    assert json.loads(no_out.stdout)["code"] == "USAGE"


# a year of journal, in constant memory ------------------------------------------------------


def chained_journal(path: Path, n: int) -> None:
    """A journal of ``n`` chained events, every second one an order's submission and the rest
    its fill, written in one transaction (as fast as SQLite takes them)."""
    from tmt_tui.store.journal import Journal

    Journal(path).close()  # made, with its meta and chain start
    (journal_id,) = journal_rows(path, "select value from meta where key = 'journal_id'")[0]
    previous = genesis(str(journal_id), 1)

    def rows() -> Iterator[tuple[int, float, str, str, str, str]]:
        nonlocal previous
        for seq in range(1, n + 1):
            order_id = f"O{seq - seq % 2}"
            if seq % 2 == 0:
                kind, origin = "order.submitted", "cli"
                data = json.dumps({"order": {"id": order_id, "account": "SIM-USD",
                                             "instrument": "EUR_USD", "units": 1000,
                                             "type": "MARKET"}})  # fmt: skip
            else:
                kind, origin = "order.filled", "venue"
                data = json.dumps({"order_id": order_id, "units": 1000, "price": "1.08510"})
            ts = 1_780_000_000.0 + seq
            previous = link(previous, seq, ts, kind, origin, data)
            yield seq, ts, kind, origin, data, previous

    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("insert into events values (?, ?, ?, ?, ?, ?)", rows())
    conn.close()


def peak_rss_mb(*args: str) -> float:
    """The peak RSS of one `tmt report` child, its own (wait4), in MB."""
    import os

    child = subprocess.Popen(
        [sys.executable, "-m", "tmt_tui", "report", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 0, args
    return usage.ru_maxrss / 1024


def test_a_million_event_journal_exports_in_the_memory_of_a_small_one(tmp_path: Path) -> None:
    small, big = tmp_path / "small.db", tmp_path / "big.db"
    chained_journal(small, 10_000)
    chained_journal(big, 1_000_000)

    small_mb = peak_rss_mb("--journal", str(small), "--out", str(tmp_path / "s"))
    big_mb = peak_rss_mb("--journal", str(big), "--out", str(tmp_path / "b"), "--format", "jsonl")

    # streamed: a hundred times the events, not a hundred times the memory (the order cache is
    # bounded; a list of a million rows alone would be hundreds of MB)
    assert big_mb - small_mb < 60, (small_mb, big_mb)
    with open(tmp_path / "b" / "orders.jsonl", encoding="utf-8") as f:
        assert sum(1 for _ in f) == 1_000_000
    assert verify(big)["checked"] == 1_000_000
