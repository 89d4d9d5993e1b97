"""Where `tmt analytics` reads equity from: a trader's CSV (equity or returns, epoch or ISO
times) refused line by line when wrong, and a tmt journal read without its owner's lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.support.journals import DAY, EURUSD_BY_DAY, journal_with_equity
from tests.support.monitoring import account
from tmt_tui.cli.equity_sources import SourceError, read_csv, read_journal
from tmt_tui.store.equity_rows import EquityRows
from tmt_tui.store.journal import Journal


def test_a_csv_of_equity_reads_with_or_without_a_header_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "equity.csv"
    path.write_text("timestamp,equity\n2026-11-03,101\n2026-11-02T00:00:00Z,100\n1793664000,102\n")

    series = read_csv(path)

    assert list(series.equity) == [100.0, 101.0, 102.0]
    assert series.ts[1] - series.ts[0] == DAY
    assert not series.flows.any()


def test_a_csv_of_returns_compounds_from_one(tmp_path: Path) -> None:
    path = tmp_path / "returns.csv"
    path.write_text("1000,0.10\n2000,-0.5\n")

    series = read_csv(path, returns=True)

    assert np.allclose(series.equity, [1.1, 0.55])


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("1000,100\n2000,abc\n", ":2: 'abc' is not a number"),
        ("1000,100\nyesterday,101\n", ":2: 'yesterday' is neither epoch seconds nor an ISO date"),
        ("1000,100\n2000,nan\n", ":2: 'nan' is not a finite number"),
        ("1000,100\n2000\n", ":2: expected two columns"),
        ("1000,100\n2000,-5\n", "equity must be positive"),
        ("", ": no rows"),
        ("timestamp,equity\n# nothing yet\n", ": no rows"),
    ],
)
def test_a_bad_csv_is_refused_saying_where(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)

    with pytest.raises(SourceError, match=None) as caught:
        read_csv(path)

    assert str(caught.value).startswith(str(path))
    assert said in str(caught.value)


def test_a_journal_gives_each_account_its_equity_currency_and_deposits(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)
    owner = Journal(path)  # the engine that owns it keeps running: no lock is taken to read
    try:
        (usd,) = read_journal(path, account="SIM-USD")
        everyone = read_journal(path)
    finally:
        owner.close()

    assert (usd.name, usd.currency) == ("SIM-USD", "USD")
    assert list(usd.equity) == [100000.0, 101000.0, 111000.0, 112000.0]
    assert list(usd.flows) == [0.0, 0.0, 10000.0, 0.0]  # the deposit, not the financing
    assert [s.name for s in everyone] == ["SIM-EUR", "SIM-USD"]


def test_a_journal_period_and_an_unknown_account_are_answered_plainly(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)

    (usd,) = read_journal(path, account="SIM-USD", since=DAY, until=2 * DAY)
    with pytest.raises(SourceError, match="no equity rows for account SIM-XYZ"):
        read_journal(path, account="SIM-XYZ")
    with pytest.raises(SourceError, match="no such journal"):
        read_journal(tmp_path / "missing.db")

    assert list(usd.equity) == [101000.0, 111000.0]


def test_a_journal_gives_the_report_currency_rate_recorded_with_each_sample(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    journal_with_equity(path)

    eur, usd = read_journal(path, report_currency="USD")
    other = read_journal(path, account="SIM-EUR", report_currency="GBP")[0]
    unasked = read_journal(path, account="SIM-EUR")[0]

    assert list(eur.rates) == [float(r) for r in EURUSD_BY_DAY]  # type: ignore[arg-type]
    assert list(usd.rates) == [1.0] * 4  # type: ignore[arg-type]
    assert np.isnan(other.rates).all()  # type: ignore[arg-type]  # recorded for USD only
    assert unasked.rates is None


def test_a_kept_reader_reads_only_what_was_appended_and_starts_over_on_another_journal(
    tmp_path: Path,
) -> None:
    path, other = tmp_path / "journal.db", tmp_path / "other.db"
    journal_with_equity(path)
    journal_with_equity(other)
    cache = EquityRows()
    first = read_journal(path, account="SIM-USD", cache=cache)[0]
    journal = Journal(path)
    try:
        journal.append_equity(4 * DAY, [account("SIM-USD", balance="113000")])
    finally:
        journal.close()
    reads: list[str] = []
    conn = sqlite3.connect(path)
    conn.set_trace_callback(reads.append)
    grown = cache.update(conn, None)["SIM-USD"]
    conn.close()

    assert list(first.equity) == [100000.0, 101000.0, 111000.0, 112000.0]
    assert grown[:, 1].tolist() == [100000.0, 101000.0, 111000.0, 112000.0, 113000.0]
    (read,) = [sql for sql in reads if "from equity" in sql]
    assert "rowid > 8" in read  # the two accounts' eight rows were not read again
    assert list(read_journal(path, account="SIM-USD", cache=cache)[0].flows) == [0, 0, 10000, 0, 0]
    # another journal (another journal_id) is read from its start
    assert len(read_journal(other, account="SIM-USD", cache=cache)[0].ts) == 4
