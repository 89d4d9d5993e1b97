"""The one registry of keys: bindings, footer, help screen and command palette all come from here.

Every entry has a stable kebab-case id, so users remap keys in `[ui.keymap]` (applied through
`App.set_keymap`) and the help screen and palette show the keys actually in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tmt_tui.tui.panes import PANES

if TYPE_CHECKING:
    from textual.screen import Screen

Scope = Literal["app", "main", "ticket", "dialog", "confirm"]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One user action: its binding id, default keys, Textual action and where it is bound.

    `app` scope binds on the App (works on every screen, priority ones even inside an Input);
    `main` scope binds on the main screen only, so dialogs keep their own keys (an `app.`
    action bound there still runs on the app: help, quit); `ticket` and
    `dialog` bind on the order ticket and on the small dialogs (modify, help), `confirm` on
    yes/no questions only.
    """

    id: str
    keys: str
    action: str
    description: str
    tooltip: str
    scope: Scope = "main"
    priority: bool = False
    show: bool = True
    palette: bool = True
    key_display: str | None = None

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.description,
            show=self.show,
            key_display=self.key_display,
            priority=self.priority,
            tooltip=self.tooltip,
            id=self.id,
        )


REGISTRY: tuple[ActionSpec, ...] = (
    ActionSpec(
        "kill-switch",
        "ctrl+k,f12",
        "kill_switch",
        "KILL",
        "Halt trading now: cancel every order that adds exposure and reject new ones.",
        scope="app",
        priority=True,
    ),
    ActionSpec(
        "reset-kill-switch",
        "ctrl+r",
        "reset_kill_switch",
        "Reset halt",
        "Re-arm trading after a halt (asks for confirmation; refused while a loss breach holds).",
        scope="app",
        show=False,
    ),
    ActionSpec(
        "reduce-only",
        "ctrl+d",
        "toggle_reducing",
        "Reduce only",
        "Toggle REDUCING for every account: only orders that reduce risk are accepted.",
        scope="app",
        show=False,
    ),
    ActionSpec("buy", "b", "buy", "Buy", "Open a buy ticket for the selected instrument."),
    ActionSpec("sell", "s", "sell", "Sell", "Open a sell ticket for the selected instrument."),
    ActionSpec(
        "modify-order",
        "m",
        "modify_order",
        "Modify",
        "Change the price or units of the selected working order.",
        show=False,
    ),
    ActionSpec("cancel-order", "c", "cancel_order", "Cancel", "Cancel the selected order."),
    ActionSpec(
        "close-position",
        "x",
        "close_position",
        "Close",
        "Close the selected position with a market order (allowed while halted).",
    ),
    ActionSpec(
        "next-pane", "tab", "cycle_pane(1)", "Next pane", "Focus the next pane.", show=False
    ),
    ActionSpec(
        "previous-pane",
        "shift+tab",
        "cycle_pane(-1)",
        "Previous pane",
        "Focus the previous pane.",
        show=False,
    ),
    *(
        ActionSpec(
            f"focus-{pane.id}",
            pane.key,
            f"focus_pane({pane.id!r})",
            pane.title,
            pane.tooltip,
            show=False,
        )
        for pane in PANES
    ),
    ActionSpec(
        "cycle-account",
        "a",
        "cycle_account",
        "Account",
        "In history (6) or analytics (7): show the next account (history: all, then each).",
        show=False,
    ),
    ActionSpec(
        "filter-instrument",
        "i",
        "filter_instrument",
        "Pair only",
        "In history (6): only the highlighted trade's pair; again: every pair.",
        show=False,
    ),
    ActionSpec(
        "cycle-period",
        "p",
        "cycle_period",
        "Period",
        "In analytics (7): the period shown: all, today, this trading week, this month.",
        show=False,
    ),
    ActionSpec(
        "next-bar-size",
        "right_square_bracket",
        "cycle_bar_size(1)",
        "Bigger bars",
        "In the chart (8): the next bar size up (S5, M1, M5, M15, H1).",
        show=False,
        key_display="]",
    ),
    ActionSpec(
        "previous-bar-size",
        "left_square_bracket",
        "cycle_bar_size(-1)",
        "Smaller bars",
        "In the chart (8): the next bar size down (H1, M15, M5, M1, S5).",
        show=False,
        key_display="[",
    ),
    ActionSpec(
        "maximize-pane",
        "z",
        "toggle_maximize",
        "Zoom",
        "Fill the screen with the focused pane (z again restores the layout).",
        show=False,
    ),
    ActionSpec(
        "watch-add",
        "w",
        "watch_add",
        "Watch",
        "Add an instrument to the watchlist: type part of its name (eur, eurusd, EUR/USD).",
        show=False,
    ),
    ActionSpec(
        "watch-remove",
        "delete,backspace",
        "watch_remove",
        "Unwatch",
        "Take the selected instrument off the watchlist (w, enter puts it back).",
        show=False,
    ),
    ActionSpec(
        "watch-move-up",
        "shift+up,K",
        "watch_move(-1)",
        "Move up",
        "Move the selected instrument up the watchlist (in your own order).",
        show=False,
    ),
    ActionSpec(
        "watch-move-down",
        "shift+down,J",
        "watch_move(1)",
        "Move down",
        "Move the selected instrument down the watchlist (in your own order).",
        show=False,
    ),
    ActionSpec(
        "watch-sort",
        "o",
        "watch_sort",
        "Sort",
        "Sort the board: your order, name, change %, spread (tightest first), regime.",
        show=False,
    ),
    ActionSpec(
        "account-view",
        "v",
        "account_view",
        "View",
        "Show one account's instruments, positions and orders (its tickets too); again: the next.",
        show=False,
    ),
    ActionSpec(
        "replay-pause",
        "space",
        "replay_pause",
        "Pause/resume",
        "In a replay (tmt replay): pause the recorded ticks, or play on.",
        show=False,
    ),
    ActionSpec(
        "replay-faster",
        "plus,equals_sign",
        "replay_speed(1)",
        "Faster",
        "In a replay (tmt replay): the next speed up: 1x, 10x, 100x, max.",
        show=False,
        key_display="+",
    ),
    ActionSpec(
        "replay-slower",
        "minus",
        "replay_speed(-1)",
        "Slower",
        "In a replay (tmt replay): the next speed down: max, 100x, 10x, 1x.",
        show=False,
        key_display="-",
    ),
    ActionSpec(
        "price-alert",
        "exclamation_mark",
        "price_alert",
        "Alert",
        "Set a price alert on the selected instrument: above fires when the bid reaches the "
        "level, below when the ask does; once.",
        show=False,
        key_display="!",
    ),
    ActionSpec(
        "price-alerts",
        "A",
        "price_alerts",
        "Alerts",
        "List the active price alerts (c cancels the highlighted one).",
        show=False,
    ),
    ActionSpec(
        "help", "question_mark", "app.help", "Help", "List every key.", key_display="?", show=True
    ),
    ActionSpec(
        "quit",
        "q",
        "app.quit",
        "Quit",
        "Leave the workstation (asks first when orders are working; they stay at the broker).",
    ),
    ActionSpec(
        "ticket-submit",
        "ctrl+s",
        "submit",
        "Send",
        "Send the order in the ticket (enter in a field does the same).",
        scope="ticket",
        palette=False,
    ),
    ActionSpec(
        "dialog-close",
        "escape",
        "close",
        "Close",
        "Close the ticket or dialog without doing anything (never the kill switch).",
        scope="ticket",
        palette=False,
    ),
    ActionSpec(
        "dialog-apply",
        "ctrl+s",
        "apply",
        "Apply",
        "Apply the dialog (send the change, confirm).",
        scope="dialog",
        palette=False,
    ),
    ActionSpec(
        "dialog-yes", "y", "answer(True)", "Yes", "Confirm.", scope="confirm", palette=False
    ),
    ActionSpec("dialog-no", "n", "answer(False)", "No", "Decline.", scope="confirm", palette=False),
    ActionSpec(
        "dialog-dismiss",
        "escape",
        "close",
        "Close",
        "Close the dialog without doing anything.",
        scope="dialog",
        palette=False,
    ),
)

BY_ID: dict[str, ActionSpec] = {spec.id: spec for spec in REGISTRY}


def keymap_problem(keymap: Mapping[str, str]) -> str | None:
    """Why ``[ui.keymap]`` cannot be applied (a binding id that does not exist), or None: a
    typo must not leave the kill switch on a key the trader thinks they moved."""
    unknown = sorted(set(keymap) - set(BY_ID))
    if not unknown:
        return None
    return (
        f"key 'ui.keymap.{unknown[0]}' names no binding "
        f"(expected one of: {', '.join(sorted(BY_ID))})"
    )


def bindings(scope: Scope) -> list[BindingType]:
    """The Textual bindings of one scope, in registry order."""
    return [spec.binding() for spec in REGISTRY if spec.scope == scope]


_KEY_NAMES = {"question_mark": "?", "exclamation_mark": "!"}


def priority_keys(keymap: Mapping[str, str]) -> frozenset[str]:
    """Every key bound to a priority action (the kill switch) once the keymap is applied:
    keys that must act whatever screen has them."""
    return frozenset(
        key.strip()
        for spec in REGISTRY
        if spec.priority
        for key in keymap.get(spec.id, spec.keys).split(",")
    )


def effective_keys(spec: ActionSpec, keymap: Mapping[str, str]) -> str:
    """The keys in force for `spec` once the user's keymap is applied, as the user types them."""
    keys = keymap.get(spec.id, spec.keys)
    return ", ".join(_KEY_NAMES.get(key.strip(), key.strip()) for key in keys.split(","))


def help_rows(keymap: Mapping[str, str]) -> Iterable[tuple[str, str, str]]:
    """(keys, name, what it does) for every registered action, for the help screen."""
    seen: set[tuple[str, str]] = set()
    for spec in REGISTRY:
        keys = effective_keys(spec, keymap)
        if (keys, spec.description) not in seen:
            seen.add((keys, spec.description))
            yield keys, spec.description, spec.tooltip
    yield "ctrl+p", "Palette", "Search every command (same actions as the keys)."


class ActionCommands(Provider):
    """Command palette entries for every registered action, run where their binding lives."""

    def _run(self, spec: ActionSpec) -> None:
        app = self.app
        target = app if spec.scope == "app" else _screen_binding(app.screen_stack, spec.id)
        if target is not None:
            app.call_later(app.run_action, spec.action, target)

    async def discover(self) -> Hits:
        for spec in REGISTRY:
            if spec.palette:
                yield DiscoveryHit(spec.description, partial(self._run, spec), help=spec.tooltip)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec in REGISTRY:
            if not spec.palette:
                continue
            text = f"{spec.description} ({spec.id})"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(text), partial(self._run, spec), help=spec.tooltip
                )


def _screen_binding(stack: list[Screen[Any]], binding_id: str) -> Screen[Any] | None:
    """The topmost screen that binds `binding_id`: where its key would run the action."""
    for screen in reversed(stack):
        if any(isinstance(b, Binding) and b.id == binding_id for b in screen.BINDINGS):
            found: Screen[Any] = screen
            return found
    return None
