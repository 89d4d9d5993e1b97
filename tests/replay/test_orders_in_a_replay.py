"""Orders a trader places during a replay go to the paper broker and fill at the replayed
prices, stamped with the ticks' time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.replay.recordings import replaying
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.quotes import Quote


async def test_a_market_buy_placed_while_paused_fills_at_the_replayed_ask(
    recording: tuple[Path, list[Quote]], tmp_path: Path
) -> None:
    csv, _ = recording
    async with replaying(csv, tmp_path / "out.db") as replay:
        touch = replay.quote("EUR_USD")

        reply = await replay.client.execute(SubmitOrder("SIM-USD", "EUR_USD", 10_000))

        assert reply.ok, reply
    (fill,) = replay.fills()
    assert fill == (reply.order_id, 10_000, str(touch.ask), touch.ts)


async def test_a_resting_limit_fills_at_the_first_replayed_ask_that_reaches_it_at_its_time(
    recording: tuple[Path, list[Quote]], tmp_path: Path
) -> None:
    csv, quotes = recording
    async with replaying(csv, tmp_path / "out.db") as replay:
        placed_at = replay.progress.done
        limit = replay.quote("EUR_USD").bid - Decimal("0.00020")
        order = SubmitOrder("SIM-USD", "EUR_USD", 5_000, OrderType.LIMIT, limit)
        reply = await replay.client.execute(order)
        assert reply.ok, reply

        await replay.play_to_the_end()

    later = [q for q in quotes[placed_at:] if q.instrument == "EUR_USD"]
    reached = next(q for q in later if q.ask <= limit)
    assert replay.fills() == [(reply.order_id, 5_000, str(reached.ask), reached.ts)]
