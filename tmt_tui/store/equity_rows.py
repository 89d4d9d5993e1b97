"""Each account's equity over time, read from a journal without its owner's lock: what
`tmt analytics --journal` and the engine's analytics query both start from.

The file is opened read-only (``mode=ro``): it works beside the engine that owns the journal
(WAL lets readers in) and writes nothing.
"""

from __future__ import annotations

import json
import sqlite3
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


def read_journal(
    path: Path,
    *,
    account: str | None = None,
    since: float | None = None,
    until: float | None = None,
) -> list[EquitySeries]:
    """Each account's equity rows from a tmt journal, opened read-only (``mode=ro``): it takes
    no lock and writes nothing, so it works beside the engine that owns the journal."""
    if not path.exists():
        raise SourceError(f"{path}: no such journal")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceError(f"{path}: cannot open it read-only ({exc})") from None
    try:
        tables = {name for (name,) in conn.execute("select name from sqlite_master")}
        if not {"equity", "events"} <= tables:
            raise SourceError(f"{path}: not a tmt journal (no equity and events tables)")
        low, high = since if since is not None else -1e18, until if until is not None else 1e18
        rows = conn.execute(
            "select ts, account, equity from equity where ts >= ? and ts <= ? order by ts",
            (low, high),
        ).fetchall()
        currencies, flows = _accounts_and_flows(
            conn.execute(
                "select ts, kind, data from events where kind in "
                "('engine.started', 'account.synced') order by seq"
            )
        )
    except sqlite3.Error as exc:
        raise SourceError(f"{path}: cannot read it ({exc})") from None
    finally:
        conn.close()
    by_account: dict[str, list[tuple[float, float]]] = {}
    for ts, acct, equity in rows:
        if account is None or acct == account:
            by_account.setdefault(acct, []).append((float(ts), float(equity)))
    if account is not None and account not in by_account:
        known = ", ".join(sorted({a for _, a, _ in rows})) or "none in that period"
        raise SourceError(f"{path}: no equity rows for account {account} (accounts: {known})")
    series = []
    for acct, points in sorted(by_account.items()):
        ts = np.asarray([p[0] for p in points], dtype=np.float64)
        equity = np.asarray([p[1] for p in points], dtype=np.float64)
        booked = np.zeros(len(ts))
        for when, amount in flows.get(acct, ()):
            at = int(np.searchsorted(ts, when, side="left"))
            if 0 < at < len(ts):  # before the first or after the last sample: outside
                booked[at] += amount
        series.append(EquitySeries(acct, currencies.get(acct, ""), ts, equity, booked))
    return series


def _accounts_and_flows(
    events: Iterable[tuple[float, str, str]],
) -> tuple[dict[str, str], dict[str, list[tuple[float, float]]]]:
    """Each account's currency (from the engine's starts) and its deposits and withdrawals
    (balance changes the venue reported that were not financing)."""
    currencies: dict[str, str] = {}
    flows: dict[str, list[tuple[float, float]]] = {}
    for ts, kind, data in events:
        body = json.loads(data)
        if kind == "engine.started":
            for item in body.get("accounts", []):
                currencies.setdefault(str(item["id"]), str(item.get("currency", "")))
        elif body.get("reason") not in _FINANCING and "was" in body:
            amount = float(body["balance"]) - float(body["was"])
            flows.setdefault(str(body["account"]), []).append((float(ts), amount))
    return currencies, flows
