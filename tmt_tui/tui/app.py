"""The Textual app, built by `create_app(settings, client)`: it composes the workstation.

The app owns the `EngineClient` (the one door to the engine), the view model the engine stream
is folded into, the themes and the global actions: kill switch, reset, reduce-only, help, quit
and the command palette. One task consumes `client.subscribe()` and folds every item into the
model (cheap dict upserts on the UI loop, no widget touched); the main screen draws a frame
of what changed when it arrives. Commands go out through workers and come back as
`CommandReplied` messages.
Screens get the app as a `Workstation` (`tui/context.py`) and never import this module.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App
from textual.reactive import var
from textual.screen import Screen

from tmt_tui.config import Settings
from tmt_tui.domain.client import EngineClient, Reply, Snapshot
from tmt_tui.domain.commands import EngageKillSwitch, ResetKillSwitch, SetReducing
from tmt_tui.tui.actions import ActionCommands, bindings, priority_keys
from tmt_tui.tui.layout import load_layout, write_layout
from tmt_tui.tui.messages import (
    BannerMounted,
    CommandReplied,
    FormOpened,
    LogNote,
    StreamStatusChanged,
)
from tmt_tui.tui.screens.command_form import CommandForm
from tmt_tui.tui.screens.dialogs import ConfirmScreen
from tmt_tui.tui.screens.help import HelpScreen
from tmt_tui.tui.screens.main import MainScreen
from tmt_tui.tui.state import DISCONNECTED, TradingFlags, ViewModel
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, load_themes
from tmt_tui.tui.widgets.header import TradingBanner

log = logging.getLogger(__name__)

#: Wait before subscribing again after the stream ends or fails.
RESUBSCRIBE_SECONDS = 1.0
#: With no stream item for this long the header says the picture is stale.
STALE_SECONDS = 5.0
#: Keys read this soon after a form or dialog closed were typed for it (a burst, a laggy SSH
#: link): they never act on the main screen. The kill switch's keys always act.
FORM_KEYS_GRACE_S = 0.2
#: Keys typed while a form opens wait for its first field at most this long.
FORM_OPENING_MAX_S = 1.0
KILL_REASON = "kill switch (UI)"


class TmtApp(App[None]):
    """The workstation on one `EngineClient`: the same app for embedded and remote engines."""

    CSS_PATH = "tmt.tcss"
    TITLE = "tmt"
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {ActionCommands}

    trading: var[TradingFlags] = var(TradingFlags, init=False)
    """HALTED / REDUCING and the banner text, as every screen shows them."""

    def __init__(
        self,
        settings: Settings,
        client: EngineClient,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        layout_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.client = client
        self.model = ViewModel(monotonic=monotonic, wall=clock)
        self.model.read_only = client.read_only
        for theme in load_themes():
            self.register_theme(theme)
        wanted = settings.ui.theme
        self.theme = wanted if wanted in self.available_themes else "tmt-dark"
        #: where the layout is remembered between runs (None: not remembered)
        self.layout_path = layout_path
        layout, layout_problem = load_layout(layout_path)
        picked = layout.runtime_theme(wanted) if layout is not None else None
        if picked in self.available_themes:
            self.theme = picked
        first_account = settings.accounts[0].id if settings.accounts else None
        self._main = MainScreen(
            self, fps=settings.ui.fps, clock=clock, account=first_account,
            keymap=settings.ui.keymap, confirm_close=settings.ui.confirm_close,
            bell=rings(settings.ui.bell, os.environ),
        )  # fmt: skip
        self._main.restore, self._main.layout_problem = layout, layout_problem
        #: Keys read before this moment (monotonic) were typed for a form that has closed.
        self._form_closed_until = 0.0
        #: A form pushed but not yet focused, and the keys read meanwhile (typed for it).
        self._form_opening: CommandForm | None = None
        self._typed_ahead: list[events.Key] = []
        self._always_keys = priority_keys(settings.ui.keymap)

    # -- composition and lifetime -------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return self._main

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Trading colours for themes that lack them (Textual's built-ins)."""
        return dict(TRADING_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        self.set_keymap(dict(self.settings.ui.keymap))
        self.set_interval(1.0, self._check_stream, name="stream-watch")
        self.run_worker(
            self._consume(),
            name="engine-stream",
            group="stream",
            exclusive=True,
            exit_on_error=False,
        )

    async def _consume(self) -> None:
        """Fold the engine stream into the model forever; resubscribe (fresh snapshot) on an end.

        The log and a notification hear of a loss once, and of the return once: a retry every
        second must not bury the log (the header says how old the figures are meanwhile)."""
        model = self.model
        said_lost = False
        frozen = False
        while True:
            try:
                async for item in self.client.subscribe():
                    if model.stream != "live":
                        model.read_only = self.client.read_only  # as the engine granted it
                        model.set_stream("live")
                        self.set_class(False, "-engine-lost")
                        self.post_message(StreamStatusChanged(True, "engine stream live"))
                        said_lost = False
                    model.apply(item)
                    if isinstance(item, Snapshot) or item.accounts or item.events:
                        self.trading = model.trading_flags()
                    if not frozen:
                        frozen = True
                        _freeze_startup_objects()
                detail = "engine stream ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream broke: show it, then try again
                detail = f"engine stream failed: {exc or type(exc).__name__}"
            model.set_stream(DISCONNECTED)
            self.set_class(True, "-engine-lost")
            if not said_lost:
                said_lost = True
                self.post_message(StreamStatusChanged(False, f"{detail}; retrying every second"))
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    def _check_stream(self) -> None:
        """Once a second: has the engine gone quiet?"""
        self.model.note_silence(STALE_SECONDS)
        self.set_class(bool(self.model.engine_lost), "-engine-lost")

    def exit(self, *args: Any, **kwargs: Any) -> None:
        """Quit, remembering the layout first (a failure to write it is logged, never fatal)."""
        self.save_layout()
        super().exit(*args, **kwargs)

    def save_layout(self) -> None:
        """Write the layout file: the main screen's state, and the theme if it was picked here."""
        if self.layout_path is None:
            return
        configured = self.settings.ui.theme
        state = replace(
            self._main.layout_state(),
            theme=self.theme if self.theme != configured else None,
            config_theme=configured,
        )
        try:
            write_layout(self.layout_path, state)
        except OSError as exc:
            log.warning("layout not saved to %s: %s", self.layout_path, exc)

    # -- keys typed for a form that has closed ----------------------------------------------------

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """A form's keys may arrive before it is mounted (`b10000` in one burst): they are held
        until its first field has the focus (`FormOpened`), then handed over in order."""
        if isinstance(screen, CommandForm):
            self._form_opening = screen
            self.set_timer(FORM_OPENING_MAX_S, lambda: self._hand_over_keys(screen))
        return super().push_screen(screen, *args, **kwargs)

    async def _on_key(self, event: events.Key) -> None:
        """A key that bubbled up unhandled from a widget. The main screen's keys reach their
        bindings here, after the app has already handed every key of a burst to the focused
        widget: in `b10000`, `b` opens the ticket and the digits come up behind it, typed
        for the ticket, so they are held for it like the keys read after the push."""
        if self._form_opening is not None and event.key not in self._always_keys:
            event.prevent_default()  # not App's own handling: no binding of the new screen
            self._typed_ahead.append(events.Key(event.key, event.character))

    async def on_form_opened(self, message: FormOpened) -> None:
        await self._hand_over_keys(message.form)

    async def _hand_over_keys(self, form: object) -> None:
        """The keys typed while ``form`` was opening, now read as the user typed them (also
        after ``FORM_OPENING_MAX_S`` whatever happened, so a form that never opens cannot hold
        the keyboard)."""
        if form is not self._form_opening:
            return
        self._form_opening = None
        keys, self._typed_ahead = self._typed_ahead, []
        for key in keys:
            await super().on_event(key)

    def pop_screen(self) -> Any:
        closing = self.screen
        result = super().pop_screen()
        if isinstance(closing, CommandForm) and closing.closed_after_send:
            self._form_closed_until = time.monotonic() + FORM_KEYS_GRACE_S
        return result

    def typing_for_closed_form(self) -> bool:
        """Keys read now would still count as typed for the form that just closed."""
        return time.monotonic() < self._form_closed_until

    async def on_event(self, event: events.Event) -> None:
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in self._always_keys
        ):
            if self._form_opening is not None:
                self._typed_ahead.append(events.Key(event.key, event.character))
                return  # typed for the form that is opening
            if event.time < self._form_closed_until and self.screen is self._main:
                return  # typed for the ticket or dialog that just closed, not the main screen
        await super().on_event(event)

    # -- the trading state on every screen ------------------------------------------------------

    def watch_trading(self, flags: TradingFlags) -> None:
        self.set_class(flags.halted, "-halted")
        self.set_class(flags.reducing, "-reducing")
        for screen in self.screen_stack:
            self._style_screen(screen)

    def on_banner_mounted(self, message: BannerMounted) -> None:
        """A new screen (a dialog, say) shows the banner: fill it in now."""
        self._style_screen(message.banner.screen)

    def _style_screen(self, screen: Screen[object]) -> None:
        """Give `screen` the trading-state classes and its banners the text."""
        flags = self.trading
        screen.set_class(flags.halted, "-halted")
        screen.set_class(flags.reducing, "-reducing")
        for banner in screen.query(TradingBanner):
            banner.show(flags)

    # -- commands ------------------------------------------------------------------------------

    def send(self, label: str, call: Awaitable[Reply]) -> None:
        """Await `call` in a worker and report its reply as a `CommandReplied` message."""
        self.run_worker(self._await_reply(label, call), group="commands", exit_on_error=False)

    async def _await_reply(self, label: str, call: Awaitable[Reply]) -> None:
        try:
            reply = await call
        except Exception as exc:  # a broken connection is a reply the user must see
            reply = Reply(False, "CLIENT_ERROR", str(exc) or type(exc).__name__)
        self.post_message(CommandReplied(label, reply))

    def on_command_replied(self, message: CommandReplied) -> None:
        self.report_reply(message.label, message.reply)

    def report_reply(self, label: str, reply: Reply | None) -> None:
        """Tell the user how a command went: a notification and a line in the log."""
        if reply is None:
            return
        if reply.ok:
            detail = reply.message or "OK"
            text = f"{label}: {detail}" + (f" ({reply.order_id})" if reply.order_id else "")
            self.notify(text, timeout=3)
        else:
            text = f"{label}: {reply.code}: {reply.message}"
            self.notify(text, title="Refused", severity="error", timeout=8)
        self._main.post_message(LogNote(text, error=not reply.ok))

    def on_stream_status_changed(self, message: StreamStatusChanged) -> None:
        self._main.post_message(LogNote(message.detail, error=not message.connected))
        if not message.connected:
            self.notify(message.detail, severity="warning", timeout=5)

    # -- global actions ------------------------------------------------------------------------

    def action_kill_switch(self) -> None:
        """Engage the kill switch now: no confirmation, it only ever reduces risk."""
        self.send("kill switch", self.client.execute(EngageKillSwitch(reason=KILL_REASON)))

    def action_reset_kill_switch(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.send("reset kill switch", self.client.execute(ResetKillSwitch()))

        self.push_screen(
            ConfirmScreen(
                "Reset kill switch",
                "Re-arm trading for every account? New orders will be accepted again.",
                yes="Reset",
            ),
            callback=answered,
        )

    def action_toggle_reducing(self) -> None:
        on = not self.model.reducing
        label = "reduce only on" if on else "reduce only off"
        self.send(label, self.client.execute(SetReducing(on=on)))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.settings.ui.keymap))

    async def action_quit(self) -> None:
        working = self.model.working_orders()
        if not working:
            self.exit()
            return
        if isinstance(self.screen, ConfirmScreen):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "Quit",
                f"{len(working)} order(s) are still working. They stay with the engine and the "
                "broker after you quit. Quit anyway?",
                yes="Quit",
            ),
            callback=answered,
        )


def _freeze_startup_objects() -> None:
    """Move what start-up made (modules, widgets, styles, the first snapshot) out of the
    garbage collector's sight: they live as long as the app, and a full collection that walks
    them all held the UI loop for 20-50 ms, a frame's latency several times over. Only the
    cyclic collector ignores them; what they let go of is freed as before.

    Once per process: a process that runs app after app (the test suite) would otherwise
    freeze each earlier app's garbage for good."""
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


_FROZEN = False


def rings(bell: str, environ: Mapping[str, str]) -> bool:
    """Whether the bell rings: `on`, `off`, or `auto`: on, except over SSH (``SSH_CONNECTION``
    or ``SSH_TTY`` set), where the beep would sound on the laptop at the far end."""
    if bell == "auto":
        return not (environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))
    return bell == "on"


def create_app(
    settings: Settings,
    client: EngineClient,
    *,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    layout_path: Path | None = None,
) -> TmtApp:
    """The app on `client`: the one way the CLI, `tmt attach`, tests and snapshots build it.
    `clock` is the wall clock the screen shows, `monotonic` the one it measures silences by;
    `layout_path` is where the layout is remembered between runs (`tui/layout.py`)."""
    return TmtApp(settings, client, clock=clock, monotonic=monotonic, layout_path=layout_path)
