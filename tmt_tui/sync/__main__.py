"""``python -m tmt_tui.sync``: the sync child process an engine with ``[sync] enabled`` runs."""

from __future__ import annotations

import sys

from tmt_tui.sync.process import child_main

if __name__ == "__main__":
    sys.exit(child_main())
