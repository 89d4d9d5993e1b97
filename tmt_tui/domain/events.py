"""Facts the engine journals and publishes, each stamped with a sequence number and an origin.

An event is plain data (``data`` holds only JSON types, Decimals as strings), so the same
value is a journal row, a wire message and the input to replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Every kind of fact, with the keys its ``data`` carries."""

    ENGINE_STARTED = "engine.started"  # config, version
    DAY_STARTED = "day.started"  # account, trading_day, start_equity
    COMMAND = "command"  # the command's wire form
    ORDER_SUBMITTED = "order.submitted"  # order (wire), sent to the venue
    ORDER_REJECTED = "order.rejected"  # order (wire, REJECTED), code, message, source (risk|broker)
    COMMAND_REJECTED = "command.rejected"  # command, code, message
    ORDER_ACCEPTED = "order.accepted"  # order_id, venue_id: resting at the venue
    ORDER_MODIFIED = "order.modified"  # order_id, price, units
    ORDER_CANCEL_REQUESTED = "order.cancel_requested"  # order_id, why: tmt asked the venue
    ORDER_CANCELLED = "order.cancelled"  # order_id, reason (the venue's), why, requested_by
    ORDER_FILLED = "order.filled"  # order_id, fill_id, units, price, conversion_rate, ts
    PROTECTIVE_ORDER_CREATED = (
        "order.protective"  # order (wire): a TP/SL the venue attached to a trade
    )
    TRADING_STATE_CHANGED = "trading_state.changed"  # account, state, reason
    KILL_SWITCH_ENGAGED = "kill_switch.engaged"  # reason, flatten
    KILL_SWITCH_RESET = "kill_switch.reset"  # (nothing)
    DAILY_LOSS_BREACHED = "daily_loss.breached"  # account, daily_pl, limit
    ALERT_RAISED = "alert.raised"  # key (rule or rule:subject), message
    ALERT_CLEARED = "alert.cleared"  # key, message
    FEED_PROBLEM = "feed.problem"  # instrument, problem, bid, ask: first bad quote of a burst
    ORDER_ADOPTED = "order.adopted"  # order (wire): an order at the venue tmt did not place
    POSITION_SYNCED = "position.synced"  # account, instrument, trades, was: the venue's lots
    ACCOUNT_SYNCED = "account.synced"  # account, balance, was, reason: the venue's balance
    VENUE_RECONCILED = "venue.reconciled"  # venue, differences, last_transaction_id
    VENUE_STATUS = "venue.status"  # venue, status (connected|reconnecting|...), detail
    PRICE_ALERT_SET = "price_alert.set"  # id, instrument, side, level, note
    PRICE_ALERT_CANCELLED = "price_alert.cancelled"  # id, instrument
    PRICE_ALERT_HIT = "price_alert.hit"  # id, instrument, side, level, bid, ask, quote_ts, note
    CHAIN_HEAD = "journal.chain_head"  # seq, hash: the journal's hash chain head at a rollover


#: Kinds that change trading state on replay; the rest are the audit trail.
STATEFUL_KINDS = frozenset(
    {
        EventKind.DAY_STARTED,
        EventKind.ORDER_SUBMITTED,
        EventKind.ORDER_REJECTED,
        EventKind.ORDER_ACCEPTED,
        EventKind.ORDER_MODIFIED,
        EventKind.ORDER_CANCEL_REQUESTED,
        EventKind.ORDER_CANCELLED,
        EventKind.ORDER_FILLED,
        EventKind.PROTECTIVE_ORDER_CREATED,
        EventKind.ORDER_ADOPTED,
        EventKind.POSITION_SYNCED,
        EventKind.ACCOUNT_SYNCED,
        EventKind.VENUE_RECONCILED,
        EventKind.TRADING_STATE_CHANGED,
        EventKind.KILL_SWITCH_ENGAGED,
        EventKind.KILL_SWITCH_RESET,
        EventKind.DAILY_LOSS_BREACHED,
        EventKind.PRICE_ALERT_SET,
        EventKind.PRICE_ALERT_CANCELLED,
        EventKind.PRICE_ALERT_HIT,
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    ts: float
    kind: EventKind
    origin: str
    data: dict[str, Any] = field(default_factory=dict)
