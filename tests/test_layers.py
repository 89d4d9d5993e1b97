"""The headless layers never load a screen library: an engine must run where no terminal UI can."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HEADLESS = (
    "tmt_tui.engine.embedded",
    "tmt_tui.engine.runner",
    "tmt_tui.store.journal",
    "tmt_tui.venues.sim.broker",
    "tmt_tui.domain.client",
    "tmt_tui.config",
)


def test_headless_modules_do_not_import_textual_or_rich() -> None:
    code = (
        "import json, sys\n"
        f"import {', '.join(HEADLESS)}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')"
        " or m.startswith('tmt_tui.tui'))\n"
        "print(json.dumps(loaded))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
