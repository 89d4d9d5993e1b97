"""The analytics load nothing of ours but the domain, and no screen library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_analytics_loads_no_engine_store_venue_api_cli_or_screen() -> None:
    code = (
        "import json, sys\n"
        "import tmt_tui.analytics, tmt_tui.analytics.exposure\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('tmt_tui', 'textual',"
        " 'rich', 'pandas', 'scipy')))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    outside = [m for m in loaded if not m.startswith(("tmt_tui.analytics", "tmt_tui.domain"))]
    assert outside == ["tmt_tui"]
