"""Serve the viewer: 127.0.0.1 by default; a token is required on any other address.

With a token, the first request carries ``?token=…`` (or an ``Authorization: Bearer …``
header); the viewer answers with a redirect to the same page without the token in the
address bar and an HTTP-only session cookie (derived from the token, never the token itself,
12 hours, ``Secure`` over HTTPS) so the page's own requests pass. Tokens are at least
:data:`MIN_TOKEN` characters.

Every response carries a Content-Security-Policy (everything from the viewer itself),
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy:
no-referrer``. On a loopback address the ``Host`` header must name this machine (so a
web page cannot reach the viewer through DNS rebinding), and a request with an ``Origin``
header must come from the viewer's own origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

from twin.errors import TwinError, message
from twin.viewer.app import create_app

LOOPBACK = {"localhost"}
#: Shortest token accepted [characters].
MIN_TOKEN = 16
#: Lifetime of the session cookie [s].
SESSION_S = 12 * 3600
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _session(token: str) -> str:
    """The cookie value of a session: derived from the token, never the token itself."""
    return hmac.new(token.encode("utf-8"), b"twin-viewer-session", "sha256").hexdigest()


def _same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of any text (non-ASCII included) with the expected value."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def protect(server: Any, token: str) -> None:
    """Require ``token`` on every request of a Flask server (see the module's rules)."""
    from flask import redirect, request

    session = _session(token)

    @server.before_request
    def check() -> Any:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        in_url = request.args.get("token")
        if _same(request.cookies.get("twin_session"), session) or _same(bearer, token):
            return None
        if _same(in_url, token):
            args = {k: v for k, v in request.args.items() if k != "token"}
            query = "&".join(f"{k}={v}" for k, v in args.items())
            resp = redirect(request.path + (f"?{query}" if query else ""), code=303)
            resp.set_cookie(
                "twin_session",
                session,
                max_age=SESSION_S,
                httponly=True,
                samesite="Strict",
                secure=request.is_secure,
            )
            return resp
        return ("twin: a valid token is required (open the URL printed by `twin serve`)", 401)


def harden(server: Any, host: str) -> None:
    """Security headers on every response; on loopback, Host and Origin checks."""
    from urllib.parse import urlsplit

    from flask import request

    local = is_loopback(host)

    @server.before_request
    def same_origin() -> Any:
        name = urlsplit(f"//{request.host}").hostname or ""
        if local and not (is_loopback(name) or name == host):
            return ("twin: this viewer only answers requests addressed to this machine", 403)
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:
            return ("twin: requests from another site are refused", 403)
        return None

    @server.after_request
    def headers(resp: Any) -> Any:
        for k, v in SECURITY_HEADERS.items():
            resp.headers.setdefault(k, v)
        return resp


def make_app(
    twin_dir: str | Path,
    runs_dir: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    token: str | None = None,
    lang: str = "fr",
    workers: int = 2,
) -> Any:
    """Create the app, protected by a token when ``host`` is not a loopback address.

    ``workers`` is how many what-if runs are computed at the same time (others queue).

    Raises
    ------
    TwinError
        When the viewer would be exposed without a token.
    """
    token = token or os.environ.get("TWIN_TOKEN")
    if token is not None and len(token) < MIN_TOKEN:
        msg = message(
            f"the token is too short ({len(token)} characters; at least {MIN_TOKEN})",
            where="twin serve --token",
            fix="use --token auto for a random one, or a longer secret",
        )
        raise TwinError(msg)
    if not is_loopback(host) and not token:
        msg = message(
            f"refusing to serve on {host} without a token",
            where="twin serve",
            fix="pass --token (or set TWIN_TOKEN), or keep the default --host 127.0.0.1",
        )
        raise TwinError(msg)
    app = create_app(twin_dir, runs_dir, lang=lang, workers=workers)
    harden(app.server, host)
    if token:
        protect(app.server, token)
    return app


def serve(
    twin_dir: str | Path,
    runs_dir: str | Path | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8050,
    token: str | None = None,
    lang: str = "fr",
    workers: int = 2,
    warm_s: float = 10.0,
) -> None:
    """Run the viewer with the waitress WSGI server if installed, else Flask's own.

    Runs of the store are opened before serving, for at most about ``warm_s`` seconds [s].
    """
    if token == "auto":
        token = secrets.token_urlsafe(16)
    app = make_app(twin_dir, runs_dir, host=host, token=token, lang=lang, workers=workers)
    # open the runs now rather than on their first showing (a scenario switch then only
    # draws): reading a run's layers parses their CRS (pyproj), the slowest part
    app.server.config["TWIN_CATALOGUE"].warm(budget_s=warm_s)
    url = f"http://{host}:{port}/" + (f"?token={token}" if token else "")
    print(f"twin viewer on {url}", flush=True)
    try:
        from waitress import serve as wserve
    except ImportError:
        app.run(host=host, port=port, debug=False)
    else:
        wserve(app.server, host=host, port=port, threads=8)
