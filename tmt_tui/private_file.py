"""A small state file only its owner may read, written whole or not at all.

The watchlist (beside the journal) and the remembered layout are rewritten while a trader
works: a crash or a full disk mid-write must leave the old file, never half a new one, and
neither may be readable by other users of a shared trading box.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path``: a temporary file beside it, fsynced, made 0600, renamed over
    it (the folder is made 0700 when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
