"""``python -m tmt_tui.venues.oanda --port 8090``: the local v20 server until Ctrl-C.

``tmt oanda-sim`` runs this too. The token clients must present comes from ``$OANDA_TOKEN`` (the
same variable the OANDA venue reads; ``$TMT_OANDA_TOKEN`` also works) and is never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from tmt_tui.venues.oanda.server import Faults, serve


async def _main(args: argparse.Namespace, token: str) -> None:
    server = await serve(
        args.host, args.port, account_id=args.account, token=token, faults=Faults(),
        heartbeat_interval=args.heartbeat,
    )  # fmt: skip
    print(f"v20 server on http://{args.host}:{server.port}/v3 account {args.account}", flush=True)
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
