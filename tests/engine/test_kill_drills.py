"""Kill-switch drills with a full book: 100 working orders and 20 open trades, then the halt
from an alert rule set to halt (`monitoring.halt_on`), and from `tmt kill`'s command. Trading
halts, every working order is cancelled and recorded as the kill switch's, every position is
closed (flatten), and a stale client that keeps trying sends nothing to the venue."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from tests.support.engines import engine_settings, journal_events, running
from tests.support.harness import with_risk
from tests.support.monitoring import watched_engine
from tests.support.waiting import eventually
from tmt_tui.config import Settings
from tmt_tui.domain.commands import EngageKillSwitch, Origin, SubmitOrder
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.monitoring.settings import MonitoringSettings

D = Decimal
WORKING, TRADES = 100, 20


async def full_book(client: LocalEngineClient) -> list[str]:
    """100 working limit orders and 20 open trades across both accounts; the orders' ids."""
    ids = []
    for i in range(WORKING):
        account = ("SIM-USD", "SIM-EUR")[i % 2]
        far = SubmitOrder(account, "EUR_USD", 1_000, OrderType.LIMIT, price=D("1.05000"))
        reply = await client.execute(far)
        assert reply.ok, reply
        ids.append(reply.order_id or "")
    for i in range(TRADES):
        account = ("SIM-USD", "SIM-EUR")[i % 2]
        pair = ("EUR_USD", "GBP_USD", "USD_JPY")[i % 3]
        assert (await client.execute(SubmitOrder(account, pair, 1_000))).ok
    return ids


def halted_and_flat(client: LocalEngineClient) -> bool:
    core = client.runner.core
    assert core is not None
    halted = all(a.state is TradingState.HALTED for a in core.portfolio.accounts.values())
    flat = all(book.units == 0 for book in core.portfolio.books.values())
    return halted and flat and not list(core.orders.for_account(None))


async def check_the_drill(client: LocalEngineClient, path: Path, ids: list[str]) -> None:
    await eventually(lambda: halted_and_flat(client), "halted, flat, nothing working")
    stale = SubmitOrder("SIM-USD", "EUR_USD", 1_000, origin=Origin.API)
    late = await client.execute(stale)  # its durable refusal: the journal has caught up
    assert not late.ok and late.code == "TRADING_HALTED", late
    sent_before = len(journal_events(path, EventKind.ORDER_SUBMITTED))
    for _ in range(5):  # a stale client keeps trying
        late = await client.execute(stale)
        assert not late.ok and late.code == "TRADING_HALTED", late
    cancelled = {e["order_id"]: e["why"] for e in journal_events(path, EventKind.ORDER_CANCELLED)}
    assert {i: cancelled.get(i) for i in ids} == dict.fromkeys(ids, "kill switch")
    closes = [
        e["order"]
        for e in journal_events(path, EventKind.ORDER_SUBMITTED)
        if e["order"].get("reason") == "kill switch"
    ]
    assert closes and all(c["reduce_only"] for c in closes)
    assert len(journal_events(path, EventKind.ORDER_SUBMITTED)) == sent_before  # nothing new


def drill_settings(path: Path) -> Settings:
    """Flatten on kill; the clock is frozen in these tests, so the order rate limit (a second
    that never ends) is raised to let the book be built."""
    settings = engine_settings(path, flatten=True)
    for account in ("SIM-USD", "SIM-EUR"):
        settings = with_risk(settings, account, max_orders_per_second=1_000)
    return settings


def with_halt_on(settings: Settings, *rules: str) -> Settings:
    return dataclasses.replace(
        settings, monitoring=dataclasses.replace(settings.monitoring, halt_on=rules)
    )


async def test_an_alert_rule_set_to_halt_engages_the_kill_switch(journal_path: Path) -> None:
    settings = with_halt_on(drill_settings(journal_path), "margin")
    thresholds = MonitoringSettings(
        metrics_port=0, margin_alert_fraction=D("0.02"), halt_on=("margin",)
    )
    async with watched_engine(settings, thresholds) as engine:
        engine.monitoring.add_alert_sink(engine.runner.on_alert)
        ids = await full_book(engine.client)  # ~0.4% of equity in margin: no alert yet
        big = await engine.client.execute(SubmitOrder("SIM-USD", "EUR_USD", 100_000))
        assert big.ok, big  # ~3.6% in margin: past 2%, the rule fires and halts

        await check_the_drill(engine.client, journal_path, ids)

    (engaged, *_) = journal_events(journal_path, EventKind.KILL_SWITCH_ENGAGED)
    assert engaged["origin"] == "auto" and engaged["reason"].startswith("alert margin:")
    assert engaged["flatten"] is True


async def test_tmt_kill_with_a_full_book(journal_path: Path) -> None:
    async with running(drill_settings(journal_path)) as client:
        ids = await full_book(client)

        assert (await client.execute(EngageKillSwitch("tmt kill (CLI)", Origin.CLI))).ok

        await check_the_drill(client, journal_path, ids)
