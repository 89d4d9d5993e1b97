"""Where `tmt analytics` reads an equity series from: a CSV a trader brings (timestamps and
equity, or returns), or a tmt journal opened read-only beside whatever engine owns it.

Bad input is refused with the file, the line and what is wrong; nothing here writes.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
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


def parse_time(text: str, where: str) -> float:
    """Epoch seconds, or an ISO 8601 date or time (UTC unless it says otherwise)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(
            f"{where}: {text[:40]!r} is neither epoch seconds nor an ISO date"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_csv(path: Path, *, returns: bool = False) -> EquitySeries:
    """``timestamp,equity`` rows (a header line is optional), or ``timestamp,return`` with
    ``returns``: the series then starts at 1.0 and compounds each return."""
    times: list[float] = []
    values: list[float] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                where = f"{path}:{number}"
                if len(row) < 2:
                    raise SourceError(f"{where}: expected two columns (timestamp, value)")
                try:
                    value = float(row[1])
                except ValueError:
                    if number == 1 and not times:
                        continue  # a header line
                    raise SourceError(f"{where}: {row[1][:40]!r} is not a number") from None
                if not np.isfinite(value):
                    raise SourceError(f"{where}: {row[1][:40]!r} is not a finite number")
                times.append(parse_time(row[0], where))
                values.append(value)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 (byte {exc.start})") from None
    ts = np.asarray(times, dtype=np.float64)
    series = np.asarray(values, dtype=np.float64)
    if returns:
        if (series <= -1).any():
            raise SourceError(f"{path}: a return of -100% or worse leaves nothing to compound")
        series = np.cumprod(1.0 + series).astype(np.float64)
    elif (series <= 0).any():
        raise SourceError(f"{path}: equity must be positive (use --returns for a return series)")
    order = np.argsort(ts, kind="stable")
    return EquitySeries(path.name, "", ts[order], series[order], np.zeros(len(ts)))


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
