"""Where `tmt analytics` reads an equity series from: a CSV a trader brings (timestamps and
equity, or returns), or a tmt journal opened read-only beside whatever engine owns it.

Bad input is refused with the file, the line and what is wrong; nothing here writes.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tmt_tui.store.equity_rows import EquitySeries, SourceError, read_journal

__all__ = ["EquitySeries", "SourceError", "parse_time", "read_csv", "read_journal"]


def parse_time(text: str, where: str) -> float:
    """Epoch seconds, or an ISO 8601 date or time (UTC unless it says otherwise)."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):  # "nan" would match no row and say nothing
            raise SourceError(f"{where}: {text[:40]!r} is not a moment")
        return seconds
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
    if not times:
        raise SourceError(f"{path}: no rows (expected timestamp,value lines)")
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
