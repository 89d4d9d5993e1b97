"""What the log pane says of a cancel: why tmt asked and who asked, beside the venue's word."""

from __future__ import annotations

from tmt_tui.domain.events import Event, EventKind
from tmt_tui.tui.widgets.event_log import describe


def line(kind: EventKind, origin: str, **data: object) -> str:
    text, _ = describe(Event(1, 0.0, kind, origin, dict(data)), lambda order_id: None)
    return text


def test_a_cancel_says_why_and_who_asked() -> None:
    assert line(EventKind.ORDER_CANCEL_REQUESTED, "cli", order_id="O4", why="user") == (
        "CANCELLING O4: user (cli)"
    )
    assert (
        line(
            EventKind.ORDER_CANCELLED,
            "venue",
            order_id="O4",
            reason="CLIENT_REQUEST",
            why="kill switch",
            requested_by="ui",
        )  # fmt: skip
        == "CANCEL O4: kill switch (CLIENT_REQUEST)"
    )
    assert (
        line(
            EventKind.ORDER_CANCELLED,
            "venue",
            order_id="O5",
            reason="TIME_IN_FORCE_EXPIRED",
            why="venue",
            requested_by="venue",
        )  # fmt: skip
        == "CANCEL O5: TIME_IN_FORCE_EXPIRED"
    )
    assert line(EventKind.ORDER_CANCELLED, "venue", order_id="O6", reason="CLIENT_REQUEST") == (
        "CANCEL O6: CLIENT_REQUEST"  # journaled before cancels said why
    )


def test_the_chain_head_is_a_line_to_copy() -> None:
    assert line(EventKind.CHAIN_HEAD, "auto", seq=12, hash="ab" * 32) == (
        f"JOURNAL CHAIN HEAD 12:{'ab' * 32}"
    )
