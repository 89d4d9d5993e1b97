"""Bring a journal written by an earlier tmt up to this tmt's schema, as it is opened.

First the whole journal is copied, with SQLite's online backup API, to
``<journal>.bak-v<old version>-<UTC time>`` beside it (``journal.db.bak-v1-20260610T120000Z``;
written as ``....part`` and renamed when complete, so a file of that name is always whole, and
kept afterwards: delete it when you no longer want the way back). Then each step of
:data:`tmt_tui.store.schema.STEPS` past the journal's version runs in its own transaction,
which also moves ``meta.schema`` on and adds the ``schema_history`` row, so a kill between steps
leaves a whole journal at the last step done, and the next start carries on from there. A step
that fails is rolled back; if steps before it were applied in this run, the journal is restored
from the backup, so the file is as it was; either way the journal is refused with a
:class:`MigrationError` that names the step. Progress (the backup's pages, each step's own
reports) goes to ``on_progress``, by default the log (which ``tmt engine`` prints on stderr).

To change the schema, append a step: see :mod:`tmt_tui.store.schema`.
"""

from __future__ import annotations

import glob
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tmt_tui.store import schema
from tmt_tui.store.errors import MigrationError
from tmt_tui.store.journal_file import fsync
from tmt_tui.store.schema import Step, StepProgress

log = logging.getLogger(__name__)

#: Pages copied per backup step, between progress reports (1 MiB at SQLite's 4 KiB pages).
BACKUP_PAGES_PER_STEP = 256


@dataclass(frozen=True)
class MigrationProgress:
    """How far a migration has got: ``fraction`` of what ``doing`` names (the backup, a step)."""

    journal: Path
    from_version: int
    to_version: int
    doing: str
    fraction: float

    def __str__(self) -> str:
        return (
            f"migrating {self.journal.name} from v{self.from_version} to v{self.to_version}: "
            f"{self.doing}: {self.fraction:.0%}"
        )


OnProgress = Callable[[MigrationProgress], None]


def log_progress(progress: MigrationProgress) -> None:
    """The default ``on_progress``: one log line (INFO) per report."""
    log.info("%s", progress)


def migrate(
    conn: sqlite3.Connection,
    path: Path,
    from_version: int,
    steps: Sequence[Step] | None = None,
    on_progress: OnProgress | None = None,
) -> Path:
    """Back up the journal open on ``conn`` (autocommit, no transaction open), then apply every
    step of ``steps`` (default :data:`schema.STEPS`) past ``from_version``, each in its own
    transaction. Returns the backup's path; raises :class:`MigrationError` with the reason."""
    steps = schema.STEPS if steps is None else steps
    pending = [s for s in steps if s.version > from_version]
    if not pending or pending[0].version != from_version + 1:
        raise MigrationError(f"{path}: this tmt has no way from journal schema v{from_version}")
    to_version = pending[-1].version
    started = time.monotonic()
    reporter = _Reporter(path, from_version, to_version, on_progress or log_progress)
    backup = _back_up(conn, path, from_version, reporter)
    for done, step in enumerate(pending):
        began = False
        try:
            conn.execute("begin immediate")
            began = True
            report = reporter.start(f"step {step}")
            _apply(conn, step, report)
            conn.execute("commit")
        except BaseException as exc:
            untouched = not began or conn.in_transaction  # nothing of this step committed
            if began and conn.in_transaction:
                conn.execute("rollback")
            if not isinstance(exc, Exception):
                raise  # interrupted: the journal is whole at the last step done
            at = step.version - 1
            if done == 0 and untouched:
                state = f"the journal is left as it was, at v{from_version}"
            else:
                state = _restore(conn, backup, from_version, at)
            raise MigrationError(
                f"{path}: migrating the journal from v{from_version} to v{to_version} failed "
                f"at step {step}: {type(exc).__name__}: {exc}; {state} (the copy made before "
                f"migrating is {backup}); refusing to open it"
            ) from exc
        report(1.0)
    conn.execute("pragma wal_checkpoint(truncate)")  # the engine starts on a short WAL
    log.info(
        "migrated %s from v%d to v%d in %.1f s; the v%d journal is kept at %s",
        path, from_version, to_version, time.monotonic() - started, from_version, backup,
    )  # fmt: skip
    return backup


def _apply(conn: sqlite3.Connection, step: Step, progress: StepProgress) -> None:
    """``step`` and its bookkeeping, inside the transaction begun for it."""
    step.apply(conn, progress)
    if not conn.in_transaction:
        raise RuntimeError("the step ended its transaction itself (a step must never commit)")
    conn.execute("update meta set value = ? where key = 'schema'", (str(step.version),))
    schema.record_history(conn, step.version, step.version - 1, f"step {step}")


class _Reporter:
    """Hands on the progress of each thing being done at 0%, at each further tenth, and at 100%."""

    def __init__(self, path: Path, from_version: int, to_version: int, out: OnProgress) -> None:
        self.path, self.from_version, self.to_version, self.out = (
            path, from_version, to_version, out
        )  # fmt: skip

    def start(self, doing: str) -> StepProgress:
        last = -1

        def report(fraction: float) -> None:
            nonlocal last
            fraction = min(max(fraction, 0.0), 1.0)
            tenth = int(fraction * 10)
            if tenth > last:
                last = tenth
                versions = (self.from_version, self.to_version)
                self.out(MigrationProgress(self.path, *versions, doing, fraction))

        report(0.0)
        return report


def _back_up(conn: sqlite3.Connection, path: Path, version: int, reporter: _Reporter) -> Path:
    """Copy the journal to ``<name>.bak-v<version>-<UTC time>`` beside it, durably."""
    real = Path(os.path.realpath(path))
    # Only the journal's lock holder migrates it: a .part left is from a migration killed early.
    for stale in real.parent.glob(glob.escape(real.name) + ".bak-v*.part*"):
        stale.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = real.with_name(f"{real.name}.bak-v{version}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = real.with_name(f"{real.name}.bak-v{version}-{stamp}-{n}")
    part = target.with_name(target.name + ".part")
    report = reporter.start(f"backing up to {target.name}")

    def copied(status: int, remaining: int, total: int) -> None:
        report(1 - remaining / total if total else 1.0)

    try:
        dest = sqlite3.connect(part)
        try:
            conn.backup(dest, pages=BACKUP_PAGES_PER_STEP, progress=copied)
        finally:
            dest.close()
        fsync(part)
        os.replace(part, target)
        fsync(real.parent)
    except (sqlite3.Error, OSError) as exc:
        for leftover in (part, *(Path(f"{part}{s}") for s in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        raise MigrationError(
            f"{path}: cannot back up the v{version} journal to {target} before migrating it "
            f"({exc}); the journal is left as it was; refusing to open it"
        ) from None
    report(1.0)
    return target


def _restore(conn: sqlite3.Connection, backup: Path, version: int, at: int) -> str:
    """Put the backup's content back into the journal open on ``conn``; says how it went."""
    try:
        source = sqlite3.connect(backup)
        try:
            source.backup(conn)
        finally:
            source.close()
    except sqlite3.Error as exc:
        return f"restoring it from the copy failed too ({exc}), so the journal is at v{at}"
    return f"the journal was restored as it was, at v{version}"
