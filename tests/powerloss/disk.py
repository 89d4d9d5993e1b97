"""The modelled disk: build the LD_PRELOAD shim (disk_model.c), read the log it keeps of a
process's file operations, and rebuild from it the files a power cut at any point would leave.

Changes made since a file's last sync may or may not be on the disk after a cut; three models
cover the range. :class:`Synced` keeps only what a completed fsync/fdatasync covered (and a new
file's name only once its directory was synced): the least any disk promises, and what decides
whether an acknowledged order survived. :class:`Torn` keeps every change, in order, with the
write in flight at the cut torn to a prefix: a disk that wrote straight through. :class:`Scattered`
keeps a random part of the unsynced changes, some torn: a disk cache flushing in its own
order. SQLite must open all three cleanly, and each must hold every acknowledged order.
"""

from __future__ import annotations

import enum
import itertools
import os
import random
import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SOURCE = Path(__file__).with_name("disk_model.c")
_HEAD = struct.Struct("<IIQQQ")


class Op(enum.IntEnum):
    """Record kinds, as numbered in disk_model.c."""

    WRITE = 1
    TRUNCATE = 2
    SYNC = 3  # a sync that completed; offset is the token of its SYNC_START
    CREATE = 4
    UNLINK = 5
    RENAME = 6
    EXTEND = 7
    NOTE = 8
    SYNC_START = 9


@dataclass(frozen=True, slots=True)
class Record:
    """One logged operation: ``name`` in the directory ("" for the directory itself), the
    ``inode`` it touched, and for a write its bytes (for a rename, the old name)."""

    op: Op
    name: str
    inode: int
    offset: int
    length: int
    data: bytes = b""


class NotModelled(Exception):
    """The log holds an operation this model does not rebuild (a file moved in from outside
    the directory): the test must say so rather than check a disk that never was."""


def build_shim(out_dir: Path) -> Path | None:
    """Compile disk_model.c into ``out_dir``; None when there is no C compiler."""
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        return None
    shim = out_dir / "disk_model.so"
    built = subprocess.run(
        [cc, "-shared", "-fPIC", "-O2", "-Wall", "-o", str(shim), str(SOURCE), "-ldl", "-lpthread"],
        capture_output=True, text=True,
    )  # fmt: skip
    if built.returncode != 0:  # e.g. no libc headers: apt-get install libc6-dev
        raise RuntimeError(f"{cc} could not build {SOURCE.name}:\n{built.stderr}")
    return shim


def shim_env(shim: Path, directory: Path, log: Path) -> dict[str, str]:
    """The environment that puts a process's writes to ``directory`` on record in ``log``."""
    return {
        "LD_PRELOAD": str(shim),
        "DISK_MODEL_DIR": os.path.realpath(directory),
        "DISK_MODEL_LOG": str(log),
    }


def read_log(path: Path) -> list[Record]:
    """Every whole record in the log (a record half-written when the process was killed is
    dropped: its operation is logged only after it happened, and nothing synced it)."""
    raw = path.read_bytes() if path.exists() else b""
    records: list[Record] = []
    at = 0
    while at + _HEAD.size <= len(raw):
        op, name_len, inode, offset, length = _HEAD.unpack_from(raw, at)
        start = at + _HEAD.size
        data_len = length if op in (Op.WRITE, Op.RENAME) else 0
        end = start + name_len + data_len
        if end > len(raw):
            break
        name = raw[start : start + name_len].decode()
        records.append(Record(Op(op), name, inode, offset, length, raw[start + name_len : end]))
        at = end
    return records


def notes(records: Sequence[Record], cut: int) -> list[str]:
    """The process's own marks logged before ``cut``."""
    return [r.name for r in records[:cut] if r.op is Op.NOTE]


#: What a process found in the directory when it started: each name's inode and content.
Baseline = dict[str, tuple[int, bytes]]
#: What a disk holds after a cut: each name's content (SQLite's -shm index is left out: it is
#: rebuilt from the others).
Files = dict[str, bytes]


class Disk(Protocol):
    """A model of what a disk keeps when the power goes."""

    def files(self, records: Sequence[Record], cut: int, baseline: Baseline) -> Files:
        """The directory as this disk holds it after a power cut just before ``records[cut]``."""
        ...


@dataclass(frozen=True, slots=True)
class Synced:
    """Keeps of each file only what a completed sync of it covered, and of the directory only
    the names a completed sync of the directory covered: the least any disk promises."""

    def __str__(self) -> str:
        return "only synced data kept"

    def files(self, records: Sequence[Record], cut: int, baseline: Baseline) -> Files:
        h = _History(records, cut, baseline)
        return {name: h.content(f, h.synced.get(f, 0)) for name, f in _shown(h.durable_entries)}


@dataclass(frozen=True, slots=True)
class Torn:
    """Wrote straight through: keeps every change before the cut, in order, but only ``keep``
    bytes of the write in flight at the cut (the record just before it)."""

    keep: int

    def __str__(self) -> str:
        return f"every change kept, the last write torn to {self.keep} bytes"

    def files(self, records: Sequence[Record], cut: int, baseline: Baseline) -> Files:
        last = records[cut - 1]
        assert last.op is Op.WRITE, f"the cut at {cut} is not in the middle of a write: {last}"
        h = _History(records, cut, baseline)
        h.changes[-1] = (cut - 1, h.changes[-1][1], _torn(last, self.keep))
        return {name: h.content(f, cut) for name, f in _shown(h.entries)}


@dataclass(frozen=True, slots=True)
class Scattered:
    """Keeps what was synced, and of each file's changes since its last sync any subset: each
    write whole, torn to a prefix, or lost; each name as last synced or as the process left it
    (``seed`` picks). A disk cache flushes in its own order, so between two syncs any of this
    is what a cut may leave."""

    seed: int

    def __str__(self) -> str:
        return f"synced data and a random part of the rest kept (seed {self.seed})"

    def files(self, records: Sequence[Record], cut: int, baseline: Baseline) -> Files:
        rng = random.Random(self.seed)
        h = _History(records, cut, baseline)
        kept = []
        for at, f, r in h.changes:
            if at >= h.synced.get(f, 0):
                roll = rng.random()
                if roll < 1 / 3:
                    continue
                if roll < 2 / 3 and r.op is Op.WRITE:
                    r = _torn(r, rng.randrange(len(r.data)))
            kept.append((at, f, r))
        h.changes = kept
        entries = {}
        for name in sorted(h.entries.keys() | h.durable_entries.keys()):
            f = (h.entries if rng.random() < 0.5 else h.durable_entries).get(name)
            if f is not None:
                entries[name] = f
        return {name: h.content(f, cut) for name, f in _shown(entries)}


class _History:
    """The log replayed up to a cut: which file (an id per inode made) each name is, as the
    process saw it and as the last directory sync left it; each file's first content and its
    changes; and where each file's last completed sync started."""

    def __init__(self, records: Sequence[Record], cut: int, baseline: Baseline) -> None:
        ids = itertools.count()
        self.first: dict[int, bytes] = {}
        self.changes: list[tuple[int, int, Record]] = []  # (log index, file, write/truncate)
        self.synced: dict[int, int] = {}
        by_inode: dict[int, int] = {}
        self.entries: dict[str, int] = {}
        for name, (inode, content) in baseline.items():
            f = by_inode[inode] = self.entries[name] = next(ids)
            self.first[f] = content
        self.durable_entries = dict(self.entries)
        syncing: dict[int, tuple[int, int | dict[str, int]]] = {}
        for i, r in enumerate(records[:cut]):
            if r.op is Op.CREATE:
                f = by_inode[r.inode] = self.entries[r.name] = next(ids)
                self.first[f] = b""
            elif r.op is Op.RENAME:
                moved = self.entries.pop(r.data.decode(), None)
                if r.name and moved is None:
                    raise NotModelled(f"{r.name} was moved in from outside the directory")
                if r.name and moved is not None:
                    self.entries[r.name] = moved
            elif r.op is Op.UNLINK:
                self.entries.pop(r.name, None)
            elif r.op in (Op.WRITE, Op.TRUNCATE, Op.EXTEND):
                if r.inode not in by_inode:
                    raise NotModelled(f"{r.name} changed, but it was never seen made: {r}")
                self.changes.append((i, by_inode[r.inode], r))
            elif r.op is Op.SYNC_START and r.name == "":
                syncing[r.offset] = (i, dict(self.entries))
            elif r.op is Op.SYNC_START and r.inode in by_inode:
                syncing[r.offset] = (i, by_inode[r.inode])
            elif r.op is Op.SYNC and r.offset in syncing:
                start, what = syncing.pop(r.offset)
                if isinstance(what, dict):
                    self.durable_entries = what
                else:
                    self.synced[what] = start

    def content(self, f: int, before: int) -> bytes:
        """File ``f`` with its changes logged before ``before`` applied."""
        return _apply([r for at, g, r in self.changes if g == f and at < before], self.first[f])


def _shown(entries: dict[str, int]) -> list[tuple[str, int]]:
    return [(name, f) for name, f in entries.items() if not name.endswith("-shm")]


def _torn(r: Record, keep: int) -> Record:
    return Record(r.op, r.name, r.inode, r.offset, keep, r.data[:keep])


def write_disk(files: Files, directory: Path) -> None:
    """Lay the modelled files out in ``directory`` (a fresh one: nothing else is there)."""
    directory.mkdir(parents=True)
    for name, content in files.items():
        (directory / name).write_bytes(content)


def _apply(changes: Sequence[Record], first: bytes) -> bytes:
    content = bytearray(first)
    for r in changes:
        if r.op is Op.WRITE:
            if len(content) < r.offset:
                content.extend(bytes(r.offset - len(content)))
            content[r.offset : r.offset + len(r.data)] = r.data
        elif r.op is Op.TRUNCATE:
            del content[r.offset :]
            content.extend(bytes(r.offset - len(content)))
        elif r.op is Op.EXTEND and len(content) < r.offset:
            content.extend(bytes(r.offset - len(content)))
    return bytes(content)
