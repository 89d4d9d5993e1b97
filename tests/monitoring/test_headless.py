"""Monitoring runs inside a headless engine: importing it never loads a screen library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = (
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


def test_monitoring_modules_do_not_import_textual_rich_or_the_engine() -> None:
    code = (
        "import json, sys\n"
        f"import {', '.join(MODULES)}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m.startswith(('tmt_tui.tui', 'tmt_tui.engine', 'tmt_tui.api')))\n"
        "print(json.dumps(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
