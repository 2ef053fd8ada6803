"""Serve the viewer: 127.0.0.1 by default; a token is required on any other address.

With a token, the first request carries ``?token=…`` (or an ``Authorization: Bearer …``
header); the viewer then sets an HTTP-only cookie so the page's own requests pass.
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


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def protect(server: Any, token: str) -> None:
    """Require ``token`` on every request of a Flask server."""
    from flask import request

    @server.before_request
    def check() -> Any:
        given = (
            request.args.get("token")
            or request.cookies.get("twin_token")
            or request.headers.get("Authorization", "").removeprefix("Bearer ")
        )
        if not given or not hmac.compare_digest(given, token):
            return ("twin: a valid token is required (open the URL printed by `twin serve`)", 401)
        return None

    @server.after_request
    def remember(resp: Any) -> Any:
        if request.args.get("token"):
            resp.set_cookie("twin_token", token, httponly=True, samesite="Strict")
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
    if not is_loopback(host) and not token:
        msg = message(
            f"refusing to serve on {host} without a token",
            where="twin serve",
            fix="pass --token (or set TWIN_TOKEN), or keep the default --host 127.0.0.1",
        )
        raise TwinError(msg)
    app = create_app(twin_dir, runs_dir, lang=lang, workers=workers)
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
