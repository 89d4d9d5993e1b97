"""How the one-shot commands show times and prices: ISO-8601 UTC instants and prices at the
instrument's decimals, so text and JSON read the same on every machine and in every log.

Times stay epoch seconds under their own names in JSON (``ts``, ``created_ts``, ...: numbers a
script may already subtract) and gain an ISO sibling (``ts_iso``, ``created_ts_iso``): adding a
key breaks no script, and every epoch field has its readable twin by one rule.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tmt_tui.domain.instruments import Instrument


def iso(ts: float) -> str:
    """``2026-12-02T06:20:01.123Z``: an instant in UTC to the millisecond."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _is_epoch_key(key: str) -> bool:
    return key == "ts" or key.endswith("_ts")


def with_iso(wire: Any) -> Any:
    """``wire`` (a JSON-ready value) with ``KEY_iso`` after every epoch-seconds ``KEY`` (``ts``
    or ``*_ts``) at any depth; an unset time (0) gets ``None``."""
    if isinstance(wire, list):
        return [with_iso(item) for item in wire]
    if not isinstance(wire, dict):
        return wire
    out: dict[str, Any] = {}
    for key, value in wire.items():
        out[key] = with_iso(value)
        if (
            isinstance(key, str)
            and _is_epoch_key(key)
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and f"{key}_iso" not in wire
        ):
            out[f"{key}_iso"] = iso(value) if value > 0 else None
    return out


def precisions(instruments: Iterable[Instrument]) -> dict[str, int]:
    """Instrument name -> its price decimals."""
    return {i.name: i.display_precision for i in instruments}


def price_at(value: Decimal | str | None, instrument: str, digits: Mapping[str, int]) -> str:
    """A price with ``instrument``'s decimals (as given when the instrument is unknown)."""
    if value is None or value == "":
        return ""
    places = digits.get(instrument)
    if places is None:
        return str(value)
    return f"{Decimal(value):.{places}f}"


def progress_bar(total: int, doing: str, things: str, *, quiet: bool) -> Callable[[int], None]:
    """A bar on stderr while it is a terminal (nothing in a pipe or with --json): call it with
    how many of ``total`` are done, and with -1 to end the line. ``doing``/``things`` name the
    work: ``exporting [███   ] 40% 400/1,000 events``."""
    if quiet or not total or not sys.stderr.isatty():
        return lambda done: None

    def show(done: int) -> None:
        if done < 0:
            print(file=sys.stderr, flush=True)
            return
        share = min(1.0, done / total)
        bar = "█" * int(share * 30)
        print(f"\r{doing} [{bar:<30}] {share:4.0%} {done:,}/{total:,} {things}",
              end="", file=sys.stderr, flush=True)  # fmt: skip

    return show
