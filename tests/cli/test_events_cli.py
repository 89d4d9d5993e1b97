"""`tmt events`: what the engine kept, new events from now with --follow, and history from the
journal with --since, each event once and in order."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.support.cli import Engine, start_engine, write_config
from tests.support.waiting import wait_for
from tmt_tui.api.remote import RemoteEngineClient
from tmt_tui.domain.commands import OrderType, Origin, SubmitOrder

KEPT_IN_MEMORY = 200  # the engine's recent events (engine/state.py RECENT_EVENTS)


def seqs(lines: str) -> list[int]:
    return [json.loads(line)["seq"] for line in lines.splitlines() if line.strip()]


def newest_seq(engine: Engine) -> int:
    status = engine.json("status")
    assert isinstance(status, dict)
    return int(status["seq"])


def place_many(engine: Engine, count: int) -> None:
    """``count`` small market orders over one connection: many events, no process each."""
    token = (engine.home / "state" / "tmt" / "api.token").read_text().strip()

    async def run() -> None:
        client = RemoteEngineClient(engine.home / "run" / "e.sock", token=token)
        try:
            for _ in range(count):
                command = SubmitOrder("SIM-USD", "EUR_USD", 1, OrderType.MARKET, origin=Origin.API)
                await client.execute(command)  # a rate-limit refusal is events too
        finally:
            await client.close()

    asyncio.run(run())


def test_follow_prints_only_what_happens_after_it_starts(engine: Engine) -> None:
    before = newest_seq(engine)
    out = engine.home / "follow.jsonl"
    with out.open("w") as sink:
        follow = subprocess.Popen(
            [sys.executable, "-m", "tmt_tui", "--config", str(engine.config), "events",
             "--follow", "--json"],
            env=engine.env, stdout=sink, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    try:

        def printed_one() -> list[int]:  # an order each poll: one placed before it listens is lost
            engine.tmt("buy", "EUR_USD", "1")
            return seqs(out.read_text())

        shown = wait_for(printed_one, "a new event from tmt events --follow", within=60)
    finally:
        follow.terminate()
        follow.wait(20)

    assert min(shown) > before, (before, shown)
    assert shown == sorted(shown)


def test_since_a_sequence_number_prints_from_it_to_the_newest(engine: Engine) -> None:
    engine.tmt("buy", "EUR_USD", "1000")
    newest = newest_seq(engine)

    shown = seqs(engine.tmt("events", "--since", "3", "--json").stdout)

    assert shown == list(range(3, max(shown) + 1))  # each once, in order, none skipped
    assert max(shown) >= newest


def test_since_a_time_prints_the_events_at_or_after_it(engine: Engine) -> None:
    engine.tmt("buy", "EUR_USD", "1000")
    events: list[dict[str, Any]] = [
        json.loads(line) for line in engine.tmt("events", "--json").stdout.splitlines()
    ]
    start = events[len(events) // 2]

    shown = seqs(engine.tmt("events", "--since", start["ts_iso"], "--json").stdout)

    assert shown and shown[0] <= start["seq"] and shown == sorted(shown)
    assert shown[-1] >= events[-1]["seq"]


def test_since_reaches_past_what_the_engine_keeps_through_the_journal(engine: Engine) -> None:
    place_many(engine, KEPT_IN_MEMORY // 2)
    newest = newest_seq(engine)
    assert newest > KEPT_IN_MEMORY + 10

    recent = seqs(engine.tmt("events", "--json").stdout)
    history = seqs(engine.tmt("events", "--since", "1", "--json").stdout)

    assert recent[0] > 1  # the engine's memory alone does not reach back
    assert history == list(range(1, max(history) + 1))  # each once, in order, none skipped
    assert max(history) >= newest


def test_a_since_that_is_neither_a_number_nor_a_time_is_refused(engine: Engine) -> None:
    result = engine.tmt("events", "--since", "yesterday")

    assert result.returncode == 3
    assert "--since" in result.stderr


def test_another_engine_s_journal_is_never_shown_as_this_one_s_history(
    engine: Engine,
) -> None:
    """`--socket` names this engine while the config names another's journal: the history
    stops at what this engine keeps, and stderr says why."""
    other_home = Path(tempfile.mkdtemp(prefix="tmto", dir="/tmp"))
    other = start_engine(other_home, write_config(other_home))
    other.stop()  # its journal stays behind, with events of its own
    place_many(engine, KEPT_IN_MEMORY // 2)
    token = (engine.home / "state" / "tmt" / "api.token").read_text().strip()
    env = {**other.env, "TMT_API_TOKEN": token}

    result = subprocess.run(
        [sys.executable, "-m", "tmt_tui", "--config", str(other.config), "--socket",
         str(engine.home / "run" / "e.sock"), "events", "--since", "1", "--json"],
        env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    shown = seqs(result.stdout)
    assert result.returncode == 0, result.stderr
    assert shown[0] > 1 and shown == list(range(shown[0], shown[-1] + 1))
    assert "is not the journal of the engine answering" in result.stderr
