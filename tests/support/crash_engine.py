"""Run an embedded engine on JOURNAL, submit one market order, print the reply, then hang.

Used by the crash test: the parent SIGKILLs this process the moment the reply line arrives, so
the order must already be durable when the engine acknowledges it.

    python -m tests.support.crash_engine JOURNAL   (with the repository on sys.path)
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from decimal import Decimal
from pathlib import Path

from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import SubmitOrder

from .engines import INSTRUMENTS, engine_settings, fixed_clock
from .waiting import eventually


async def main(journal: Path) -> None:
    from tmt_tui.cli.embedded import start_embedded

    client = start_embedded(engine_settings(journal), clock=fixed_clock)
    book = client.runner.core.quotes  # type: ignore[union-attr]
    await eventually(lambda: all(name in book.quotes for name in INSTRUMENTS))
    command = SubmitOrder(
        "SIM-USD", "EUR_USD", 10_000, take_profit=Decimal("2.00000"), stop_loss=Decimal("0.50000")
    )
    reply = await client.execute(command)
    sys.stdout.write(json.dumps(to_wire(reply)) + "\n")
    sys.stdout.flush()
    threading.Event().wait()  # hang with the engine running until killed


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
