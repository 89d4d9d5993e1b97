"""History across machines: the journal copied into PostgreSQL (TimescaleDB when it is there).

The local SQLite journal stays the source of truth and the only thing an order waits on. A
sync process beside the engine (:mod:`tmt_tui.sync.process`) reads the journal read-only past
a watermark per table, COPYs each bounded batch into a staging table and merges it, moving the
watermark in the same database transaction (:mod:`tmt_tui.sync.copier`), so a crash replays at
most one batch and the tables' keys (every row carries its journal id) absorb it. Several
engines share one database that way.

- :mod:`~tmt_tui.sync.settings`: the DSN from the environment, held as a ``Secret``, and how an
  error is told without the password;
- :mod:`~tmt_tui.sync.ddl`: the database's tables, their versioned migrations, and the
  TimescaleDB statements (one function, tested as text);
- :mod:`~tmt_tui.sync.journal_reader`: the journal's rows past a watermark, read-only;
- :mod:`~tmt_tui.sync.copier`: one batch per table: COPY, merge, watermark, one transaction;
- :mod:`~tmt_tui.sync.loop`: the sync task: batches until stopped, backing off while the
  database is away, its status and the lag;
- :mod:`~tmt_tui.sync.check`: counts and checksums per table, and the status a user asks for;
- :mod:`~tmt_tui.sync.process`: the sync as a child process of the engine, and its supervisor.
"""
