"""Why a journal cannot be used: every refusal names the file and the reason in one line."""

from __future__ import annotations

from pathlib import Path


class JournalError(Exception):
    """The journal cannot be used; the message names the file."""


class JournalLocked(JournalError):
    def __init__(self, path: Path, pid: str) -> None:
        super().__init__(f"{path} is in use by process {pid or 'unknown'}; refusing to open it")
        self.pid = pid


class MigrationError(JournalError):
    """A journal of an older schema could not be brought up to this tmt's: the message names
    the step that failed and why, and says where the journal and its backup are."""
