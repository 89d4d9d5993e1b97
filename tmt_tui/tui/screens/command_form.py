"""A modal form that sends one command: the order ticket and the modify dialog share how a
form refuses bad input (a message, nothing sent), sends at most once at a time, and shows the
engine's answer (closing on success)."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tmt_tui.domain.client import EngineClient, Reply
from tmt_tui.domain.commands import Command
from tmt_tui.domain.entry import EntryError
from tmt_tui.tui.messages import FormOpened

#: How many loop turns a form waits for its fields to apply the keys typed into them (a burst
#: settles in a few; the bound keeps a stuck field from holding the form forever).
SETTLE_TURNS = 200


class FormInput(Input):
    """An Input that keeps count of the keys handed to it, and whose Enter sends its form with
    the field as it was when that Enter was read.

    In a burst (a paste, a laggy SSH link) the app hands keys to fields faster than each field
    applies them, and every field applies its own in a task of its own. Input's Enter is a
    binding, run only after the keys already queued behind it (``1000<Enter>xs`` submitted
    ``1000xs``), and another field may not have applied its keys yet when the form reads it.
    So Enter is taken in key order here, and the form reads the other fields only once each
    has applied every key it was handed (``settled``).

    The same goes for the editing keys (End, Backspace, arrows: Input's own bindings): run as
    bindings they came after the characters typed behind them, so `End Backspace 9` on a
    pre-filled level replaced it all with 9 and then deleted the 9. They run here, in order.
    """

    class Entered(Message):
        """Enter in a form field: its id and its text at that moment."""

        def __init__(self, field: str, value: str) -> None:
            super().__init__()
            self.field = field
            self.value = value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys_owed = 0

    @property
    def settled(self) -> bool:
        """Every key handed to this field has been applied."""
        return self._keys_owed == 0

    def _forward_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._keys_owed += 1
        super()._forward_event(event)

    async def _on_key(self, event: events.Key) -> None:
        try:
            if event.key == "enter":
                event.stop()
                event.prevent_default()
                self.post_message(self.Entered(self.id or "", self.value))
                return
            for binding in self._bindings.key_to_bindings.get(event.key, ()):
                if await self.app.run_action(binding.action, self):
                    event.stop()  # done here, in key order: it must not bubble and run again
                    event.prevent_default()
                    return
            await super()._on_key(event)
        finally:
            if event.is_forwarded and self._keys_owed:
                self._keys_owed -= 1


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

    #: No focus until the form gives its first field the focus (its ``on_mount``): keys typed
    #: ahead are handed over only then, never to whatever widget comes first.
    AUTO_FOCUS: ClassVar[str | None] = ""
    MESSAGE_ID: ClassVar[str] = "form-message"
    NOTHING_CHANGED: ClassVar[str] = "Nothing changed."

    def __init__(self, client: EngineClient, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.client = client
        self._busy = False
        self._submitted: dict[str, str] = {}
        #: The form closed itself once its command went through (not escape, not Cancel): keys
        #: still arriving were typed for it.
        self.closed_after_send = False

    def on_mount(self) -> None:
        """After the subclass's own mount has asked for its first field's focus: once that
        focus is in place, the app hands over the keys typed while the form was opening."""
        self._announce_when_focused()

    def _announce_when_focused(self) -> None:
        if self.focused is None:  # the focus a subclass asked for lands after a refresh
            self.call_after_refresh(self._announce_when_focused)
            return
        self.post_message(FormOpened(self))

    def field(self, widget_id: str) -> str:
        """The text of the Input ``widget_id`` as the user sent it: as it was when Enter was
        read (keys typed after Enter in a burst land in the field before the form reads it),
        else the field's text now (ctrl+s, the button)."""
        if widget_id in self._submitted:
            return self._submitted[widget_id]
        return self.query_one(f"#{widget_id}", Input).value

    @on(FormInput.Entered)
    def _enter_in_a_field(self, message: FormInput.Entered) -> None:
        message.stop()
        self.send_form({message.field: message.value} if message.field else None)

    def build_command(self) -> Command | None:
        """The command the inputs describe, None when there is nothing to send; raises
        EntryError saying what is wrong."""
        raise NotImplementedError

    def show_message(self, text: str, *, error: bool) -> None:
        message = self.query_one(f"#{self.MESSAGE_ID}", Static)
        message.update(text)
        message.set_class(error, "-error")

    def send_form(self, entered: dict[str, str] | None = None) -> None:
        """Read the inputs (``entered``: a field's text as Enter found it) once every field has
        applied the keys typed into it, and send them; unless a send is already under way."""
        if self._busy:
            return
        self._busy = True
        self.run_worker(
            self._read_and_send(entered or {}),
            group=f"{self.MESSAGE_ID}-send",
            exit_on_error=False,
        )

    async def _read_and_send(self, entered: dict[str, str]) -> None:
        fields = list(self.query(FormInput))
        for _ in range(SETTLE_TURNS):
            if all(f.settled for f in fields):
                break
            await asyncio.sleep(0)  # the fields' own tasks apply their keys
        self._submitted = entered
        try:
            command = self.build_command()
        except EntryError as problem:
            command = None
            self.show_message(str(problem), error=True)
        else:
            if command is None:
                self.show_message(self.NOTHING_CHANGED, error=True)
        finally:
            self._submitted = {}
        if command is None:
            self._busy = False
            return
        self.show_message("sending…", error=False)
        await self._send(command)

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
            self.closed_after_send = True
            self.dismiss(reply)
        elif reply.ok:
            self.show_message(f"sent: {reply.order_id or 'OK'}", error=False)
        else:
            self.show_message(f"{reply.code}: {reply.message}", error=True)
