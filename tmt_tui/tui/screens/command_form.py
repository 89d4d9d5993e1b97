"""A modal form that sends one command: the order ticket and the modify dialog share how a
form refuses bad input (a message, nothing sent), sends at most once at a time, and shows the
engine's answer (closing on success)."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Static

from tmt_tui.domain.client import EngineClient, Reply
from tmt_tui.domain.commands import Command
from tmt_tui.domain.entry import EntryError


class CommandForm(ModalScreen[Reply | None]):
    """Subclasses say how to read their inputs (``build_command``) and where messages go.

    Tab and shift+tab are priority bindings here: Textual checks a plain binding only once the
    key has bubbled up from the focused field, and by then it has already handed the keys
    typed after the Tab to that same field. In a burst (a paste, a laggy SSH link)
    ``1000<Tab>152`` became 1000152 units. A priority binding moves the focus as the app reads
    the Tab, so every later key goes to the field that has the focus when it is read.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    MESSAGE_ID: ClassVar[str] = "form-message"
    NOTHING_CHANGED: ClassVar[str] = "Nothing changed."

    def __init__(self, client: EngineClient, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.client = client
        self._busy = False

    def build_command(self) -> Command | None:
        """The command the inputs describe, None when there is nothing to send; raises
        EntryError saying what is wrong."""
        raise NotImplementedError

    def show_message(self, text: str, *, error: bool) -> None:
        message = self.query_one(f"#{self.MESSAGE_ID}", Static)
        message.update(text)
        message.set_class(error, "-error")

    def send_form(self) -> None:
        """Read the inputs and send them, unless a send is already under way."""
        if self._busy:
            return
        try:
            command = self.build_command()
        except EntryError as problem:
            self.show_message(str(problem), error=True)
            return
        if command is None:
            self.show_message(self.NOTHING_CHANGED, error=True)
            return
        self._busy = True
        self.show_message("sending…", error=False)
        self.run_worker(self._send(command), group=f"{self.MESSAGE_ID}-send", exit_on_error=False)

    def sending(self, command: Command) -> None:
        """Called as ``command`` leaves (a ticket remembers what it sent)."""

    async def _send(self, command: Command) -> None:
        self.sending(command)
        try:
            reply = await self.client.execute(command)
        except Exception as exc:  # a broken connection is a reply the user must see
            reply = Reply(False, "CLIENT_ERROR", str(exc) or type(exc).__name__)
        self._busy = False
        if reply.ok and self.app.screen is self:
            self.dismiss(reply)
        elif reply.ok:
            self.show_message(f"sent: {reply.order_id or 'OK'}", error=False)
        else:
            self.show_message(f"{reply.code}: {reply.message}", error=True)
