"""Suite 2, "Crash": `tmt engine` SIGKILLed at random moments (its first start, a restart's
replay, mid-burst, idle, right after a kill-switch acknowledgement) while client processes
send orders, then restarted and checked: what a client saw acknowledged is journaled exactly
once and at the broker at most once (never twice by client id; an acked order that never got
there is a warning, see ``tests/crash/rounds.py``), books equal the broker's, the kill switch
holds, the journal opens.

Every round is drawn from one seeded RNG; a failure names the seed (``TMT_CRASH_SEED`` reruns
it) and the round. `make test` runs 10 rounds on each broker; `make soak` runs
``TMT_CRASH_ROUNDS`` (default 500) split over the two, from a fresh seed each run.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from tests.crash.rig import OANDA_TOKEN, Broker
from tests.crash.rounds import CrashRun
from tmt_tui.venues.oanda_sim.server import V20ServerThread

ROUNDS = 10  # per broker
SEED = int(os.environ.get("TMT_CRASH_SEED", "20261202"))


@pytest.fixture(params=["sim", "oanda"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    """The paper broker, or a local v20 server that outlives every engine of the test."""
    if request.param == "sim":
        yield Broker("sim")
        return
    with V20ServerThread(token=OANDA_TOKEN, tick_interval=0.02, heartbeat_interval=0.1) as server:
        yield Broker("oanda", server)


def test_acked_orders_survive_sigkills_at_random_moments_exactly_once(broker: Broker) -> None:
    CrashRun(broker, SEED, ROUNDS).run()


@pytest.mark.soak
def test_acked_orders_survive_hundreds_of_sigkills_exactly_once(broker: Broker) -> None:
    rounds = int(os.environ.get("TMT_CRASH_ROUNDS", "500")) // 2
    seed = int(os.environ.get("TMT_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    CrashRun(broker, seed, max(rounds, 1)).run()
