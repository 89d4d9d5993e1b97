"""What a screen may ask of the workstation it runs in, as a protocol the app implements.

Screens never import the app (an import-linter contract says so): the app hands itself to the
screens it composes as a `Workstation`, and mypy checks that it is one. Everything else a screen
needs travels as Textual messages.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from tmt_tui.domain.client import EngineClient, Reply
from tmt_tui.tui.state import ViewModel


class Workstation(Protocol):
    """The app as its screens see it: the one engine door, the view model and how replies show."""

    @property
    def client(self) -> EngineClient:
        """The engine: `await client.execute(command)` is the only way a command goes out."""
        ...

    @property
    def model(self) -> ViewModel:
        """The engine's latest state, folded from the stream by the app."""
        ...

    def send(self, label: str, call: Awaitable[Reply]) -> None:
        """Await `call` off the key handler and report its reply under `label`."""
        ...

    def report_reply(self, label: str, reply: Reply | None) -> None:
        """Tell the user how a command went (a notification and a line in the event log)."""
        ...
