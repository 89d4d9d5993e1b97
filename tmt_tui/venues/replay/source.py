"""Where recorded ticks come from: a tmt journal's ``ticks`` table, or a CSV a trader brings.

A journal is opened read-only (``mode=ro``, no lock), so it can be the journal a running engine
is writing right now: the replay takes the ticks that were there when it opened, read in short
chunks so the engine's WAL checkpoints are never held back. Nothing here writes.

A CSV has one tick per line: ``ts,instrument,bid,ask`` (that order, or any order under a header
line naming those four columns); ``ts`` is epoch seconds or ISO-8601 (UTC unless it says
otherwise). Lines are played in time order (a stable sort: a file joined from one file per
instrument plays right). A row that cannot be a quote (a missing column, a price that is not a
number, NaN, zero or negative, a bid above the ask, a time that is not a time) is skipped,
counted and reported by line and column; the rest play. A journal's rows are checked the same
way as they are read.
"""

from __future__ import annotations

import csv
import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tmt_tui.domain.instruments import Instrument, kind_of
from tmt_tui.domain.quotes import Quote, quote_problem
from tmt_tui.venues.sim.universe import SPECS
from tmt_tui.venues.sim.universe import instruments as sim_instruments

#: Rows read from a journal at a time: each read is its own short transaction.
CHUNK_ROWS = 4096
#: Bad rows described one by one; beyond these only the count grows.
PROBLEMS_KEPT = 20
#: Margin rate of an instrument the sim does not know (20:1, a retail FX broker's usual).
DEFAULT_MARGIN_RATE = Decimal("0.05")
#: The CSV's columns, in the order a file without a header line gives them.
CSV_COLUMNS = ("ts", "instrument", "bid", "ask")


class SourceError(Exception):
    """The recording cannot be replayed at all; the message says which file and why."""


@dataclass
class BadRows:
    """Rows skipped as unplayable: how many, and the first few described by line and column."""

    count: int = 0
    described: list[str] = field(default_factory=list)

    def add(self, where: str, column: str, why: str) -> None:
        self.count += 1
        if len(self.described) < PROBLEMS_KEPT:
            self.described.append(f"{where} column {column}: {why}")

    def summary(self) -> str:
        """``3 bad rows skipped: line 4 column bid: ...; ...`` (empty when there were none)."""
        if not self.count:
            return ""
        more = self.count - len(self.described)
        tail = f"; and {more} more" if more > 0 else ""
        rows = "row" if self.count == 1 else "rows"
        return f"{self.count} bad {rows} skipped: {'; '.join(self.described)}{tail}"


class Recording:
    """Ticks to replay, in order, with what a replay needs to know before it starts: the
    instruments, how many rows, the span of time, and the rows found bad so far."""

    def __init__(
        self,
        name: str,
        instruments: tuple[Instrument, ...],
        total: int,
        start_ts: float,
        end_ts: float,
        bad: BadRows,
    ) -> None:
        self.name = name
        self.instruments = instruments
        self.total = total
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.bad = bad

    def chunks(self) -> Iterator[list[Quote]]:
        """The playable quotes in order, a chunk at a time; rows found bad on the way are
        added to ``bad`` (``len(chunk) + new bad rows`` is how far a chunk went)."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of the file (a journal's read-only connection)."""
        return None


class _InMemory(Recording):
    def __init__(self, quotes: list[Quote], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._quotes = quotes

    def chunks(self) -> Iterator[list[Quote]]:
        quotes = self._quotes
        for at in range(0, len(quotes), CHUNK_ROWS):
            yield quotes[at : at + CHUNK_ROWS]


# the parts both sources share ------------------------------------------------------------------


def _price(text: str) -> Decimal | str:
    """The price in ``text``, or why it is not one."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return f"{text.strip()[:30]!r} is not a number"
    if not value.is_finite():
        return f"{text.strip()[:30]!r} is not a finite number"
    if value <= 0:
        return f"{text.strip()[:30]!r} is not a positive price"
    return value


def _moment(text: str) -> float | str:
    """Epoch seconds from ``text`` (a number, or ISO-8601, UTC unless it says otherwise), or
    why it is not a moment."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return f"{text[:30]!r} is neither epoch seconds nor an ISO-8601 time"
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(seconds) or seconds <= 0:
        return f"{text[:30]!r} is not a moment"
    return seconds


def _decimals(text: str) -> int:
    """How many decimals a price was written with (``1.08500``: 5)."""
    _, dot, fraction = text.strip().partition(".")
    return len(fraction) if dot else 0


def instruments_for(precision: dict[str, int]) -> tuple[Instrument, ...]:
    """The instruments of a recording, by name: the sim's own spec where it has one, else
    one read off the recorded prices (their decimals; the pip one decimal coarser, as FX pairs
    have it; a 20:1 margin rate), in name order."""
    known = {i.name: i for i in sim_instruments(tuple(n for n in precision if n in SPECS))}
    out = []
    for name in sorted(precision):
        inst = known.get(name)
        if inst is None:
            digits = precision[name]
            inst = Instrument(
                name=name,
                display_precision=digits,
                pip_location=-max(digits - 1, 0),
                margin_rate=DEFAULT_MARGIN_RATE,
                tradeable=kind_of(name).value == "fx",
            )
        out.append(inst)
    return tuple(out)


# a CSV -------------------------------------------------------------------------------------------


def read_csv(path: Path, since: float | None = None, until: float | None = None) -> Recording:
    """Every playable tick of the CSV at ``path`` from ``since`` to before ``until``, in time
    order; bad rows counted in ``bad``. Raises SourceError when the file cannot be read or
    holds no playable tick."""
    bad = BadRows()
    rows: list[tuple[float, int, Quote]] = []
    precision: dict[str, int] = {}
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            order, first = list(range(4)), True
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                if first:
                    first = False
                    if _is_header(row):
                        order = _header_order(row)
                        continue
                quote = _csv_quote(row, order, f"line {number}", bad)
                if quote is None:
                    continue
                rows.append((quote.ts, number, quote))
                name = quote.instrument
                digits = max(_decimals(row[order[2]]), _decimals(row[order[3]]))
                if digits > precision.get(name, -1):
                    precision[name] = digits
    except OSError as exc:
        raise SourceError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not a text file ({exc.reason})") from None
    except csv.Error as exc:
        raise SourceError(f"{path}: not a CSV ({exc})") from None
    low = -math.inf if since is None else since
    high = math.inf if until is None else until
    rows = [r for r in rows if low <= r[0] < high]
    if not rows:
        why = f" ({bad.summary()})" if bad.count else ""
        raise SourceError(
            f"{path}: no tick to replay{' in that period' if since or until else ''}{why}"
        )
    rows.sort(key=lambda r: (r[0], r[1]))  # stable by line within one moment
    quotes = [q for _, _, q in rows]
    return _InMemory(
        quotes,
        name=str(path),
        instruments=instruments_for(precision),
        total=len(quotes),
        start_ts=quotes[0].ts,
        end_ts=quotes[-1].ts,
        bad=bad,
    )


def _is_header(row: list[str]) -> bool:
    return {c.strip().lower() for c in row} >= set(CSV_COLUMNS)


def _header_order(row: list[str]) -> list[int]:
    """Where each of ``CSV_COLUMNS`` is, by the header line's names."""
    names = [c.strip().lower() for c in row]
    return [names.index(c) for c in CSV_COLUMNS]


def _csv_quote(row: list[str], order: list[int], where: str, bad: BadRows) -> Quote | None:
    """The quote on one CSV row, or None (the row is added to ``bad`` with what is wrong)."""
    for column, at in zip(CSV_COLUMNS, order, strict=True):
        if at >= len(row) or not row[at].strip():
            bad.add(where, column, "missing")
            return None
    ts = _moment(row[order[0]])
    if isinstance(ts, str):
        bad.add(where, "ts", ts)
        return None
    name = row[order[1]].strip().upper().replace("/", "_")
    if len(name) > 32 or not name.replace("_", "").isalnum():
        bad.add(where, "instrument", f"{row[order[1]].strip()[:30]!r} is not an instrument name")
        return None
    return _checked(name, row[order[2]], row[order[3]], ts, where, bad)


def _checked(
    name: str, bid_text: str, ask_text: str, ts: float, where: str, bad: BadRows
) -> Quote | None:
    bid = _price(bid_text)
    if isinstance(bid, str):
        bad.add(where, "bid", bid)
        return None
    ask = _price(ask_text)
    if isinstance(ask, str):
        bad.add(where, "ask", ask)
        return None
    problem = quote_problem(bid, ask)
    if problem is not None:
        bad.add(where, "ask", problem)
        return None
    return Quote(name, bid, ask, ts)


# a journal ---------------------------------------------------------------------------------------


class JournalTicks(Recording):
    """The ticks of a tmt journal between ``since`` and ``until``, read-only and in chunks.

    The rows to play are fixed when it opens (those present then, by rowid), so a journal that
    an engine keeps writing still gives a replay with an end."""

    def __init__(self, path: Path, since: float | None = None, until: float | None = None) -> None:
        self._path = path
        if not path.is_file():
            raise SourceError(f"{path}: no such journal")
        try:
            self._conn = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
            )
            self._first, self._last = self._bounds(since, until)
            summary = self._conn.execute(
                "select instrument, count(*), max(length(bid)), min(ts), max(ts) from ticks "
                "where rowid between ? and ? group by instrument",
                (self._first, self._last),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise SourceError(f"{path}: cannot read ticks from it ({exc})") from None
        if not summary:
            raise SourceError(f"{path}: no ticks between the times asked for")
        self._since = -math.inf if since is None else since
        self._until = math.inf if until is None else until
        precision = {}
        for name, _, _, _, _ in summary:
            row = self._conn.execute(
                "select bid, ask from ticks where instrument = ? and rowid between ? and ? limit 1",
                (name, self._first, self._last),
            ).fetchone()
            precision[str(name)] = max(_decimals(str(row[0])), _decimals(str(row[1])))
        super().__init__(
            name=str(path),
            instruments=instruments_for(precision),
            total=sum(int(r[1]) for r in summary),
            start_ts=max(min(float(r[3]) for r in summary), self._since),
            end_ts=min(max(float(r[4]) for r in summary), self._until),
            bad=BadRows(),
        )

    def _bounds(self, since: float | None, until: float | None) -> tuple[int, int]:
        """The rowids of the first tick at or after ``since`` and the last before ``until``
        (ticks are appended in time order, so bisecting rowids finds them without a scan)."""
        conn = self._conn
        names = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        if "ticks" not in names:
            raise SourceError(f"{self._path}: not a tmt journal (it has no ticks table)")
        low, high = conn.execute("select min(rowid), max(rowid) from ticks").fetchone()
        if low is None:
            raise SourceError(f"{self._path}: the journal holds no ticks")
        first = low if since is None else self._first_at(low, high, since)
        last = high if until is None else self._first_at(low, high, until, strictly=True) - 1
        return first, last

    def _first_at(self, low: int, high: int, ts: float, *, strictly: bool = False) -> int:
        """The first rowid whose tick is at or after ``ts`` (after it, ``strictly``); one past
        ``high`` when there is none."""
        conn, end = self._conn, high + 1
        while low < end:
            mid = (low + end) // 2
            row = conn.execute(
                "select rowid, ts from ticks where rowid >= ? order by rowid limit 1", (mid,)
            ).fetchone()
            if row is None:
                end = mid
                continue
            before = row[1] <= ts if strictly else row[1] < ts
            if before:
                low = row[0] + 1
            else:
                end = mid if row[0] > mid else row[0]
        return low

    def chunks(self) -> Iterator[list[Quote]]:
        at, last, bad = self._first, self._last, self.bad
        since, until = self._since, self._until
        while at <= last:
            try:
                rows = self._conn.execute(
                    "select rowid, ts, instrument, bid, ask from ticks "
                    "where rowid between ? and ? order by rowid limit ?",
                    (at, last, CHUNK_ROWS),
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                raise SourceError(f"{self._path}: reading ticks failed ({exc})") from None
            if not rows:
                return
            chunk = []
            for rowid, ts, name, bid, ask in rows:
                if not since <= ts < until:  # a late tick of another feed, out of the period
                    bad.add(f"row {rowid}", "ts", "outside the period asked for")
                    continue
                quote = _checked(str(name), str(bid), str(ask), float(ts), f"row {rowid}", bad)
                if quote is not None:
                    chunk.append(quote)
            at = rows[-1][0] + 1
            yield chunk

    def close(self) -> None:
        self._conn.close()
