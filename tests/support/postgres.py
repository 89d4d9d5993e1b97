"""A real PostgreSQL server for the sync tests: a cluster made by ``initdb`` in a temp dir, on a
free loopback port, with its socket in the same dir, stopped (and removed) afterwards.

The binaries are found on PATH or under ``/usr/lib/postgresql/*/bin``. As root, the server
runs as the ``postgres`` user (it refuses root), so the temp dir is made theirs. Passwords are
checked (scram-sha-256) on TCP: the wrong-password test needs it. Under ``TMT_CI=1`` a machine
without the binaries fails the suite instead of skipping it (``.ci/run`` installs them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "pg-super-Secr3t"


def find_bin(name: str) -> str | None:
    """``name`` on PATH, else the newest ``/usr/lib/postgresql/*/bin/name``."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PgServer:
    """One running cluster: how to reach it as the superuser, and how to stop and start it."""

    bindir: Path
    datadir: Path
    sockdir: Path
    port: int
    as_user: list[str]

    def dsn(self, user: str = SUPERUSER, password: str = SUPERUSER_PASSWORD, db: str = "postgres",
            host: str = "127.0.0.1") -> str:  # fmt: skip
        return f"postgresql://{user}:{password}@{host}:{self.port}/{db}"

    def connect(self, db: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.dsn(db=db), autocommit=True)

    def create_database(self, name: str) -> str:
        """A fresh database; returns its name."""
        with self.connect() as conn:
            conn.execute(f'drop database if exists "{name}"')  # type: ignore[arg-type]
            conn.execute(f'create database "{name}"')  # type: ignore[arg-type]
        return name

    def create_role(self, name: str, password: str, db: str, *, writer: bool = True) -> None:
        """A login role; a writer may make and fill schema tmt, a reader only read it."""
        with self.connect() as conn:
            conn.execute(f'drop role if exists "{name}"')  # type: ignore[arg-type]
            conn.execute(
                f"create role \"{name}\" login password '{password}'"  # type: ignore[arg-type]
            )
            if writer:
                conn.execute(f'grant all on database "{db}" to "{name}"')  # type: ignore[arg-type]
        if writer:
            with self.connect(db) as conn:
                conn.execute(f'grant all on schema public to "{name}"')  # type: ignore[arg-type]

    def grant_read_only(self, name: str, db: str) -> None:
        with self.connect(db) as conn:
            conn.execute(f'grant usage on schema tmt to "{name}"')  # type: ignore[arg-type]
            conn.execute(
                f'grant select on all tables in schema tmt to "{name}"'  # type: ignore[arg-type]
            )

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        self.ctl("-l", str(self.datadir.parent / "server.log"), "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")


@contextlib.contextmanager
def postgres_server(base: str | None = None) -> Iterator[PgServer]:
    """Start a throwaway cluster (in a temp dir under ``base``, default the system's); raise
    LookupError when there are no server binaries."""
    initdb = find_bin("initdb")
    if initdb is None:
        raise LookupError(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under "
            "/usr/lib/postgresql/*/bin: apt-get install postgresql"
        )
    bindir = Path(os.path.realpath(initdb)).parent
    root = Path(tempfile.mkdtemp(prefix="tmt-pg-", dir=base))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(root, 0o700)
    datadir, sockdir = root / "data", root
    pwfile = root / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    server = PgServer(bindir, datadir, sockdir, free_port(), as_user)
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(datadir), "-U", SUPERUSER,
             f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with open(datadir / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {server.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{sockdir}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n"
                "shared_buffers = 64MB\n"
            )
        server.start()
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
