"""What price alerts cost the quote path: quotes per second into engine state (as
bench/quote_ingest.py measures them) on the realistic book with no price alert, then with 100
active alerts on every instrument (the most one may hold), half above and half below, none near
enough to fire. The per-instrument nearest levels make a tick's test two float comparisons
whatever the count, so the two rates should differ by no more than this VM's noise.

Rounds alternate between the two books so drift on a shared machine hits both alike; the
median round of each is reported, and ``cost_pct`` is how much slower the alerted book ran.
"""

from __future__ import annotations

import time
from decimal import Decimal

from _realistic_book import booted_runner, drain, report

from tmt_tui.domain.commands import Origin, SetPriceAlert
from tmt_tui.domain.price_alerts import MAX_ACTIVE_PER_INSTRUMENT, AlertSide

N = 100_000
ROUNDS = 5


def alerts_far_from(mids: dict[str, Decimal], precision: dict[str, int]) -> list[SetPriceAlert]:
    """Per instrument, the cap of alerts: levels 5% to 15% away, where a random walk of a few
    hundred thousand ticks does not go."""
    commands = []
    for name, mid in mids.items():
        step = Decimal(1).scaleb(-precision[name])
        for i in range(MAX_ACTIVE_PER_INSTRUMENT):
            above = i % 2 == 0
            away = Decimal("0.05") + Decimal(i) / 1000
            level = mid * (1 + away) if above else mid * (1 - away)
            side = AlertSide.ABOVE if above else AlertSide.BELOW
            commands.append(SetPriceAlert(name, side, level.quantize(step), origin=Origin.CLI))
    return commands


def rate(runner: object, quotes: list[object]) -> float:
    on_quote = runner._on_quote  # type: ignore[attr-defined]
    start = time.perf_counter()
    for quote in quotes:
        on_quote(quote)
    runner._flush_ticks()  # type: ignore[attr-defined]
    return N / (time.perf_counter() - start)


def main() -> None:
    plain, alerted = booted_runner(), booted_runner()
    core = alerted.core
    mids = {q.instrument: q.mid for q in core.quotes.quotes.values()}
    precision = {n: i.display_precision for n, i in core.quotes.instruments.items()}
    replies = drain(alerted, alerts_far_from(mids, precision))
    refused = [r for r in replies if not r.ok]
    if refused:
        raise RuntimeError(f"alerts refused: {refused[0]}")
    market = plain.venue.feed
    names = [i.name for i in market.instruments()]
    quotes = [market.step(names[i % len(names)]) for i in range(N)]
    rates: dict[str, list[float]] = {"plain": [], "alerted": []}
    for _ in range(ROUNDS):
        rates["plain"].append(rate(plain, quotes))
        rates["alerted"].append(rate(alerted, quotes))
    fired = len(core.state.price_alerts.finished)
    for runner in (plain, alerted):
        runner.journal.close()
    plain_rate, alerted_rate = (sorted(r)[ROUNDS // 2] for r in rates.values())
    report(
        {
            "bench": "price_alerts",
            "n": N * ROUNDS,
            "alerts": len(core.state.price_alerts),
            "fired": fired,
            "plain_per_s": round(plain_rate),
            "alerted_per_s": round(alerted_rate),
            "cost_pct": round(100 * (plain_rate - alerted_rate) / plain_rate, 1),
            "budget_per_s": 100_000,
        }
    )


main()
