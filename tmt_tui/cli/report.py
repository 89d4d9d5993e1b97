"""`tmt report`: the audit export of a journal (orders and controls as CSV or JSON lines, and a
manifest), and `tmt report verify`: the journal's hash chain, checked event by event.

Both open the journal read-only, without its owner's lock: they run beside the engine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tmt_tui.cli.answers import CHECK_FAILED, OK, UNREACHABLE, Exit, leave, refused
from tmt_tui.cli.equity_sources import SourceError, parse_time
from tmt_tui.cli.presentation import progress_bar
from tmt_tui.config import ConfigError, load_settings
from tmt_tui.store import chain
from tmt_tui.store.audit import (
    CONTROL_COLUMNS,
    ORDER_COLUMNS,
    AuditError,
    AuditReader,
    Period,
)

#: Rows between two progress reports (and the first report comes after this many).
PROGRESS_EVERY = 20_000
_TABLES = {"orders": ORDER_COLUMNS, "controls": CONTROL_COLUMNS}


def run_report(args: argparse.Namespace) -> int:
    as_json = bool(args.json)
    try:
        if args.action == "verify":
            return _verify(args)
        return _export(args)
    except Exit as exc:
        return leave(as_json, exc)


def _journal(args: argparse.Namespace) -> AuditReader:
    try:
        path = (
            Path(args.journal)
            if args.journal
            else load_settings(getattr(args, "config", None)).journal_path()
        )
        return AuditReader(path)
    except ConfigError as exc:
        raise refused("CONFIG_ERROR", str(exc), UNREACHABLE) from None
    except AuditError as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None


def _period(args: argparse.Namespace) -> Period:
    try:
        since = parse_time(args.since, "--since") if args.since else None
        until = _until(args.until) if args.until else None
    except SourceError as exc:
        raise refused("BAD_SOURCE", str(exc), UNREACHABLE) from None
    if since is not None and until is not None and until <= since:
        raise refused("BAD_SOURCE", "--until is not after --since", UNREACHABLE)
    return Period(since, until, args.account)


def _until(text: str) -> float:
    """An instant, or a date meaning through the end of that day (UTC)."""
    moment = parse_time(text, "--until")
    return moment + 86_400.0 if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()) else moment


def _export(args: argparse.Namespace) -> int:
    if not args.out:
        raise refused("USAGE", "name the directory to write: --out DIR", UNREACHABLE)
    period = _period(args)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = f"{out}: cannot make the directory ({exc})"
        raise refused("BAD_OUTPUT", why, UNREACHABLE) from None
    reader = _journal(args)
    started = time.monotonic()
    try:
        total = reader.count(period)
        head = reader.head()
        small = total < PROGRESS_EVERY  # over before a bar would show anything
        show = progress_bar(total, "exporting", "events", quiet=args.json or small)
        counts = _write(reader, period, out, args.format, show)
    except OSError as exc:
        why = f"{out}: cannot write the export ({exc})"
        raise refused("BAD_OUTPUT", why, UNREACHABLE) from None
    finally:
        reader.close()
    manifest = {
        "journal": str(reader.path),
        "journal_id": reader.journal_id,
        "since": period.since,
        "until": period.until,
        "account": period.account,
        "format": args.format,
        "events": sum(counts.values()),
        "rows": counts,
        "files": {name: f"{name}.{args.format}" for name in _TABLES},
        "columns": {name: list(columns) for name, columns in _TABLES.items()},
        "chain_from": reader.chain_from,
        "chain_head": None if head is None else str(head),
        "generated_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 3),
    }
    _atomic_write(out / "manifest.json", lambda f: json.dump(manifest, f, indent=2))
    if args.json:
        print(json.dumps({"ok": True, **manifest}))
    else:
        print(
            f"exported {manifest['events']} events to {out}: {counts['orders']} order rows "
            f"(orders.{args.format}), {counts['controls']} control rows "
            f"(controls.{args.format}), manifest.json"
        )
        if head is not None:
            print(f"journal chain head {head}  (keep it: tmt report verify --head {head})")
    return OK


def _write(
    reader: AuditReader,
    period: Period,
    out: Path,
    fmt: str,
    progress: Callable[[int], None],
) -> dict[str, int]:
    """Stream every row into ``orders`` and ``controls`` files, each written as ``.part`` and
    renamed when whole: a file of the final name is always a complete export."""
    counts = dict.fromkeys(_TABLES, 0)
    files: dict[str, IO[str]] = {}
    writers: dict[str, Callable[[dict[str, Any]], None]] = {}
    try:
        for name, columns in _TABLES.items():
            handle = open(out / f"{name}.{fmt}.part", "w", newline="", encoding="utf-8")  # noqa: SIM115
            files[name] = handle
            writers[name] = _row_writer(handle, columns, fmt)
        for seen, (table, row) in enumerate(reader.rows(period), start=1):
            writers[table](row)
            counts[table] += 1
            if seen % PROGRESS_EVERY == 0:
                progress(seen)
        progress(-1)
        for open_file in files.values():
            open_file.flush()
            os.fsync(open_file.fileno())
    finally:
        for open_file in files.values():
            open_file.close()
    for name in _TABLES:
        os.replace(out / f"{name}.{fmt}.part", out / f"{name}.{fmt}")
    return counts


def _row_writer(
    handle: IO[str], columns: tuple[str, ...], fmt: str
) -> Callable[[dict[str, Any]], None]:
    if fmt == "csv":
        writer = csv.writer(handle)
        writer.writerow(columns)
        return lambda row: writer.writerow([row[c] for c in columns])

    def line(row: dict[str, Any]) -> None:
        body = {c: row[c] for c in columns}
        if "detail" in body and body["detail"]:
            body["detail"] = json.loads(body["detail"])
        handle.write(json.dumps(body, separators=(",", ":")))
        handle.write("\n")

    return line


def _atomic_write(path: Path, write: Callable[[IO[str]], Any]) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(part, path)


def _verify(args: argparse.Namespace) -> int:
    kept = None
    if args.head:
        try:
            kept = chain.Head.parse(args.head)
        except ValueError as exc:
            raise refused("BAD_HEAD", str(exc), UNREACHABLE) from None
    reader = _journal(args)
    try:
        if reader.chain_from is None:
            raise refused(
                "NOT_CHAINED",
                f"{reader.path}: written before journals were chained: open it with this tmt "
                "(tmt engine) to migrate it; the chain starts then",
                CHECK_FAILED,
            )
        verdict = chain.verify(reader.conn, reader.journal_id, reader.chain_from, kept)
    finally:
        reader.close()
    body: dict[str, Any] = {
        "ok": verdict.ok,
        "journal": str(reader.path),
        "checked": verdict.checked,
        "chain_from": verdict.chain_from,
        "unchained": verdict.unchained,
        "head": None if verdict.head is None else str(verdict.head),
        "breaks": [{"seq": b.seq, "what": b.what} for b in verdict.breaks],
        "more_breaks": verdict.more,
        "head_problem": verdict.head_problem,
    }
    if args.json:
        print(json.dumps(body))
        return OK if verdict.ok else CHECK_FAILED
    before = (
        f"; the {verdict.unchained} events before seq {verdict.chain_from} were written "
        "before the journal was chained (migrated then) and are not covered"
        if verdict.unchained
        else ""
    )
    if verdict.ok:
        kept_text = f", and matches the kept head {kept}" if kept is not None else ""
        print(
            f"ok: {verdict.checked} events chained from seq {verdict.chain_from}, head "
            f"{verdict.head}{kept_text}{before}"
        )
        return OK
    print(f"tmt: {reader.path}: the hash chain does not hold{before}", file=sys.stderr)
    for b in verdict.breaks:
        print(f"  seq {b.seq}: {b.what}", file=sys.stderr)
    if verdict.more:
        print(f"  ... and {verdict.more} more", file=sys.stderr)
    if verdict.head_problem:
        print(f"  {verdict.head_problem}", file=sys.stderr)
    return CHECK_FAILED
