"""Hypothesis for every parser at tmt's edges: no deadline (CI runs beside other load: a slow
example is not a failure), a fixed number of examples in `make test` and more in `make soak`
(``TMT_FUZZ_EXAMPLES``), and no example database left in the tree."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "tmt",
    deadline=None,
    max_examples=int(os.environ.get("TMT_FUZZ_EXAMPLES", "150")),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("tmt")
