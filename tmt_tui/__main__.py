"""`python -m tmt_tui` runs the same entry point as the `tmt` console script."""

from tmt_tui.cli import main

raise SystemExit(main())
