"""Finding an instrument the way a trader types it, and the watchlist's order, as pure rules.

The workstation's search box and `tmt watch add` rank a venue's instruments the same way, so
`eur` lists the euro pairs wherever it is typed and `eurusd` or `EUR/USD` is `EUR_USD`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from tmt_tui.domain.entry import instrument_name

#: Most matches a search returns: a list a trader reads at a glance.
MOST_MATCHES = 12


def _compact(text: str) -> str:
    """Letters and digits only, upper case: `eur/usd`, `EUR_USD` and `eurusd` read alike."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _subsequence(needle: str, hay: str) -> bool:
    """Every character of `needle` appears in `hay`, in order (`euj` is in `EURJPY`)."""
    found = iter(hay)
    return all(ch in found for ch in needle)


def search(text: str, names: Iterable[str], limit: int = MOST_MATCHES) -> list[str]:
    """The names `text` may mean, best first: the very name (`eurusd`), names that start with
    it (`eur`: EUR_USD, EUR_GBP...), names with a leg that starts with it (`usd`: USD_JPY before
    EUR_USD), names that hold it, names that hold its letters in order, then near misses (a
    typo). Alphabetical within each rank; empty `text` lists everything."""
    wanted = _compact(text)
    known = sorted(set(names))
    if not wanted:
        return known[:limit]
    exact = instrument_name(text)
    ranked: list[tuple[int, str]] = []
    for name in known:
        flat = _compact(name)
        if name == exact or flat == wanted:
            rank = 0
        elif flat.startswith(wanted):
            rank = 1
        elif any(leg.startswith(wanted) for leg in name.split("_")[1:]):
            rank = 2
        elif wanted in flat:
            rank = 3
        elif _subsequence(wanted, flat):
            rank = 4
        else:
            continue
        ranked.append((rank, name))
    found = [name for _, name in sorted(ranked)]
    if len(found) < limit:
        flat_names = {_compact(n): n for n in known}
        for close in difflib.get_close_matches(wanted, list(flat_names), n=limit, cutoff=0.6):
            if flat_names[close] not in found:
                found.append(flat_names[close])
    return found[:limit]


def resolve(text: str, names: Iterable[str]) -> str | None:
    """The one instrument `text` names (`eurusd`, `EUR/USD`, `eur-usd`), or None."""
    wanted = _compact(text)
    for name in names:
        if _compact(name) == wanted:
            return name
    return None


def placed(watchlist: Sequence[str], name: str, at: int | None) -> tuple[str, ...]:
    """`watchlist` with `name` at row `at` (clamped; None: last), moved there if it was on."""
    rest = [n for n in watchlist if n != name]
    index = len(rest) if at is None else max(0, min(at, len(rest)))
    rest.insert(index, name)
    return tuple(rest)
