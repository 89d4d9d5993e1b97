"""`tmt sync status | backfill | check`: the history database beside the journal.

Each reads the config's journal read-only (beside a running engine) and connects to the
database ``$TMT_PG_DSN`` names itself; none needs the engine. Exit codes as everywhere: 0 ok,
1 a check found a difference, 2 the database or the journal cannot be reached.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import psycopg

from tmt_tui.cli.answers import CHECK_FAILED, OK, UNREACHABLE, Exit, leave, refused
from tmt_tui.cli.equity_sources import SourceError, parse_time
from tmt_tui.cli.presentation import progress_bar
from tmt_tui.config import ConfigError, load_settings
from tmt_tui.config.schema import SyncSettings
from tmt_tui.sync import ddl
from tmt_tui.sync.check import check_tables, derived_counts, status_payload
from tmt_tui.sync.copier import Copier, JournalMismatch
from tmt_tui.sync.journal_reader import STREAMS, JournalReader, JournalUnreadable
from tmt_tui.sync.loop import explain
from tmt_tui.sync.settings import SyncConfigError, Target, target_from_env


def run_sync(args: argparse.Namespace) -> int:
    as_json = bool(getattr(args, "json", False))
    try:
        if args.sync_command == "status":
            return _status(args)
        if args.sync_command == "backfill":
            return _backfill(args)
        return _check(args)
    except Exit as exc:
        return leave(as_json, exc)


def _journal_path(args: argparse.Namespace) -> Path:
    if getattr(args, "journal", None):
        return Path(args.journal)
    try:
        return load_settings(getattr(args, "config", None)).journal_path()
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _reader(path: Path) -> JournalReader:
    try:
        return JournalReader(path)
    except JournalUnreadable as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None


def _target() -> Target:
    try:
        return target_from_env()
    except SyncConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _connect(
    target: Target, migrate: bool, args: argparse.Namespace
) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection to the database; ``migrate``: its tables made as the config's [sync] says."""
    try:
        conn: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(
            target.dsn.reveal(), autocommit=True, connect_timeout=5, application_name="tmt-sync"
        )
    except psycopg.Error as exc:
        raise refused("UNREACHABLE", explain(exc, target), UNREACHABLE) from None
    if migrate:
        try:
            ddl.migrate(conn, _sync_settings(args))
        except psycopg.Error as exc:
            conn.close()
            raise refused("UNREACHABLE", explain(exc, target), UNREACHABLE) from None
    return conn


def _sync_settings(args: argparse.Namespace) -> SyncSettings:
    try:
        return load_settings(getattr(args, "config", None)).sync
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None


def _status(args: argparse.Namespace) -> int:
    path = _journal_path(args)
    target = _target()
    reader = _reader(path) if path.exists() else None
    conn, error = None, ""
    try:
        conn = psycopg.connect(target.dsn.reveal(), autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        error = explain(exc, target)
    try:
        payload = status_payload(path, reader, conn, target.where, error)
    except psycopg.Error as exc:
        payload = status_payload(path, reader, None, target.where, explain(exc, target))
    finally:
        if conn is not None:
            conn.close()
    if args.json:
        print(json.dumps(payload), flush=True)
    else:
        _print_status(payload)
    return OK if payload["ok"] else UNREACHABLE


def _backend_word(p: dict[str, Any]) -> str:
    """What the database is, or why it cannot be said: a refused login is not an empty one."""
    if p.get("backend"):
        return str(p["backend"])
    return "not reached: see last error" if p.get("last_error") else "no tmt tables yet"


def _print_status(p: dict[str, Any]) -> None:
    running = p.get("running") or {}
    lines = [
        f"database   {p['database']}  ({_backend_word(p)})",
        f"journal    {p['journal']}  (id {p.get('journal_id', '?')})",
        "watermarks " + ", ".join(f"{s} {w}" for s, w in p["watermarks"].items()),
        f"lag        {p.get('lag_rows', 0):,} rows, {p.get('lag_s', 0.0):.1f} s",
        f"sync       {running.get('state', 'not running')}",
    ]
    if p.get("last_error"):
        lines.append(f"last error {p['last_error']}")
    print("\n".join(lines), flush=True)


def _backfill(args: argparse.Namespace) -> int:
    try:
        since = parse_time(args.since, "--since") if args.since else None
    except SourceError as exc:
        raise refused("USAGE", str(exc), UNREACHABLE) from None
    path = _journal_path(args)
    reader = _reader(path)
    target = _target()
    conn = _connect(target, migrate=True, args=args)
    try:
        copier = Copier(conn, reader, _sync_settings(args).batch_rows)
        cursors = {s: 0 for s in STREAMS}
        with reader.snapshot():
            heads = reader.heads()
        total = max(1, sum(heads.values()))
        show = progress_bar(total, "backfilling", "rows", quiet=bool(args.json))
        copied = 0
        while step := copier.step(since, cursors):
            copied += step
            show(sum(min(cursors[s], heads[s]) for s in heads))
        show(-1)
    except psycopg.Error as exc:
        raise refused("UNREACHABLE", explain(exc, target), UNREACHABLE) from None
    except JournalMismatch as exc:
        raise refused("JOURNAL_MISMATCH", str(exc), CHECK_FAILED) from None
    finally:
        conn.close()
        reader.close()
    message = f"backfilled {copied:,} journal rows into {target.where} (rows it had were kept)"
    payload = {
        "ok": True,
        "rows": copied,
        "journal_id": reader.journal_id,
        "database": target.where,
    }
    raise Exit(OK, message, payload if args.json else None)


def _check(args: argparse.Namespace) -> int:
    path = _journal_path(args)
    reader = _reader(path)
    target = _target()
    conn = _connect(target, migrate=False, args=args)
    try:
        tables, marks = check_tables(reader, conn)
        tables += derived_counts(reader, conn, marks["events"])
        with reader.snapshot():
            heads = reader.heads()
    except psycopg.Error as exc:
        raise refused("UNREACHABLE", explain(exc, target), UNREACHABLE) from None
    finally:
        conn.close()
        reader.close()
    behind = {s: heads[s] - marks.get(s, 0) for s in heads if heads[s] > marks.get(s, 0)}
    ok = all(t.agrees for t in tables)
    if args.json:
        payload = {
            "ok": ok, "journal_id": reader.journal_id, "database": target.where,
            "behind": behind,
            "tables": [
                {"table": t.table, "journal_rows": t.journal_rows, "db_rows": t.db_rows,
                 "journal_checksum": t.journal_sum, "db_checksum": t.db_sum, "agrees": t.agrees}
                for t in tables
            ],
        }  # fmt: skip
        print(json.dumps(payload), flush=True)
    else:
        print(f"{'table':<10} {'journal':>10} {'database':>10}  checksum", flush=True)
        for t in tables:
            verdict = "same" if t.agrees else "DIFFERENT"
            print(f"{t.table:<10} {t.journal_rows:>10,} {t.db_rows:>10,}  {verdict}", flush=True)
        if behind:
            print("not yet copied: " + ", ".join(f"{s} {n:,}" for s, n in behind.items()))
    return OK if ok else CHECK_FAILED
