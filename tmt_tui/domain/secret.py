"""A string that never shows itself: API tokens (the control API's, OANDA's, Polygon's) travel
as ``Secret`` from the environment to the one place that sends them."""

from __future__ import annotations

import hmac
import re

#: Environment names that announce a secret, whoever's they are (AWS_SECRET_ACCESS_KEY,
#: GITHUB_TOKEN, PGPASSWORD); DATABASE_URL is not caught: name such a one where it matters.
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE_KEY|_DSN$|_KEY$",
    re.IGNORECASE,
)


def names_a_secret(name: str) -> bool:
    """Whether an environment variable's name says it holds a secret: what a process started
    for another job (a browser tab's app, the history sync) must not be handed."""
    return SECRET_NAME.search(name) is not None


class Secret:
    """A string that never shows itself: ``repr``, ``str`` and f-strings print ``Secret('***')``.

    Only ``reveal()`` gives the value, so a token cannot slip into a log line, an exception
    message or a traceback's repr by accident. Equality is constant time.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, candidate: str) -> bool:
        """Constant-time comparison (``hmac.compare_digest`` on the UTF-8 bytes)."""
        return hmac.compare_digest(candidate.encode("utf-8"), self._value.encode("utf-8"))

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self.matches(other.reveal())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> str:
        raise TypeError("a Secret is not pickled")
