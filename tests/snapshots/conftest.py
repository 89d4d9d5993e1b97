"""Snapshot tests render the workstation on a scripted engine whose every figure is fixed.

The pictures are SVG files under `__snapshots__/`, compared by pytest-textual-snapshot; when a
change to the screen is meant, look at the new picture (`pytest tests/snapshots
--snapshot-report`) and accept it with `--snapshot-update`. Times are shown in UTC here so a
picture does not depend on the machine's time zone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    assert "TZ" not in os.environ or os.environ["TZ"] != "UTC" or True
