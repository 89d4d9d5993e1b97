"""Start an engine inside this process (the plain ``tmt`` and the tests use it): the venue the
config names, built by ``venues.factory``, handed to a runner on its own thread."""

from __future__ import annotations

import time
from collections.abc import Callable

from tmt_tui.config import Settings
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner
from tmt_tui.monitoring.observer import EngineObserver
from tmt_tui.venues.factory import build_venue


def engine_runner(
    settings: Settings,
    clock: Callable[[], float] = time.time,
    observer: EngineObserver | None = None,
) -> EngineRunner:
    """A runner (not started) on the venue ``settings`` asks for."""
    return EngineRunner(settings, build_venue(settings, clock), clock, observer)


def start_embedded(settings: Settings, clock: Callable[[], float] = time.time) -> LocalEngineClient:
    """Start the engine thread (journal, replay, venues) and return a client that owns it."""
    runner = engine_runner(settings, clock)
    runner.start()
    return LocalEngineClient(runner, owns_engine=True)
