"""`tmt watch`: the engine's watchlist from a shell, as a script would use it: the list in the
board's order, add (at a row) and remove, names as people type them, and the engine's refusal
of an instrument it does not know (exit 3), apart from a command line of the wrong shape (64)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Engine, start_engine, write_config


@pytest.fixture
def engine() -> Iterator[Engine]:
    home = Path(tempfile.mkdtemp(prefix="tmtw", dir="/tmp"))  # a short socket path
    running = start_engine(home, write_config(home))
    yield running
    running.stop()
    shutil.rmtree(home, ignore_errors=True)


def watchlist(engine: Engine) -> list[str]:
    answer = engine.json("watch", "list")
    assert isinstance(answer, dict) and answer["ok"], answer
    names = answer["watchlist"]
    assert isinstance(names, list)
    return names


def test_remove_then_add_back_at_the_top_in_any_spelling(engine: Engine) -> None:
    before = watchlist(engine)
    assert "EUR_GBP" in before

    removed = engine.tmt("watch", "remove", "eur/gbp")
    assert removed.returncode == 0, removed.stderr
    assert "EUR_GBP off the watchlist" in removed.stdout
    assert "EUR_GBP" not in watchlist(engine)

    added = engine.tmt("watch", "add", "eurgbp", "--at", "1")
    assert added.returncode == 0, added.stderr
    assert watchlist(engine) == ["EUR_GBP", *(n for n in before if n != "EUR_GBP")]
    listed = engine.tmt("watch", "list")
    assert listed.stdout.splitlines()[0] == "EUR_GBP"  # plain: one name a line, board order


def test_an_unknown_instrument_is_refused_and_a_bad_line_is_a_usage_error(
    engine: Engine,
) -> None:
    unknown = engine.tmt("watch", "add", "EUR_USX")
    assert unknown.returncode == 3
    assert "UNKNOWN_INSTRUMENT" in unknown.stderr and "EUR_USD" in unknown.stderr  # the nearest

    assert engine.tmt("watch", "ad", "EUR_USD").returncode == 64
    assert engine.tmt("watch", "add").returncode == 64
    assert engine.tmt("watch", "add", "EUR_USD", "--at", "0").returncode == 64
