"""The journal's file: its lock, what is at its path, and the making of a new one.

One process owns a journal at a time (an advisory lock on a side file records its pid). What
is at the path is found with a read-only look and is one of: nothing yet (no file, an empty
one, or an SQLite file with nothing in it), a tmt journal of a schema this tmt reads (its
version), or anything else, which is refused and never written: not SQLite, corrupt, another
application's database, or a journal from a newer tmt.

A new journal is made whole beside its final name (``journal.db.new-<pid>``: schema and meta
committed, WAL mode set) and renamed into place, so a start killed while making it leaves no
journal, never half of one. An earlier tmt made it in place; an SQLite file with nothing in it
at all is what such a start left when killed, and is replaced by a whole journal.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path
from typing import IO

from tmt_tui.store import schema
from tmt_tui.store.errors import JournalError, JournalLocked

_SQLITE_MAGIC = b"SQLite format 3\x00"
# The files SQLite keeps beside a database, named by appending these to its name.
_SIDECARS = ("-journal", "-wal", "-shm")
# A half-made journal holds no data: a file that needs its hot rollback journal applied before
# it can be read is inspected on a copy only below this size (a bigger one cannot be half-made).
_INSPECT_COPY_MAX_BYTES = 1 << 20


# the lock -------------------------------------------------------------------------------------


#: A journal holds a trader's whole book: readable by its owner only, like the API token. SQLite
#: gives the WAL and shm files beside it the database file's own mode.
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def acquire_lock(path: Path) -> IO[str]:
    """Lock ``path`` for this process (``<path>.lock`` holds our pid) or raise JournalLocked.

    A directory made here is the owner's only (0700); a journal found readable by others is
    made the owner's only (0600)."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    handle = os.fdopen(fd, "a+")  # held for the journal's lifetime
    keep_private(path)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip()
        handle.close()
        raise JournalLocked(path, pid) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def keep_private(path: Path) -> None:
    """Take group and other permissions off the journal and its sidecars, where they exist."""
    for file in (path, *(Path(f"{path}{s}") for s in _SIDECARS)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            if mode & 0o077:
                os.chmod(file, mode & 0o700)
        except FileNotFoundError:
            continue
        except PermissionError:  # not ours to change (a shared, read-only setup): leave it
            continue


def release_lock(handle: IO[str]) -> None:
    handle.seek(0)
    handle.truncate()
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


# what is there --------------------------------------------------------------------------------


def identify(path: Path) -> int | None:
    """The schema version of the tmt journal at ``path``; None if there is no journal there yet:
    no file, an empty one, or an SQLite file with nothing in it (what a first start of an
    earlier tmt left when killed). Anything else raises, and the file is never written."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as f:
        head = f.read(16)
    if head != _SQLITE_MAGIC:
        raise JournalError(f"{path} is not a tmt journal (not an SQLite file); leaving it alone")
    try:
        try:
            facts = _inspect(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        except sqlite3.OperationalError as exc:
            # e.g. a hot rollback journal (a write cut short), which a read-only look
            # cannot roll back ("attempt to write a readonly database"): look at a copy
            facts = _inspect_a_copy(path, exc)
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path} is corrupt ({exc}); leaving it alone") from None
    tables, meta, headers = facts
    if not tables and headers == (0, 0):
        return None  # nothing in it: half-made, not someone's data
    if "meta" not in tables:
        raise JournalError(f"{path} is an SQLite file but not a tmt journal; leaving it alone")
    if meta.get("app") != schema.APP_ID:
        raise JournalError(f"{path} is not a tmt journal (app={meta.get('app')!r})")
    written = meta.get("schema", "")
    if not written.isdecimal() or int(written) < 1:
        raise JournalError(f"{path} has an unknown journal schema {written!r}; leaving it alone")
    version, newest = int(written), schema.SCHEMA_VERSION
    if version > newest:
        raise JournalError(
            f"{path} was written by a newer tmt (schema v{version}, this tmt reads up to "
            f"v{newest}): upgrade tmt; leaving it alone"
        )
    return version


_Facts = tuple[set[str], dict[str, str], tuple[int, int]]


def _inspect(conn: sqlite3.Connection) -> _Facts:
    """What a database holds: its schema's names, its meta rows if it has a meta table, and
    its (user_version, application_id). Closes ``conn``."""
    try:
        names = {r[0] for r in conn.execute("select name from sqlite_master")}
        meta: dict[str, str] = {}
        if "meta" in names:
            meta = dict(conn.execute("select key, value from meta").fetchall())
        headers = (
            conn.execute("pragma user_version").fetchone()[0],
            conn.execute("pragma application_id").fetchone()[0],
        )
        return names, meta, headers
    finally:
        conn.close()


def _inspect_a_copy(path: Path, error: sqlite3.OperationalError) -> _Facts:
    """:func:`_inspect` a copy of ``path`` (with its rollback journal or WAL), where SQLite may
    roll back or recover what it must: the file itself is never written."""
    files = [Path(f"{path}{s}") for s in ("", "-journal", "-wal")]
    if sum(f.stat().st_size for f in files if f.exists()) > _INSPECT_COPY_MAX_BYTES:
        raise error  # the read-only look's: too big to be a half-made journal
    with tempfile.TemporaryDirectory(prefix="tmt-journal-") as tmp:
        copy = Path(tmp) / "copy.db"
        for original, suffix in zip(files, ("", "-journal", "-wal"), strict=True):
            if original.exists():
                shutil.copyfile(original, f"{copy}{suffix}")
        return _inspect(sqlite3.connect(copy))


# making a new one -----------------------------------------------------------------------------


def create(path: Path) -> None:
    """Make a whole journal beside ``path`` and rename it into place (replacing an empty or
    half-made file there, which :func:`identify` found holds nothing)."""
    path = Path(os.path.realpath(path))  # a symlink's target is made, not the link replaced
    directory = path.parent
    # Only the holder of the lock makes a journal, and we hold it: an aside file is left
    # by a maker that was killed (its process is gone), never one still at work.
    for stale in directory.glob(glob.escape(path.name) + ".new-*"):
        stale.unlink(missing_ok=True)
    aside = path.with_name(f"{path.name}.new-{os.getpid()}")
    os.close(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE))
    conn = sqlite3.connect(aside, isolation_level=None)
    try:
        conn.execute("pragma synchronous=full")
        with conn:
            conn.execute("begin")
            schema.create_schema(conn)
        conn.execute("pragma journal_mode=wal")  # the content is all in the file already
    finally:
        conn.close()  # the last connection: SQLite removes the (empty) WAL and shm
    for sidecar in _SIDECARS:
        Path(f"{aside}{sidecar}").unlink(missing_ok=True)
    fsync(aside)
    # The old file's sidecars would be taken for the new one's: they go first (SQLite
    # itself drops those of a file that is missing or empty).
    path.unlink(missing_ok=True)
    for sidecar in _SIDECARS:
        Path(f"{path}{sidecar}").unlink(missing_ok=True)
    os.replace(aside, path)
    fsync(directory)


def fsync(path: Path) -> None:
    """Make ``path`` (a file, or a directory's entries) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
