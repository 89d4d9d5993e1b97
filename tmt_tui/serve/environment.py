"""The environment a browser tab's app gets: `tmt serve`'s own, with every secret taken out.

textual-serve starts each tab's command with the server's whole environment. A `tmt attach`
needs none of the venues' or databases' credentials (the engine holds those), so they go:
the names tmt itself reads (passed in by the CLI, which knows the venues), and, because a
trader's shell holds other people's secrets too, any name that says it is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from tmt_tui.domain.secret import names_a_secret

#: Names that look like a secret's but are none: where the API token's file is.
NOT_SECRET = frozenset({"TMT_API_TOKEN_FILE"})


def without_secrets(environ: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """``environ`` minus the names in ``secrets`` and every name that says it is a secret."""
    named = set(secrets)
    return {
        name: value
        for name, value in environ.items()
        if name in NOT_SECRET or (name not in named and not names_a_secret(name))
    }
