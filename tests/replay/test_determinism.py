"""A replay is exact: the same recording gives the same fills and P&L every time, at any speed,
because the engine runs on the ticks' clock and takes each tick whole before the next."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.replay.recordings import a_day_of_orders, replaying
from tests.support.engines import snapshot
from tmt_tui.domain.quotes import Quote
from tmt_tui.domain.replay import MAX_SPEED


async def outcome(csv: Path, out: Path, speed: float) -> dict[str, Any]:
    """Play ``csv`` at ``speed`` with the same orders placed at the first prices: its fills,
    and each account's balance and each position's realized P&L at the end."""
    async with replaying(csv, out, speed) as replay:
        for order in a_day_of_orders(replay):
            assert (await replay.client.execute(order)).ok
        await replay.play_to_the_end()
        snap = await snapshot(replay.client)
    realized: dict[str, Decimal] = {p.key: p.realized_pl for p in snap.positions}
    return {
        "fills": replay.fills(),
        "balances": {a.id: a.balance for a in snap.accounts},
        "realized": realized,
    }


async def test_replaying_the_same_file_twice_gives_exactly_the_same_fills_and_pnl(
    recording: tuple[Path, list[Quote]], tmp_path: Path
) -> None:
    csv, _ = recording

    first = await outcome(csv, tmp_path / "first.db", MAX_SPEED)
    second = await outcome(csv, tmp_path / "second.db", MAX_SPEED)

    assert len(first["fills"]) >= 10, "the orders must fill for the comparison to mean much"
    assert first["balances"]["SIM-USD"] != Decimal("100000"), "some P&L must be realized"
    assert second == first


async def test_ten_times_real_speed_and_max_give_the_same_fills_and_pnl(
    recording: tuple[Path, list[Quote]], tmp_path: Path
) -> None:
    csv, _ = recording

    at_max = await outcome(csv, tmp_path / "max.db", MAX_SPEED)
    at_ten = await outcome(csv, tmp_path / "ten.db", 10.0)

    assert len(at_max["fills"]) >= 10
    assert at_ten == at_max
