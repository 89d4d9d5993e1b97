"""Run an embedded engine on JOURNAL and submit COUNT market orders in waves, printing each
reply the moment it arrives (and marking it in the disk model's log first), then hang.

The power-loss test runs this under the disk_model shim and SIGKILLs it at a random moment.
MODE ``durable`` is tmt as it ships; the other modes break it from the outside, to show the
test catches an engine that acknowledges what is not on disk yet:

- ``ack-before-commit``: each batch is committed only when the next one comes, so its replies
  go out before its commit;
- ``synchronous-off``: the journal's connection never fsyncs (``pragma synchronous=off``).

    python -m tests.powerloss.burst_engine JOURNAL COUNT SEED MODE   (repository on sys.path)
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import json
import random
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.support.engines import INSTRUMENTS, engine_settings, fixed_clock
from tests.support.harness import with_risk
from tests.support.waiting import eventually
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import SubmitOrder
from tmt_tui.domain.events import Event
from tmt_tui.domain.orders import Order
from tmt_tui.store.journal import Journal

MODES = ("durable", "ack-before-commit", "synchronous-off")
ACCOUNTS = ("SIM-USD", "SIM-EUR")
#: Orders in flight at once: a wave of up to this many is committed in one or a few batches.
MAX_WAVE = 8


def break_durability(mode: str) -> None:
    """Make the journal acknowledge before it is durable, from outside its code."""
    if mode == "ack-before-commit":
        append = Journal.append
        held: dict[int, tuple[list[Event], list[Order]]] = {}

        def append_late(self: Journal, events: list[Event], orders: Iterable[Order] = ()) -> None:
            earlier = held.pop(id(self), None)
            if earlier is not None:
                append(self, *earlier)
            held[id(self)] = (events, list(orders))

        Journal.append = append_late  # type: ignore[method-assign]
    elif mode == "synchronous-off":
        synchronous = Journal._synchronous

        def never_sync(self: Journal, mode: str) -> None:
            synchronous(self, "off")

        Journal._synchronous = never_sync  # type: ignore[method-assign]


def note(text: str) -> None:
    """Mark ``text`` in the disk model's log, in order with the engine's file operations."""
    ctypes.CDLL(None).disk_model_note(text.encode())


def emit(line: dict[str, Any]) -> None:
    text = json.dumps(line)
    note(text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def main(journal: Path, count: int, seed: int, mode: str) -> None:
    from tmt_tui.cli.embedded import start_embedded

    break_durability(mode)
    rng = random.Random(seed)
    settings = engine_settings(journal)
    for account in ACCOUNTS:  # the clock is frozen: every order falls in the same second
        settings = with_risk(settings, account, max_orders_per_second=1_000_000)
    # the WAL is checkpointed into the database at each tick flush: often, between the commits
    flush_ms = rng.choice((2, 10, 40))
    settings = dataclasses.replace(
        settings, engine=dataclasses.replace(settings.engine, tick_flush_ms=flush_ms)
    )
    client = start_embedded(settings, clock=fixed_clock)
    book = client.runner.core.quotes  # type: ignore[union-attr]
    await eventually(lambda: all(name in book.quotes for name in INSTRUMENTS), "first quotes")
    emit({"ready": True})

    async def submit(command: SubmitOrder) -> None:
        reply = await client.execute(command)
        emit(to_wire(reply))

    left = count
    while left:
        wave = min(left, rng.randint(1, MAX_WAVE))
        left -= wave
        commands = [
            SubmitOrder(
                rng.choice(ACCOUNTS),
                rng.choice(INSTRUMENTS),
                rng.choice((-1, 1)) * rng.randrange(1_000, 10_000, 1_000),
            )
            for _ in range(wave)
        ]
        await asyncio.gather(*(submit(c) for c in commands))
    emit({"done": True})
    threading.Event().wait()  # hang with the engine running until killed


if __name__ == "__main__":
    path, count, seed, mode = sys.argv[1:]
    assert mode in MODES, mode
    asyncio.run(main(Path(path), int(count), int(seed), mode))
