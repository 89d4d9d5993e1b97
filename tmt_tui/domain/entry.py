"""What a person types for an order (units like `10k`, prices) turned into checked values.

The workstation's ticket and the `tmt buy` command read sizes and prices the same way, with
the same messages, so a typo gets the same answer wherever it was typed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

#: Sizes above this are a typo, not an order.
ABSURD_UNITS = 1_000_000_000
ABSURD_PRICE = Decimal(1_000_000_000)
_SUFFIXES = {"k": 1_000, "m": 1_000_000}


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
    try:
        value = Decimal(raw) * factor
    except InvalidOperation:
        raise EntryError(f"Units: {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise EntryError("Units: must be a finite number")
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
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise EntryError(f"{label}: {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise EntryError(f"{label}: must be a finite number")
    if value <= 0:
        raise EntryError(f"{label}: must be positive")
    if value > ABSURD_PRICE:
        raise EntryError(f"{label}: {value} is not a plausible price")
    return value
