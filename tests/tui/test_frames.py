"""Frames are driven by data: a change that reaches an idle screen is drawn by the frame its
arrival asks for, not at the next tick of a free-running timer; an engine that republishes
what it already said asks for no frame at all.

The app runs at `[ui] fps = 1` on a sim market that does not tick, so a frame timer would make
a change wait up to a second, and the screen is idle (no change drawn for over a frame) before
the change is made. Nothing here is timed: the change must be on screen after the messages its
arrival caused are handled, with no timer let run in between.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.pilot import board_ready, main_screen, until
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import Settings
from tmt_tui.domain.commands import SetReducing
from tmt_tui.domain.positions import TradingState
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.tui.app import TmtApp, create_app
from tmt_tui.tui.widgets.header import AccountHeader

#: One frame a second at most: a change drawn only by a frame timer would wait up to this.
SLOW_FPS = 1


@pytest.fixture
def quiet(settings: Settings) -> Settings:
    """The sim market with (practically) no ticks, and the UI at one frame a second."""
    return dataclasses.replace(
        settings,
        sim=dataclasses.replace(settings.sim, ticks_per_second=1e-9),
        ui=dataclasses.replace(settings.ui, fps=SLOW_FPS),
    )


@pytest_asyncio.fixture
async def quiet_client(quiet: Settings) -> AsyncIterator[LocalEngineClient]:
    engine = start_embedded(quiet)
    try:
        yield engine
    finally:
        await engine.close()


@pytest.fixture
def quiet_app(quiet: Settings, quiet_client: LocalEngineClient) -> TmtApp:
    return create_app(quiet, quiet_client)


async def test_a_change_reaching_an_idle_screen_is_drawn_by_its_own_frame(
    quiet_app: TmtApp, quiet_client: LocalEngineClient, tmp_path: Path
) -> None:
    app = quiet_app
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: board_ready(app), "the board with its first quotes")
        screen = main_screen(app)
        header = screen.query_one(AccountHeader)
        # the engine keeps publishing its marks, unchanged: they must not keep the screen busy
        await until(
            pilot,
            lambda: time.monotonic() - screen.drew_change_at > 1.5 / SLOW_FPS,
            "an idle screen (no change drawn for more than a frame)",
        )
        assert header.state.trading_state is TradingState.ACTIVE

        assert (await quiet_client.execute(SetReducing(True))).ok
        await until(pilot, lambda: app.model.reducing, "the engine's REDUCING in the model")
        await pilot.pause()  # the messages the arrival caused; no timer is let run

        assert header.state.trading_state is TradingState.REDUCING
