"""Each account's equity over time, read from a journal without its owner's lock: what
`tmt analytics --journal` and the engine's analytics query both start from.

The file is opened read-only (``mode=ro``): it works beside the engine that owns the journal
(WAL lets readers in) and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: Venue balance changes that are financing, not money moved in or out (see engine/state.py).
_FINANCING = frozenset({"DAILY_FINANCING", "DIVIDEND_ADJUSTMENT"})


class SourceError(ValueError):
    """An equity source that cannot be read, saying where and why."""


@dataclass(frozen=True)
class EquitySeries:
    """One account's (or one file's) equity over time; ``flows`` are deposits and withdrawals
    booked at each sample (zero where none), so they are not mistaken for returns."""

    name: str
    currency: str
    ts: npt.NDArray[np.float64]
    equity: npt.NDArray[np.float64]
    flows: npt.NDArray[np.float64]
    #: What one unit of ``currency`` was worth in the report currency at each sample (NaN
    #: where not recorded); None for a source that records no rates (a CSV).
    rates: npt.NDArray[np.float64] | None = None


class EquityRows:
    """Every equity row and money movement read so far from one journal, grown at each read by
    only what was appended since: the equity table and the events are append-only, so a live
    refresh reads the last few seconds' rows, not the year before them. Safe to share between
    threads (one read at a time); a different journal (another ``journal_id``) or report
    currency starts it over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, str | None] | None = None
        self._reset()

    def _reset(self) -> None:
        self._last_row = 0
        self._last_seq = 0
        self._rows: dict[str, list[npt.NDArray[np.float64]]] = {}  # ts, equity, rate
        self.currencies: dict[str, str] = {}
        self.flows: dict[str, list[tuple[float, float]]] = {}

    def update(
        self, conn: sqlite3.Connection, report_currency: str | None
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Read what was appended since the last read; each account's rows (ts, equity, the
        rate into ``report_currency`` or NaN), by time."""
        with self._lock:
            found = conn.execute("select value from meta where key = 'journal_id'").fetchone()
            key = (str(found[0]) if found else "", report_currency)
            if key != self._key:
                self._reset()  # another journal: start over
                self._key = key
            self._read_equity(conn, report_currency)
            self._read_events(conn)
            rows = {}
            for name, parts in self._rows.items():
                joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
                if len(joined) > 1 and np.any(np.diff(joined[:, 0]) < 0):
                    joined = joined[np.argsort(joined[:, 0], kind="stable")]
                self._rows[name] = [joined]
                rows[name] = joined
            return rows

    def _read_equity(self, conn: sqlite3.Connection, report_currency: str | None) -> None:
        columns = {row[1] for row in conn.execute("pragma table_info(equity)")}
        rated = (
            "case when report_currency = ? then cast(report_rate as real) end"
            if "report_rate" in columns
            else "null + ?"
        )
        fetched = conn.execute(
            f"select rowid, account, ts, cast(equity as real), {rated} from equity "
            "where rowid > ? order by rowid",
            (report_currency, self._last_row),
        ).fetchall()
        if not fetched:
            return
        self._last_row = int(fetched[-1][0])
        names = np.array([row[1] for row in fetched], dtype=object)
        values = np.array([row[2:] for row in fetched], dtype=np.float64).reshape(-1, 3)
        for name in np.unique(names):
            self._rows.setdefault(str(name), []).append(values[names == name])

    def _read_events(self, conn: sqlite3.Connection) -> None:
        events = conn.execute(
            "select seq, ts, kind, data from events where seq > ? and kind in "
            "('engine.started', 'account.synced') order by seq",
            (self._last_seq,),
        ).fetchall()
        if events:
            self._last_seq = int(events[-1][0])
        _accounts_and_flows(
            ((ts, kind, data) for _, ts, kind, data in events), self.currencies, self.flows
        )


def read_journal(
    path: Path,
    *,
    account: str | None = None,
    since: float | None = None,
    until: float | None = None,
    report_currency: str | None = None,
    cache: EquityRows | None = None,
) -> list[EquitySeries]:
    """Each account's equity rows from a tmt journal, opened read-only (``mode=ro``): it takes
    no lock and writes nothing, so it works beside the engine that owns the journal. With
    ``report_currency``, each series' ``rates`` are the rates recorded into it (an account in
    that currency is 1 throughout, even on rows written before rates were recorded). A
    ``cache`` kept between calls makes each read cost only the rows appended since the last."""
    if not path.exists():
        raise SourceError(f"{path}: no such journal")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"{path}: cannot open it read-only ({exc})") from None
    rows = cache if cache is not None else EquityRows()
    try:
        tables = {name for (name,) in conn.execute("select name from sqlite_master")}
        if not {"equity", "events", "meta"} <= tables:
            raise SourceError(f"{path}: not a tmt journal (no equity and events tables)")
        everything = rows.update(conn, report_currency)
    except sqlite3.Error as exc:
        raise SourceError(f"{path}: cannot read it ({exc})") from None
    finally:
        conn.close()
    low, high = since if since is not None else -np.inf, until if until is not None else np.inf
    period = {}
    for name, found in sorted(everything.items()):
        times = found[:, 0]
        first, last = np.searchsorted(times, low, "left"), np.searchsorted(times, high, "right")
        if last > first:
            period[name] = found[first:last]
    if account is not None and account not in period:
        known = ", ".join(sorted(period)) or "none in that period"
        raise SourceError(f"{path}: no equity rows for account {account} (accounts: {known})")
    series = []
    for acct, found in period.items():
        if account is not None and acct != account:
            continue
        ts, equity = found[:, 0].copy(), found[:, 1].copy()
        currency = rows.currencies.get(acct, "")
        rates = None
        if report_currency is not None:
            rates = np.ones(len(ts)) if currency == report_currency else found[:, 2].copy()
        booked = np.zeros(len(ts))
        for when, amount in rows.flows.get(acct, ()):
            at = int(np.searchsorted(ts, when, side="left"))
            if 0 < at < len(ts):  # before the first or after the last sample: outside
                booked[at] += amount
        series.append(EquitySeries(acct, currency, ts, equity, booked, rates))
    return series


def _accounts_and_flows(
    events: Iterable[tuple[float, str, str]],
    currencies: dict[str, str],
    flows: dict[str, list[tuple[float, float]]],
) -> None:
    """Add to ``currencies`` each account's currency (from the engine's starts) and to
    ``flows`` its deposits and withdrawals (balance changes the venue reported that were not
    financing)."""
    for ts, kind, data in events:
        body = json.loads(data)
        if kind == "engine.started":
            for item in body.get("accounts", []):
                currencies.setdefault(str(item["id"]), str(item.get("currency", "")))
        elif body.get("reason") not in _FINANCING and "was" in body:
            amount = float(body["balance"]) - float(body["was"])
            flows.setdefault(str(body["account"]), []).append((float(ts), amount))
