"""`tmt watch`: the watchlist the board shows, from any shell.

    tmt watch list                 # the engine's watchlist, in the board's order
    tmt watch add EUR_GBP [--at N] # onto the board (row N, from 1), and quoted by the feed
    tmt watch remove EUR_GBP       # off the board (still quoted while a position needs it)

The engine keeps the list (in a state file beside its journal) and every screen shows the same
one; names are read like everywhere else (`eurgbp`, `EUR/GBP`), and the engine names the
nearest instrument for one it does not know.
"""

from __future__ import annotations

import argparse
from typing import Any

from tmt_tui.cli.answers import REJECTED, USAGE, Exit, emit, refused, snapshot
from tmt_tui.domain.commands import Origin, Unwatch, Watch
from tmt_tui.domain.entry import instrument_name

FORMS = ("tmt watch list", "tmt watch add INSTRUMENT [--at N]", "tmt watch remove INSTRUMENT")


def add_parser(sub: Any) -> None:
    """The `watch` subcommand: its words are read by ``watch`` below."""
    watch = sub.add_parser(
        "watch",
        help="the watchlist: list, add INSTRUMENT, remove INSTRUMENT",
        description="The instruments the board shows, kept by the engine beside its journal: "
        "adding one subscribes it at the feed; removing one keeps it quoted while a position, "
        "a working order or a currency conversion still needs its prices.",
        usage="\n       ".join(f"{form} [--json]" for form in FORMS),
    )
    watch.add_argument("words", nargs="+", metavar="WORD", help="see usage")
    watch.add_argument("--at", type=int, metavar="N", help="add: put it at row N (1 is the top)")
    watch.add_argument("--json", action="store_true", help="print JSON instead of text")


def _usage(message: str) -> Exit:
    return refused("USAGE", f"watch: {message} (usage: {'; '.join(FORMS)})", USAGE)


async def watch(args: argparse.Namespace, client: Any) -> None:
    words: list[str] = args.words
    verb = words[0].lower()
    if verb == "list":
        if len(words) != 1:
            raise _usage(f"unexpected {' '.join(words[1:])!r}")
        await _list(args, client)
        return
    if verb not in ("add", "remove"):
        raise _usage(f"the first word is list, add or remove, not {words[0]!r}")
    if len(words) != 2:
        raise _usage(f"{verb} takes one instrument")
    name = instrument_name(words[1])
    if verb == "add":
        if args.at is not None and args.at < 1:
            raise _usage("--at counts rows from 1")
        at = None if args.at is None else args.at - 1
        reply = await client.execute(Watch(name, at, Origin.CLI))
    else:
        reply = await client.execute(Unwatch(name, Origin.CLI))
    if not reply.ok:
        payload = {"ok": False, "code": reply.code, "message": reply.message}
        raise Exit(REJECTED, f"tmt: rejected: {reply.code}: {reply.message}", payload)
    emit(args, {"ok": True, "code": reply.code, "message": reply.message}, reply.message)


async def _list(args: argparse.Namespace, client: Any) -> None:
    picture = await snapshot(client)
    names = picture.watchlist
    if names is None:  # an engine that keeps no watchlist shows every instrument it has
        names = tuple(i.name for i in picture.instruments)
    emit(args, {"ok": True, "watchlist": list(names)}, "\n".join(names) or "(empty)")
