"""What a replay reads: a CSV (documented columns, bad rows skipped and named) or a journal's
ticks, opened read-only and left exactly as it was."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from tests.replay.recordings import replaying
from tests.support.cli import ROOT, engine_env, write_config
from tests.support.engines import journal_rows
from tests.support.harness import T0
from tmt_tui.domain.quotes import Quote
from tmt_tui.venues.replay.source import read_csv


def tmt(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`tmt ARGS` with its data, state and socket under ``home``."""
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(write_config(home)), *args],
        env=engine_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_bad_csv_rows_are_skipped_counted_and_named_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(
        "ts,instrument,bid,ask\n"
        f"{T0},EUR_USD,1.10000,1.10010\n"
        f"{T0 + 1},EUR_USD,abc,1.10010\n"
        f"{T0 + 2},EUR_USD,nan,1.10010\n"
        f"{T0 + 3},EUR_USD,1.10000,-1.1\n"
        f"{T0 + 4},EUR_USD,1.10020\n"
        f"yesterday,EUR_USD,1.10000,1.10010\n"
        f"{T0 + 6},EUR_USD,1.10030,1.10020\n"
        f"{T0 + 7},EUR_USD,1.10005,1.10015\n"
    )

    recording = read_csv(path)

    assert recording.total == 2
    assert recording.bad.count == 6
    assert recording.bad.described == [
        "line 3 column bid: 'abc' is not a number",
        "line 4 column bid: 'nan' is not a finite number",
        "line 5 column ask: '-1.1' is not a positive price",
        "line 6 column ask: missing",
        "line 7 column ts: 'yesterday' is neither epoch seconds nor an ISO-8601 time",
        "line 8 column ask: quote is crossed (bid above ask)",
    ]


def test_a_header_may_order_the_columns_and_times_may_be_iso_the_rows_play_in_time_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(
        "instrument,bid,ask,ts\n"
        "USD_JPY,151.200,151.210,2026-06-10T12:00:01Z\n"
        "EUR_USD,1.10000,1.10010,2026-06-10T12:00:00\n"
    )

    recording = read_csv(path)

    (chunk,) = list(recording.chunks())
    assert [(q.instrument, q.ts) for q in chunk] == [("EUR_USD", T0), ("USD_JPY", T0 + 1)]
    assert [(i.name, i.display_precision) for i in recording.instruments] == [
        ("EUR_USD", 5),
        ("USD_JPY", 3),
    ]


async def test_a_journal_replayed_from_the_cli_is_left_byte_identical(
    recording: tuple[Path, list[Quote]], tmp_path: Path, home: Path
) -> None:
    csv, quotes = recording
    source = tmp_path / "source.db"
    async with replaying(csv, source) as replay:
        await replay.play_to_the_end()
    before = (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns)
    out = home / "again.db"

    done = tmt(home, "replay", "--journal", str(source), "--speed", "max", "--headless",
               "--exit-at-end", "--out", str(out))  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "finished" in done.stderr
    after = (hashlib.sha256(source.read_bytes()).hexdigest(), source.stat().st_mtime_ns)
    assert after == before
    replayed = journal_rows(out, "select ts, instrument, bid, ask from ticks order by rowid")
    assert replayed == [(q.ts, q.instrument, str(q.bid), str(q.ask)) for q in quotes]


def test_a_replay_refuses_to_write_its_own_source(tmp_path: Path, home: Path) -> None:
    csv = tmp_path / "ticks.csv"
    csv.write_text(f"{T0},EUR_USD,1.10000,1.10010\n")

    refused = tmt(home, "replay", str(csv), "--headless", "--out", str(csv))

    assert refused.returncode == 64
    assert "never writes its source" in refused.stderr


def test_a_csv_with_bad_rows_is_played_and_the_bad_rows_are_reported(
    tmp_path: Path, home: Path
) -> None:
    csv = tmp_path / "ticks.csv"
    csv.write_text(f"{T0},EUR_USD,1.10000,1.10010\n{T0 + 1},EUR_USD,-5,1.1\n")

    done = tmt(home, "replay", str(csv), "--speed", "max", "--headless", "--exit-at-end",
               "--out", str(home / "out.db"))  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "1 bad row skipped: line 2 column bid: '-5' is not a positive price" in done.stderr
    assert "1 of 1 ticks, 1 bad rows skipped" in done.stderr
