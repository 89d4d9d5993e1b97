"""What the engine says about OANDA's streams: down while they are, live again after. (Found by
the wire-chaos suite: a price stream refused on every reconnect raised nothing, and the board's
last quotes looked current until the staleness rule's limit, ten seconds by default.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oanda import TOKEN, Engine, engine_on
from tests.support.waiting import wait_for
from tmt_tui.venues.oanda_sim.server import V20ServerThread


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.2) as running:
        yield running


@pytest.fixture
def engine(server: V20ServerThread, tmp_path: Path, token_env: None) -> Iterator[Engine]:
    with engine_on(server, tmp_path / "journal.db", lambda e: e.trading("EUR_USD")) as running:
        yield running


def test_a_price_stream_refused_on_reconnect_is_an_alert_until_prices_flow_again(
    engine: Engine, server: V20ServerThread
) -> None:
    wait_for(lambda: "venue.prices" not in engine.core.alerts, "no alert while prices flow")
    server.call(lambda s: setattr(s.faults, "streams_down", True))

    server.call(lambda s: s.cut_streams())

    wait_for(lambda: "venue.prices" in engine.core.alerts, "the price stream said down")
    assert "price stream down" in engine.core.alerts["venue.prices"]
    server.call(lambda s: setattr(s.faults, "streams_down", False))
    last = engine.core.quotes.get("EUR_USD").ts
    wait_for(lambda: "venue.prices" not in engine.core.alerts, "live again")
    wait_for(lambda: engine.core.quotes.get("EUR_USD").ts > last, "new prices")
