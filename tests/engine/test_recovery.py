"""A restarted engine is the engine that stopped: same orders, trades, money, states and sequence.

These run the real EngineRunner (thread, journal, sim venue) on a journal in a tmp dir.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.engines import (
    engine_settings,
    lasting_state,
    running,
    snapshot,
    trade_a_little,
)
from tests.support.harness import with_risk
from tests.support.waiting import eventually
from tmt_tui.domain.commands import (
    ClosePosition,
    EngageKillSwitch,
    ResetKillSwitch,
    SetReducing,
    SubmitOrder,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderStatus
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.reasons import Reason

D = Decimal
REPO = Path(__file__).resolve().parents[2]


async def test_clean_restart_restores_the_full_picture(journal_path: Path) -> None:
    settings = engine_settings(journal_path)
    async with running(settings) as client:
        await trade_a_little(client)
        await client.execute(SetReducing(on=True, account="SIM-EUR"))
        before = await snapshot(client)

    async with running(settings) as client:
        after = await snapshot(client)

    assert after.seq == before.seq + 1  # the restart's own ENGINE_STARTED, nothing else
    assert after.events[-1].kind is EventKind.ENGINE_STARTED
    assert lasting_state(after) == {**lasting_state(before), "seq": after.seq}


async def test_clean_restart_keeps_the_resting_order_and_protection_working(
    journal_path: Path,
) -> None:
    settings = engine_settings(journal_path)
    async with running(settings) as client:
        ids = await trade_a_little(client)

    async with running(settings) as client:
        after = await snapshot(client)

    working = {o.id: o.status for o in after.orders if o.status is OrderStatus.WORKING}
    trade_id = f"{ids['market']}.1"
    assert working == {
        ids["resting"]: OrderStatus.WORKING,
        f"{trade_id}.tp": OrderStatus.WORKING,
        f"{trade_id}.sl": OrderStatus.WORKING,
    }
    (eur_usd,) = [p for p in after.positions if p.instrument == "EUR_USD"]
    assert [(t.id, t.units, t.initial_units) for t in eur_usd.trades] == [(trade_id, 6_000, 10_000)]


async def test_restored_engine_can_close_the_recovered_position(journal_path: Path) -> None:
    settings = engine_settings(journal_path)
    async with running(settings) as client:
        await trade_a_little(client)

    async with running(settings) as client:
        reply = await client.execute(ClosePosition("SIM-USD", "EUR_USD"))
        after = await snapshot(client)

    assert reply.ok, reply
    assert "EUR_USD" not in {p.instrument for p in after.positions if p.account == "SIM-USD"}
    assert not [o for o in after.orders if o.status is OrderStatus.WORKING and o.trade_id]


async def test_kill_switch_halt_is_latched_across_restart(journal_path: Path) -> None:
    settings = engine_settings(journal_path)
    async with running(settings) as client:
        await trade_a_little(client)
        await client.execute(EngageKillSwitch("end of day"))
        before = await snapshot(client)

    async with running(settings) as client:
        after = await snapshot(client)
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

    assert (after.kill_switch_engaged, after.kill_switch_reason) == (True, "end of day")
    assert {a.id: a.trading_state for a in after.accounts} == {
        "SIM-USD": TradingState.HALTED,
        "SIM-EUR": TradingState.HALTED,
    }
    assert lasting_state(after) == {**lasting_state(before), "seq": after.seq}
    assert (reply.ok, reply.code) == (False, Reason.TRADING_HALTED.value)


async def test_daily_loss_breach_is_latched_across_restart(journal_path: Path) -> None:
    # a 0.01 USD limit: the spread paid on any market order breaches it at the next marks tick
    settings = with_risk(engine_settings(journal_path), daily_loss_limit=D("0.01"))
    async with running(settings) as client:
        await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10_000))
        usd = client.runner.core.portfolio.accounts["SIM-USD"]  # type: ignore[union-attr]
        await eventually(lambda: usd.breached)

    async with running(settings) as client:
        after = await snapshot(client)
        reply = await client.execute(ResetKillSwitch())

    accounts = {a.id: a for a in after.accounts}
    assert accounts["SIM-USD"].daily_loss_breached
    assert accounts["SIM-USD"].trading_state is TradingState.HALTED
    assert accounts["SIM-EUR"].trading_state is TradingState.ACTIVE
    assert (reply.ok, reply.code) == (False, Reason.DAILY_LOSS_BREACH_HOLDS.value)


def ack_then_sigkill(journal: Path) -> dict[str, Any]:
    """Run tests/support/crash_engine.py on ``journal``; SIGKILL it the moment its reply is read."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_engine", str(journal)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        _, err = child.communicate()
    assert line, f"the engine script printed no reply: {err}"
    ack: dict[str, Any] = json.loads(line)
    return ack


async def test_acknowledged_order_survives_a_sigkill_right_after_the_ack(
    journal_path: Path,
) -> None:
    ack = await asyncio.to_thread(ack_then_sigkill, journal_path)
    assert ack["ok"], ack

    async with running(engine_settings(journal_path)) as client:
        after = await snapshot(client)

    orders = {o.id: o for o in after.orders}
    assert orders[ack["order_id"]].status is OrderStatus.FILLED
    assert orders[ack["order_id"]].filled_units == 10_000
    (position,) = after.positions
    assert (position.instrument, position.units) == ("EUR_USD", 10_000)
    trade_id = f"{ack['order_id']}.1"
    assert orders[f"{trade_id}.tp"].status is OrderStatus.WORKING
    assert orders[f"{trade_id}.sl"].status is OrderStatus.WORKING
    assert after.seq > ack["seq"]
