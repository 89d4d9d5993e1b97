"""Messages between the UI's parts: small dataclasses, events in the past tense.

Anything that can arrive faster than a frame sets `bubble=False` and `can_replace`, so a burst
collapses to one handler call instead of a queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from tmt_tui.domain.client import Reply

if TYPE_CHECKING:
    from tmt_tui.tui.widgets.header import TradingBanner


@dataclass
class CommandReplied(Message):
    """The engine answered a command the UI sent (`label` says which, for the user)."""

    label: str
    reply: Reply


@dataclass
class StreamStatusChanged(Message):
    """The engine stream connected, ended or failed; `detail` says why for the user."""

    connected: bool
    detail: str = ""


@dataclass
class InstrumentSelected(Message, bubble=False):
    """The quote board's cursor rests on `instrument` (posted on every move: key repeat is fast)."""

    instrument: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, InstrumentSelected)


@dataclass
class LogNote(Message, bubble=False):
    """Write `text` in the event log: a reply to a command, or news about the engine stream."""

    text: str
    error: bool = False


@dataclass
class BannerMounted(Message):
    """A trading banner came on screen; it bubbles up to the app, which fills it in."""

    banner: TradingBanner


@dataclass
class PaneAnswered(Message, bubble=False):
    """The engine answered a query a pane asked (`pane` is its id), or failed to (`reply.ok`)."""

    pane: str
    reply: Reply


@dataclass
class FormOpened(Message):
    """A form (the ticket, a dialog) has its first field focused; it bubbles up to the app,
    which hands it the keys typed while it was opening."""

    form: object
