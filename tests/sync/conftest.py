"""A real PostgreSQL server for the whole sync suite; a database of its own for each test."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.support.postgres import PgServer, postgres_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        with postgres_server() as server:
            yield server
    except LookupError as exc:
        if os.environ.get("TMT_CI") == "1":
            pytest.fail(f"CI must run the PostgreSQL suite: {exc}")
        pytest.skip(str(exc))


@pytest.fixture
def pg_db(pg_server: PgServer, request: pytest.FixtureRequest) -> str:
    """A fresh database named for the test; the DSN of its superuser is ``pg_server.dsn(db=)``."""
    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:50]
    return pg_server.create_database(name)
