"""The exposed viewer's hardening (issue O, item 7), through its real WSGI app: security
headers, Host and Origin checks, odd tokens, hosts and paths (seeded), short tokens refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from twin.errors import TwinError
from twin.viewer.server import SECURITY_HEADERS, make_app

TOKEN = "a-viewer-token-0123456789"


@pytest.fixture(scope="module")
def exposed(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return make_app(demo_dir, tmp_path_factory.mktemp("runs"), host="0.0.0.0", token=TOKEN)


@pytest.fixture(scope="module")
def local(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return make_app(demo_dir, tmp_path_factory.mktemp("runs"))


def test_short_tokens_are_refused(demo_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TwinError, match="too short"):
        make_app(demo_dir, tmp_path, host="0.0.0.0", token="a")


def test_headers_on_every_answer(exposed, local) -> None:
    for app, path in ((local, "/"), (exposed, "/"), (local, "/no/such/page")):
        r = app.server.test_client().get(path)
        for k, v in SECURITY_HEADERS.items():
            assert r.headers.get(k) == v, (path, k)


def test_loopback_checks_host_and_origin(local) -> None:
    c = local.server.test_client()
    assert c.get("/", headers={"Host": "127.0.0.1:8050"}).status_code == 200
    assert c.get("/", headers={"Host": "localhost:8050"}).status_code == 200
    assert c.get("/", headers={"Host": "evil.example:8050"}).status_code == 403  # rebinding
    origin = {"Host": "127.0.0.1:8050", "Origin": "http://evil.example"}
    assert c.post("/_dash-update-component", headers=origin, json={}).status_code == 403


def test_odd_tokens_hosts_and_paths(exposed) -> None:
    """Seeded odd requests: never a 500, never a page without the token."""
    rng = random.Random(7)
    odd = ["é" * 40, "\\u2603", "%00", "x" * 3000, "' OR 1=1 --", TOKEN[:-1], TOKEN + "x", ""]
    paths = ["/", "/report", "/export", "/notice", "/../../etc/passwd", "/%2e%2e/", "/assets/x"]
    c = exposed.server.test_client()
    for _ in range(120):
        t, p = rng.choice(odd), rng.choice(paths)
        how = rng.randrange(3)
        if how == 0:
            r = c.get(p, query_string={"token": t})
        elif how == 1:
            r = c.get(p, headers={"Authorization": f"Bearer {t}"})
        else:
            c.set_cookie("twin_session", t)
            r = c.get(p)
            c.delete_cookie("twin_session")
        assert r.status_code == 401, (t[:20], p, r.status_code)
