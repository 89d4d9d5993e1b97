"""The soak run's tally: what every suite did (rounds, orders, kills, drops, fuzz cases, ledger
steps) and how many tests failed, printed as one table at the end of `make soak`.

Suites call :func:`add` with what they did; the figures go to the file named by ``TMT_TALLY``
(one JSON object a line, appended, so processes and tests can all write to it). With no
``TMT_TALLY`` (a plain `make test`), :func:`add` does nothing.

    python -m tests.support.tally FILE     # print the table; exit 1 if any test failed
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

#: The table's rows, in order; any other figure a suite adds is printed after them.
FIGURES = ("rounds", "orders", "kills", "drops", "fuzz_cases", "ledger_steps", "tests", "failures")


def add(suite: str, **figures: int) -> None:
    """Add ``figures`` to ``suite``'s line of the table (nothing when no tally is kept)."""
    path = os.environ.get("TMT_TALLY")
    if not path or not figures:
        return
    line = json.dumps({"suite": suite, **figures}) + "\n"
    with open(path, "a", encoding="utf-8") as out:  # one write: whole lines from every process
        out.write(line)


def totals(path: Path) -> dict[str, Counter[str]]:
    """Each suite's summed figures, read back from the tally file."""
    by_suite: dict[str, Counter[str]] = {}
    if not path.exists():
        return by_suite
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        suite = str(entry.pop("suite"))
        by_suite.setdefault(suite, Counter()).update({k: int(v) for k, v in entry.items()})
    return by_suite


def table(by_suite: dict[str, Counter[str]]) -> str:
    """The summary table: one row per suite, one column per figure, and a total row."""
    seen = {name for figures in by_suite.values() for name in figures}
    columns = [name for name in FIGURES if name in seen] + sorted(seen - set(FIGURES))
    rows = [
        [suite, *(f"{figures[c]:,}" for c in columns)]
        for suite, figures in sorted(by_suite.items())
    ]
    grand: Counter[str] = Counter()
    for figures in by_suite.values():
        grand.update(figures)
    rows.append(["total", *(f"{grand[c]:,}" for c in columns)])
    header = ["suite", *columns]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows[:-1]), rule, line(rows[-1])])


def main(argv: list[str]) -> int:
    by_suite = totals(Path(argv[0]))
    print(table(by_suite))
    failed = sum(figures["failures"] for figures in by_suite.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
