"""Where a replay of recorded ticks stands, and the speeds it plays at.

A replay (`tmt replay`) drives the same engine, risk and paper broker as live trading, on the
ticks' own clock. Its progress crosses the ``EngineClient`` like any other state, so the header
of a screen attached to a replaying engine shows it, and ``tmt replay status`` prints it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tmt_tui.domain.codec import wire_type

#: ``speed`` of a replay that plays as fast as the engine takes ticks.
MAX_SPEED = 0.0
#: The speeds ``+`` and ``-`` step through, slowest first (``MAX_SPEED`` last: the fastest).
SPEEDS: tuple[float, ...] = (1.0, 10.0, 100.0, MAX_SPEED)
#: The fastest paced speed a user may ask for (beyond it, ``max`` is what they want).
HIGHEST_PACED = 1_000_000.0


def speed_label(speed: float) -> str:
    """``10x``, ``0.5x``, or ``max``."""
    if speed == MAX_SPEED:
        return "max"
    return f"{speed:g}x"


def parse_speed(text: str) -> float:
    """``1``, ``10x``, ``100``, ``max``, ``0.5``: the speed, or ValueError saying what is wrong."""
    cleaned = text.strip().lower()
    if cleaned == "max":
        return MAX_SPEED
    cleaned = cleaned.removesuffix("x")
    try:
        speed = float(cleaned)
    except ValueError:
        raise ValueError(
            f"speed {text[:20]!r} is not a number or 'max' (e.g. 1, 10, 100, max)"
        ) from None
    if speed == MAX_SPEED:  # 0 means max on the wire only: typed, it is more likely a slip
        raise ValueError(f"speed {text[:20]!r} is out of range: give a positive number, or max")
    return checked_speed(speed)


def checked_speed(speed: float) -> float:
    """``speed`` if a replay can play at it (``MAX_SPEED``, or positive and finite), else
    ValueError saying what is allowed."""
    if speed == MAX_SPEED:
        return speed
    if not math.isfinite(speed) or speed <= 0 or speed > HIGHEST_PACED:
        raise ValueError(
            f"speed {speed!r} is out of range: give a positive number up to "
            f"{HIGHEST_PACED:,.0f}, or max"
        )
    return speed


def faster(speed: float) -> float:
    """The next speed up in ``SPEEDS`` (max stays max)."""
    if speed == MAX_SPEED:
        return MAX_SPEED
    return next((s for s in SPEEDS if s == MAX_SPEED or s > speed), MAX_SPEED)


def slower(speed: float) -> float:
    """The next speed down in ``SPEEDS`` (1x stays 1x; a speed below it stays where it is)."""
    if speed == MAX_SPEED:
        return SPEEDS[-2]
    lower = [s for s in SPEEDS if s != MAX_SPEED and s < speed]
    return lower[-1] if lower else speed


@wire_type
@dataclass(frozen=True, slots=True)
class ReplayProgress:
    """How far a replay has come: ``position_ts`` is the engine's clock (the last tick played),
    between ``start_ts`` and ``end_ts``; ``done`` of ``total`` rows read (``skipped`` of them
    were bad and not played); ``speed`` is a multiple of real time, ``MAX_SPEED`` for as fast
    as it goes; ``finished`` once the last row was read."""

    source: str
    start_ts: float
    end_ts: float
    position_ts: float
    done: int
    total: int
    speed: float
    paused: bool
    finished: bool = False
    skipped: int = 0

    @property
    def fraction(self) -> float:
        """How much of the recording has been read, 0.0 to 1.0 (by rows, which is how the time
        the replay takes is spent)."""
        if self.finished or self.total <= 0:
            return 1.0
        return min(1.0, self.done / self.total)

    @property
    def speed_label(self) -> str:
        return speed_label(self.speed)

    @property
    def state(self) -> str:
        """``finished``, ``paused`` or ``playing``."""
        if self.finished:
            return "finished"
        return "paused" if self.paused else "playing"
