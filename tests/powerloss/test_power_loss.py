"""Power loss: what was acknowledged survives when only synced bytes reach the disk.

An engine runs a burst of orders under an LD_PRELOAD shim (disk_model.c) that logs every write
and sync it makes to its journal's directory, and is SIGKILLed at a random moment. From the log
the test rebuilds the disk a power cut at a chosen point would have left (only what a completed
sync covered; everything in order up to a torn write; or a random part of what was not synced),
opens it with tmt's own Journal, and requires every reply the client had by then to be in it,
and the journal whole (SQLite's integrity check, the hash chain). The same check run on an
engine that acknowledges before its commit is durable must find lost acks: that is what shows
it can fail.

Seeded: a failure names the round's seed; ``TMT_POWERLOSS_SEED`` replays the same orders and
cuts (the kill lands where the scheduler puts it). The soak variant runs
``TMT_POWERLOSS_ROUNDS`` rounds and checks every ack.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from tests.powerloss import disk
from tests.powerloss.rounds import (
    JOURNAL,
    Cut,
    Round,
    after_acks,
    check_cut,
    check_journal,
    in_wal_writes,
    run_round,
    scattered,
)
from tests.support.tally import add

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the disk model interposes glibc's file calls (Linux only)"
)

SEED = int(os.environ.get("TMT_POWERLOSS_SEED", "20261202"))
ROUNDS = 3
ORDERS = 150
#: Cuts checked per round in `make test`; the soak checks every ack.
CUTS = 12
SOAK_ROUNDS = int(os.environ.get("TMT_POWERLOSS_ROUNDS", "30"))

Cuts = Callable[[Round, random.Random], Iterable[Cut]]


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = disk.build_shim(tmp_path_factory.mktemp("shim"))
    if built is None:
        why = "no C compiler (gcc or cc) to build the disk model shim tests/powerloss/disk_model.c"
        if os.environ.get("TMT_CI"):  # CI installs gcc: a skip there would hide the suite
            pytest.fail(why)
        pytest.skip(why)
    return built


@pytest.fixture(scope="module")
def durable_rounds(shim: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Round]:
    """Rounds of tmt as it ships, each killed after a random number of replies; every other
    one on a journal the engine makes in the run."""
    work = tmp_path_factory.mktemp("rounds")
    return [
        run_round(shim, work / str(i), SEED + i, "durable", ORDERS, fresh=i % 2 == 0)
        for i in range(ROUNDS)
    ]


def failures(rounds: Iterable[Round], cuts: Cuts, scratch: Path) -> Iterator[tuple[int, str]]:
    """For each cut of each round: the acks it checked, and what was wrong ("" if nothing)."""
    for r in rounds:
        assert r.replies == r.acked(len(r.records))[: len(r.replies)], (
            f"seed {r.seed}: a reply the client read is not marked in the disk model's log"
        )
        for n, cut in enumerate(cuts(r, random.Random(r.seed))):
            found = check_cut(r, cut, scratch / f"{r.seed}-{n}")
            wrong = ""
            if found.lost or found.problems:
                lost = (
                    f"{len(found.lost)} acked orders lost: {found.lost[:5]}" if found.lost else ""
                )
                wrong = (
                    f"seed {r.seed} ({r.mode}), {cut}: {lost} {found.problems} "
                    f"(rerun with TMT_POWERLOSS_SEED={SEED})"
                )
            yield found.acked, wrong


def test_every_acknowledged_order_survives_a_power_cut(
    durable_rounds: list[Round], tmp_path: Path
) -> None:
    checks = list(failures(durable_rounds, lambda r, rng: after_acks(r, rng, CUTS), tmp_path))

    wrong = [w for _, w in checks if w]
    assert not wrong, "\n".join(wrong)
    assert any(acked for acked, _ in checks), "no round got as far as an ack"
    orders = sum(len(r.acked(len(r.records))) for r in durable_rounds)
    add("powerloss", rounds=len(durable_rounds), orders=orders, kills=len(durable_rounds),
        cuts=len(checks))  # fmt: skip


def test_a_cut_in_the_middle_of_a_wal_write_leaves_a_whole_journal_with_every_earlier_ack(
    durable_rounds: list[Round], tmp_path: Path
) -> None:
    checks = list(failures(durable_rounds, lambda r, rng: in_wal_writes(r, rng, CUTS), tmp_path))

    wrong = [w for _, w in checks if w]
    assert not wrong, "\n".join(wrong)
    assert len(checks) >= len(durable_rounds), "a round without a WAL write to tear"
    add("powerloss", cuts=len(checks))


def test_a_disk_that_kept_part_of_what_was_not_synced_holds_a_whole_journal_with_every_ack(
    durable_rounds: list[Round], tmp_path: Path
) -> None:
    checks = list(failures(durable_rounds, lambda r, rng: scattered(r, rng, CUTS // 2), tmp_path))

    wrong = [w for _, w in checks if w]
    assert not wrong, "\n".join(wrong)
    add("powerloss", cuts=len(checks))


@pytest.mark.parametrize("mode", ["ack-before-commit", "synchronous-off"])
def test_the_model_catches_acks_sent_before_the_commit_is_durable(
    shim: Path, tmp_path: Path, mode: str
) -> None:
    broken = run_round(shim, tmp_path / "round", SEED, mode, ORDERS)

    checks = list(failures([broken], lambda r, rng: after_acks(r, rng, CUTS), tmp_path))

    assert broken.replies, f"seed {SEED}: the {mode} engine acknowledged nothing: {broken.stderr}"
    caught = [w for _, w in checks if "acked orders lost" in w]
    assert caught, f"seed {SEED}: {len(checks)} cuts of an engine in {mode} mode lost no ack"


def test_a_sigkill_alone_cannot_see_what_a_power_cut_loses(shim: Path, tmp_path: Path) -> None:
    """Why the disk is modelled: without fsync the page cache still holds every ack after a
    SIGKILL, so a test that only kills (or copies files) passes an engine that never syncs."""
    unsynced = run_round(shim, tmp_path / "round", SEED, "synchronous-off", ORDERS)

    at_the_cut = check_cut(unsynced, Cut(len(unsynced.records)), tmp_path / "cut")
    after_the_kill = check_journal(unsynced.directory / JOURNAL, unsynced.replies)

    assert unsynced.replies, f"seed {SEED}: nothing was acknowledged: {unsynced.stderr}"
    assert (after_the_kill.lost, after_the_kill.problems) == ([], [])
    assert len(at_the_cut.lost) == len(unsynced.replies)


def every_cut(r: Round, rng: random.Random) -> Iterator[Cut]:
    """The soak's cuts: after every ack, and many in WAL writes and on the scattered disk."""
    yield from after_acks(r, rng, None)
    yield from in_wal_writes(r, rng, 4 * CUTS)
    yield from scattered(r, rng, 4 * CUTS)


@pytest.mark.soak
def test_many_rounds_of_power_cuts_lose_no_acknowledged_order(shim: Path, tmp_path: Path) -> None:
    checked = orders = 0
    wrong: list[str] = []
    for i in range(SOAK_ROUNDS):
        r = run_round(
            shim, tmp_path / f"round-{i}", SEED + 1_000 + i, "durable", ORDERS, fresh=i % 2 == 0
        )
        checks = list(failures([r], every_cut, tmp_path / f"cuts-{i}"))
        wrong += [w for _, w in checks if w]
        checked += len(checks)
        orders += len(r.acked(len(r.records)))

    add("powerloss", rounds=SOAK_ROUNDS, orders=orders, kills=SOAK_ROUNDS, cuts=checked)
    assert not wrong, f"{len(wrong)} of {checked} cuts failed:\n" + "\n".join(wrong[:20])
