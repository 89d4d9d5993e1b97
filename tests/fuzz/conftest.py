"""Hypothesis for every parser at tmt's edges: no deadline (CI runs beside other load: a slow
example is not a failure), a fixed number of examples in `make test` and more in `make soak`
(``TMT_FUZZ_EXAMPLES``), and no example database left in the tree."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from tests.support.tally import add

settings.register_profile(
    "tmt",
    deadline=None,
    max_examples=int(os.environ.get("TMT_FUZZ_EXAMPLES", "150")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("tmt")


class Cases:
    """How many examples the fuzz tests ran, added to the soak tally when the session ends."""

    def __init__(self) -> None:
        self.count = 0

    def seen(self) -> None:
        self.count += 1


FUZZ_CASES = Cases()


def pytest_sessionfinish() -> None:
    add("fuzz", fuzz_cases=FUZZ_CASES.count)
