"""The workstation on a replaying engine: the header shows where the replay is (time, % done,
speed, paused), space pauses and resumes it, + and - change its speed."""

from __future__ import annotations

from pathlib import Path

from tests.replay.recordings import replaying, write_ticks
from tests.support.pilot import main_screen, screen_text, until
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.widgets.header import AccountHeader


def header_text(app: TmtApp) -> str:
    """The header's lines as the terminal shows them."""
    header = main_screen(app).query_one("#header", AccountHeader)
    top, height = header.region.y, header.region.height
    return "\n".join(screen_text(app).splitlines()[top : top + height])


async def test_the_header_shows_the_replay_s_progress_and_the_keys_steer_it(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "ticks.csv"
    write_ticks(csv, count=3000, step_s=1.0)  # 50 minutes of market: minutes at 10x
    async with replaying(csv, tmp_path / "out.db", speed=10.0) as replay:
        app = create_app(replay.runner.settings, replay.client)
        async with app.run_test(size=(160, 48)) as pilot:
            await until(pilot, lambda: "PAUSED" in header_text(app), "the paused replay")
            assert "REPLAY" in header_text(app)
            assert "10x" in header_text(app)
            assert "0.1%" in header_text(app)  # the first prices of 3,000 ticks
            assert "2026-06-10 12:00:00 UTC" in header_text(app)

            await pilot.press("space")
            await until(pilot, lambda: "▶ 10x" in header_text(app), "the replay playing")
            await pilot.press("plus")
            await until(pilot, lambda: "▶ 100x" in header_text(app), "the replay at 100x")
            await pilot.press("minus", "minus")
            await until(pilot, lambda: "▶ 1x" in header_text(app), "the replay at 1x")
            await pilot.press("space")
            await until(pilot, lambda: "PAUSED 1x" in header_text(app), "paused again")

        assert replay.progress.paused
        assert replay.progress.speed == 1.0
