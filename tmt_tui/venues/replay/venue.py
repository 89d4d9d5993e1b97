"""The replay venue: a recording's quotes and the paper broker behind the ``Venue`` protocol.

Like the sim it has no history of its own (the replay's journal is the whole truth) and trades
the accounts the config names, every one of them on the paper broker: a replay never reaches a
real broker, whatever the config says. The broker fills at the replayed prices and stamps its
fills with the ticks' clock.
"""

from __future__ import annotations

from collections.abc import Iterable

from tmt_tui.domain.orders import Order
from tmt_tui.venues.base import (
    MarginProbe,
    ReconcileHook,
    StatusHook,
    VenueOpened,
    VenueOpening,
    VenueSink,
    VenueSnapshot,
)
from tmt_tui.venues.replay.feed import ReplayFeed, TickClock
from tmt_tui.venues.replay.source import Recording
from tmt_tui.venues.sim.broker import SimBroker


class ReplayVenue:
    """``ReplayFeed`` quotes and ``SimBroker`` fills, both on ``clock`` (the ticks' time)."""

    name = "replay"
    reconciles = False

    def __init__(
        self, recording: Recording, speed: float = 1.0, *, start_paused: bool = False
    ) -> None:
        self.recording = recording
        #: The engine runs on this clock: hand it to the runner with the venue.
        self.clock = TickClock(recording.start_ts)
        self._feed = ReplayFeed(recording, self.clock, speed, start_paused=start_paused)
        tradeable = [i for i in recording.instruments if i.tradeable]
        self._broker = SimBroker(tradeable, self.clock)

    async def open(self, opening: VenueOpening) -> VenueOpened:
        return VenueOpened(self.recording.instruments)

    @property
    def feed(self) -> ReplayFeed:
        return self._feed

    @property
    def broker(self) -> SimBroker:
        return self._broker

    def resume(
        self, cursor: int, seen: Iterable[str], margin_probe: MarginProbe, *, fresh: bool
    ) -> None:
        self._broker.probe_margin(margin_probe)  # no venue history: nothing to resume

    def hold_answers(self, quiet: bool) -> None:
        return None

    async def follow(self, sink: VenueSink, reconcile: ReconcileHook, status: StatusHook) -> None:
        return None  # every fill is answered at once, through the broker's sink

    async def snapshot(self, open_orders: Iterable[Order], sink: VenueSink) -> VenueSnapshot:
        raise NotImplementedError("the replay venue keeps no book apart from the engine's")

    async def aclose(self) -> None:
        self._feed.stop()
        self.recording.close()
