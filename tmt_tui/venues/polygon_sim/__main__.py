"""``tmt polygon-sim --port 8091``: the local Polygon / Massive WebSocket server until Ctrl-C.

The key clients must present comes from ``$MASSIVE_API_KEY`` (or ``$POLYGON_API_KEY``), the
variables the Polygon venue reads; with neither set it is ``sim``. It is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from tmt_tui.domain.secret import Secret
from tmt_tui.venues.polygon.settings import KEY_VARIABLES
from tmt_tui.venues.polygon_sim.server import Faults, PolygonSim, start


async def _main(args: argparse.Namespace, key: Secret) -> None:
    faults = Faults(
        drop_every=args.drop_every,
        garbage_every=args.garbage_every,
        bad_every=args.bad_every,
        fragment=args.fragment,
    )
    sim = PolygonSim(key, ticks_per_second=args.tps, faults=faults)
    server = await start(sim, args.host, args.port)
    base = f"ws://{args.host}:{server.port}"
    print(f"Polygon/Massive-compatible server on {base}/forex, /stocks and /crypto", flush=True)
    rehearsing = [f"{k}={v}" for k, v in vars(faults).items() if v and k != "slow_consumer_frames"]
    if rehearsing:
        print(f"faults: {', '.join(rehearsing)}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tmt polygon-sim",
        description="A local server speaking the Polygon/Massive WebSocket protocol (forex, "
        "stocks and crypto clusters) on the simulated market, for trying everything offline.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--tps", type=float, default=4.0, help="ticks a second per instrument")
    rehearse = parser.add_argument_group("faults, to rehearse what tmt does when a feed misbehaves")
    rehearse.add_argument(
        "--drop-every", type=float, metavar="S", help="close each connection S seconds after auth"
    )
    rehearse.add_argument(
        "--garbage-every", type=int, default=0, metavar="N", help="every Nth frame is not JSON"
    )
    rehearse.add_argument(
        "--bad-every",
        type=int,
        default=0,
        metavar="N",
        help="every Nth frame carries a NaN, a negative or a crossed quote",
    )
    rehearse.add_argument(
        "--fragment", action="store_true", help="send every frame in two fragments"
    )
    args = parser.parse_args(argv)
    key = next((os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), "sim")
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(_main(args, Secret(key)))
        except OSError as exc:
            print(
                f"tmt polygon-sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
            )
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
