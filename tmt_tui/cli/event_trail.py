"""`tmt events`: the engine's audit trail. The events the engine keeps in memory (its last
200), ``--follow`` for new ones from now on, ``--since SEQ|TIME`` for history from the journal.

History comes from the journal file, read-only beside the running engine (as `tmt report`
reads it), a page at a time, then the stream takes over from where the journal ended: no event
shown twice, none skipped, whatever arrived between the two.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tmt_tui.cli.answers import emit, refused, snapshot
from tmt_tui.cli.presentation import iso
from tmt_tui.domain.client import Snapshot, StreamItem
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.events import Event


@dataclass(frozen=True, slots=True)
class Since:
    """Where history starts: at sequence number ``seq``, and at or after ``ts`` when given."""

    seq: int = 1
    ts: float | None = None

    def admits(self, event: Event) -> bool:
        return event.seq >= self.seq and (self.ts is None or event.ts >= self.ts)

    def reached_by(self, oldest: Event) -> bool:
        """Whether events from ``oldest`` on hold all of this history."""
        if oldest.seq <= max(self.seq, 1):
            return True
        return self.ts is not None and oldest.ts < self.ts


def parse_since(text: str) -> Since:
    """A bare integer is a sequence number (the first column of `tmt events`); anything else an
    ISO-8601 date or time (UTC unless it says otherwise) or epoch seconds with a fraction."""
    text = text.strip()
    if text.isdigit():
        return Since(seq=int(text))
    from tmt_tui.cli.equity_sources import SourceError, parse_time  # numpy: only when asked

    try:
        return Since(ts=parse_time(text, "--since"))
    except SourceError as exc:
        raise refused("INVALID_INPUT", str(exc)) from None


def event_line(e: Event) -> str:
    detail = " ".join(f"{k}={v}" for k, v in e.data.items() if k not in ("order", "config"))
    if "order" in e.data:
        o = e.data["order"]
        detail = f"{o['id']} {o['account']} {o['type']} {o['instrument']} {o['units']:+} {detail}"
    return f"{e.seq:>8} {iso(e.ts)} {e.origin:<6} {e.kind.value:<22} {detail}".rstrip()


def _show(args: argparse.Namespace, e: Event) -> None:
    emit(args, to_wire(e), event_line(e))


class _Journal:
    """The config's journal, read-only; ``None`` reads when it cannot be opened here (another
    machine's engine, a journal elsewhere), with the reason kept for one line on stderr."""

    def __init__(self, args: argparse.Namespace) -> None:
        from tmt_tui.config import ConfigError, load_settings
        from tmt_tui.store.audit import AuditError, AuditReader

        self.problem = ""
        self.reader: AuditReader | None = None
        try:
            self.reader = AuditReader(load_settings(getattr(args, "config", None)).journal_path())
        except (ConfigError, AuditError) as exc:
            self.problem = str(exc)

    def check_against(self, snap: Snapshot) -> None:
        """Let go of a journal that is not the engine's (``--socket`` naming another engine
        than the config's): its oldest kept event must be in the journal as it is in memory."""
        if self.reader is None or not snap.events:
            return
        kept = snap.events[0]
        found, _ = self.reader.events(kept.seq - 1, None, limit=1)
        if found and (found[0].seq, found[0].kind, found[0].ts) == (kept.seq, kept.kind, kept.ts):
            return
        self.problem = f"{self.reader.path} is not the journal of the engine answering"
        self.reader.close()
        self.reader = None

    def show(self, args: argparse.Namespace, since: Since, after: int, upto: int | None) -> int:
        """Print the journal's events after ``after`` (through ``upto``) that ``since`` admits;
        the last sequence number passed (``after`` when there was nothing)."""
        assert self.reader is not None
        while True:
            found, last = self.reader.events(after, since.ts)
            if not last:
                return after
            for e in found:
                if upto is not None and e.seq > upto:
                    return upto
                if since.admits(e):
                    _show(args, e)
            after = last
            if upto is not None and last >= upto:
                return upto

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()


async def events(args: argparse.Namespace, client: Any) -> None:
    since = parse_since(args.since) if args.since else None
    journal = _Journal(args) if since is not None else None
    shown = 0  # the newest sequence number shown or passed over
    try:
        if journal is not None:
            journal.check_against(await snapshot(client))
        if since is not None and journal is not None and journal.reader is not None:
            shown = journal.show(args, since, since.seq - 1, None)  # before the stream
        await _stream(args, client, since, journal, shown)
    finally:
        if journal is not None:
            journal.close()


async def _stream(
    args: argparse.Namespace, client: Any, since: Since | None, journal: _Journal | None, shown: int
) -> None:
    stream: AsyncIterator[StreamItem] = client.subscribe()
    first = True
    try:
        async for item in stream:
            if first and isinstance(item, Snapshot):
                if since is None and args.follow:
                    shown = item.seq  # from now: what the engine kept is not news
                elif since is not None and item.events:
                    shown = _bridge(args, since, journal, item.events[0], shown)
            first = False
            for e in item.events:
                if e.seq > shown and (since is None or since.admits(e)):
                    _show(args, e)
                shown = max(shown, e.seq)
            if not args.follow:
                return
    finally:
        await stream.aclose()  # type: ignore[attr-defined]


def _bridge(
    args: argparse.Namespace, since: Since, journal: _Journal | None, oldest: Event, shown: int
) -> int:
    """Before the engine's oldest kept event: what the journal holds that was not read yet
    (events journaled while we subscribed), or one line saying that history is out of reach."""
    if oldest.seq <= shown + 1:
        return shown
    if journal is not None and journal.reader is not None:
        return journal.show(args, since, shown, oldest.seq - 1)
    if not since.reached_by(oldest):
        why = journal.problem if journal is not None else "no journal"
        print(
            f"tmt: events before seq {oldest.seq} are only in the journal, which cannot be "
            f"read here: {why}",
            file=sys.stderr,
            flush=True,
        )
    return shown
