"""A local OANDA v20-compatible server (REST and both streams) over the simulated market and a
paper account: ``tmt oanda-sim`` for offline rehearsal, and the venue tests' counterpart.
It may use ``venues.sim`` and ``domain``; the adapter (``venues.oanda``) never imports it."""
