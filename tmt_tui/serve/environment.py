"""The environment a browser tab's app gets: `tmt serve`'s own, with every secret taken out.

textual-serve starts each tab's command with the server's whole environment. A `tmt attach`
needs none of the venues' or databases' credentials (the engine holds those), so they go:
the names tmt itself reads (passed in by the CLI, which knows the venues), and, because a
trader's shell holds other people's secrets too, any name that says it is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: Names that announce a secret, whoever's they are (AWS_SECRET_ACCESS_KEY, GITHUB_TOKEN,
#: PGPASSWORD, DATABASE_URL is not caught: name it in ``secrets`` when it matters).
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|API_?KEY|PRIVATE_KEY|_DSN$|_KEY$",
    re.IGNORECASE,
)

#: Names that match ``SECRET_NAME`` but are no secret: where the API token's file is.
NOT_SECRET = frozenset({"TMT_API_TOKEN_FILE"})


def without_secrets(environ: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """``environ`` minus the names in ``secrets`` and every name ``SECRET_NAME`` matches."""
    named = set(secrets)
    return {
        name: value
        for name, value in environ.items()
        if name in NOT_SECRET or (name not in named and not SECRET_NAME.search(name))
    }
