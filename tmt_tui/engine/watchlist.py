"""The watchlist the engine owns: the instruments the board shows, in the trader's order, kept in
a state file beside the journal, and what the feed must quote because of it.

The engine owns it (not a screen) so that every attached screen and `tmt watch` see one list.
It is not trading state, so it is not journaled: `<journal>.watchlist.json` (0600, written
whole through a temporary file and a rename) holds it, and the config's instruments are only
where a fresh file starts. A file that cannot be read is never fatal: the engine says why,
starts from the config, and keeps the bad file aside as `.broken` before it writes a new one.

The feed quotes more than the watchlist: every instrument with a position or a working order
(the engine needs its marks, whatever the board shows) and the pairs that convert their P&L
into the accounts' currencies (`_conversions`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from tmt_tui.domain.conversion import conversion_paths
from tmt_tui.domain.instruments import Instrument, InstrumentKind
from tmt_tui.domain.watchlist import placed, resolve, search
from tmt_tui.private_file import write_private_file

log = logging.getLogger(__name__)

STATE_VERSION = 1
#: The longest watchlist kept: far more rows than any screen, far fewer than a venue has.
MOST_WATCHED = 500


class WatchlistFileError(ValueError):
    """The state file exists but cannot be used; the message says what is wrong and where."""


def watchlist_path(journal: Path) -> Path:
    """Where the watchlist of ``journal`` lives: beside it, named after it."""
    return journal.with_name(f"{journal.stem}.watchlist.json")


def read_watchlist(path: Path) -> tuple[str, ...] | None:
    """The names in the state file, or None when there is none yet; WatchlistFileError when it
    cannot be read as one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WatchlistFileError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise WatchlistFileError(f"{path}: not JSON ({exc})") from None
    names = data.get("instruments") if isinstance(data, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise WatchlistFileError(
            f'{path}: expected {{"version": {STATE_VERSION}, "instruments": ["EUR_USD", ...]}}'
        )
    return tuple(dict.fromkeys(names))


def write_watchlist(path: Path, names: Iterable[str]) -> None:
    """Write the state file whole or not at all, 0600 (see ``private_file``)."""
    body = json.dumps({"version": STATE_VERSION, "instruments": list(names)}, indent=1) + "\n"
    write_private_file(path, body)


class Watchlist:
    """The ordered names, the universe they come from, and the state file that keeps them."""

    def __init__(self, path: Path, universe: Iterable[Instrument], default: Iterable[str]) -> None:
        self.path = path
        self.universe: dict[str, Instrument] = {i.name: i for i in universe}
        self.problem = ""  # why the state file was not used as it stands, for the trader
        self._broken = False  # the file on disk is unreadable: keep it aside before writing
        try:
            stored = read_watchlist(path)
        except WatchlistFileError as exc:
            stored, self._broken = None, True
            self.problem = f"watchlist file unusable, started from the config: {exc}"
            log.warning("%s", self.problem)
        if stored is None:
            stored = tuple(default)
        unknown = [n for n in stored if n not in self.universe]
        if unknown:
            why = f"{path}: not quoted here, left off the watchlist: {', '.join(unknown[:10])}"
            self.problem = f"{self.problem}; {why}" if self.problem else why
            log.warning("%s", why)
        self.names: tuple[str, ...] = tuple(n for n in stored if n in self.universe)

    def find(self, text: str) -> str | None:
        """The instrument of the universe ``text`` names (``eurusd``, ``EUR/USD``), or None."""
        return resolve(text, self.universe)

    def unknown(self, text: str) -> str:
        """Why ``text`` cannot be watched, with the nearest names."""
        near = search(text, self.universe, limit=3)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        return f"unknown instrument {text!r}: the venue does not quote it{hint}"

    def watch(self, name: str, at: int | None) -> bool:
        """Put ``name`` at row ``at`` (moved if it is on); False when the list is full."""
        if name not in self.names and len(self.names) >= MOST_WATCHED:
            return False
        self.names = placed(self.names, name, at)
        return True

    def unwatch(self, name: str) -> bool:
        """Take ``name`` off; False when it was not on."""
        if name not in self.names:
            return False
        self.names = tuple(n for n in self.names if n != name)
        return True

    def save(self) -> None:
        """Write the list down; a file that could not be read is kept aside first."""
        if self._broken:
            aside = self.path.with_name(self.path.name + ".broken")
            try:
                os.replace(self.path, aside)
                log.warning("kept the unusable watchlist file as %s", aside)
            except FileNotFoundError:
                pass
            self._broken = False
        write_watchlist(self.path, self.names)


def subscription(
    watched: Iterable[str],
    held: Iterable[str],
    universe: Mapping[str, Instrument],
    currencies: Iterable[str],
    report_currency: str,
    known_path: Callable[[str, str], tuple[str, ...]],
) -> dict[str, str]:
    """What the feed must quote, each with why: the watchlist, what positions and working
    orders are in (``held``), and the pairs that convert their P&L into the accounts'
    currencies and those into ``report_currency``: the path the engine's quote book prefers
    (``known_path``), else the venue's best (direct, else through USD), which it then learns."""
    why: dict[str, str] = {}
    for name in held:
        why.setdefault(name, "a position or a working order is in it")
    for name in watched:
        why.setdefault(name, "watched")
    pairs = [n for n, i in universe.items() if i.kind is InstrumentKind.FX]
    accounts = sorted(set(currencies))
    legs = {(universe[n].quote, ccy) for n in why if n in universe for ccy in accounts}
    legs |= {(ccy, report_currency) for ccy in accounts}
    for source, target in sorted(legs):
        if source == target or not source:
            continue
        path = known_path(source, target)
        if not path:
            found = conversion_paths(pairs, source, target)
            path = tuple(name for name, _ in found[0]) if found else ()
        for name in path:
            why.setdefault(name, f"it converts {source} into {target}")
    return why
