"""`tmt trades`: the blotter from a running engine, as text, JSON or CSV; a read-only connection
may ask (a query changes nothing)."""

from __future__ import annotations

import csv
import io

from tests.support.cli import Engine
from tests.support.waiting import wait_for


def test_the_blotter_lists_a_closed_trade_in_every_format(engine: Engine) -> None:
    assert engine.tmt("buy", "EUR_USD", "2k").returncode == 0
    assert engine.tmt("close", "EUR_USD").returncode == 0

    rows = wait_for(lambda: engine.json("trades"), "the closed trade", interval=0.1)
    text = engine.tmt("trades").stdout
    table = list(csv.DictReader(io.StringIO(engine.tmt("trades", "--csv").stdout)))

    assert isinstance(rows, list)
    (trade,) = rows
    assert (trade["account"], trade["instrument"], trade["units"]) == ("SIM-USD", "EUR_USD", 2000)
    assert trade["reason"] == "close"
    assert "EUR_USD" in text and "close" in text
    assert [(r["instrument"], r["units"], r["reason"]) for r in table] == [
        ("EUR_USD", "2000", "close")
    ]
    assert engine.tmt("trades", "--account", "SIM-EUR").stdout.strip() == "no closed trades"


def test_a_bad_since_is_refused_with_the_reason(engine: Engine) -> None:
    result = engine.tmt("trades", "--since", "yesterday", "--json")

    assert result.returncode == 3
    assert "neither epoch seconds nor an ISO date" in result.stdout
