"""The token gate in front of every page, script and WebSocket `tmt serve` offers.

A browser gets in one of two ways: it posts the control API's token to ``/login`` (the same
token `tmt attach` presents to the engine, so there is one secret to guard, not two), or it
opens the one-time link `tmt serve` printed. Either way it leaves with a session cookie
(random, HttpOnly, SameSite=Strict) and every later request carries that; without it, ``/``
answers the sign-in form and everything else 403, so a wrong token shows nothing of the
workstation, not even its scripts. Requests that carry an ``Origin`` of another site are
refused, so a page elsewhere cannot drive a signed-in browser's workstation.
"""

from __future__ import annotations

import html
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from tmt_tui.domain.secret import Secret

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

COOKIE = "tmt_session"
LOGIN_PATH = "/login"
LINK_PARAMETER = "t"
#: A trading day and then some, and no more: browsers send the cookie to every port of the
#: host, so any other service on the browser's 127.0.0.1 gets it. A restart ends them all.
SESSION_TTL_S = 12 * 3600.0
LINK_TTL_S = 15 * 60.0  # a printed link left in a scrollback stops working on its own
MAX_SESSIONS = 1000  # a bound on memory however many sign-ins; the oldest goes first

#: Headers on every page the gate or the workstation serves: never framed by another site (a
#: click-jacked order ticket), never cached, never a referrer with a link's token to
#: another site (same-origin, not no-referrer: with that, Chrome sends `Origin: null`).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class TokenGate:
    """Who may see the workstation: sessions opened by the token or by a one-time link.

    ``clock`` is injectable so expiry is tested without waiting. ``loopback_only`` (a loopback
    bind without ``allow_remote``) refuses, 421, a request whose ``Host`` is not 127.0.0.1,
    localhost or [::1] (any port: an SSH tunnel may use another): a page of another site whose
    name was rebound to 127.0.0.1 sends its own name. Behind a reverse proxy (``allow_remote``)
    the ``Host`` is the proxy's name and is not checked.
    """

    def __init__(
        self,
        token: Secret,
        clock: Callable[[], float] = time.monotonic,
        *,
        loopback_only: bool = False,
    ) -> None:
        if not token:
            raise ValueError("the gate needs a non-empty token")
        self._token = token
        self.loopback_only = loopback_only
        self._clock = clock
        self._sessions: dict[str, float] = {}  # session id -> when it expires
        self._links: dict[str, float] = {}  # one-time link token -> when it expires
        self.failures = 0  # wrong tokens and spent links, for the log and tests

    def issue_link(self) -> str:
        """A new one-time link token: valid once, for ``LINK_TTL_S``."""
        once = secrets.token_urlsafe(32)
        self._links[once] = self._clock() + LINK_TTL_S
        return once

    def _spend_link(self, once: str) -> bool:
        expires = self._links.pop(once, None)
        return expires is not None and self._clock() < expires

    def _open_session(self) -> str:
        now = self._clock()
        for sid, expires in list(self._sessions.items()):
            if expires <= now:
                del self._sessions[sid]
        while len(self._sessions) >= MAX_SESSIONS:
            del self._sessions[next(iter(self._sessions))]
        sid = secrets.token_urlsafe(32)
        self._sessions[sid] = now + SESSION_TTL_S
        return sid

    def signed_in(self, request: web.Request) -> bool:
        sid = request.cookies.get(COOKIE, "")
        expires = self._sessions.get(sid)
        if expires is None:
            return False
        if self._clock() >= expires:
            del self._sessions[sid]
            return False
        return True

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Let a signed-in browser through; turn everyone else to the sign-in form or away."""
        if self.loopback_only and not _loopback_host(request):
            return web.Response(
                status=421, text="refused: this server answers to 127.0.0.1, localhost, [::1]"
            )
        if _foreign_origin(request):
            return web.Response(status=403, text="refused: a request from another site")
        if request.path == LOGIN_PATH:
            return await handler(request)
        # A link is spent whoever opens it: one a signed-in browser opens works for no one else.
        once = request.query.get(LINK_PARAMETER) if request.path == "/" else None
        spent = once is not None and self._spend_link(once)
        if self.signed_in(request):
            if once is not None:  # the same page, without the token in the address bar
                return web.Response(status=303, headers={"Location": "/", **PAGE_HEADERS})
            response = await handler(request)
            if response.content_type == "text/html" and not response.prepared:
                response.headers.update(PAGE_HEADERS)
            return response
        if request.path != "/":
            return web.Response(status=403, text="sign in first")
        if once is None:
            return sign_in_page(status=401)
        if spent:
            log.info("serve: signed in by one-time link from %s", request.remote)
            return self._signed_in_response(request)
        self.failures += 1
        log.warning("serve: a spent or unknown one-time link from %s", request.remote)
        return sign_in_page(
            "That link was used already or has expired: sign in with the API token.", status=401
        )

    async def handle_login(self, request: web.Request) -> web.StreamResponse:
        """``POST /login`` with the token: a session and the workstation; else the form again."""
        if request.method != "POST":
            raise web.HTTPSeeOther("/")
        form = await request.post()
        given = form.get("token")
        if isinstance(given, str) and self._token.matches(given.strip()):
            log.info("serve: signed in by token from %s", request.remote)
            return self._signed_in_response(request)
        self.failures += 1
        log.warning("serve: a wrong API token from %s", request.remote)
        return sign_in_page("Wrong token.", status=401)

    def _signed_in_response(self, request: web.Request) -> web.Response:
        """303 to ``/`` with the session cookie: the address bar and history keep no token."""
        response = web.Response(status=303, headers={"Location": "/", **PAGE_HEADERS})
        response.set_cookie(
            COOKIE,
            self._open_session(),
            max_age=int(SESSION_TTL_S),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=is_https(request),
        )
        return response


def is_https(request: web.Request) -> bool:
    """The browser's side is HTTPS: directly, or behind a TLS proxy that says so."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback_host(request: web.Request) -> bool:
    """The ``Host`` the browser asked for names this machine's loopback (any port)."""
    try:
        name = urlsplit(f"//{request.host}").hostname
    except ValueError:
        return False
    return name in LOOPBACK_NAMES


def _foreign_origin(request: web.Request) -> bool:
    """An ``Origin`` header naming a host other than the one the browser asked: another
    site's page posting a form or opening the WebSocket. Browsers send it on both."""
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != request.host.lower()


def sign_in_page(problem: str = "", *, status: int = 200) -> web.Response:
    """The sign-in form: self-contained (no script, no font or style from elsewhere)."""
    message = f'<p id="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    return web.Response(
        status=status,
        text=_SIGN_IN.replace("{message}", message),
        content_type="text/html",
        headers=PAGE_HEADERS,
    )


_SIGN_IN = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>tmt: sign in</title>
<style>
  body { background: #0c181f; color: #e8eef2; font-family: monospace; display: flex;
         align-items: center; justify-content: center; height: 100vh; margin: 0; }
  form { background: #12232d; padding: 2em 3em; min-width: 28em; }
  h1 { font-size: 1.2em; margin-top: 0; }
  input { width: 100%; box-sizing: border-box; padding: 0.5em; margin: 0.5em 0 1em;
          font-family: monospace; }
  button { padding: 0.5em 2em; font-family: monospace; }
  #problem { color: #ff6b6b; font-weight: bold; }
  small { color: #9fb3bf; }
</style>
</head>
<body>
<form method="post" action="/login" id="sign-in">
  <h1>tmt workstation</h1>
  {message}
  <label for="token">API token</label>
  <input type="password" name="token" id="token" autocomplete="current-password" autofocus
         required>
  <button type="submit" id="submit">Sign in</button>
  <p><small>The control API's token: <code>$TMT_API_TOKEN</code> or
  <code>~/.local/state/tmt/api.token</code> on the trading box, or open the one-time link
  <code>tmt serve</code> printed.</small></p>
</form>
</body>
</html>
"""
