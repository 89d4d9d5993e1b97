"""A real engine watched by Monitoring: what it did shows on /metrics, and /healthz follows it."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

from tests.support.engines import engine_settings
from tests.support.monitoring import Scraped, http_get, samples, trade, value, watched_engine
from tests.support.waiting import eventually
from tmt_tui.domain.commands import CancelOrder, EngageKillSwitch, SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.monitoring.settings import MonitoringSettings


async def test_orders_fills_and_rejects_of_a_real_engine_show_on_metrics(
    journal_path: Path,
) -> None:
    async with watched_engine(engine_settings(journal_path)) as engine:
        await trade(engine.client, fills=3)

        def scraped_with_the_limit_working() -> Scraped | None:
            scraped = samples(http_get(f"{engine.url}/metrics")[1])
            working = value(scraped, "tmt_working_orders", account="SIM-USD")
            return scraped if working == 1 else None

        scraped = await eventually(scraped_with_the_limit_working)

    assert value(scraped, "tmt_orders_total", type="MARKET") == 3
    assert value(scraped, "tmt_orders_total", type="LIMIT") == 1
    assert value(scraped, "tmt_fills_total") == 3
    assert value(scraped, "tmt_rejects_total", reason="INVALID_UNITS") == 1
    assert value(scraped, "tmt_order_ack_seconds_count", command="SubmitOrder") == 5
    assert value(scraped, "tmt_order_fill_seconds_count", type="MARKET") == 3
    assert value(scraped, "tmt_risk_check_seconds_count") == 5
    assert (value(scraped, "tmt_quotes_total", result="accepted") or 0) >= 3
    assert value(scraped, "tmt_trading_state", account="SIM-USD") == 0
    assert value(scraped, "tmt_equity", account="SIM-EUR", currency="EUR") is not None
    assert (value(scraped, "tmt_margin_used", account="SIM-USD", currency="USD") or 0) > 0


async def test_the_kill_switch_shows_as_an_engagement_and_halted_accounts(
    journal_path: Path,
) -> None:
    async with watched_engine(engine_settings(journal_path)) as engine:
        far = SubmitOrder("SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, price=Decimal("1.05000"))
        placed = [await engine.client.execute(far) for _ in range(2)]
        assert all(p.ok for p in placed), placed
        assert (await engine.client.execute(CancelOrder(placed[0].order_id or ""))).ok
        reply = await engine.client.execute(EngageKillSwitch("test"))
        assert reply.ok, reply

        def halted() -> Scraped | None:
            scraped = samples(http_get(f"{engine.url}/metrics")[1])
            state = value(scraped, "tmt_trading_state", account="SIM-USD")
            cancels = value(scraped, "tmt_cancels_total", why="kill switch")
            return scraped if state == 2 and cancels == 1 else None

        scraped = await eventually(halted)

    assert value(scraped, "tmt_kill_switch_engagements_total") == 1
    assert value(scraped, "tmt_cancels_total", why="user") == 1  # the trader's, before
    assert value(scraped, "tmt_trading_state", account="SIM-EUR") == 2
    assert value(scraped, "tmt_order_ack_seconds_count", command="EngageKillSwitch") == 1


async def test_healthz_is_ok_while_the_engine_runs_and_503_once_it_stops(
    journal_path: Path,
) -> None:
    async with watched_engine(engine_settings(journal_path)) as engine:
        await eventually(lambda: http_get(f"{engine.url}/healthz")[0] == 200)

        await engine.client.close()

        assert http_get(f"{engine.url}/healthz")[:2] == (503, "engine not running\n")


async def test_healthz_notices_a_silent_engine_loop_by_its_heartbeat_alone(
    journal_path: Path,
) -> None:
    watch = MonitoringSettings(metrics_port=0, health_heartbeat_s=0.3)
    async with watched_engine(engine_settings(journal_path), watch, engine_running=False) as engine:
        await eventually(lambda: http_get(f"{engine.url}/healthz")[0] == 200)

        await engine.client.close()

        status, body, _ = await eventually(
            lambda: _unhealthy(f"{engine.url}/healthz", "engine loop silent for ")
        )
    assert status == 503


async def test_a_feed_that_stops_makes_healthz_503_and_raises_quote_stale(
    journal_path: Path,
) -> None:
    transitions: list[tuple[str, bool, str]] = []
    watch = MonitoringSettings(
        metrics_port=0, health_feed_stale_s=0.3, stale_quote_s=0.3, alert_clear_s=0.0
    )
    # one quote per pair at start, the next one in ~15 minutes: the feed goes quiet
    base = engine_settings(journal_path)
    settings = dataclasses.replace(base, sim=dataclasses.replace(base.sim, ticks_per_second=0.001))
    async with watched_engine(settings, watch, on_alert=lambda *t: transitions.append(t)) as engine:
        status, body, _ = await eventually(
            lambda: _unhealthy(f"{engine.url}/healthz", "feed stale: last quote ")
        )
        await eventually(lambda: len(transitions) >= 3)
        scraped = samples(http_get(f"{engine.url}/metrics")[1])

    assert status == 503
    assert sorted((rule, active) for rule, active, _ in transitions[:3]) == [
        ("quote_stale:EUR_USD", True),
        ("quote_stale:GBP_USD", True),
        ("quote_stale:USD_JPY", True),
    ]
    assert value(scraped, "tmt_alerts_active", rule="quote_stale", subject="GBP_USD") == 1


def _unhealthy(url: str, reason: str) -> tuple[int, str, dict[str, str]] | None:
    """The /healthz answer once it is 503 for ``reason`` (its text starts so), else None."""
    answer = http_get(url)
    return answer if answer[0] == 503 and answer[1].startswith(reason) else None
