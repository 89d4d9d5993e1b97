"""The history database's tables, the versioned steps that make them, and the TimescaleDB extras.

Everything lives in the schema ``tmt``. Every row carries the id of the journal it came from
(``journal_id``, six hex digits), so several engines share one database without colliding. Time
columns are ``timestamptz``; prices and money ``numeric`` (exact, as the journal holds them).
Append-only tables (events, ticks, equity, fills, alerts) are keyed by (journal id, their journal
key, time): TimescaleDB wants the time column in every unique key of a hypertable, and the time
of a journal row never changes, so the key means the same with plain PostgreSQL. Tables of rows
that change (orders, positions, trades) are keyed by (journal id, their id) and carry the
sequence number of the event that last changed them.

``tmt.schema_history`` has a row per version reached; :func:`migrate` applies the steps past it
under an advisory lock (two engines starting at once make the tables once), each step with the
statements of the backend chosen when the tables were first made: hypertables, a continuous
aggregate for M1 bars and the compression and retention policies from :func:`timescale_statements`
when the extension is there, or plain tables with BRIN indexes on time and an ordinary view for
bars. A released step is never edited: append one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import psycopg

from tmt_tui.config.schema import SyncSettings

log = logging.getLogger(__name__)

Backend = Literal["postgresql", "timescaledb"]
#: ``pg_advisory_xact_lock`` key of the migrations: any constant, the same in every tmt.
MIGRATION_LOCK = 0x746D74_5359_4E43  # "tmt" "SYNC"

#: Append-only tables with a time column: hypertables under TimescaleDB.
TIME_TABLES = ("events", "ticks", "equity", "fills", "alerts")

_V1_TABLES = (
    "create table tmt.sync_state (journal_id text not null, stream text not null, "
    "watermark bigint not null, updated timestamptz not null default now(), "
    "primary key (journal_id, stream))",
    "create table tmt.events (journal_id text not null, seq bigint not null, "
    "ts timestamptz not null, kind text not null, origin text not null, data jsonb not null, "
    "hash text, primary key (journal_id, seq, ts))",
    "create table tmt.ticks (journal_id text not null, id bigint not null, "
    "ts timestamptz not null, instrument text not null, bid numeric not null, "
    "ask numeric not null, primary key (journal_id, id, ts))",
    "create table tmt.equity (journal_id text not null, id bigint not null, "
    "ts timestamptz not null, account text not null, balance numeric, equity numeric, "
    "unrealized_pl numeric, margin_used numeric, trading_state text, report_currency text, "
    "report_rate numeric, primary key (journal_id, id, ts))",
    "create table tmt.fills (journal_id text not null, seq bigint not null, "
    "ts timestamptz not null, order_id text not null, fill_id text, account text, "
    "instrument text, units bigint not null, price numeric not null, conversion_rate numeric, "
    "primary key (journal_id, seq, ts))",
    "create table tmt.alerts (journal_id text not null, seq bigint not null, "
    "ts timestamptz not null, key text not null, active boolean not null, message text, "
    "primary key (journal_id, seq, ts))",
    "create table tmt.orders (journal_id text not null, id text not null, account text, "
    "instrument text, units bigint, type text, status text, price numeric, take_profit numeric, "
    "stop_loss numeric, trade_id text, filled_units bigint, avg_fill_price numeric, reason text, "
    "origin text, created_ts timestamptz, updated_ts timestamptz, seq bigint not null, "
    "primary key (journal_id, id))",
    "create table tmt.positions (journal_id text not null, key text not null, account text, "
    "instrument text, units bigint, avg_price numeric, realized_pl numeric, trades jsonb, "
    "seq bigint not null, primary key (journal_id, key))",
    # each lot tmt opened, from the positions rows: open while its position lists it
    "create table tmt.trades (journal_id text not null, id text not null, account text, "
    "instrument text, units bigint, initial_units bigint, price numeric, "
    "open_ts timestamptz, realized_pl numeric, open boolean not null, seq bigint not null, "
    "primary key (journal_id, id))",
    "create index on tmt.orders (journal_id, account, instrument)",
    "create index on tmt.ticks (journal_id, instrument, ts)",
)

#: M1 bars of the mid price, as the plain view computes them (TimescaleDB: a continuous
#: aggregate with the same columns).
_BARS_VIEW = (
    "create view tmt.bars as select journal_id, instrument, "
    "date_trunc('minute', ts) as bucket, "
    "(array_agg((bid + ask) / 2 order by ts, id))[1] as open, "
    "max((bid + ask) / 2) as high, min((bid + ask) / 2) as low, "
    "(array_agg((bid + ask) / 2 order by ts desc, id desc))[1] as close, "
    "count(*) as ticks from tmt.ticks group by 1, 2, 3"
)


def _v1_plain(settings: SyncSettings) -> list[str]:
    return [
        *_V1_TABLES,
        *(f"create index on tmt.{t} using brin (ts)" for t in TIME_TABLES),
        _BARS_VIEW,
    ]


def _v1_timescale(settings: SyncSettings) -> list[str]:
    return [*_V1_TABLES, *timescale_statements(settings)]


def timescale_statements(settings: SyncSettings) -> list[str]:
    """What TimescaleDB adds to the plain tables: hypertables on time, an M1 bars continuous
    aggregate kept fresh by a policy, and the compression and retention policies of
    ``settings`` (0 days: none). The only TimescaleDB-specific SQL tmt sends."""
    statements = [
        f"select create_hypertable('tmt.{t}', by_range('ts'), migrate_data => true, "
        "if_not_exists => true)"
        for t in TIME_TABLES
    ]
    statements += [
        "create materialized view tmt.bars with (timescaledb.continuous) as "
        "select journal_id, instrument, time_bucket(interval '1 minute', ts) as bucket, "
        "first((bid + ask) / 2, ts) as open, max((bid + ask) / 2) as high, "
        "min((bid + ask) / 2) as low, last((bid + ask) / 2, ts) as close, count(*) as ticks "
        "from tmt.ticks group by journal_id, instrument, bucket with no data",
        "select add_continuous_aggregate_policy('tmt.bars', start_offset => interval '1 day', "
        "end_offset => interval '1 minute', schedule_interval => interval '1 minute')",
    ]
    if settings.compress_after_days > 0:
        statements += [
            "alter table tmt.ticks set (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'journal_id, instrument', "
            "timescaledb.compress_orderby = 'ts, id')",
            f"select add_compression_policy('tmt.ticks', "
            f"interval '{int(settings.compress_after_days)} days')",
        ]
    if settings.retention_days > 0:
        days = int(settings.retention_days)
        statements.append(f"select add_retention_policy('tmt.ticks', interval '{days} days')")
    return statements


@dataclass(frozen=True)
class Migration:
    """Takes the database from ``version - 1`` to ``version``, by backend."""

    version: int
    what: str
    plain: Callable[[SyncSettings], list[str]]
    timescale: Callable[[SyncSettings], list[str]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the history tables, keyed by journal id", _v1_plain, _v1_timescale),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


@dataclass(frozen=True)
class Schema:
    """What the database holds after :func:`migrate`: its backend, version and server."""

    backend: Backend
    version: int
    server: str
    #: Said once at start: which backend, and why (TimescaleDB missing, or turned off).
    note: str


def migrate(conn: psycopg.Connection[tuple[object, ...]], settings: SyncSettings) -> Schema:
    """Bring ``conn``'s database (autocommit) up to :data:`SCHEMA_VERSION`; nothing is written
    when it is there already, so a role that may only write rows (not make tables) works."""
    server = _server(conn)
    current, backend = _current(conn)
    if current >= SCHEMA_VERSION and backend is not None:
        return Schema(backend, current, server, f"{server}, {backend} tables (v{current})")
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("create schema if not exists tmt")
        conn.execute(
            "create table if not exists tmt.schema_history (version integer primary key, "
            "applied timestamptz not null default now(), what text not null, "
            "backend text not null)"
        )
        current, backend = _current(conn)  # another engine may have made them meanwhile
        note = ""
        if backend is None:
            backend, note = _choose_backend(conn, settings)
        for step in MIGRATIONS:
            if step.version <= current:
                continue
            statements = step.timescale if backend == "timescaledb" else step.plain
            for sql in statements(settings):
                conn.execute(sql)
            conn.execute(
                "insert into tmt.schema_history (version, what, backend) values (%s, %s, %s)",
                (step.version, step.what, backend),
            )
            log.info("history database: schema v%d (%s) made", step.version, step.what)
    return Schema(
        backend, SCHEMA_VERSION, server, f"{server}, {backend} tables (v{SCHEMA_VERSION}){note}"
    )


def _server(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    version = conn.info.server_version
    return f"PostgreSQL {version // 10000}.{version % 10000}"


def _current(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[int, Backend | None]:
    row = conn.execute("select to_regclass('tmt.schema_history') is not null").fetchone()
    if row is None or not row[0]:
        return 0, None
    found = conn.execute(
        "select coalesce(max(version), 0), min(backend) from tmt.schema_history"
    ).fetchone()
    if found is None or not found[0]:
        return 0, None
    backend: Backend = "timescaledb" if found[1] == "timescaledb" else "postgresql"
    return int(str(found[0])), backend


def _choose_backend(
    conn: psycopg.Connection[tuple[object, ...]], settings: SyncSettings
) -> tuple[Backend, str]:
    """TimescaleDB when allowed and available (made in this database if need be), else plain."""
    if settings.timescale == "off":
        return "postgresql", ' (TimescaleDB turned off: sync.timescale = "off")'
    row = conn.execute(
        "select exists (select 1 from pg_available_extensions where name = 'timescaledb')"
    ).fetchone()
    if not (row and row[0]):
        return "postgresql", " (TimescaleDB not available on the server: plain tables)"
    try:
        with conn.transaction():  # a savepoint: a refusal leaves the migration going
            conn.execute("create extension if not exists timescaledb")
    except psycopg.Error as exc:
        return "postgresql", f" (TimescaleDB could not be enabled: {exc.sqlstate}: plain tables)"
    return "timescaledb", ""
