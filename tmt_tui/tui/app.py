"""The Textual app, built by `create_app(settings, client)`: it owns the frame pump, little else.

One task consumes `client.subscribe()` and folds every item into the view model (cheap dict
upserts on the UI loop, no widget touched); a timer at `settings.ui.fps` pushes what changed
to the widgets, so a burst of updates between two frames costs one repaint. Commands go out
through workers and come back as `CommandReplied` messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from textual.app import App
from textual.screen import Screen
from textual.theme import Theme

from tmt_tui.config import Settings
from tmt_tui.domain.client import EngineClient, Reply
from tmt_tui.domain.commands import EngageKillSwitch, ResetKillSwitch, SetReducing
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.quotes import Quote
from tmt_tui.tui.actions import ActionCommands, bindings
from tmt_tui.tui.formatting import units
from tmt_tui.tui.messages import CommandReplied, StreamStatusChanged
from tmt_tui.tui.screens.dialogs import ConfirmScreen
from tmt_tui.tui.screens.main import MainScreen
from tmt_tui.tui.screens.ticket import OrderTicketScreen
from tmt_tui.tui.state import ViewModel
from tmt_tui.tui.themes import TRADING_VARIABLE_DEFAULTS, Palette, load_themes
from tmt_tui.tui.widgets.header import TradingBanner

#: Tables, header and gauges refresh at most this often (seconds); quotes go every frame.
SLOW_INTERVAL = 0.25
#: Wait before subscribing again after the stream ends or fails.
RESUBSCRIBE_SECONDS = 1.0
#: With no stream item for this long the header says the picture is stale.
STALE_SECONDS = 5.0
KILL_REASON = "kill switch (UI)"


class TmtApp(App[None]):
    """The workstation on one `EngineClient`: the same app for embedded and remote engines."""

    CSS_PATH = "tmt.tcss"
    TITLE = "tmt"
    BINDINGS = bindings("app")
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        settings: Settings,
        client: EngineClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.client = client
        self.model = ViewModel()
        self.stream_status = "connecting…"
        self.palette = Palette.from_variables(TRADING_VARIABLE_DEFAULTS)
        self.frames = 0  # frames that pushed something to the widgets
        self._last_slow = 0.0
        self._slow_pending = True
        self._trading_flags = (False, False, "")
        self._last_account = settings.accounts[0].id if settings.accounts else None
        for theme in load_themes():
            self.register_theme(theme)
        wanted = settings.ui.theme
        self.theme = wanted if wanted in self.available_themes else "tmt-dark"
        self.main_screen = MainScreen(clock)

    # -- composition and lifetime -------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Trading colours for themes that lack them (Textual's built-ins)."""
        return dict(TRADING_VARIABLE_DEFAULTS)

    def on_mount(self) -> None:
        self.set_keymap(dict(self.settings.ui.keymap))
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._theme_changed(self.current_theme)
        self.set_interval(1 / self.settings.ui.fps, self._frame, name="frame-pump")
        self.set_interval(1.0, self._tick_clock, name="clock")
        self.run_worker(
            self._consume(),
            name="engine-stream",
            group="stream",
            exclusive=True,
            exit_on_error=False,
        )

    async def _consume(self) -> None:
        """Fold the engine stream into the model forever; resubscribe (fresh snapshot) on an end."""
        while True:
            try:
                async for item in self.client.subscribe():
                    if self.stream_status != "live":
                        self.stream_status = "live"
                        self.post_message(StreamStatusChanged(True, "engine stream live"))
                    self.model.apply(item)
                detail = "engine stream ended"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream broke: show it, then try again
                detail = f"engine stream failed: {exc or type(exc).__name__}"
            self.stream_status = "disconnected"
            self.post_message(StreamStatusChanged(False, detail))
            await asyncio.sleep(RESUBSCRIBE_SECONDS)

    def _tick_clock(self) -> None:
        """Once a second: the clocks, and whether the engine has gone quiet."""
        age = time.monotonic() - self.model.last_item_at
        if self.stream_status == "live" or self.stream_status.startswith("stale"):
            status = f"stale: nothing from the engine for {age:.0f}s"
            if age > STALE_SECONDS and status != self.stream_status:
                self.stream_status = status
                self._slow_pending = True
        self.main_screen.tick_clock()

    # -- the frame pump -----------------------------------------------------------------------

    def _frame(self) -> None:
        if not self.main_screen.is_attached:
            return
        now = time.monotonic()
        dirty = self.model.take_dirty()
        self._slow_pending |= bool(dirty.reset or dirty.accounts or dirty.positions or dirty.orders)
        slow = self._slow_pending and (dirty.reset or now - self._last_slow >= SLOW_INTERVAL)
        with self.batch_update():
            self.main_screen.apply_frame(self.model, dirty, now, slow=slow)
            if dirty.reset or dirty.accounts or dirty.events:
                self._show_trading_state()
        if slow:
            self._last_slow = now
            self._slow_pending = False
        if dirty:
            self.frames += 1

    def _show_trading_state(self) -> None:
        """Banner text and `-halted` / `-reducing` classes from the accounts' trading states."""
        model = self.model
        halted = model.halted
        reducing = model.reducing and not halted
        if halted:
            reason = model.state_reason(TradingState.HALTED)
            text = f"HALTED — {reason}" if reason else "HALTED"
            text += " — closing and cancelling still allowed; ctrl+r resets"
        elif reducing:
            reason = model.state_reason(TradingState.REDUCING)
            text = f"REDUCING — only risk-reducing orders{': ' + reason if reason else ''}"
        else:
            text = ""
        flags = (halted, reducing, text)
        if flags == self._trading_flags:
            return
        self._trading_flags = flags
        self.set_class(halted, "-halted")
        self.set_class(reducing, "-reducing")
        for screen in self.screen_stack:
            self.style_screen(screen)

    def style_screen(self, screen: Screen[object]) -> None:
        """Give `screen` the trading-state classes and banner text (new dialogs call this too)."""
        halted, reducing, text = self._trading_flags
        screen.set_class(halted, "-halted")
        screen.set_class(reducing, "-reducing")
        for banner in screen.query(TradingBanner):
            banner.update(text)

    def _theme_changed(self, theme: Theme) -> None:
        self.palette = Palette.from_variables(self.theme_variables or self.get_css_variables())
        if self.main_screen.is_mounted:
            self.main_screen.set_palette(self.palette)
            self._slow_pending = True
            self._last_slow = 0.0

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
        if self.main_screen.is_mounted:
            self.main_screen.log_note(text, error=not reply.ok)

    def on_stream_status_changed(self, message: StreamStatusChanged) -> None:
        self._slow_pending = True
        if self.main_screen.is_mounted:
            self.main_screen.log_note(message.detail, error=not message.connected)
        if not message.connected:
            self.notify(message.detail, severity="warning", timeout=5)

    def open_ticket(self, instrument_name: str, side: int) -> None:
        """The order ticket for `instrument_name` (side +1 buys, -1 sells)."""
        instrument = self.model.instruments.get(instrument_name)
        if instrument is None:
            self.notify(f"Unknown instrument {instrument_name}", severity="warning")
            return

        def quote() -> Quote | None:
            row = self.model.quotes.get(instrument_name)
            return row.quote if row else None

        accounts = list(self.model.accounts.values())  # the engine's, not this config's
        ticket = OrderTicketScreen(
            self.client,
            instrument,
            side,
            accounts,
            quote,
            account=self._last_account if self._last_account in self.model.accounts else None,
        )

        def done(reply: Reply | None) -> None:
            if ticket.sent:
                last = ticket.sent[-1]
                self._last_account = last.account
                label = f"{'BUY' if last.units > 0 else 'SELL'} {units(last.units, signed=False)}"
                self.report_reply(f"{label} {last.instrument}", reply)

        self.push_screen(ticket, callback=done)

    def action_kill_switch(self) -> None:
        """Engage the kill switch now: no confirmation, it only ever reduces risk."""
        self.send(
            "kill switch", self.client.execute(EngageKillSwitch(reason=KILL_REASON))
        )

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


def create_app(
    settings: Settings, client: EngineClient, *, clock: Callable[[], float] = time.time
) -> TmtApp:
    """The app on `client`: the one way the CLI, `tmt attach`, tests and snapshots build it."""
    return TmtApp(settings, client, clock=clock)
