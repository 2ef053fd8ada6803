"""The basemap in the viewer app without a browser: tiles served from the file with their
media type and encoding, absent tiles and bad addresses answered, the page's toggle and
first view, and a viewer whose basemap file is gone, changed or unreadable."""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from twin.io.basemap import open_archive
from twin.model.basemap import twin_basemap
from twin.store.twinstore import open_twin
from twin.viewer.app import create_app
from twin.viewer.basemap import VECTOR_STYLE

from ..io._tiles import COMEDIE, PARIS, tile_of
from ._basemap import ATTRIBUTION, basemap_twin
from .test_app import components


@pytest.fixture(scope="module")
def twins(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small Montpellier twin over a vector (PMTiles) and a raster (MBTiles) basemap."""
    root = tmp_path_factory.mktemp("basemap-app")
    return {k: basemap_twin(root / k, montpellier, k) for k in ("vector", "raster")}


#: What a browser says it accepts.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def client(twin_dir: Path, lang: str = "en") -> Any:
    return create_app(twin_dir, twin_dir.parent / "runs", lang=lang).server.test_client()


def first_view(page: str) -> dict[str, Any]:
    raw = re.search(r'<script id="twin-first" type="application/json">(.*?)</script>', page, re.S)
    assert raw is not None
    return json.loads(html.unescape(raw.group(1)))


def props(c: Any) -> dict[str, dict[str, Any]]:
    """The properties of the page's components by id (the Dash layout the page loads)."""
    layout = c.get("/_dash-layout").get_json()
    return {k["props"]["id"]: k["props"] for k in components(layout) if "id" in k["props"]}


def layer_options(c: Any) -> list[dict[str, str]]:
    """The layer toggles the page offers."""
    return list(props(c)["layers"]["options"])


@pytest.mark.parametrize("kind", ["vector", "raster"])
def test_tiles_served_from_the_file(twins: dict[str, Path], kind: str) -> None:
    """A tile at the Comédie is the archive's tile, with its media type (and gzip encoding
    for vector tiles); Paris has none (204); addresses that are not tiles are refused (400);
    a browser holding the tile is told it has not changed (304)."""
    twin_dir = twins[kind]
    c = client(twin_dir)
    rec = twin_basemap(open_twin(twin_dir).meta)
    assert rec is not None
    archive = open_archive(rec.path)
    try:
        z = 14
        x, y = tile_of(*COMEDIE, z)
        r = c.get(f"/basemap/{z}/{x}/{y}", headers=BROWSER)
        want = archive.tile(z, x, y)
        assert r.status_code == 200 and want is not None
        assert r.data == want.data
        if kind == "vector":
            assert r.headers["Content-Type"] == "application/x-protobuf"
            assert r.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(r.data)[:1] == b"\x1a"  # an MVT layer (field 3)
            # a client that does not take gzip gets the tile inflated
            plain = c.get(f"/basemap/{z}/{x}/{y}")
            assert plain.data == gzip.decompress(want.data)
            assert "Content-Encoding" not in plain.headers
        else:
            assert r.headers["Content-Type"] == "image/png" and r.data[:4] == b"\x89PNG"
            assert "Content-Encoding" not in r.headers
        assert "max-age=" in r.headers["Cache-Control"]
        again = c.get(
            f"/basemap/{z}/{x}/{y}", headers={**BROWSER, "If-None-Match": r.headers["ETag"]}
        )
        assert again.status_code == 304
    finally:
        archive.close()
    assert c.get("/basemap/{}/{}/{}".format(z, *tile_of(*PARIS, z))).status_code == 204
    assert c.get(f"/basemap/{rec.maxzoom + 1}/0/0").status_code == 204  # beyond its zooms
    for bad in ("14/a/1", "14/-1/3", "3/8/0", "3/0/8", "31/0/0", "1.5/0/0", "14/8368/5982.png"):
        r = c.get(f"/basemap/{bad}")
        assert r.status_code == 400, (bad, r.status_code)


@pytest.mark.parametrize("kind", ["vector", "raster"])
def test_page_offers_the_basemap_once(twins: dict[str, Path], kind: str) -> None:
    """The page's first view carries what to draw (once), the layers list a *Basemap* toggle
    (*Fond de carte* in French), on by default; ``/basemap.json`` says the same."""
    twin_dir = twins[kind]
    rec = twin_basemap(open_twin(twin_dir).meta)
    assert rec is not None
    c = client(twin_dir)
    page = c.get("/").data.decode()
    first = first_view(page)
    b = first["basemap"]
    assert (b["url"], b["kind"], b["minzoom"], b["maxzoom"]) == (
        "/basemap/{z}/{x}/{y}",
        kind,
        rec.minzoom,
        rec.maxzoom,
    )
    assert b["bounds"] == rec.bounds and b["attribution"] == ATTRIBUTION
    if kind == "vector":
        assert b["style"] == VECTOR_STYLE and b["worker"].endswith("vendor/mvt-worker.js")
        assert (b["type"], b["tileSize"]) == ("pbf", 512)
    else:
        assert (b["type"], b["tileSize"]) == ("png", 256) and "style" not in b
    assert page.count('"attribution": "' + ATTRIBUTION) <= 1  # declared once in the page
    assert first["scenario"]["visible"]["basemap"] is True
    assert {"label": "Basemap", "value": "basemap"} in layer_options(c)
    assert "basemap" in props(c)["layers"]["value"]  # on when the page opens
    assert {"label": "Fond de carte", "value": "basemap"} in layer_options(client(twin_dir, "fr"))
    assert c.get("/basemap.json").get_json() == {k: v for k, v in b.items() if k != "worker"}
    # the parser's worker is served by the viewer, and is not one of the page's scripts
    assert c.get("/assets/vendor/mvt-worker.js").status_code == 200
    assert not re.search(r"<script[^>]*mvt-worker", page)


def test_no_basemap_no_toggle(tmp_path: Path) -> None:
    """A twin without a basemap: no toggle, nothing to draw, no tile route answering."""
    import geopandas as gpd
    import shapely

    from twin import Layer, Provenance, Twin
    from twin.model.crs import LAMBERT93

    t = Twin("no basemap", LAMBERT93)
    b = gpd.GeoDataFrame(geometry=[shapely.box(770000, 6279000, 770020, 6279020)], crs=2154)
    t.add(Layer("buildings", "vector", b, Provenance("test")))
    t.save(tmp_path / "twin")
    c = client(tmp_path / "twin")
    assert "basemap" not in first_view(c.get("/").data.decode())
    assert "basemap-note" not in props(c)
    assert all(o["value"] != "basemap" for o in layer_options(c))
    assert c.get("/basemap/14/8368/5982").status_code == 404
    assert c.get("/basemap.json").status_code == 404


@pytest.mark.parametrize("what", ["missing", "changed", "unreadable"])
def test_viewer_runs_without_a_basemap_it_cannot_draw(
    twins: dict[str, Path], tmp_path: Path, what: str, capfd: pytest.CaptureFixture
) -> None:
    """The basemap's file gone, changed since the build, or unreadable: the viewer starts,
    says so on its console and in the page (in the interface language), offers no toggle,
    and serves no tile; no traceback."""
    twin_dir = shutil.copytree(twins["vector"].parent, tmp_path / "copy") / "twin"
    # the copied twin records the original file: point it at the copy
    manifest = json.loads((twin_dir / "twin.json").read_text())
    archive = twin_dir.parent / "fond.pmtiles"
    st = archive.stat()
    manifest["meta"]["basemap"]["path"] = str(archive)
    manifest["meta"]["basemap"]["mtime_ns"] = st.st_mtime_ns
    (twin_dir / "twin.json").write_text(json.dumps(manifest))
    if what == "missing":
        archive.unlink()
    elif what == "changed":
        os.utime(archive, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    else:  # the same size and time, other bytes
        archive.write_bytes(b"\0" * st.st_size)
        os.utime(archive, ns=(st.st_atime_ns, st.st_mtime_ns))
    c = client(twin_dir)
    err = capfd.readouterr().err
    assert f"twin: the basemap is not drawn: {archive}" in err and "Fix: " in err
    assert "Traceback" not in err
    assert "basemap" not in first_view(c.get("/").data.decode())
    assert all(o["value"] != "basemap" for o in layer_options(c))
    note = {
        "missing": "Basemap not shown: the file fond.pmtiles is missing.",
        "changed": "Basemap not shown: the file fond.pmtiles has changed since the twin was built.",
        "unreadable": "Basemap not shown: the file fond.pmtiles cannot be read",
    }[what]
    said = props(c)["basemap-note"]["children"]
    assert said.startswith(note) and str(archive.parent) not in said, said  # no folders
    said_fr = props(client(twin_dir, "fr"))["basemap-note"]["children"]
    assert said_fr.startswith("Fond de carte non affiché : le fichier fond.pmtiles"), said_fr
    assert c.get("/basemap/14/8368/5982").status_code == 404


@pytest.mark.parametrize("kind", ["vector", "raster"])
def test_offline_export_carries_the_tiles_around_the_twin(
    twins: dict[str, Path], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The offline export inlines the basemap's tiles over the twin and around it, as stored
    but uncompressed, whole zoom levels from the widest while they fit its budget; none when
    not even one fits."""
    import base64

    from twin.io.basemap import tile_bounds
    from twin.viewer import basemap as vb
    from twin.viewer.layers import base_payload

    t = open_twin(twins[kind])
    state = vb.open_basemap(t)
    zoom = base_payload(t)["view"]["zoom"]
    bm = vb.offline_payload(state, t.extent_lonlat, zoom)
    assert bm is not None and bm["kind"] == kind and bm["attribution"] == ATTRIBUTION
    assert bm["media"] == ("application/x-protobuf" if kind == "vector" else "image/png")
    rec = twin_basemap(t.meta)
    assert rec is not None and rec.minzoom <= bm["minzoom"] <= bm["maxzoom"] <= rec.maxzoom
    assert bm["minzoom"] <= int(zoom)  # the first view is not deeper than what is carried
    levels = {int(k.split("/")[0]) for k in bm["tiles"]}
    assert levels == set(range(bm["minzoom"], bm["maxzoom"] + 1))
    w, s, e, n = t.extent_lonlat
    bw, bs, be, bn = bm["bounds"]
    assert bw < w and bs < s and be > e and bn > n  # a margin around the twin
    raw = {k: base64.b64decode(v) for k, v in bm["tiles"].items()}
    for key, data in raw.items():
        z, x, y = map(int, key.split("/"))
        tw, ts, te, tn = tile_bounds(z, x, y)
        assert tw <= be and te >= bw and ts <= bn and tn >= bs  # over the bounds carried
        stored = state.archive.tile(z, x, y)  # type: ignore[union-attr]
        assert stored is not None
        plain = gzip.decompress(stored.data) if stored.encoding == "gzip" else stored.data
        assert data == plain
        magic = (b"\x1a",) if kind == "vector" else (b"\x89PNG", b"\xff\xd8\xff")
        assert data.startswith(magic)
    # a smaller budget: fewer levels, each whole; too small for one: no basemap
    widest = sum(len(v) for k, v in raw.items() if k.startswith(f"{bm['minzoom']}/"))
    monkeypatch.setattr(vb, "OFFLINE_BYTES", widest)
    small = vb.offline_payload(state, t.extent_lonlat, zoom)
    assert small is not None and small["maxzoom"] == bm["minzoom"]
    monkeypatch.setattr(vb, "OFFLINE_BYTES", widest - 1)
    assert vb.offline_payload(state, t.extent_lonlat, zoom) is None
