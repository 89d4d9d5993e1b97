"""``python -m tmt_tui.venues.oanda_sim --port 8090``: the local v20 server until Ctrl-C.

``tmt oanda-sim`` runs this too. The token clients must present comes from ``$OANDA_TOKEN`` (the
same variable the OANDA venue reads; ``$TMT_OANDA_TOKEN`` also works) and is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from tmt_tui.venues.oanda_sim.server import Faults, serve


async def _main(args: argparse.Namespace, token: str) -> None:
    faults = Faults(
        drop_streams_after=args.drop_streams_every,
        delay=args.delay,
        fail_next=args.fail_next,
        fail_status=args.fail_status,
        swallow_orders=args.swallow_orders,
    )
    server = await serve(
        args.host, args.port, account_id=args.account, token=token, faults=faults,
        heartbeat_interval=args.heartbeat, hedging=args.hedging,
    )  # fmt: skip
    print(f"v20 server on http://{args.host}:{server.port}/v3 account {args.account}", flush=True)
    rehearsing = [
        f"{k}={v}"
        for k, v in vars(faults).items()
        if v not in (None, 0, 0.0, []) and not (k == "fail_status" and not faults.fail_next)
    ]
    if rehearsing or args.hedging:
        print(f"faults: {', '.join(rehearsing)}{' hedging' if args.hedging else ''}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="tmt oanda-sim",
        description="A local OANDA v20-compatible server (REST and both streams) backed by the "
        "simulated market and a paper account, for trying everything offline.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--account", default="101-001-0000001-001")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="seconds between heartbeats")
    rehearse = parser.add_argument_group("faults, to rehearse what tmt does when OANDA misbehaves")
    rehearse.add_argument(
        "--drop-streams-every",
        type=float,
        metavar="S",
        help="cut each price and transaction stream S seconds after it opens",
    )
    rehearse.add_argument(
        "--delay",
        type=float,
        default=0.0,
        metavar="S",
        help="answer every REST request S seconds late",
    )
    rehearse.add_argument(
        "--fail-next",
        type=int,
        default=0,
        metavar="N",
        help="answer the next N requests with --fail-status",
    )
    rehearse.add_argument(
        "--fail-status",
        type=int,
        default=429,
        choices=(429, 500, 503),
        help="the status --fail-next answers (default 429)",
    )
    rehearse.add_argument(
        "--swallow-orders",
        type=int,
        default=0,
        metavar="N",
        help="book the next N orders but never answer them",
    )
    rehearse.add_argument(
        "--hedging",
        action="store_true",
        help="report the account as hedging-enabled (tmt refuses it)",
    )
    args = parser.parse_args(argv)
    token = os.environ.get("OANDA_TOKEN") or os.environ.get("TMT_OANDA_TOKEN", "")
    if not token:
        print("set OANDA_TOKEN to the token clients must present", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args, token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
