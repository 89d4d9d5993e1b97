"""Decisions: commands in, events and broker requests out (through the recorder).

Nothing here does I/O or reads a wall clock directly: the clock is handed in, and what a command
produced leaves as the runner's next ``Batch``. Same inputs, same events, which is what makes
replay and tests exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tmt_tui.domain.client import Reply
from tmt_tui.domain.codec import to_wire
from tmt_tui.domain.commands import (
    MAX_NAME,
    QUERIES,
    CancelAll,
    CancelOrder,
    ClosePosition,
    Command,
    EngageKillSwitch,
    ModifyOrder,
    QueryAnalytics,
    QueryPreview,
    QueryTrades,
    ResetKillSwitch,
    SetReducing,
    StopEngine,
    SubmitOrder,
    command_problem,
    command_to_wire,
    printable_text,
)
from tmt_tui.domain.events import EventKind
from tmt_tui.domain.history import KILL_SWITCH, ClosedTrade, TradeHistory
from tmt_tui.domain.orders import CancelWhy, Order, OrderStatus, OrderType, TimeInForce
from tmt_tui.domain.positions import TradingState
from tmt_tui.domain.preview import OrderPreview, PreviewCheck
from tmt_tui.domain.reasons import Reason
from tmt_tui.engine.batch import Flags
from tmt_tui.engine.price_alert_decisions import PriceAlertDecisions
from tmt_tui.engine.recorder import Recorder, Stage
from tmt_tui.engine.risk import RiskEngine
from tmt_tui.venues.base import ModifyRequest, SubmitRequest

#: What a re-price alone is checked for (it adds no size, so exposure guards do not apply).
_PRICE_REASONS = frozenset(
    {Reason.INVALID_PRICE, Reason.PRICE_PRECISION_EXCEEDED, Reason.PRICE_COLLAR}
)


class Decisions(Stage):
    """Turns each command into events and broker requests, behind the pre-trade risk checks."""

    def __init__(self, rec: Recorder, flags: Flags) -> None:
        super().__init__(rec, flags)
        self.risk = RiskEngine(rec.state.quotes, rec.state.portfolio)
        # called with (seconds, rejection code or None) after every full pre-trade check
        self.on_risk_check: Callable[[float, str | None], None] | None = None
        #: one handler per command (a new command is a dataclass and an entry here)
        self._handlers: dict[type, Callable[[Any], Reply]] = {
            ModifyOrder: self._modify,
            CancelOrder: self._cancel,
            ClosePosition: self._close,
            CancelAll: self._cancel_all,
            EngageKillSwitch: self.engage_kill_switch,
            ResetKillSwitch: self._reset,
            SetReducing: self._reducing,
            StopEngine: self._stop,
            QueryTrades: self._query_trades,
            QueryAnalytics: self._elsewhere,
            QueryPreview: self._preview,
        }
        self._handlers.update(PriceAlertDecisions(rec, flags, self._refuse).handlers())

    # commands -------------------------------------------------------------------------------

    def handle(self, command: Command) -> Reply:
        """Apply one command; the reply is final once the batch it made is durable. A query
        only reads: nothing is journaled for it."""
        if type(command) in QUERIES:
            return self._handlers[type(command)](command)
        if isinstance(command, EngageKillSwitch):  # never refused: its reason is cleaned
            command = EngageKillSwitch(
                printable_text(command.reason) or "kill switch", command.origin
            )
        self.rec.emit(EventKind.COMMAND, command.origin.value, command_to_wire(command))
        problem = command_problem(command)
        if isinstance(command, SubmitOrder):
            return self._submit(command, problem)
        if problem is not None:
            return self._refuse(command, *problem)
        return self._handlers[type(command)](command)

    def _query_trades(self, cmd: QueryTrades) -> Reply:
        limit = max(0, min(cmd.limit, len(self.state.closed_trades)))
        found: list[ClosedTrade] = []
        for trade in reversed(self.state.closed_trades):  # newest first
            if len(found) >= limit:
                break
            if cmd.account is not None and trade.account != cmd.account:
                continue
            if cmd.instrument is not None and trade.instrument != cmd.instrument:
                continue
            if cmd.since is not None and trade.close_ts < cmd.since:
                break  # older from here on
            found.append(trade)
        history = TradeHistory(tuple(found))
        return Reply(True, "OK", f"{len(found)} closed trades", seq=self.state.seq, payload=history)

    def _preview(self, cmd: QueryPreview) -> Reply:
        """The dry run of ``cmd.order``: every guard a real order meets, nothing sent."""
        asked = cmd.order
        problem = command_problem(asked)
        if problem is not None:  # out of any range: said as a real submit would say it
            code, message = problem
            check = PreviewCheck("command", False, code.value, message)
            preview = OrderPreview(asked.account, asked.instrument, 0, checks=(check,))
            return Reply(True, "OK", message, seq=self.state.seq, payload=preview)
        now = self.clock()
        order = _order_of(asked, "preview", now)
        preview = self.risk.preview(
            order, self.state.orders.count(order.account), now, self.flags.halt_pending
        )
        if self.flags.reconciling:
            waiting = PreviewCheck(
                "venue", False, Reason.RECONCILING.value, "reconciling with the venue"
            )
            preview = replace(preview, checks=(*preview.checks, waiting))
        verdict = "passes" if preview.ok else f"fails: {preview.failed[0].message}"
        return Reply(True, "OK", verdict, seq=self.state.seq, payload=preview)

    def _elsewhere(self, cmd: Command) -> Reply:
        """A query the runner answers off the loop (it reads the journal), not the core."""
        message = f"{type(cmd).__name__} is answered by the engine runner"
        return Reply(False, Reason.ENGINE_ERROR.value, message, seq=self.state.seq)

    def _stop(self, cmd: StopEngine) -> Reply:
        return Reply(True, "OK", "stopping", seq=self.state.seq)

    def _refuse(self, command: Command, code: Reason, message: str) -> Reply:
        self.rec.emit(
            EventKind.COMMAND_REJECTED,
            command.origin.value,
            {"command": type(command).__name__, "code": code.value, "message": message},
        )
        return Reply(False, code.value, message, seq=self.state.seq)

    def _submit(self, cmd: SubmitOrder, problem: tuple[Reason, str] | None) -> Reply:
        now = self.clock()
        order_id = f"O{self.state.seq}"
        if problem is not None:  # out of any range: the rejected order keeps no wild value
            return self._reject_order(
                Order(
                    order_id,
                    cmd.account[:MAX_NAME],
                    cmd.instrument[:MAX_NAME],
                    0,
                    cmd.type,
                    origin=cmd.origin.value,
                ),
                *problem,
            )
        return self._send(_order_of(cmd, order_id, now), now)

    def _send(self, order: Order, now: float) -> Reply:
        if order.type not in (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP):
            return self._reject_order(order, Reason.INVALID_PRICE, "only market, limit and stop")
        if self.flags.reconciling:
            return self._reject_order(
                order, Reason.RECONCILING, "reconciling with the venue; try again in a moment"
            )
        started = time.perf_counter()
        rejection = self.risk.check(
            order, self.state.orders.count(order.account), now, self.flags.halt_pending
        )
        if self.on_risk_check is not None:
            self.on_risk_check(
                time.perf_counter() - started, None if rejection is None else rejection[0].value
            )
        if rejection is not None:
            return self._reject_order(order, *rejection)
        self.risk.throttle.record(order.account, now)
        submitted = order.moved_to(OrderStatus.SUBMITTED)
        self.rec.emit(
            EventKind.ORDER_SUBMITTED, order.origin, {"order": to_wire(submitted)}, submitted
        )
        self.rec.request(SubmitRequest(submitted))
        return Reply(True, "OK", "submitted", submitted.id, self.state.seq)

    def _reject_order(self, order: Order, code: Reason, message: str) -> Reply:
        rejected = order.moved_to(OrderStatus.REJECTED, reason=f"{code.value}: {message}")
        self.rec.emit(
            EventKind.ORDER_REJECTED,
            order.origin,
            {"order": to_wire(rejected), "code": code.value, "message": message, "source": "risk"},
        )
        return Reply(False, code.value, message, order.id, self.state.seq)

    def _modify(self, cmd: ModifyOrder) -> Reply:
        if self.flags.reconciling:
            return self._refuse(
                cmd, Reason.RECONCILING, "reconciling with the venue; try again in a moment"
            )
        order = self.state.orders.get(cmd.order_id)
        if order is None:
            return self._refuse(cmd, Reason.UNKNOWN_ORDER, f"no working order {cmd.order_id}")
        if order.status is not OrderStatus.WORKING or order.type is OrderType.MARKET:
            return self._refuse(
                cmd, Reason.ORDER_NOT_MODIFIABLE, f"{order.id} is {order.status.value.lower()}"
            )
        units = order.units if cmd.units is None else cmd.units
        if isinstance(units, bool) or not isinstance(units, int) or units == 0:
            return self._refuse(cmd, Reason.INVALID_UNITS, "units must be a non-zero whole number")
        if (units > 0) != (order.units > 0):
            units = -units  # the ticket speaks in sizes; the side stays the order's
        inst = self.state.quotes.instruments[order.instrument]
        if cmd.price is not None:
            if not cmd.price.is_finite() or cmd.price <= 0:
                return self._refuse(cmd, Reason.INVALID_PRICE, "price must be a positive number")
            if not inst.is_on_tick(cmd.price):
                return self._refuse(
                    cmd,
                    Reason.PRICE_PRECISION_EXCEEDED,
                    f"price {cmd.price} has more than {inst.display_precision} decimals",
                )
        grows = abs(units) > abs(order.units)
        if not order.is_protective and (grows or cmd.price is not None):
            # the changed order must pass what a new one would (itself not counted as working)
            price = cmd.price if cmd.price is not None else order.price
            candidate = order.with_changes({"units": units, "price": price})
            rejection = self.risk.check(
                candidate,
                self.state.orders.count(order.account) - 1,
                self.clock(),
                self.flags.halt_pending,
            )
            if rejection is not None and (grows or rejection[0] in _PRICE_REASONS):
                return self._refuse(cmd, *rejection)
        self.rec.request(ModifyRequest(order, cmd.price, units))
        return Reply(True, "OK", "modify sent", order.id, self.state.seq)

    def _cancel(self, cmd: CancelOrder) -> Reply:
        order = self.state.orders.get(cmd.order_id)
        if order is None:
            return self._refuse(cmd, Reason.UNKNOWN_ORDER, f"no working order {cmd.order_id}")
        self.rec.cancel(order, CancelWhy.USER, cmd.origin.value)
        return Reply(True, "OK", "cancel sent", order.id, self.state.seq)

    def _close_order(
        self,
        account: str,
        instrument: str,
        units: int,
        origin: str,
        trade_id: str | None = None,
        why: str = "",
    ) -> Order:
        """A market order that only reduces; ``why`` (kill switch, flatten) is its reason until
        the venue gives it another, and the reason its closed trades give."""
        now = self.clock()
        return Order(
            id=f"O{self.state.seq}-{account}-{instrument}",
            account=account,
            instrument=instrument,
            units=units,
            type=OrderType.MARKET,
            time_in_force=TimeInForce.FOK,
            reduce_only=True,
            trade_id=trade_id,
            reason=why,
            origin=origin,
            created_ts=now,
            updated_ts=now,
        )

    def _close(self, cmd: ClosePosition) -> Reply:
        if cmd.account not in self.state.portfolio.accounts:
            return self._refuse(cmd, Reason.UNKNOWN_ACCOUNT, f"unknown account {cmd.account}")
        position = self.state.portfolio.units(cmd.account, cmd.instrument)
        if cmd.trade_id is not None:
            trade = self.state.portfolio.find_trade(cmd.account, cmd.instrument, cmd.trade_id)
            if trade is None:
                return self._refuse(
                    cmd, Reason.NO_POSITION, f"no open trade {cmd.trade_id} in {cmd.instrument}"
                )
            position = trade.units
        if position == 0:
            return self._refuse(
                cmd, Reason.NO_POSITION, f"no {cmd.instrument} position in {cmd.account}"
            )
        size = abs(position) if cmd.units is None else min(abs(cmd.units), abs(position))
        if size <= 0:
            return self._refuse(cmd, Reason.INVALID_UNITS, "units to close must be positive")
        units = -size if position > 0 else size
        order = self._close_order(
            cmd.account, cmd.instrument, units, cmd.origin.value, cmd.trade_id, cmd.why[:40]
        )
        return self._send(order, order.created_ts)

    def _cancel_all(self, cmd: CancelAll) -> Reply:
        if cmd.account is not None and cmd.account not in self.state.portfolio.accounts:
            return self._refuse(cmd, Reason.UNKNOWN_ACCOUNT, f"unknown account {cmd.account}")
        targets = [o for o in self.state.orders.for_account(cmd.account) if not o.is_protective]
        why = CancelWhy(cmd.why) if cmd.why in set(CancelWhy) else CancelWhy.USER
        for order in targets:
            self.rec.cancel(order, why, cmd.origin.value)
        return Reply(True, "OK", f"cancelling {len(targets)} orders", seq=self.state.seq)

    def engage_kill_switch(self, cmd: EngageKillSwitch) -> Reply:
        """HALT every account: cancel what could add exposure (flatten first if configured)."""
        self.flags.halt_pending = False
        origin = cmd.origin.value
        flatten = self.state.settings.kill_switch.flatten
        already = self.state.kill_engaged
        self.rec.emit(
            EventKind.KILL_SWITCH_ENGAGED, origin, {"reason": cmd.reason, "flatten": flatten}
        )
        for acct in self.state.portfolio.accounts.values():
            if acct.state is not TradingState.HALTED:
                self.rec.set_trading_state(acct.id, TradingState.HALTED, cmd.reason, origin)
        closed = 0
        if flatten:
            for book in list(self.state.portfolio.books.values()):
                if book.units and self.state.quotes.get(book.instrument) is not None:
                    order = self._close_order(
                        book.account, book.instrument, -book.units, origin, why=KILL_SWITCH
                    )
                    self._send(order, order.created_ts)
                    closed += 1
        cancelled = self.rec.cancel_exposure(
            None, keep_protective=True, why=CancelWhy.KILL_SWITCH, origin=origin
        )
        word = "still HALTED" if already else "HALTED"
        message = f"{word}: cancelling {cancelled} orders" + (
            f", closing {closed} positions" if flatten else ""
        )
        return Reply(True, "OK", message, seq=self.state.seq)

    def flatten_account(self, account: str, why: str, origin: str) -> int:
        """Close every position of ``account`` at the market (reduce-only, ``why`` as the
        reason its trades give); returns how many closes went out. A position with no quote
        yet is left for the trader, as the kill switch's flatten leaves it."""
        closed = 0
        for book in list(self.state.portfolio.books.values()):
            if book.account != account or not book.units:
                continue
            if self.state.quotes.get(book.instrument) is None:
                continue
            order = self._close_order(account, book.instrument, -book.units, origin, why=why)
            self._send(order, order.created_ts)
            closed += 1
        return closed

    def journal_failed(self, why: str) -> None:
        """The journal refused a batch: memory is now ahead of disk. Halt every account, in
        memory only (nothing more can be trusted to the journal about it), so that status, the
        screens, metrics and ``status --check`` all say HALTED with the reason; closing stays
        allowed, and only a restart (which reloads from the journal) re-arms trading."""
        self.flags.journal_broken = why
        self.flags.halt_pending = True
        self.state.kill_engaged = True
        self.state.kill_reason = why
        for acct in self.state.portfolio.accounts.values():
            acct.state = TradingState.HALTED
            acct.reason = why
            self.state.changes.accounts.add(acct.id)

    def _reset(self, cmd: ResetKillSwitch) -> Reply:
        if self.flags.journal_broken:
            return self._refuse(
                cmd,
                Reason.JOURNAL_ERROR,
                f"{self.flags.journal_broken}: restart the engine to reload from the journal",
            )
        halted = [
            a for a in self.state.portfolio.accounts.values() if a.state is TradingState.HALTED
        ]
        if not halted and not self.state.kill_engaged:
            return self._refuse(cmd, Reason.NOT_HALTED, "nothing is halted")
        breached = [a.id for a in halted if a.breached]
        if breached:
            return self._refuse(
                cmd,
                Reason.DAILY_LOSS_BREACH_HOLDS,
                f"daily loss limit breached on {', '.join(breached)}: "
                "reset allowed after the 17:00 New York rollover",
            )
        self.rec.emit(EventKind.KILL_SWITCH_RESET, cmd.origin.value, {})
        for acct in halted:
            self.rec.set_trading_state(acct.id, TradingState.ACTIVE, "reset", cmd.origin.value)
        return Reply(True, "OK", "ACTIVE: kill switch reset", seq=self.state.seq)

    def _reducing(self, cmd: SetReducing) -> Reply:
        targets = [
            a
            for a in self.state.portfolio.accounts.values()
            if cmd.account is None or a.id == cmd.account
        ]
        if not targets:
            return self._refuse(cmd, Reason.UNKNOWN_ACCOUNT, f"unknown account {cmd.account}")
        changed = []
        for acct in targets:
            if acct.state is TradingState.HALTED:
                continue
            want = TradingState.REDUCING if cmd.on else TradingState.ACTIVE
            if acct.state is not want:
                reason = "reduce-only (manual)" if cmd.on else "manual"
                self.rec.set_trading_state(acct.id, want, reason, cmd.origin.value)
                changed.append(acct.id)
        if not changed and all(a.state is TradingState.HALTED for a in targets):
            return self._refuse(cmd, Reason.TRADING_HALTED, "HALTED: reset the kill switch first")
        word = "REDUCING" if cmd.on else "ACTIVE"
        return Reply(True, "OK", f"{word}: {', '.join(changed) or 'no change'}", seq=self.state.seq)


def _order_of(cmd: SubmitOrder, order_id: str, now: float) -> Order:
    """The order a SubmitOrder asks for (a preview judges the very one a submit would send)."""
    tif = cmd.time_in_force or (
        TimeInForce.FOK if cmd.type is OrderType.MARKET else TimeInForce.GTC
    )
    return Order(
        id=order_id,
        account=cmd.account,
        instrument=cmd.instrument,
        units=cmd.units,
        type=cmd.type,
        price=cmd.price,
        time_in_force=tif,
        take_profit=cmd.take_profit,
        stop_loss=cmd.stop_loss,
        trailing_stop_distance=cmd.trailing_stop_distance,
        origin=cmd.origin.value,
        created_ts=now,
        updated_ts=now,
        gtd_time=cmd.gtd_time,
    )
