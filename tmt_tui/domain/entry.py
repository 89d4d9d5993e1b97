"""What a person types for an order (units like `10k`, prices) turned into checked values.

The workstation's ticket and the `tmt buy` command read sizes and prices the same way, with
the same messages, so a typo gets the same answer wherever it was typed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

#: Sizes above this are a typo, not an order.
ABSURD_UNITS = 1_000_000_000
ABSURD_PRICE = Decimal(1_000_000_000)
_SUFFIXES = {"k": 1_000, "m": 1_000_000}
_MOST_DIGITS = 15  # an entry further from 1 than 10^±15 is a typo; checked before arithmetic
#: A GTD expiry further out than this is a typo (OANDA keeps orders for months, not years).
LONGEST_EXPIRY_S = 366 * 86_400
_RELATIVE = re.compile(r"^\+\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)$", re.IGNORECASE)
_RELATIVE_S = {"m": 60, "min": 60, "h": 3600, "d": 86_400}


def _shown(text: str) -> str:
    """What the user typed, quoted, and cut short: an error never echoes a whole paste."""
    text = text.strip()
    return repr(text) if len(text) <= 24 else repr(text[:21] + "...")


def _number(raw: str, label: str, text: str) -> Decimal:
    """A finite decimal of sane magnitude, or EntryError (no arithmetic has run on it yet)."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise EntryError(f"{label}: {_shown(text)} is not a number") from None
    if not value.is_finite():
        raise EntryError(f"{label}: must be a finite number")
    if value and abs(value.adjusted()) > _MOST_DIGITS:
        raise EntryError(f"{label}: {_shown(text)} is not a plausible value (a typo?)")
    return value


class EntryError(ValueError):
    """A value that will not be sent, with a message for the user."""


def parse_units(text: str) -> int:
    """Whole positive units from what the user typed (`10000`, `10,000`, `10k`, `1.5m`)."""
    raw = text.strip().lower().replace(",", "").replace("_", "")
    if not raw:
        raise EntryError("Units: enter how many units to trade")
    factor = 1
    if raw[-1] in _SUFFIXES:
        factor, raw = _SUFFIXES[raw[-1]], raw[:-1]
    value = _number(raw, "Units", text) * factor
    if value <= 0:
        raise EntryError("Units: must be positive (the side comes from the ticket)")
    if value != value.to_integral_value():
        raise EntryError("Units: must be a whole number")
    if value > ABSURD_UNITS:
        raise EntryError(f"Units: {value:,.0f} is more than {ABSURD_UNITS:,} (a typo?)")
    return int(value)


def parse_price(text: str, label: str, *, required: bool) -> Decimal | None:
    """A positive, finite price, or None when the field is empty and not `required`."""
    raw = text.strip().replace(",", "")
    if not raw:
        if required:
            raise EntryError(f"{label}: required for this order type")
        return None
    value = _number(raw, label, text)
    if value <= 0:
        raise EntryError(f"{label}: must be positive")
    if value > ABSURD_PRICE:
        raise EntryError(f"{label}: {value} is not a plausible price")
    return value


def parse_expiry(text: str, now: float) -> float:
    """A GTD expiry as epoch seconds: ``+30m``, ``+2h``, ``+1d`` from ``now``, or a date and
    time, ``2026-12-03 17:00``, read as UTC unless it carries an offset (``...T17:00+01:00``,
    ``...Z``): the time the header shows first, whatever the machine's zone. A past or
    unreadable expiry is an EntryError, never a guess."""
    raw = text.strip()
    if not raw:
        raise EntryError("Expiry: GTD needs an expiry (+2h, +30m or 2026-12-03 17:00 UTC)")
    relative = _RELATIVE.match(raw)
    if relative is not None:
        when = now + float(relative[1]) * _RELATIVE_S[relative[2].lower()]
    else:
        try:
            moment = datetime.fromisoformat(raw.removesuffix("UTC").strip())
        except ValueError:
            raise EntryError(
                f"Expiry: {_shown(text)} is not a time (+2h, +30m or 2026-12-03 17:00 UTC)"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        when = moment.timestamp()
    if when <= now:
        raise EntryError(f"Expiry: {_shown(text)} is in the past")
    if when - now > LONGEST_EXPIRY_S:
        raise EntryError(f"Expiry: {_shown(text)} is more than a year away (a typo?)")
    return when


def instrument_name(text: str) -> str:
    """An instrument as people type it, in tmt's spelling: ``eurusd``, ``EUR/USD``, ``eur-usd``
    and ``EUR_USD`` are all ``EUR_USD``; a stock ticker (``aapl``) is upper-cased. Whether the
    instrument exists is the engine's to say."""
    name = text.strip().upper().replace("/", "_").replace("-", "_").replace(" ", "_")
    if len(name) == 6 and name.isalpha():
        return f"{name[:3]}_{name[3:]}"
    return name


def near_miss(name: str, known: Iterable[str]) -> str:
    """`` (did you mean EUR_USD?)`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
