"""Layers hold at import time, in a fresh interpreter: the headless engine never loads a screen
library, and monitoring, which runs inside it, knows nothing of the engine or the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEADLESS = (
    "tmt_tui.cli.embedded",
    "tmt_tui.engine.runner",
    "tmt_tui.store.journal",
    "tmt_tui.venues.sim.broker",
    "tmt_tui.domain.client",
    "tmt_tui.config",
    "tmt_tui.api.server",
    "tmt_tui.api.remote",
    "tmt_tui.cli.host",
    "tmt_tui.monitoring.service",
    "tmt_tui.sync.process",  # the sync child starts beside every engine: no screen library
    "tmt_tui.sync.check",
)
MONITORING = (
    "tmt_tui.monitoring.alerts",
    "tmt_tui.monitoring.collectors",
    "tmt_tui.monitoring.health",
    "tmt_tui.monitoring.metrics",
    "tmt_tui.monitoring.server",
    "tmt_tui.monitoring.service",
    "tmt_tui.monitoring.settings",
    "tmt_tui.monitoring.tee",
    "tmt_tui.monitoring.trackers",
)


def loaded_after_importing(modules: tuple[str, ...], prefixes: tuple[str, ...]) -> list[str]:
    """Modules starting with one of ``prefixes`` that importing ``modules`` pulled in."""
    code = (
        "import json, sys\n"
        f"import {', '.join(modules)}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_headless_modules_do_not_import_textual_or_rich() -> None:
    assert loaded_after_importing(HEADLESS, ("textual", "rich", "tmt_tui.tui")) == []


def test_monitoring_does_not_import_the_engine_the_api_or_a_screen() -> None:
    prefixes = ("textual", "rich", "tmt_tui.tui", "tmt_tui.engine", "tmt_tui.api")
    assert loaded_after_importing(MONITORING, prefixes) == []
