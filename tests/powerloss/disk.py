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
_HEAD = struct.Struct("<IIQQ")


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
    op: Op
    name: str
    offset: int
    length: int
    data: bytes = b""


class NotModelled(Exception):
    """The log holds an operation this model does not rebuild (a modelled file renamed or
    removed): the test must say so rather than check a disk that never was."""


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
        op, name_len, offset, length = _HEAD.unpack_from(raw, at)
        start = at + _HEAD.size
        data_len = length if op == Op.WRITE else 0
        end = start + name_len + data_len
        if end > len(raw):
            break
        name = raw[start : start + name_len].decode()
        records.append(Record(Op(op), name, offset, length, raw[start + name_len : end]))
        at = end
    return records


def notes(records: Sequence[Record], cut: int) -> list[str]:
    """The process's own marks logged before ``cut``."""
    return [r.name for r in records[:cut] if r.op is Op.NOTE]


class Disk(Protocol):
    """A model of what a disk keeps when the power goes."""

    def files(
        self, records: Sequence[Record], cut: int, baseline: dict[str, bytes | None]
    ) -> dict[str, bytes | None]:
        """Each of ``baseline``'s files as this disk holds it after a power cut just before
        ``records[cut]`` (None: the file is not there)."""
        ...


@dataclass(frozen=True, slots=True)
class Synced:
    """Keeps only what a completed sync covered, and a new file only once its directory was
    synced after it was made: the least any disk promises."""

    def __str__(self) -> str:
        return "only synced data kept"

    def files(
        self, records: Sequence[Record], cut: int, baseline: dict[str, bytes | None]
    ) -> dict[str, bytes | None]:
        covered, entries = _sync_points(records, cut)
        disk: dict[str, bytes | None] = {}
        for name, base in baseline.items():
            _refuse_unmodelled(records[:cut], name)
            made = _made_at(records[:cut], name)
            exists = base is not None or (made is not None and made < entries)
            disk[name] = _apply(records[: covered.get(name, 0)], name, base) if exists else None
        return disk


@dataclass(frozen=True, slots=True)
class Torn:
    """Wrote straight through: keeps every change before the cut, in order, but only ``keep``
    bytes of the write in flight at the cut (the record just before it)."""

    keep: int

    def __str__(self) -> str:
        return f"every change kept, the last write torn to {self.keep} bytes"

    def files(
        self, records: Sequence[Record], cut: int, baseline: dict[str, bytes | None]
    ) -> dict[str, bytes | None]:
        last = records[cut - 1]
        assert last.op is Op.WRITE, f"the cut at {cut} is not in the middle of a write: {last}"
        before = [*records[: cut - 1], _torn(last, self.keep)]
        disk: dict[str, bytes | None] = {}
        for name, base in baseline.items():
            _refuse_unmodelled(before, name)
            exists = base is not None or _made_at(before, name) is not None
            disk[name] = _apply(before, name, base) if exists else None
        return disk


@dataclass(frozen=True, slots=True)
class Scattered:
    """Keeps what was synced, and of each file's changes since its last sync any subset: each
    write whole, torn to a prefix, or lost (``seed`` picks which). A disk cache flushes in its
    own order, so between two syncs any of this is what a cut may leave."""

    seed: int

    def __str__(self) -> str:
        return f"synced data and a random part of the rest kept (seed {self.seed})"

    def files(
        self, records: Sequence[Record], cut: int, baseline: dict[str, bytes | None]
    ) -> dict[str, bytes | None]:
        rng = random.Random(self.seed)
        covered, entries = _sync_points(records, cut)
        disk: dict[str, bytes | None] = {}
        for name, base in baseline.items():
            _refuse_unmodelled(records[:cut], name)
            made = _made_at(records[:cut], name)
            synced = covered.get(name, 0)
            kept: list[Record] = []
            for r in records[synced:cut]:
                if r.name != name:
                    continue
                if r.op is Op.WRITE:
                    roll = rng.random()
                    if roll < 1 / 3:
                        continue
                    if roll < 2 / 3:
                        r = _torn(r, rng.randrange(len(r.data)))
                elif r.op in (Op.TRUNCATE, Op.EXTEND) and rng.random() < 0.5:
                    continue
                kept.append(r)
            exists = base is not None or (
                made is not None and (made < entries or rng.random() < 0.5)
            )
            disk[name] = _apply([*records[:synced], *kept], name, base) if exists else None
        return disk


def _sync_points(records: Sequence[Record], cut: int) -> tuple[dict[str, int], int]:
    """Where, before ``cut``, each file's last completed sync started (its data logged before
    that is on disk), and the same for the directory's entries."""
    starts: dict[int, int] = {}
    covered: dict[str, int] = {}
    entries = 0
    for i, r in enumerate(records[:cut]):
        if r.op is Op.SYNC_START:
            starts[r.offset] = i
        elif r.op is Op.SYNC:
            if r.name == "":
                entries = starts[r.offset]
            else:
                covered[r.name] = starts[r.offset]
    return covered, entries


def _made_at(records: Sequence[Record], name: str) -> int | None:
    return next((i for i, r in enumerate(records) if r.name == name and r.op is Op.CREATE), None)


def _torn(r: Record, keep: int) -> Record:
    return Record(r.op, r.name, r.offset, keep, r.data[:keep])


def write_disk(disk: dict[str, bytes | None], directory: Path) -> None:
    """Lay the modelled files out in ``directory`` (a fresh one: nothing else is there)."""
    directory.mkdir(parents=True)
    for name, content in disk.items():
        if content is not None:
            (directory / name).write_bytes(content)


def _refuse_unmodelled(records: Sequence[Record], name: str) -> None:
    for r in records:
        if r.name == name and r.op in (Op.UNLINK, Op.RENAME):
            raise NotModelled(f"{name} was {r.op.name.lower()}d while the engine ran")


def _apply(records: Sequence[Record], name: str, base: bytes | None) -> bytes:
    content = bytearray(base or b"")
    for r in records:
        if r.name != name:
            continue
        if r.op is Op.WRITE:
            end = r.offset + len(r.data)
            if len(content) < r.offset:
                content.extend(bytes(r.offset - len(content)))
            content[r.offset : end] = r.data
        elif r.op is Op.TRUNCATE:
            del content[r.offset :]
            content.extend(bytes(r.offset - len(content)))
        elif r.op is Op.EXTEND and len(content) < r.offset:
            content.extend(bytes(r.offset - len(content)))
        elif r.op is Op.CREATE:
            content = bytearray()
    return bytes(content)
