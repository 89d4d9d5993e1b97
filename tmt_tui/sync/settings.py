"""Where the database is: the DSN from ``$TMT_PG_DSN`` only, held as a ``Secret``, and every word
about it (where it points, why it failed) said without the password.

libpq finds a password in the DSN, in ``$PGPASSWORD`` or in the file ``$PGPASSFILE`` names; tmt
never reads the last two itself, but a server's error could still echo the DSN's, so every
message is passed through :func:`redacted` before it is logged, stored or shown.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict

from tmt_tui.domain.secret import Secret

#: The one place the DSN comes from.
DSN_ENV = "TMT_PG_DSN"


class SyncConfigError(Exception):
    """The sync cannot start: no DSN, or one that cannot be read (said without the password)."""


@dataclass(frozen=True)
class Target:
    """A database to sync into: the DSN (secret) and what can be said of it."""

    dsn: Secret
    #: ``postgresql://user@host:port/dbname``: never a password.
    where: str
    user: str
    #: Every form the password could take in a message (itself, URL-encoded): what to redact.
    secrets: tuple[str, ...]

    def redact(self, text: str) -> str:
        return redacted(text, self.secrets)


def target_from_env(env: dict[str, str] | None = None) -> Target:
    """The database ``$TMT_PG_DSN`` names; SyncConfigError when it is unset or unreadable."""
    env = dict(os.environ) if env is None else env
    raw = env.get(DSN_ENV, "").strip()
    if not raw:
        raise SyncConfigError(
            f"${DSN_ENV} is not set: export {DSN_ENV}=postgresql://USER@HOST/DBNAME "
            "(the password in it, in $PGPASSWORD or in the file $PGPASSFILE names)"
        )
    return target(raw, env)


def target(dsn: str, env: dict[str, str] | None = None) -> Target:
    """A :class:`Target` for ``dsn`` (a URL or ``key=value`` pairs)."""
    env = dict(os.environ) if env is None else env
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # its message quotes the DSN, password and all
        raise SyncConfigError(
            f"${DSN_ENV} cannot be read as a PostgreSQL connection string "
            "(postgresql://USER@HOST:PORT/DBNAME or host=... dbname=...)"
        ) from None
    password = str(parts.get("password") or "")
    user = str(parts.get("user") or env.get("PGUSER") or env.get("USER") or "")
    host = str(parts.get("host") or env.get("PGHOST") or "localhost")
    port = str(parts.get("port") or env.get("PGPORT") or "5432")
    dbname = str(parts.get("dbname") or env.get("PGDATABASE") or user)
    shown_host = host if not host.startswith("/") else f"[{host}]"
    where = f"postgresql://{user}@{shown_host}:{port}/{dbname}"
    secrets = tuple(
        s for s in {password, urllib.parse.quote(password, safe=""), urllib.parse.quote(password)}
        if len(s) >= 1
    )  # fmt: skip
    return Target(Secret(dsn), where, user, secrets)


def redacted(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text
