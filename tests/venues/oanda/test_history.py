"""History on first start from OANDA's instrument candles: an engine on `tmt oanda-sim`'s server
(on loopback, its own thread) backfills its journal with the server's candles, and they are the
bars a reference computes here with numpy over the server's own price series. A restart keeps
them and writes none twice."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.engines import journal_rows
from tests.support.oanda import TOKEN, Engine, oanda_settings
from tests.support.waiting import wait_for
from tmt_tui.config import Settings
from tmt_tui.venues.oanda_sim.server import V20ServerThread

SIZES = {"S5": 5, "M1": 60, "M5": 300, "M15": 900, "H1": 3600}
COUNT = 24
DIGITS = {"EUR_USD": 5, "USD_JPY": 3}
H1_ROWS = "select * from bars where size = 'H1' order by instrument, start"


@pytest.fixture
def server() -> Iterator[V20ServerThread]:
    with V20ServerThread(token=TOKEN, tick_interval=0.02, heartbeat_interval=0.2) as running:
        yield running


def settings_for(server: V20ServerThread, journal: Path) -> Settings:
    settings = oanda_settings(server, journal)
    return dataclasses.replace(
        settings, engine=dataclasses.replace(settings.engine, backfill_bars=COUNT)
    )


def backfilled(settings: Settings) -> Engine:
    engine = Engine(settings)
    wait_for(lambda: engine.runner.backfill_report.done, "the backfill")
    return engine


def reference_bars(ts: np.ndarray, bid: np.ndarray, ask: np.ndarray, seconds: int) -> dict:
    """start -> (bid o h l c, ask o h l c, mid o h l c, ticks) from every price, by numpy."""
    mid = (bid + ask) / 2
    window = np.floor(ts / seconds).astype(np.int64)
    starts, first = np.unique(window, return_index=True)
    last = np.append(first[1:], len(ts)) - 1
    out = {}
    for i, start in enumerate(starts):
        lo, hi = first[i], last[i] + 1
        row = []
        for p in (bid, ask, mid):
            part = p[lo:hi]
            row += [part[0], part.max(), part.min(), part[-1]]
        out[float(start * seconds)] = (*row, hi - lo)
    return out


def test_first_start_backfills_every_size_with_the_venue_s_candles(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    started = time.time()
    engine = backfilled(settings_for(server, journal))
    engine.stop()

    for name in ("EUR_USD", "USD_JPY"):
        ts, bid, ask = server.call(lambda s, n=name: s.candle_tape.series(n, started - 3 * 86400))
        for size, seconds in SIZES.items():
            rows = journal_rows(
                journal,
                "select * from bars where instrument = ? and size = ? and start + ? <= ? "
                "order by start",
                name, size, seconds, started,
            )  # fmt: skip
            expected = reference_bars(ts, bid, ask, seconds)
            assert len(rows) >= COUNT - 1, (name, size)
            half = 10.0 ** -DIGITS[name] / 2  # OANDA prints mids at the instrument's digits
            for row in rows:
                want = expected[row[2]]
                np.testing.assert_allclose(row[3:11], want[:8], rtol=0, atol=1e-9)
                np.testing.assert_allclose(row[11:15], want[8:12], rtol=0, atol=half + 1e-9)
                assert row[15] == expected[row[2]][12], (name, size, row[2])


def test_a_restart_keeps_the_backfilled_bars_and_writes_none_twice(
    server: V20ServerThread, tmp_path: Path, token_env: None
) -> None:
    journal = tmp_path / "journal.db"
    settings = settings_for(server, journal)
    backfilled(settings).stop()
    before = journal_rows(journal, H1_ROWS)

    again = backfilled(settings)
    report = again.runner.backfill_report
    again.stop()
    after = journal_rows(journal, H1_ROWS)
    (dupes,) = journal_rows(
        journal, "select count(*) - count(distinct instrument || size || start) from bars"
    )[0:1]

    assert set(before) <= set(after)  # nothing lost, nothing rewritten
    assert len(after) - len(before) <= 3  # at most an hour turned over, per instrument
    assert dupes == (0,)
    assert report.from_venue < 3 * COUNT  # only the gap since the first run was asked for
