"""What a journal holds: the tables of a new journal, and the ordered steps that bring a journal
written by an earlier tmt up to them.

A journal says what it is in its ``meta`` table: ``app = 'tmt-journal'`` and ``schema = N``
(an integer, stored as text). :data:`SCHEMA_VERSION` is the version of the last step. A new
journal is made at it directly by :func:`create_schema`; an older one is brought up to it when
it is opened, one step at a time, each step in its own transaction, after a backup copy
(:mod:`tmt_tui.store.migrations` runs them). ``schema_history`` has a row for each version the
journal reached: when, by which tmt, and how (made new, or by which step).

To change the schema, append a step: write ``_vN_what(conn, progress)`` taking a journal at
version N-1 to N with plain SQL on ``conn``, inside the transaction the runner has begun (so
no commit, no ``with conn``, and no pragma that cannot run in a transaction; a step that walks
many rows calls ``progress(fraction done)`` now and then); add ``Step(N, "what it does",
_vN_what)`` at the end of :data:`STEPS`; and make the same change in :func:`create_schema`,
which always makes the newest schema in one go. A released step is never edited again: the
journals in the wild went through it. ``tests/store/test_migrations.py`` checks that a new
journal and one migrated from the oldest schema have the same tables and indexes; for the new
step's own tests, ``journal_at(path, N - 1)`` in ``tests/store/journal_v1.py`` (v1 frozen, then
the real steps) makes a genuine v(N-1) journal.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from tmt_tui import __version__

APP_ID = "tmt-journal"

#: Called by a step with the fraction of its work done (0.0 to 1.0).
StepProgress = Callable[[float], None]


@dataclass(frozen=True)
class Step:
    """Takes a journal from schema ``version - 1`` to ``version``."""

    version: int
    what: str
    apply: Callable[[sqlite3.Connection, StepProgress], None]

    def __str__(self) -> str:
        return f"v{self.version - 1} -> v{self.version} ({self.what})"


# the newest schema, made in one go ------------------------------------------------------------

#: Closed bars (analytics/market.py), derived from ticks and written with them: floats, as
#: analytics are; keyed so a bar written twice (a late tick after a restart) is one row.
_BARS = (
    "create table bars (instrument text, size text, start real, bid_o real, bid_h real, "
    "bid_l real, bid_c real, ask_o real, ask_h real, ask_l real, ask_c real, mid_o real, "
    "mid_h real, mid_l real, mid_c real, ticks integer, primary key (instrument, size, start)) "
    "without rowid"
)

_TABLES = (
    "create table meta (key text primary key, value text)",
    "create table events (seq integer primary key, ts real, kind text, origin text, data text, "
    "hash text)",
    "create table ticks (ts real, instrument text, bid text, ask text)",
    "create table last_quotes (instrument text primary key, ts real, bid text, ask text)",
    "create table checkpoints (seq integer primary key, ts real, trading_day text, state text)",
    # without rowid: one b-tree to touch per upsert on the ack path
    "create table orders (id text primary key, account text, instrument text, units integer, "
    "type text, status text, price text, take_profit text, stop_loss text, trade_id text, "
    "filled_units integer, avg_fill_price text, reason text, origin text, created_ts real, "
    "updated_ts real, seq integer) without rowid",
    "create table positions (key text primary key, account text, instrument text, "
    "units integer, avg_price text, realized_pl text, trades text, seq integer)",
    "create table equity (ts real, account text, balance text, equity text, "
    "unrealized_pl text, margin_used text, trading_state text, report_currency text, "
    "report_rate text)",
    "create index idx_equity_account_ts on equity (account, ts)",
    "create table schema_history (version integer primary key, from_version integer, "
    "applied_ts real, tmt_version text, how text)",
    _BARS,
)


def create_schema(conn: sqlite3.Connection) -> None:
    """Every table of a new journal at :data:`SCHEMA_VERSION`, with its meta rows, inside the
    caller's transaction."""
    for ddl in _TABLES:
        conn.execute(ddl)
    conn.executemany(
        "insert into meta (key, value) values (?, ?)",
        [
            ("app", APP_ID),
            ("schema", str(SCHEMA_VERSION)),
            ("journal_id", secrets.token_hex(3)),
            ("chain_from", "1"),
        ],
    )
    record_history(conn, SCHEMA_VERSION, None, "made new")


def record_history(
    conn: sqlite3.Connection, version: int, from_version: int | None, how: str
) -> None:
    """Note in ``schema_history`` that the journal reached ``version`` now, by this tmt."""
    conn.execute(
        "insert into schema_history (version, from_version, applied_ts, tmt_version, how) "
        "values (?, ?, ?, ?, ?)",
        (version, from_version, time.time(), __version__, how),
    )


# the steps, oldest first (never edit a released one) ------------------------------------------


def _v2_schema_history(conn: sqlite3.Connection, progress: StepProgress) -> None:
    conn.execute(
        "create table schema_history (version integer primary key, from_version integer, "
        "applied_ts real, tmt_version text, how text)"
    )


def _v3_equity_report_rate(conn: sqlite3.Connection, progress: StepProgress) -> None:
    # what one unit of the account's currency was worth in the report currency at each sample,
    # so an all-accounts curve converts each sample at its own rate, not today's (null before)
    conn.execute("alter table equity add column report_currency text")
    conn.execute("alter table equity add column report_rate text")


def _v4_event_hash_chain(conn: sqlite3.Connection, progress: StepProgress) -> None:
    # tamper evidence (store/chain.py): the chain starts with the next event; those before
    # were written unchained and verify says so
    conn.execute("alter table events add column hash text")
    (last,) = conn.execute("select coalesce(max(seq), 0) from events").fetchone()
    conn.execute("insert into meta (key, value) values ('chain_from', ?)", (str(last + 1),))


def _v5_bars(conn: sqlite3.Connection, progress: StepProgress) -> None:
    # market state (issue 13): closed bars, so a restart keeps them; none before this step
    conn.execute(_BARS)


STEPS: tuple[Step, ...] = (
    Step(2, "record each schema change in schema_history", _v2_schema_history),
    Step(3, "record the report currency rate of each equity sample", _v3_equity_report_rate),
    Step(4, "chain each event to the one before by its hash", _v4_event_hash_chain),
    Step(5, "keep closed bars of every instrument", _v5_bars),
)

#: The schema this tmt writes, and the newest it reads.
SCHEMA_VERSION = STEPS[-1].version

if [s.version for s in STEPS] != list(range(2, SCHEMA_VERSION + 1)):
    raise AssertionError("schema steps must go v1 -> v2 -> v3 ... in order, one version each")
