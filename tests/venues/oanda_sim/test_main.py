"""``python -m tmt_tui.venues.oanda_sim`` (what ``tmt oanda-sim`` runs), in process."""

from __future__ import annotations

import pytest

from tmt_tui.venues.oanda_sim.__main__ import main


def test_the_server_module_runs_and_refuses_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OANDA_TOKEN", raising=False)
    monkeypatch.delenv("TMT_OANDA_TOKEN", raising=False)

    assert main(["--port", "0"]) == 2
