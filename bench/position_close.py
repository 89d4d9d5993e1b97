"""Close -> fill -> position gone, through EngineClient.close_position() on the sim broker.

The reply comes after the close's fill is durable and the position is flat in engine state.
Realistic book around it, quotes flowing. Budget p99 <= 1 ms.
"""

from __future__ import annotations

from _realistic_book import (
    bench_settings,
    commit_floor,
    current_mids,
    hop_floor,
    now_ns,
    percentiles,
    report,
    run,
    seed_book,
    start_engine,
    temp_journal,
    vs_floor,
    vs_hop_floor,
)

from tmt_tui.domain.commands import ClosePosition, Origin, SubmitOrder

N = 3000


async def main() -> None:
    journal = temp_journal()
    client = start_engine(bench_settings(journal))
    try:
        await seed_book(client, await current_mids(client))
        samples = []
        for i in range(N + 100):
            opened = await client.execute(
                SubmitOrder("SIM-USD", "NZD_USD", 10_000, origin=Origin.CLI)
            )
            if not opened.ok:
                raise RuntimeError(opened)
            start = now_ns()
            reply = await client.execute(ClosePosition("SIM-USD", "NZD_USD", origin=Origin.CLI))
            elapsed = now_ns() - start
            if not reply.ok or "filled" not in reply.message:
                raise RuntimeError(reply)
            if i >= 100:
                samples.append(elapsed)
        runner = client.runner
        assert runner.core.portfolio.units("SIM-USD", "NZD_USD") == 0
    finally:
        await client.close()
    figures = percentiles(samples)
    floor = commit_floor(journal)  # the same file system, the same run
    hops = await hop_floor(journal)  # the same commit behind the same two thread hops
    report(
        {
            "bench": "position_close",
            "n": N,
            **figures,
            "budget_p99_us": 1000,
            **vs_floor(figures, floor),
            **vs_hop_floor(figures, hops),
        }
    )


run(main())
