"""tmt: a terminal trading workstation (engine, venues, journal and a Textual face)."""

__version__ = "0.1.0"
