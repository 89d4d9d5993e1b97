"""Start an engine inside this process (the plain ``tmt`` and the tests use it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from tmt_tui.config import Settings
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.engine.runner import EngineRunner


def start_embedded(settings: Settings, clock: Callable[[], float] = time.time) -> LocalEngineClient:
    """Start the engine thread (journal, replay, venues) and return a client that owns it."""
    runner = EngineRunner(settings, clock)
    runner.start()
    return LocalEngineClient(runner, owns_engine=True)
