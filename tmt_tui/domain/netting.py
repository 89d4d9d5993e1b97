"""Which open trades a fill reduces, and in what order: the rule every ledger must share.

A netting FX account (OANDA's, and so ours) reduces its oldest trade first. A close that
names one trade (a trade close, a take-profit or stop-loss of that trade) takes from that
trade first, but only for that fill: the lots keep their opening order, so the next plain
close is FIFO again. The engine's portfolio, the paper broker and the local v20 server all
ask this module, so they cannot disagree and reconciliation has nothing to hide.
"""

from __future__ import annotations

from collections.abc import Sequence


def reduce_order(trade_ids: Sequence[str], named: str | None = None) -> list[int]:
    """Indices into ``trade_ids`` (oldest first) in the order a fill takes from them.

    The named trade comes first when it is open; the rest keep their order. The list itself
    is never reordered, which is the point.
    """
    order = list(range(len(trade_ids)))
    if named is not None:
        for i, trade_id in enumerate(trade_ids):
            if trade_id == named:
                order.insert(0, order.pop(i))
                break
    return order
