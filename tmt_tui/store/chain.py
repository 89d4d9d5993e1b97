"""Tamper evidence for the journal: each event carries a SHA-256 hash chained to the one before.

An event's hash is ``sha256(previous hash, then "\\n<seq>\\n<ts>\\n<kind>\\n<origin>\\n", then
its data exactly as stored)``, hex. The first chained event's "previous hash" is the genesis,
``sha256("tmt-journal <journal_id> chain from <seq>")``: a chain cannot be lifted from one
journal into another. ``meta.chain_from`` is the first chained sequence number: 1 for a journal
made by a tmt that chains, and the first event after the migration for one that was not (the
events before it were written without hashes, and :func:`verify` says so).

The chain is unkeyed: whoever can edit the file can recompute every hash after an edit. What
catches that is a head (``SEQ:HASH``) kept somewhere else: ``tmt report`` prints it, the engine
journals and logs it at each daily rollover, and ``tmt report verify --head`` checks one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

#: Breaks :func:`verify` lists before it only counts them.
MAX_BREAKS = 50
#: How far from its place :func:`verify` looks for where a moved event was written.
MOVE_WINDOW = 8


def genesis(journal_id: str, first_seq: int) -> str:
    """The "previous hash" of a journal's first chained event."""
    return hashlib.sha256(f"tmt-journal {journal_id} chain from {first_seq}".encode()).hexdigest()


def link(previous: str, seq: int, ts: float, kind: str, origin: str, data: str) -> str:
    """The hash of one event, chained to ``previous``."""
    h = hashlib.sha256(previous.encode())
    h.update(f"\n{int(seq)}\n{float(ts)!r}\n{kind}\n{origin}\n".encode())
    h.update(data.encode())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Head:
    """The newest chained event: its sequence number and hash, written ``SEQ:HASH``."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH`` as printed; a ValueError that says what is wrong otherwise."""
        seq, sep, digest = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"{text!r} is not a chain head: SEQ:HASH, a 64-hex-digit SHA-256")
        try:
            int(digest, 16)
        except ValueError:
            raise ValueError(f"{text!r} is not a chain head: the hash is not hex") from None
        return cls(int(seq), digest.lower())


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain does not hold: the event's sequence number, and what was found."""

    seq: int
    what: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What :func:`verify` found: the events checked, the first chained sequence number, the
    head it reached, and every break (the first :data:`MAX_BREAKS`; ``more`` counts the rest)."""

    checked: int
    chain_from: int
    unchained: int  # events before chain_from, written before the journal was chained
    head: Head | None
    breaks: tuple[Break, ...] = ()
    more: int = 0
    head_problem: str = ""  # a kept head that does not match

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.head_problem


def verify(
    conn: sqlite3.Connection,
    journal_id: str,
    chain_from: int,
    kept: Head | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Verdict:
    """Recompute every chained event's hash from the one before and compare it with the stored
    one, in sequence order, streaming. Each stored hash is trusted as the next link's start, so
    one edited event is one break, not every event after it. A gap in the sequence numbers is
    a deleted event; an event whose time is after the next one's was moved."""
    unchained = conn.execute("select count(*) from events where seq < ?", (chain_from,)).fetchone()
    previous = genesis(journal_id, chain_from)
    expected = chain_from
    checked, more = 0, 0
    breaks: list[Break] = []
    last: Head | None = None
    last_ts = float("-inf")
    matched_kept = kept is None
    head_problem = ""
    broken = False

    def found(seq: int, what: str) -> None:
        nonlocal more
        if len(breaks) < MAX_BREAKS:
            breaks.append(Break(seq, what))
        else:
            more += 1

    cursor = conn.execute(
        "select seq, ts, kind, origin, data, hash from events where seq >= ? order by seq",
        (chain_from,),
    )
    try:
        for seq, ts, kind, origin, data, stored in cursor:
            if seq > expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                found(expected, f"deleted: seq {missing} missing before seq {seq}")
            holds = stored is not None and link(previous, seq, ts, kind, origin, data) == stored
            if stored is None:
                found(seq, "no hash: written or altered outside tmt")
            elif not holds and seq <= expected:  # after a gap, the deletion explains it
                written_as = _written_as(conn, seq, (ts, kind, origin, data), stored)
                if written_as is not None and written_as != seq:
                    found(seq, f"moved: it was written as seq {written_as}")
                elif ts < last_ts:
                    found(seq, f"moved: its time is before seq {seq - 1}'s")
                elif broken:
                    found(seq, f"does not follow seq {seq - 1}, which was changed")
                else:
                    found(seq, "edited: its content does not match its hash")
            broken = not holds
            previous = stored if stored is not None else previous
            last, last_ts, expected = Head(seq, stored or ""), ts, seq + 1
            if kept is not None and seq == kept.seq:
                matched_kept = True
                if stored != kept.hash:
                    head_problem = (
                        f"the chain was rewritten: seq {seq} has hash {stored}, the kept head "
                        f"says {kept.hash}"
                    )
            checked += 1
            if on_progress is not None and checked % 65_536 == 0:
                on_progress(checked)
    finally:
        cursor.close()
    if not matched_kept and kept is not None:
        head_problem = f"the kept head's seq {kept.seq} is not in the journal (it ends at " + (
            f"{last.seq})" if last else "no chained event)"
        )
    return Verdict(checked, chain_from, int(unchained[0]), last, tuple(breaks), more, head_problem)


def _written_as(
    conn: sqlite3.Connection,
    seq: int,
    event: tuple[float, str, str, str],
    stored: str,
    window: int = MOVE_WINDOW,
) -> int | None:
    """The sequence number a mismatching event was chained under, if it is one of those near
    it: its stored hash links from a neighbour's stored hash under that number. Only a few
    hundred hashes, and only where the chain is broken."""
    ts, kind, origin, data = event
    nearby = conn.execute(
        "select seq, hash from events where seq between ? and ? and hash is not null",
        (seq - window, seq + window),
    ).fetchall()
    anchors = [h for _, h in nearby]
    for candidate in range(seq - window, seq + window + 1):
        for anchor in anchors:
            if link(anchor, candidate, ts, kind, origin, data) == stored:
                return candidate
    return None
