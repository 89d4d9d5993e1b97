"""The trader's hands on a replay (`tmt replay`): pause and resume, faster and slower.

The main screen owns one of these and turns its keys into calls here. The replay is the
engine's (``ControlReplay``), so every attached screen and `tmt replay status` see a change;
on an engine that trades live the keys do nothing and are not shown.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen

from tmt_tui.domain.commands import ControlReplay
from tmt_tui.domain.replay import MAX_SPEED, faster, slower, speed_label
from tmt_tui.tui.context import Workstation


class ReplayControls:
    """Pause, resume and change the speed of the replay the screen's engine plays."""

    def __init__(self, workstation: Workstation, screen: Screen[Any]) -> None:
        self._workstation = workstation
        self._screen = screen

    @property
    def active(self) -> bool:
        """The engine is replaying (the keys are bound and shown only then)."""
        return self._workstation.model.replay is not None

    def toggle_pause(self) -> None:
        progress = self._workstation.model.replay
        if progress is None or self._refused():
            return
        if progress.finished:
            self._screen.notify("The replay has played every tick.", timeout=3)
            return
        action = "resume" if progress.paused else "pause"
        self._send(f"replay {action}", ControlReplay(action))

    def faster(self) -> None:
        self._speed(faster)

    def slower(self) -> None:
        self._speed(slower)

    def _speed(self, step: Any) -> None:
        progress = self._workstation.model.replay
        if progress is None or self._refused():
            return
        speed = step(progress.speed)
        if speed == progress.speed:
            edge = "fastest" if speed == MAX_SPEED else "slowest"
            self._screen.notify(f"Already at the {edge} speed ({speed_label(speed)}).", timeout=3)
            return
        self._send(f"replay speed {speed_label(speed)}", ControlReplay("speed", speed))

    def _refused(self) -> bool:
        if self._workstation.model.read_only:
            self._screen.notify(
                "Read-only viewer: the replay is steered from a screen that trades.",
                severity="warning",
            )
            return True
        return False

    def _send(self, label: str, command: ControlReplay) -> None:
        workstation = self._workstation
        workstation.send(label, workstation.client.execute(command))
