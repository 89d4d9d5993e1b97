"""The distinctive fake secrets a run is given, the shapes each could leak in, and the search of
everything a run leaves behind (files, HTTP bodies, process output) for any of them."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

#: Every value a run is handed, by the kind a failure names. The wrong ones are secrets too: a
#: mistyped token is still (nearly) the user's token, and it is what a refusal path could echo.
#: ``+`` and ``/`` make the URL-encoded and JSON-escaped forms differ from the raw one.
SECRETS = {
    "OANDA token": "oanda-tok-7f3a9c1e5b2d8046aa17",
    "wrong OANDA token": "oanda-bad-41d8e6c02b9f7a35ee03",
    "API token": "api-tok+2c9e4a7b1d/6f3085bb42",
    "wrong API token": "api-bad+9d1f5e3a7c/0b2468cc97",
    "Polygon key": "pk-massive-5e8b1c4a9d7f2063dd5",
    "wrong Polygon key": "pk-wrongkey-0a6c2e8b4f1d9375",
    "database password": "pgpw+Zq7/Xr4Kw9Ln2Vt6Hs1",
}


def secret_env(*, oanda: str = "OANDA token", polygon: str = "Polygon key") -> dict[str, str]:
    """Every variable a secret reaches tmt by. ``TMT_PG_DSN`` and ``PGPASSWORD`` are read by
    nothing yet (PostgreSQL sync is issue 14): tmt must not echo its environment anywhere."""
    password = SECRETS["database password"]
    return {
        "OANDA_TOKEN": SECRETS[oanda],
        "TMT_API_TOKEN": SECRETS["API token"],
        "MASSIVE_API_KEY": SECRETS[polygon],
        "TMT_PG_DSN": f"postgresql://tmt:{urllib.parse.quote(password, safe='')}@127.0.0.1:1/tmt",
        "PGPASSWORD": password,
    }


def _base64_forms(value: bytes) -> Iterator[bytes]:
    """The part of ``value``'s base64 that does not depend on its neighbours, at each of the
    three offsets it could start at inside a longer encoded string (Basic auth, a blob)."""
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * offset + value)
            head = (offset * 4 + 2) // 3  # characters touched by the padding bytes in front
            tail = len(encoded) - ((len(value) + offset) % 3 and 4)  # the last, partial group
            yield encoded[head:tail]


def forms(value: str) -> dict[str, bytes]:
    """``value`` as it could appear in an artifact: raw, URL-encoded, JSON-escaped, base64."""
    raw = value.encode()
    shapes = {
        "raw": raw,
        "url-encoded": urllib.parse.quote(value, safe="").encode(),
        "form-encoded": urllib.parse.quote_plus(value, safe="").encode(),
        "json-escaped": value.replace("/", "\\/").encode(),
    }
    for i, encoded in enumerate(_base64_forms(raw)):
        shapes[f"base64#{i}"] = encoded
    return shapes


@dataclass
class Artifacts:
    """What a run left to be read: named blobs (process output, HTTP bodies) and directories."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    roots: list[Path] = field(default_factory=list)

    def add(self, name: str, content: str | bytes) -> None:
        data = content.encode() if isinstance(content, str) else content
        self.blobs[name] = self.blobs.get(name, b"") + data

    def everything(self) -> Iterator[tuple[str, bytes]]:
        """Every blob, then every regular file under the roots (a socket has no bytes)."""
        yield from self.blobs.items()
        for root in self.roots:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    yield str(path), path.read_bytes()


class Leak(NamedTuple):
    """A secret found: where, which kind, and in what form (never the value itself)."""

    artifact: str
    kind: str
    form: str

    def __str__(self) -> str:
        return f"{self.artifact}: the {self.kind} ({self.form})"


def leaks(artifacts: Iterable[tuple[str, bytes]]) -> list[Leak]:
    """Every (artifact, secret kind, form) found; empty when nothing leaked."""
    patterns = [(k, shape, data) for k, v in SECRETS.items() for shape, data in forms(v).items()]
    return [
        Leak(name, kind, shape)
        for name, blob in artifacts
        for kind, shape, data in patterns
        if data in blob
    ]
