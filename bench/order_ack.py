"""execute(SubmitOrder) -> durable ack across the thread hop, sim broker, realistic book.

The reply is sent only after the order's events are committed with synchronous=FULL, so this
measures risk + OMS + broker + an fsync'd SQLite commit + two thread hops, with metrics and
alert rules on (as `tmt` runs). Budget p99 <= 1 ms. Reported beside the bare commit's floor and
beside the same commit behind the same two thread hops (what the in-process client's ack costs
without any of tmt's code): the ratios to the latter are tmt's own share.
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

from tmt_tui.domain.commands import Origin, SubmitOrder

N = 20000
WARMUP = 200


async def main() -> None:
    journal = temp_journal()
    client = start_engine(bench_settings(journal))
    try:
        await seed_book(client, await current_mids(client))
        samples = []
        for i in range(WARMUP + N):
            command = SubmitOrder(
                "SIM-USD", "EUR_USD", 1000 if i % 2 == 0 else -1000, origin=Origin.CLI
            )
            start = now_ns()
            reply = await client.execute(command)
            elapsed = now_ns() - start
            if not reply.ok:
                raise RuntimeError(reply)
            if i >= WARMUP:
                samples.append(elapsed)
    finally:
        await client.close()
    figures = percentiles(samples)
    floor = commit_floor(journal)  # the same file system, the same run
    hops = await hop_floor(journal)  # ... and the same commit behind the same two thread hops
    report(
        {
            "bench": "order_ack", "n": N, **figures, "budget_p99_us": 1000,
            **vs_floor(figures, floor), **vs_hop_floor(figures, hops),
        }
    )  # fmt: skip


run(main())
