"""How one currency converts into another through the pairs an engine or a venue quotes.

A path is a list of (instrument, invert) legs: multiply the mids, dividing where a leg is
inverted. The candidates are the direct pair, then the cross through USD; a rate uses the
first candidate whose legs all have a price, so a direct pair that has not quoted yet falls
back to the path through USD instead of leaving the money unconvertible.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from decimal import Decimal

Path = tuple[tuple[str, bool], ...]

ONE = Decimal(1)


def _direct(names: Collection[str], a: str, b: str) -> Path | None:
    if a == b:
        return ()
    if f"{a}_{b}" in names:
        return ((f"{a}_{b}", False),)
    if f"{b}_{a}" in names:
        return ((f"{b}_{a}", True),)
    return None


def conversion_paths(names: Collection[str], from_ccy: str, to_ccy: str) -> tuple[Path, ...]:
    """Every way to convert ``from_ccy`` into ``to_ccy`` with ``names``, best first."""
    found: list[Path] = []
    direct = _direct(names, from_ccy, to_ccy)
    if direct is not None:
        found.append(direct)
        if not direct:
            return tuple(found)
    if "USD" not in (from_ccy, to_ccy):
        first, second = _direct(names, from_ccy, "USD"), _direct(names, "USD", to_ccy)
        if first is not None and second is not None:
            found.append(first + second)
    return tuple(found)


def rate_along(paths: tuple[Path, ...], mid: Callable[[str], Decimal | None]) -> Decimal | None:
    """Units of the target per unit of the source at ``mid`` prices; None when no candidate has
    a price on every leg."""
    for path in paths:
        rate = ONE
        for instrument, invert in path:
            price = mid(instrument)
            if price is None:
                break
            rate = rate / price if invert else rate * price
        else:
            return rate
    return None
