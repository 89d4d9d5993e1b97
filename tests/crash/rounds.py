"""A crash run: rounds of (maybe a killed start,) a start, the checks, a burst of client orders
and a SIGKILL of the engine, all drawn from one seeded RNG.

Each round's start is the restart after the last round's kill: it replays the journal (and,
on OANDA, reconciles with the server), and is itself sometimes killed first, as a first start
making a new journal or as a restart replaying one. After it serves, the round checks:

- the journal passes ``integrity_check`` and its hash chain holds;
- every order a client saw acknowledged is journaled, submitted exactly once, with the size
  that client sent; no client order (sizes are unique) is journaled twice or unasked;
- paper broker: each acked order has exactly one fill of all its units, and the positions,
  realized P&L and balance are what the journal's fills add up to (folded here, FIFO); an
  engine killed idle comes back exactly as it was;
- OANDA: no client order id was used twice at the server; each acked order is there exactly
  once (the engine replies to a new order with the venue's answer, so an ack is an order
  OANDA has), and the journal's outcome for it is the server's; positions and balance equal
  the server's ledger once reconciled;
- the kill switch is engaged after the restart exactly when an engage was acknowledged before
  the kill (then a reset re-arms it for the next burst).

A new journal (a "fresh" round) first closes the old one: a last restart and checks, a
graceful stop, the ``Journal`` class opening it, and `tmt report verify`.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from tests.crash import checks
from tests.crash.rig import (
    WITHIN_S,
    Broker,
    Burst,
    Clients,
    EngineProcess,
    Home,
    execute,
    serving,
    snapshot,
)
from tests.support.tally import add
from tests.support.waiting import wait_for
from tmt_tui.domain.client import Snapshot
from tmt_tui.domain.commands import EngageKillSwitch, Origin, ResetKillSwitch
from tmt_tui.domain.positions import TradingState
from tmt_tui.store.journal import Journal

#: Where each round's SIGKILL lands, dealt from a shuffled deck so that any ten rounds in a row
#: have every kind: a first start (on a new journal), a restart's replay, mid-burst, idle, and
#: right after a kill-switch acknowledgement (after the burst, or during it).
DECK = (
    "first-start",
    "replay",
    "replay",
    "burst",
    "burst",
    "burst",
    "burst",
    "idle",
    "halt-last",
    "halt-mid",
)


#: Client processes: each burst uses two or all three.
CLIENTS = 3

#: The first order size on a journal: orders of ten thousand units or so realize P&L that
#: takes all four decimal places, so the balance check has something to get wrong.
FIRST_SIZE = 10_001


@dataclass(frozen=True)
class Plan:
    """One round, drawn before it runs (so a seed names every round's plan)."""

    card: str  # from DECK
    fresh: bool  # a new journal: this round's start is its first
    kill_start: bool  # SIGKILL that start once (a first start, or a restart's replay)
    counts: tuple[int, ...]  # orders per client process
    halt: str  # engage the kill switch: "" no, "mid" during the burst, "last" then SIGKILL
    kill_after: int | None  # SIGKILL once the clients wrote this many replies; None: idle

    @classmethod
    def draw(cls, rng: random.Random, card: str, first: bool) -> Plan:
        counts = tuple(rng.randint(2, 6) for _ in range(rng.randint(2, CLIENTS)))
        halt = {"halt-last": "last", "halt-mid": "mid"}.get(card, "")
        mid = card in ("burst", "halt-mid") or (
            card in ("first-start", "replay") and rng.random() < 0.5
        )
        return cls(
            card,
            first or card == "first-start",
            card in ("first-start", "replay"),
            counts,
            halt,
            rng.randrange(sum(counts)) if mid else None,
        )

    def __str__(self) -> str:
        kill = "idle" if self.kill_after is None else f"after {self.kill_after} replies"
        return (
            f"[{self.card}: {'new journal, ' if self.fresh else ''}"
            f"{'start killed once, ' if self.kill_start else ''}clients {self.counts}, "
            f"halt {self.halt or 'no'}, SIGKILL {kill}]"
        )


class CrashRun:
    """``rounds`` rounds on ``broker`` from ``seed``; ``run()`` raises at the first problem."""

    def __init__(self, broker: Broker, seed: int, rounds: int) -> None:
        self.broker, self.seed, self.rounds = broker, seed, rounds
        self.rng = random.Random(seed)
        self.home: Home | None = None
        self.engine: EngineProcess | None = None
        self.clients: Clients | None = None
        self.next_size = FIRST_SIZE  # sizes are unique within a journal: they name the orders
        self.halted: bool | None = False  # engaged before the kill? None: the answer was lost
        self.before: dict[str, Any] | None = None  # an idle paper engine just before its kill
        self.where = f"seed {seed}"
        self.last_kill = "none yet"  # the round whose SIGKILL the next checks look behind
        self.deck: list[str] = []
        #: Acked orders that never reached OANDA (journaled NOT_AT_VENUE at the restart).
        self.done = self.kills = self.acked = 0

    def run(self) -> None:
        self.clients = clients = Clients(CLIENTS)
        try:
            for r in range(self.rounds):
                self.round(r)
                self.done = r + 1
            self.where = f"seed {self.seed}, after round {self.rounds - 1}"
            self.close_journal()
            clients.close()
        finally:
            clients.kill()
            if self.engine is not None:
                self.engine.kill()
            add("crash", rounds=self.done, orders=self.acked, kills=self.kills)

    def round(self, r: int) -> None:
        if not self.deck:
            self.deck = list(DECK)
            self.rng.shuffle(self.deck)
        plan = Plan.draw(self.rng, self.deck.pop(), first=r == 0)
        if plan.fresh:
            self.where = f"seed {self.seed}, closing the journal before round {r}"
            self.close_journal()
            self.open_journal()
            self.last_kill = "none yet"
        self.where = f"seed {self.seed}, round {r} {plan}"
        if plan.kill_start:
            self.kill_a_start()
        self.check(self.start())
        self.trade(plan, r)
        self.last_kill = f"round {r} {plan}"

    # journals -----------------------------------------------------------------------------

    def open_journal(self) -> None:
        self.home = Home.make(self.broker)
        self.next_size, self.halted, self.before = FIRST_SIZE, False, None

    def close_journal(self) -> None:
        """The last restart on this journal, its checks, a graceful stop, and the journal
        opened by the ``Journal`` class and verified by `tmt report verify`."""
        home = self.home
        if home is None:
            return
        self.check(self.start())
        assert self.engine is not None
        code = self.engine.terminate()
        self.engine = None
        self.expect([] if code == 0 else [f"a graceful stop exited {code}"])
        try:
            Journal(home.journal).close()
        except Exception as exc:
            self.expect([f"the Journal class cannot open it: {exc!r}"])
        verify = subprocess.run(
            [sys.executable, "-m", "tmt_tui", "--config", str(home.config)]
            + ["report", "verify", "--json"],
            env=home.env(),
            capture_output=True,
            text=True,
            timeout=WITHIN_S,
        )
        self.expect([] if verify.returncode == 0 else [f"report verify: {verify.stderr}"])
        shutil.rmtree(home.path, ignore_errors=True)
        self.home = None

    # the engine ---------------------------------------------------------------------------

    def start(self) -> Snapshot:
        assert self.home is not None and self.engine is None
        self.engine = EngineProcess(self.home)
        try:
            return serving(self.engine)
        except AssertionError as exc:
            self.expect([str(exc)])
            raise

    def kill(self) -> None:
        assert self.engine is not None
        self.engine.kill()
        self.engine = None
        self.kills += 1

    def kill_a_start(self) -> None:
        """Start the engine and SIGKILL it on its way up: a first start as soon as its journal
        file shows or at a random moment; a restart at a random moment of its replay."""
        home = self.home
        assert home is not None
        first = not home.journal.exists()
        self.engine = engine = EngineProcess(home)
        pause = self.rng.uniform(0, 0.6 if first else 0.03)
        at_once = self.rng.random() < 0.5
        try:
            if first and at_once:
                wait_for(
                    lambda: engine.alive() and home.journal_showed(),
                    "a journal file",
                    within=WITHIN_S,
                    interval=0.001,  # kill it as soon as it shows
                )
            elif first:
                time.sleep(pause)
            else:
                wait_for(engine.holds_journal, "the journal opened", within=WITHIN_S)
                time.sleep(pause)
        except AssertionError as exc:
            self.expect([str(exc)])
        self.kill()

    # a round's trading --------------------------------------------------------------------

    def trade(self, plan: Plan, r: int) -> None:
        """The burst of client orders, the planned halt, and the SIGKILL."""
        home, clients = self.home, self.clients
        assert home is not None and clients is not None
        burst = Burst.start(clients, home, f"r{r}", self.next_size, list(plan.counts))
        self.next_size += sum(plan.counts)
        if plan.halt == "mid":
            burst.wait(until=lambda: burst.replies() >= 1)
            self.engage()
        if plan.kill_after is not None:
            burst.wait(until=lambda: burst.replies() >= (plan.kill_after or 0))
            self.kill()
            burst.wait()
        else:
            burst.wait()
            if plan.halt == "last":
                self.engage()  # and the SIGKILL right after its acknowledgement
            elif self.broker.server is None:
                self.before = checks.lasting(snapshot(home))
            self.kill()
        self.acked += burst.acked()

    def engage(self) -> None:
        assert self.home is not None
        reply = execute(self.home, EngageKillSwitch("crash drill", origin=Origin.API))
        if reply is None:
            self.halted = None
        elif reply.ok:
            self.halted = True

    # the checks ---------------------------------------------------------------------------

    def check(self, snap: Snapshot) -> None:
        home = self.home
        assert home is not None
        view = checks.read_journal(home.journal)
        replies = checks.read_acks(home.acks)
        problems = view.problems + checks.check_journaled_once(view, replies)
        server = self.broker.server
        if server is None:
            problems += checks.check_sim_fills(view, replies)
            problems += checks.check_sim_books(view, snap)
            if self.before is not None and checks.lasting(snap) != self.before:
                problems.append(f"an idle engine came back as {checks.lasting(snap)}")
        else:
            try:
                wait_for(
                    lambda: checks.settled(checks.read_journal(home.journal), replies),
                    "every acked order settled with OANDA",
                    within=WITHIN_S,
                    interval=0.05,
                )
                wait_for(
                    lambda: not checks.agreement(snapshot(home), checks.Ledger.read(server)),
                    "tmt and OANDA to agree",
                    within=WITHIN_S,
                    interval=0.05,
                )
            except AssertionError as exc:
                problems.append(str(exc))
            ledger = checks.Ledger.read(server)
            view = checks.read_journal(home.journal)
            problems += checks.agreement(snapshot(home), ledger)
            found, unsent = checks.check_oanda_orders(view, replies, ledger)
            problems += found
            problems += [f"acked {u} never reached OANDA" for u in unsent]
        problems += self.check_kill_switch(snap)
        self.expect(problems)
        self.before = None

    def check_kill_switch(self, snap: Snapshot) -> list[str]:
        """Engaged exactly when an engage was acknowledged; then reset for the next burst."""
        assert self.home is not None
        problems = []
        if self.halted is not None and snap.kill_switch_engaged != self.halted:
            problems.append(f"kill switch engaged={snap.kill_switch_engaged}, acked {self.halted}")
        if snap.kill_switch_engaged:
            states = {a.id: a.trading_state for a in snap.accounts}
            if set(states.values()) != {TradingState.HALTED}:
                problems.append(f"kill switch engaged but accounts are {states}")
            reply = execute(self.home, ResetKillSwitch(origin=Origin.API))
            if reply is None or not reply.ok:
                problems.append(f"the kill switch would not reset: {reply}")
        self.halted = False
        return problems

    def expect(self, problems: list[str]) -> None:
        if not problems:
            return
        home = self.home
        log = home.log_tail() if home is not None else ""
        kept = f" (its files are kept in {home.path})" if home is not None else ""
        raise AssertionError(
            f"{self.broker.name}, {self.where}, the last SIGKILL in {self.last_kill}: "
            f"rerun with TMT_CRASH_SEED={self.seed}{kept}\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nengine log:\n{log}"
        )
