"""History on first start from Polygon's REST aggregates: an engine priced by `tmt polygon-sim`
(started for real on loopback, REST on the same port as its WebSocket) backfills its journal
with the server's aggregates, and they are the windows a reference computes here with numpy
over the server's own prices; the key never reaches a URL, the log or the journal."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.support.engines import journal_rows
from tests.support.waiting import eventually
from tests.venues.polygon.test_engine import KEY, key, polygon_sim, settings_for, started

__all__ = ["key", "polygon_sim"]  # fixtures shared with the engine's suite
SIZES = {"S5": 5, "M1": 60, "M5": 300, "M15": 900, "H1": 3600}
COUNT = 20


def reference_mids(ts: np.ndarray, mid: np.ndarray, seconds: int) -> dict[float, tuple]:
    """window start -> (o, h, l, c, ticks) of the mids, by numpy."""
    window = np.floor(ts / seconds).astype(np.int64)
    starts, first = np.unique(window, return_index=True)
    last = np.append(first[1:], len(ts))
    return {
        float(s * seconds): (mid[a], mid[a:b].max(), mid[a:b].min(), mid[b - 1], b - a)
        for s, a, b in zip(starts, first, last, strict=True)
    }


async def test_first_start_backfills_every_size_with_polygon_aggregates(
    polygon_sim: Callable[..., Any], key: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await polygon_sim()
    journal = tmp_path / "journal.db"
    settings = settings_for(server.port, journal)
    settings = dataclasses.replace(
        settings, engine=dataclasses.replace(settings.engine, backfill_bars=COUNT)
    )
    began = time.time()
    client = await started(settings)
    try:
        report = client.runner.backfill_report  # type: ignore[union-attr]
        await eventually(lambda: report.done, "the backfill")
    finally:
        await client.close()

    assert report.from_venue >= 2 * len(SIZES) * (COUNT - 1), report
    ts, bid, ask = server.sim.aggregates.series("EUR_USD", began - 2 * 86400)
    for size, seconds in SIZES.items():
        rows = journal_rows(
            journal,
            "select start, mid_o, mid_h, mid_l, mid_c, ticks, bid_o, ask_c from bars "
            "where instrument = 'EUR_USD' and size = ? and start + ? <= ? order by start",
            size, seconds, began,
        )  # fmt: skip
        expected = reference_mids(ts, (bid + ask) / 2, seconds)
        assert len(rows) >= COUNT - 1, size
        for start, o, h, low, c, ticks, bid_o, ask_c in rows:
            np.testing.assert_allclose((o, h, low, c), expected[start][:4], rtol=0, atol=1e-9)
            assert ticks == expected[start][4]
            assert (bid_o, ask_c) == (o, c)  # aggregates carry one price: bid = ask = mid
    assert KEY not in caplog.text
    assert KEY.encode() not in journal.read_bytes()


async def test_the_aggregates_endpoint_wants_the_key_as_polygon_does(
    polygon_sim: Callable[..., Any],
) -> None:
    server = await polygon_sim()
    now_ms = int(time.time() * 1000)
    path = f"/v2/aggs/ticker/C:EURUSD/range/1/minute/{now_ms - 600_000}/{now_ms}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
        refused = await http.get(path, params={"apiKey": "wrong"})
        by_query = await http.get(path, params={"apiKey": KEY})
        by_header = await http.get(path, headers={"Authorization": f"Bearer {KEY}"})

    assert refused.status_code == 401 and refused.json()["status"] == "ERROR"
    body = by_query.json()
    assert body["status"] == "OK" and body["resultsCount"] == len(body["results"]) >= 9
    assert body["request_id"] and body["ticker"] == "C:EURUSD"
    assert set(body["results"][0]) == {"v", "vw", "o", "c", "h", "l", "t", "n"}
    starts = [r["t"] for r in body["results"]]
    assert starts == sorted(starts) and all(t % 60_000 == 0 for t in starts)
    assert by_header.json()["results"] == body["results"]
