"""A chart's candles over the control API (`tmt attach`): QueryBars and its Candles answer cross
the wire through the one codec, read-only connections included, exactly as in process."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.support.api import make_settings
from tests.support.waiting import eventually
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.config import Settings
from tmt_tui.domain.commands import QueryBars
from tmt_tui.domain.market import Candles
from tmt_tui.engine.local_client import LocalEngineClient


@pytest.fixture
def settings(journal: Path) -> Settings:
    """The API tests' engine with the start's history backfill on (other tests start without)."""
    base = make_settings(journal)
    return dataclasses.replace(base, engine=dataclasses.replace(base.engine, backfill_bars=200))


async def test_query_bars_answers_the_same_candles_attached_as_in_process(
    engine: LocalEngineClient, remote: RemoteEngineClient
) -> None:
    report = engine.runner.backfill_report  # type: ignore[union-attr]
    await eventually(lambda: report.done, "the backfill")
    query = QueryBars("EUR_USD", "M5", 40)

    here, there = await engine.execute(query), await remote.execute(query)

    assert there.ok, there
    assert isinstance(there.payload, Candles) and isinstance(here.payload, Candles)
    assert len(there.payload) == 40
    assert there.payload.starts == here.payload.starts
    assert there.payload.closes == here.payload.closes
    assert there.payload.lines["ema_slow"] == here.payload.lines["ema_slow"]


async def test_an_unknown_bar_size_is_refused_with_the_sizes_there_are(
    remote: RemoteEngineClient,
) -> None:
    reply = await remote.execute(QueryBars("EUR_USD", "M2", 10))

    assert not reply.ok
    assert reply.code == "INVALID_COMMAND" and "S5, M1, M5, M15, H1" in reply.message
