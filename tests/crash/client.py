"""A crash-suite client process: market orders to a `tmt engine` over its control API, each
reply appended to a file as one JSON line and flushed before the next order goes.

It lives for a whole crash run (starting a Python process a round would cost more than the
round) and takes jobs from ``JOBS``: ``c<INDEX>-<n>.json`` for its n-th burst, answered by
``c<INDEX>-<n>.done`` when the burst is over; a job ``{"stop": true}`` ends it. A burst ends at
its last order or at the first one whose answer was lost (the engine died): it never resends,
because tmt's ``SubmitOrder`` has no client id that would let the engine recognise a resend.
The size of every order is unique within its journal, so the size names the order.

    python -m tests.crash.client JOBS INDEX
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import IO, Any

from tmt_tui.api.protocol import ApiError
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.domain.commands import Origin, SubmitOrder


def _line(out: IO[str], entry: dict[str, Any]) -> None:
    out.write(json.dumps(entry) + "\n")
    out.flush()


async def burst(job: dict[str, Any], token: str, out: IO[str]) -> None:
    """Send the job's orders one after another; a reply is on disk before the next goes."""
    rng = random.Random(job["seed"])
    client = RemoteEngineClient(Path(job["socket"]), token=token, client_name="crash client")
    try:
        for size in range(job["first"], job["first"] + job["count"]):
            units = size if rng.random() < 0.5 else -size
            instrument = rng.choice(job["instruments"])
            command = SubmitOrder(job["account"], instrument, units, origin=Origin.API)
            try:
                reply = await client.execute(command)
            except (ApiError, OSError) as exc:  # the engine is gone: the answer is lost
                _line(out, {"size": size, "lost": str(exc)})
                return
            _line(
                out,
                {
                    "size": size,
                    "units": units,
                    "instrument": instrument,
                    "ok": reply.ok,
                    "code": reply.code,
                    "order_id": reply.order_id,
                    "seq": reply.seq,
                },
            )
    finally:
        await client.close()


def next_job(path: Path) -> dict[str, Any]:
    """The job at ``path`` once it shows; a stop when the test that set us going is gone."""
    parent = os.getppid()
    while not path.exists():
        if os.getppid() != parent:
            return {"stop": True}
        time.sleep(0.002)
    job: dict[str, Any] = json.loads(path.read_text())
    return job


def main(jobs: Path, index: int) -> None:
    for n in range(sys.maxsize):
        job = next_job(jobs / f"c{index}-{n}.json")
        if job.get("stop"):
            return
        token = Path(job["token_file"]).read_text().strip()
        with open(job["acks"], "a", encoding="utf-8") as out:
            asyncio.run(burst(job, token, out))
        (jobs / f"c{index}-{n}.done").touch()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
