"""One power-loss round: an engine under the disk model, killed at a random moment; then the
journal a power cut at a chosen point would have left, opened and checked against the acks.

A round runs tests/powerloss/burst_engine.py with the disk_model shim on a fresh journal,
reads its replies and SIGKILLs it after a random number of them. The shim's log then says
what each file held at any point of the run and which replies had gone out by then, so one
run is checked at many cuts: the kill itself, just after acks went out (the cut most likely to
find an ack that is not on disk), in the middle of WAL writes (a torn frame), and anywhere on a
disk that kept part of what was not synced.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.powerloss import disk
from tests.powerloss.disk import Disk, Op, Record, Scattered, Synced, Torn
from tmt_tui.store import chain
from tmt_tui.store.journal import Journal

REPO = Path(__file__).resolve().parents[2]
JOURNAL = "journal.db"
WAL = f"{JOURNAL}-wal"
#: Only a hung engine takes this long; the round then fails rather than the suite hanging.
ROUND_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Round:
    """What one killed run left: its log, the files before it, and the replies the client read."""

    seed: int
    mode: str
    records: list[Record]
    baseline: disk.Baseline
    replies: list[dict[str, Any]]  # every reply printed before the kill, in order
    stderr: str
    directory: Path  # the journal's directory as the kill left it (the page cache's view)

    def acked(self, cut: int) -> list[dict[str, Any]]:
        """The replies that had gone out before ``cut`` (their marks precede their printing)."""
        lines = (json.loads(text) for text in disk.notes(self.records, cut))
        return [line for line in lines if "seq" in line]


def run_round(
    shim: Path, work: Path, seed: int, mode: str, orders: int, *, fresh: bool = False
) -> Round:
    """Run the burst engine on a new journal in ``work`` under the disk model; SIGKILL it after
    a random number of replies (all of them, for a mode that is meant to lose some). The
    journal is made and closed cleanly before the run, or with ``fresh`` made by the engine
    itself in the run (so its making is on the modelled disk too)."""
    directory = work / "disk"
    directory.mkdir(parents=True)
    directory = directory.resolve()  # the shim matches the paths SQLite opens: no symlinks
    if not fresh:
        Journal(directory / JOURNAL).close()  # on disk before the run: where every cut starts
    baseline = {p.name: (p.stat().st_ino, p.read_bytes()) for p in directory.iterdir()}
    log = work / "disk.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), **disk.shim_env(shim, directory, log)}
    kill_after = orders if mode != "durable" else random.Random(seed).randint(0, orders)
    errors = work / "stderr.txt"
    with open(errors, "w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.powerloss.burst_engine", str(directory / JOURNAL),
             str(orders), str(seed), mode],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
    watchdog = threading.Timer(ROUND_TIMEOUT_S, child.kill)
    watchdog.start()
    try:
        lines, killed = _read_until_kill(child, kill_after)
    finally:
        watchdog.cancel()
        child.kill()
        assert child.stdout is not None
        lines += child.stdout.read().splitlines()  # printed before the kill: the client saw them
        child.wait()
    err = errors.read_text()
    assert killed, f"seed {seed}: the engine ended before it was killed: {err}"
    assert json.loads(lines[0]) == {"ready": True}, f"seed {seed}: no engine: {err}"
    replies = [line for line in map(json.loads, lines[1:]) if "seq" in line]
    return Round(seed, mode, disk.read_log(log), baseline, replies, err, directory)


def _read_until_kill(child: subprocess.Popen[str], kill_after: int) -> tuple[list[str], bool]:
    """The lines read up to the kill, and whether it was the kill that ended the child."""
    assert child.stdout is not None
    lines: list[str] = []
    replies = 0
    while line := child.stdout.readline():
        lines.append(line)
        replies += '"seq"' in line
        if replies >= kill_after or '"done"' in line:
            child.send_signal(signal.SIGKILL)
            return lines, True
    return lines, False


# cuts -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cut:
    """A power cut just before ``records[at]``, on ``disk``."""

    at: int
    disk: Disk = Synced()

    def __str__(self) -> str:
        return f"cut at log record {self.at} ({self.disk})"


def after_acks(r: Round, rng: random.Random, most: int | None) -> Iterator[Cut]:
    """On the disk that keeps only synced data: the kill itself, and cuts just after replies
    went out (``most`` of them, all for None), where an ack not yet on disk would show."""
    yield Cut(len(r.records))
    yield from (Cut(at) for at in _sample(_after_marks(r), rng, most))


def in_wal_writes(r: Round, rng: random.Random, most: int | None) -> Iterator[Cut]:
    """Cuts in the middle of WAL writes (``most`` of them, all for None) on a write-through
    disk, each write torn at a random byte."""
    writes = [i + 1 for i, rec in enumerate(r.records) if rec.op is Op.WRITE and rec.name == WAL]
    for at in _sample(writes, rng, most):
        yield Cut(at, Torn(rng.randrange(len(r.records[at - 1].data))))


def scattered(r: Round, rng: random.Random, most: int | None) -> Iterator[Cut]:
    """Cuts just after replies went out and anywhere at all (``most`` of each, all for None),
    on a disk that kept a random part of what was not synced yet."""
    anywhere = list(range(1, len(r.records) + 1))
    for at in _sample(_after_marks(r), rng, most) + _sample(anywhere, rng, most):
        yield Cut(at, Scattered(rng.randrange(2**32)))


def _after_marks(r: Round) -> list[int]:
    return [i + 1 for i, rec in enumerate(r.records) if rec.op is Op.NOTE and '"seq"' in rec.name]


def _sample(points: list[int], rng: random.Random, most: int | None) -> list[int]:
    return points if most is None or len(points) <= most else sorted(rng.sample(points, most))


# the check ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """What a cut left: the acks checked, the ones missing, and anything else wrong."""

    acked: int
    lost: list[str]
    problems: list[str]


def check_cut(r: Round, cut: Cut, scratch: Path) -> Finding:
    """Rebuild the disk at ``cut`` in ``scratch`` (removed after), open it with tmt's Journal,
    and hold it to every reply that had gone out by then."""
    disk.write_disk(cut.disk.files(r.records, cut.at, r.baseline), scratch)
    try:
        return check_journal(scratch / JOURNAL, r.acked(cut.at))
    finally:
        shutil.rmtree(scratch)


def check_journal(path: Path, acked: list[dict[str, Any]]) -> Finding:
    """Open the journal at ``path`` with tmt's Journal and hold it to ``acked``."""
    try:
        journal = Journal(path)
    except Exception as exc:
        return Finding(len(acked), [], [f"the journal does not open: {exc!r}"])
    try:
        problems: list[str] = []
        conn = journal.conn
        integrity = conn.execute("pragma integrity_check").fetchall()
        if integrity != [("ok",)]:
            problems.append(f"integrity_check: {integrity[:5]}")
        verdict = chain.verify(conn, journal.journal_id, journal.chain_from)
        if not verdict.ok:
            problems.append(f"the hash chain breaks: {verdict.breaks[:3]} {verdict.head_problem}")
        last = journal.last_seq()
        ids = {row[0] for row in conn.execute("select id from orders")}
    finally:
        journal.close()
    lost = []
    for reply in acked:
        name = f"{reply.get('order_id')} (acked at seq {reply['seq']}"
        if reply["seq"] > last:
            lost.append(f"{name}; the journal ends at seq {last})")
        elif reply["ok"] and reply.get("order_id") not in ids:
            lost.append(f"{name}; its orders row is missing)")
    return Finding(len(acked), lost, problems)
