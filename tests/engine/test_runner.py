"""The runner around the core: replies only after the journal has the events, the kill switch's
halt and cancels land together, and one journal has one engine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support.engines import (
    engine_settings,
    events_of,
    fixed_clock,
    journal_rows,
    running,
    snapshot,
)
from tests.support.waiting import eventually
from tmt_tui.cli.embedded import start_embedded
from tmt_tui.config import ConfigError
from tmt_tui.domain.client import Reply
from tmt_tui.domain.commands import EngageKillSwitch, ResetKillSwitch, SubmitOrder
from tmt_tui.domain.orders import OrderType
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.local_client import LocalEngineClient
from tmt_tui.store.journal import Journal, JournalLocked

D = Decimal


async def rest_limits(client: LocalEngineClient, count: int) -> list[str]:
    quotes = client.runner.core.quotes.quotes  # type: ignore[union-attr]
    ids = []
    for i in range(count):
        price = (quotes["EUR_USD"].bid * D("0.97") - D("0.00010") * i).quantize(D("0.00001"))
        reply = await client.execute(
            SubmitOrder("SIM-USD", "EUR_USD", 1_000, OrderType.LIMIT, price)
        )
        assert reply.ok, reply
        ids.append(reply.order_id or "")
    return ids


async def test_order_reply_comes_after_its_events_are_in_the_journal(journal_path: Path) -> None:
    async with running(engine_settings(journal_path)) as client:
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

        submitted = events_of(journal_path, "order.submitted")
        filled = events_of(journal_path, "order.filled")

    assert reply.ok and reply.message.startswith("filled +1,000 EUR_USD @ ")
    assert [data["order"]["id"] for _, data in submitted] == [reply.order_id]
    assert [(seq <= reply.seq, data["order_id"]) for seq, data in filled] == [
        (True, reply.order_id)
    ]


async def test_what_replies_were_sent_before_reaches_every_screen_in_order_and_without_gaps(
    journal_path: Path,
) -> None:
    """Publication follows the replies by a moment (the reply goes first); a screen still sees
    every event once, in journal order, and one that attaches later starts past them."""
    async with running(engine_settings(journal_path)) as client:
        stream = client.subscribe()
        first = await stream.__anext__()
        replies = [
            await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000 * (-1) ** i))
            for i in range(20)
        ]
        late = client.subscribe()
        late_snapshot = await late.__anext__()
        after = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
        seen: list[int] = []
        while not seen or seen[-1] < after.seq:
            item = await asyncio.wait_for(stream.__anext__(), 30)
            seen.extend(e.seq for e in item.events)
        late_seen: list[int] = []
        while not late_seen or late_seen[-1] < after.seq:
            item = await asyncio.wait_for(late.__anext__(), 30)
            late_seen.extend(e.seq for e in item.events)
        await stream.aclose()
        await late.aclose()

    assert all(reply.ok for reply in [*replies, after])
    assert seen == list(range(first.seq + 1, after.seq + 1))
    assert late_snapshot.seq >= replies[-1].seq
    assert late_seen == list(range(late_snapshot.seq + 1, after.seq + 1))


async def test_rejected_order_reply_carries_the_reason_code(journal_path: Path) -> None:
    async with running(engine_settings(journal_path)) as client:
        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 0))

    assert (reply.ok, reply.code) == (False, Reason.INVALID_UNITS.value)
    assert reply.message == "units must not be zero"


async def test_an_order_naming_an_unknown_account_leaves_later_updates_flowing(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        stream = client.subscribe()
        await anext(stream)  # the snapshot
        typo = await client.execute(SubmitOrder("SIM-TYPO", "EUR_USD", 1_000))
        placed = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

        seen: set[str] = set()
        while placed.order_id not in seen:
            update = await asyncio.wait_for(anext(stream), 5)
            seen |= {o.id for o in getattr(update, "orders", ())}
        await stream.aclose()  # type: ignore[attr-defined]

    assert (typo.ok, typo.code) == (False, Reason.UNKNOWN_ACCOUNT.value)
    assert placed.ok
    assert events_of(journal_path, "order.filled")  # and the journal went on too


async def test_kill_switch_halt_and_its_cancels_are_journaled_before_the_reply(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        ids = await rest_limits(client, 3)

        reply = await client.execute(EngageKillSwitch("panic"))

        engaged = events_of(journal_path, "kill_switch.engaged")
        halted = events_of(journal_path, "trading_state.changed")
        cancelled = events_of(journal_path, "order.cancelled")
        order_rows = journal_rows(
            journal_path, "select id, status, seq from orders where status = 'CANCELLED'"
        )

    assert reply.ok, reply
    assert [data["reason"] for _, data in engaged] == ["panic"]
    assert [(d["account"], d["state"]) for _, d in halted] == [
        ("SIM-USD", "HALTED"),
        ("SIM-EUR", "HALTED"),
    ]
    assert sorted(data["order_id"] for _, data in cancelled) == sorted(ids)
    # one append wrote them: the derived rows all carry that transaction's last sequence
    last_seq = max(seq for seq, _ in cancelled)
    assert sorted(order_rows) == sorted((i, "CANCELLED", last_seq) for i in ids)
    assert engaged[0][0] < min(seq for seq, _ in cancelled)


async def test_second_engine_on_the_same_journal_is_refused_with_the_pid(
    journal_path: Path,
) -> None:
    settings = engine_settings(journal_path)
    async with running(settings):
        with pytest.raises(JournalLocked) as caught:
            start_embedded(settings, clock=fixed_clock)

    assert f"in use by process {os.getpid()}" in str(caught.value)
    assert str(journal_path) in str(caught.value)


async def test_command_after_stop_is_answered_engine_stopped(journal_path: Path) -> None:
    async with running(engine_settings(journal_path)) as client:
        runner = client.runner
    replies: list[Reply] = []

    runner.submit(SubmitOrder("SIM-USD", "EUR_USD", 1_000), replies.append)

    assert [r.code for r in replies] == [Reason.ENGINE_STOPPED.value]


def test_unknown_sim_instrument_fails_the_start_as_a_config_error(journal_path: Path) -> None:
    settings = engine_settings(journal_path)
    settings = dataclasses.replace(
        settings, sim=dataclasses.replace(settings.sim, instruments=("EURUSD",))
    )

    with pytest.raises(ConfigError) as caught:
        start_embedded(settings, clock=fixed_clock)

    assert "'sim.instruments'" in str(caught.value)
    assert "EURUSD" in str(caught.value)


def test_failed_start_releases_the_journal(journal_path: Path) -> None:
    settings = engine_settings(journal_path)
    broken = dataclasses.replace(
        settings, sim=dataclasses.replace(settings.sim, instruments=("EURUSD",))
    )
    with pytest.raises(Exception):  # noqa: B017 - whatever the reason, the lock must go
        start_embedded(broken, clock=fixed_clock)

    Journal(journal_path).close()


def fail_next_append(journal: Journal) -> None:
    """Make the journal's next durable write fail as a full disk would, then work again."""
    real = journal.append

    def append(events: Any, orders: Any = ()) -> None:
        journal.append = real  # type: ignore[method-assign]
        raise sqlite3.OperationalError("database or disk is full")

    journal.append = append  # type: ignore[method-assign]


async def test_order_whose_events_cannot_be_journaled_is_answered_journal_error(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        fail_next_append(client.runner.journal)  # type: ignore[arg-type]

        reply = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

    assert (reply.ok, reply.code) == (False, Reason.JOURNAL_ERROR.value)
    assert "disk is full" in reply.message


async def test_after_a_failed_journal_write_new_exposure_is_refused(journal_path: Path) -> None:
    async with running(engine_settings(journal_path)) as client:
        fail_next_append(client.runner.journal)  # type: ignore[arg-type]
        await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

        reply = await client.execute(SubmitOrder("SIM-EUR", "USD_JPY", 1_000))

    assert (reply.ok, reply.code) == (False, Reason.TRADING_HALTED.value)


async def test_after_a_failed_journal_write_the_halt_is_visible_and_only_a_restart_rearms(
    journal_path: Path,
) -> None:
    # once, the engine refused every opening order while status said ACTIVE and a reset
    # answered NOT_HALTED: a halt nobody could see or lift
    async with running(engine_settings(journal_path)) as client:
        fail_next_append(client.runner.journal)  # type: ignore[arg-type]
        await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))

        picture = await snapshot(client)
        reset = await client.execute(ResetKillSwitch())
        closing = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", -1_000))

    assert picture.kill_switch_engaged
    assert picture.kill_switch_reason == "journal write failed"
    assert {(a.id, a.trading_state, a.state_reason) for a in picture.accounts} == {
        ("SIM-USD", TradingState.HALTED, "journal write failed"),
        ("SIM-EUR", TradingState.HALTED, "journal write failed"),
    }
    assert (reset.ok, reset.code) == (False, Reason.JOURNAL_ERROR.value)
    assert "restart the engine" in reset.message
    # getting out stays allowed: the close reaches the venue, and says it was not journaled
    assert (closing.code, "not journaled" in closing.message) == (Reason.JOURNAL_ERROR.value, True)

    async with running(engine_settings(journal_path)) as client:  # a restart reloads the journal
        picture = await snapshot(client)
        reply = await client.execute(SubmitOrder("SIM-EUR", "USD_JPY", 1_000))

    assert not picture.kill_switch_engaged
    assert reply.ok, reply


async def test_a_size_past_64_bit_integers_is_refused_without_touching_the_journal(
    journal_path: Path,
) -> None:
    async with running(engine_settings(journal_path)) as client:
        huge = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 2**63))
        other = await client.execute(SubmitOrder("SIM-EUR", "EUR_USD", 1_000))
        picture = await snapshot(client)

    assert (huge.ok, huge.code) == (False, Reason.INVALID_UNITS.value)
    assert other.ok, other
    assert {a.trading_state for a in picture.accounts} == {TradingState.ACTIVE}
    seqs = [seq for (seq,) in journal_rows(journal_path, "select seq from events order by seq")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in the journal"


def with_instruments(settings: Any, *names: str) -> Any:
    return dataclasses.replace(settings, sim=dataclasses.replace(settings.sim, instruments=names))


@pytest.mark.parametrize(
    ("instruments", "said"),
    [
        (("GBP_JPY", "GBP_USD"), "converts JPY into USD"),
        (("EUR_USD", "GBP_USD"), "GBP_JPY"),
    ],
    ids=["no-conversion-pair", "instrument-gone"],
)
async def test_a_restart_that_could_not_value_an_open_position_refuses_to_start(
    journal_path: Path, instruments: tuple[str, ...], said: str
) -> None:
    # an open GBP_JPY position in a USD account needs a JPY->USD rate for every fill that
    # closes it; an engine that cannot get one must not start and book at an invented rate
    settings = with_instruments(engine_settings(journal_path), "GBP_JPY", "USD_JPY", "GBP_USD")
    client = start_embedded(settings, clock=fixed_clock)
    try:
        book = client.runner.core.quotes  # type: ignore[union-attr]
        await eventually(lambda: {"GBP_JPY", "USD_JPY"} <= set(book.quotes))
        reply = await client.execute(SubmitOrder("SIM-USD", "GBP_JPY", 100_000))
        assert reply.ok, reply
    finally:
        await client.close()

    with pytest.raises(ConfigError) as caught:
        start_embedded(with_instruments(settings, *instruments), clock=fixed_clock)

    assert said in str(caught.value)
    assert "sim.instruments" in str(caught.value)
    Journal(journal_path).close()  # and the journal is let go


async def test_a_background_write_that_fails_halts_as_visibly_as_a_failed_order(
    journal_path: Path,
) -> None:
    # ticks and derived rows gate no reply; once, a full disk failed them over and over in the
    # log while status, metrics and /healthz all said the engine was fine
    async with running(engine_settings(journal_path)) as client:
        runner = client.runner
        journal = runner.journal
        assert journal is not None

        def full_disk(*_: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        journal.append_ticks = full_disk  # type: ignore[method-assign]
        await eventually(lambda: runner.problem, "the tick flush to fail")
        picture = await snapshot(client)
        reset = await client.execute(ResetKillSwitch())

    assert runner.problem == "journal write failed"
    assert {(a.trading_state, a.state_reason) for a in picture.accounts} == {
        (TradingState.HALTED, "journal write failed")
    }
    assert (reset.ok, reset.code) == (False, Reason.JOURNAL_ERROR.value)


async def test_after_a_failed_journal_write_nothing_more_is_written_so_a_restart_is_consistent(
    journal_path: Path,
) -> None:
    # once, the batches after a failed one were journaled after a gap: the buy that failed to
    # journal had filled, the later close was journaled, and the restart rebuilt a short
    # position that never existed
    async with running(engine_settings(journal_path)) as client:
        fail_next_append(client.runner.journal)  # type: ignore[arg-type]
        await client.execute(SubmitOrder("SIM-USD", "EUR_USD", 1_000))
        close = await client.execute(SubmitOrder("SIM-USD", "EUR_USD", -1_000))

    assert (close.ok, close.code) == (False, Reason.JOURNAL_ERROR.value)
    assert "not journaled" in close.message  # it reached the venue, and says what it lacks
    seqs = [seq for (seq,) in journal_rows(journal_path, "select seq from events order by seq")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in the journal"
    async with running(engine_settings(journal_path)) as client:
        picture = await snapshot(client)
    assert [p for p in picture.positions if p.units] == []


async def test_the_kill_switch_is_never_refused_for_its_reason(journal_path: Path) -> None:
    # a reason with a line break (or too long) once refused the halt yet left new orders
    # blocked behind it: a halt nobody could see or lift
    async with running(engine_settings(journal_path)) as client:
        reply = await client.execute(EngageKillSwitch("alert\nfrom a script " + "x" * 500))
        picture = await snapshot(client)

    assert reply.ok, reply
    assert picture.kill_switch_engaged
    assert "\n" not in picture.kill_switch_reason and len(picture.kill_switch_reason) <= 200
