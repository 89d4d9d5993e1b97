"""The floor under every order-path figure: one durable SQLite commit of the size an order's
ack commits (three events of ~300 bytes and an orders row, WAL, ``synchronous=FULL``), alone,
on the same file system the other benches use. Nothing of tmt runs here: no risk, no OMS, no
thread hop, no JSON, no hash. ``order_ack`` and ``position_close`` measure it again in their
own run and report their figures as a ratio to it.
"""

from __future__ import annotations

from _realistic_book import commit_floor, report, temp_journal

N = 5000


def main() -> None:
    report({"bench": "commit_floor", "n": N, **commit_floor(temp_journal(), N)})


if __name__ == "__main__":
    main()
