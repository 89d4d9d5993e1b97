"""The engine's watchlist: Watch/Unwatch on a real embedded engine and its sim market, the feed's
subscription (what positions and conversions need stays quoted), the state file, and the
search a trader types into."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.engines import INSTRUMENTS, engine_settings, running, snapshot
from tests.support.waiting import eventually
from tmt_tui.domain.commands import SubmitOrder, Unwatch, Watch
from tmt_tui.domain.watchlist import resolve, search
from tmt_tui.engine.watchlist import watchlist_path
from tmt_tui.venues.sim.universe import SPECS


def hidden_files(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if p.name.startswith(".")]


def quoted(client) -> set[str]:
    return {i.name for i in client.runner.venue.feed.instruments()}


async def test_a_watched_pair_is_quoted_traded_and_in_every_new_snapshot(tmp_path: Path) -> None:
    async with running(engine_settings(tmp_path / "j.db")) as client:
        reply = await client.execute(Watch("eur/gbp"))

        assert reply.ok and reply.message == "EUR_GBP on the watchlist", reply
        book = client.runner.core.quotes
        await eventually(lambda: book.get("EUR_GBP"), "EUR_GBP quotes from the sim")
        assert (await client.execute(SubmitOrder("SIM-USD", "EUR_GBP", 1_000))).ok
        snap = await snapshot(client)
        assert snap.watchlist == (*INSTRUMENTS, "EUR_GBP")
        assert "EUR_GBP" in {i.name for i in snap.instruments}
        assert set(snap.universe) == set(SPECS)


async def test_watch_at_a_row_moves_an_instrument_already_on(tmp_path: Path) -> None:
    async with running(engine_settings(tmp_path / "j.db")) as client:
        reply = await client.execute(Watch("USD_JPY", at=0))

        assert reply.ok and reply.message == "USD_JPY moved to row 1", reply
        assert client.runner.watchlist.names == ("USD_JPY", "EUR_USD", "GBP_USD")


async def test_an_unknown_or_unwatched_instrument_is_refused_saying_what(tmp_path: Path) -> None:
    async with running(engine_settings(tmp_path / "j.db")) as client:
        unknown = await client.execute(Watch("EUR_UDS"))
        absent = await client.execute(Unwatch("EUR_GBP"))
        control = await client.execute(Watch("EUR\x00USD"))

    assert (unknown.ok, unknown.code) == (False, "UNKNOWN_INSTRUMENT")
    assert "EUR_UDS" in unknown.message and "did you mean EUR_USD" in unknown.message
    assert (absent.ok, absent.code) == (False, "NOT_WATCHED")
    assert (control.ok, control.code) == (False, "INVALID_COMMAND")


async def test_a_removed_pair_is_dropped_by_the_feed_unless_a_position_needs_it(
    tmp_path: Path,
) -> None:
    async with running(engine_settings(tmp_path / "j.db")) as client:
        assert (await client.execute(SubmitOrder("SIM-USD", "GBP_USD", 1_000))).ok
        kept = await client.execute(Unwatch("GBP_USD"))
        dropped = await client.execute(Unwatch("EUR_USD"))

        assert kept.ok and "still quoted" in kept.message and "position" in kept.message
        # SIM-EUR's euros count in the report currency through EUR_USD: the feed keeps it
        assert "still quoted: it converts EUR into USD" in dropped.message
        assert {"GBP_USD", "EUR_USD"} <= quoted(client)
        assert client.runner.watchlist.names == ("USD_JPY",)


async def test_the_state_file_is_written_whole_and_read_back_at_start(tmp_path: Path) -> None:
    settings = engine_settings(tmp_path / "j.db")
    async with running(settings) as client:
        assert (await client.execute(Watch("AUD_USD", at=1))).ok
    path = watchlist_path(tmp_path / "j.db")
    stored = json.loads(path.read_text())
    assert stored == {"version": 1, "instruments": ["EUR_USD", "AUD_USD", "GBP_USD", "USD_JPY"]}
    assert path.stat().st_mode & 0o777 == 0o600
    assert hidden_files(tmp_path) == []  # no temporary file left beside it

    async with running(settings) as client:
        assert client.runner.watchlist.names == ("EUR_USD", "AUD_USD", "GBP_USD", "USD_JPY")
        await eventually(lambda: client.runner.core.quotes.get("AUD_USD"), "AUD_USD quoted")


async def test_unknown_names_in_the_state_file_are_left_off_and_said(tmp_path: Path) -> None:
    path = watchlist_path(tmp_path / "j.db")
    kept = ["USD_JPY", "GBP_USD", "EUR_USD"]
    path.write_text(json.dumps({"version": 1, "instruments": [*kept, "NOPE_XYZ"]}))
    async with running(engine_settings(tmp_path / "j.db")) as client:
        assert client.runner.watchlist.names == tuple(kept)
        alert = client.runner.core.alerts.get("watchlist.file", "")
        assert "NOPE_XYZ" in alert and str(path) in alert


def test_a_search_ranks_the_name_then_its_prefix_then_a_leg_then_a_near_miss() -> None:
    names = list(SPECS)

    assert search("eurusd", names)[0] == "EUR_USD"
    assert search("EUR/USD", names)[0] == "EUR_USD"
    assert search("eur", names)[:3] == ["EUR_AUD", "EUR_CHF", "EUR_GBP"]
    assert all(n.startswith("EUR_") for n in search("eur", names)[:6])
    assert search("jpy", names)[0] == "AUD_JPY"  # a leg that starts with it
    assert "EUR_USD" in search("eurusf", names)  # a typo still finds it
    assert search("zzz", names) == []
    assert resolve("eur-usd", names) == "EUR_USD" and resolve("eur", names) is None
