"""p50 / p99 of a full pre-trade check (all guards) on the realistic book, quotes flowing.

Orders alternate between a USD account buying EUR_USD and a EUR account trading AUD_CAD (whose
P&L converts through USD), so conversion paths are exercised. Metrics are on, as in
production: the figure includes the risk-check histogram's observe. Budget p99 <= 20 us.
"""

from __future__ import annotations

from _realistic_book import booted_runner, percentiles, report

from tmt_tui.domain.orders import Order, OrderType

N = 100_000


def main() -> None:
    runner = booted_runner()
    core, market = runner.core, runner.venue.feed
    names = [i.name for i in market.instruments()]
    orders = [
        Order("B1", "SIM-USD", "EUR_USD", 1000, OrderType.MARKET),
        Order("B2", "SIM-EUR", "AUD_CAD", -2000, OrderType.MARKET),
        Order("B3", "SIM-EUR", "USD_JPY", 3000, OrderType.MARKET),
    ]
    check = core.decide.risk.check
    observe = core.decide.on_risk_check  # the metrics hook the engine calls after every check
    clock = core.clock
    samples = []
    from time import perf_counter_ns

    for i in range(N):
        runner._on_quote(market.step(names[i % len(names)]))  # quotes keep flowing
        order = orders[i % 3]
        now = clock()
        start = perf_counter_ns()
        rejection = check(order, core.orders.count(order.account), now)
        observe(1e-6, None if rejection is None else rejection[0].value)
        samples.append(perf_counter_ns() - start)
        if rejection is not None:
            raise RuntimeError(rejection)
    runner.journal.close()
    report({"bench": "risk_check", "n": N, **percentiles(samples), "budget_p99_us": 20})


main()
