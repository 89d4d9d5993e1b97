"""Engage the kill switch with 100 working orders -> every one cancelled and all accounts HALTED.

Timed from the call to the reply, which the engine sends once the halt and all its cancels are
journaled in one durable transaction (the sim broker confirms cancels synchronously). Each round
resets, re-places 100 working orders, and engages again. Budget <= 10 ms.
"""

from __future__ import annotations

from _realistic_book import (
    bench_settings,
    current_mids,
    now_ns,
    percentiles,
    report,
    run,
    seed_book,
    start_engine,
    temp_journal,
    working_orders,
)

from tmt_tui.domain.commands import EngageKillSwitch, Origin, ResetKillSwitch
from tmt_tui.domain.positions import TradingState

ROUNDS = 30


async def main() -> None:
    client = start_engine(bench_settings(temp_journal()))
    try:
        mids = await current_mids(client)
        await seed_book(client, mids)
        core = client.runner.core
        samples = []
        for _ in range(ROUNDS):
            working = sum(1 for o in core.orders.open.values() if not o.is_protective)
            for command in working_orders(mids, 100 - working):
                reply = await client.execute(command)
                if not reply.ok:
                    raise RuntimeError(reply)
            start = now_ns()
            reply = await client.execute(EngageKillSwitch("bench", Origin.CLI))
            samples.append(now_ns() - start)
            left = [o for o in core.orders.open.values() if not o.is_protective]
            states = {a.state for a in core.portfolio.accounts.values()}
            if left or states != {TradingState.HALTED} or "cancelling 100" not in reply.message:
                raise RuntimeError(f"{reply} left={len(left)} states={states}")
            await client.execute(ResetKillSwitch(Origin.CLI))
    finally:
        await client.close()
    result = percentiles(samples, "ms")
    report(
        {
            "bench": "kill_switch",
            "n": ROUNDS,
            "orders_cancelled": 100,
            "p50_ms": result["p50_ms"],
            "max_ms": result["max_ms"],
            "budget_ms": 10,
        }
    )


run(main())
