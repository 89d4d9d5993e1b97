"""The Textual face of tmt: an app on an EngineClient, rendering what the engine sends."""

import os

#: Textual paints a screen at most TEXTUAL_FPS times a second and, after a quiet spell, one to
#: two of its periods after a refresh: at its default of 60 that held a quote back up to 33 ms.
#: The main screen paces its own frames (`[ui] fps`, at most 120), so Textual's pace is set
#: above twice that and never adds a wait of its own (a TEXTUAL_FPS the user set is kept). It
#: must be set before Textual is imported: this package's modules are what import it.
os.environ.setdefault("TEXTUAL_FPS", "240")
