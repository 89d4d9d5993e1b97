"""Secret: a token that never shows its value (repr, str, format, a traceback) nor pickles."""

from __future__ import annotations

import pickle
import secrets
import traceback

import pytest

from tmt_tui.domain.secret import Secret


def test_a_secret_never_shows_its_value() -> None:
    secret = Secret("hunter2-value")

    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", "%s" % secret]  # noqa: UP031

    assert all(text == "Secret('***')" for text in shown)
    assert secret.reveal() == "hunter2-value"
    assert secret.matches("hunter2-value") and not secret.matches("hunter2")
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_a_secret_in_a_failing_frame_stays_hidden_in_the_traceback() -> None:
    def fail(token: Secret) -> None:
        raise RuntimeError(f"could not use {token}")

    secret = Secret(secrets.token_urlsafe(16))  # no frame holds the plain value
    try:
        fail(secret)
    except RuntimeError as exc:
        frames = traceback.TracebackException.from_exception(exc, capture_locals=True)
        text = "".join(frames.format())

    assert secret.reveal() not in text
    assert "token = Secret('***')" in text
