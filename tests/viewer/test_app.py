"""The viewer app without a browser: the first view travels in the page, no callback runs when
the page loads, the runs are opened once, the KPI chart."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from twin.viewer.app import create_app
from twin.viewer.catalogue import Catalogue
from twin.viewer.i18n import tooltip_labels
from twin.viewer.kpis import kpi_chart

from ._synthetic import synthetic_run, write_run


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A twin of 60 buildings and a run store: a run and its child (hotter, with KPIs that
    moved both ways), shown first."""
    from twin import Layer, Provenance, Twin
    from twin.model.crs import utm_crs

    tmp = tmp_path_factory.mktemp("app")
    i, j = np.divmod(np.arange(60), 10)
    b = gpd.GeoDataFrame(
        {"height_m": 3.0 + np.arange(60)},
        geometry=shapely.box(385000 + 25 * j, 6671900 + 25 * i, 385012 + 25 * j, 6671912 + 25 * i),
        crs=32635,
        index=pd.Index([f"b{k}" for k in range(60)], name="id"),
    )
    t = Twin("sixty buildings", utm_crs(24.94, 60.17))
    t.add(Layer("buildings", "vector", b, Provenance("synthetic", producer="test")))
    t.save(tmp / "twin")
    runs = tmp / "runs"
    parent = synthetic_run("ref")
    parent.kpis.loc["shade_share"] = ["heat", 0.20, "1", "shade", "higher"]
    write_run(parent, runs)
    child = synthetic_run("heat", offset=2.0)
    child.kpis.loc["uhi_k", "value"] = 1.5  # +50 %, lower is better: worse
    child.kpis.loc["shade_share"] = ["heat", 0.25, "1", "shade", "higher"]  # +25 %: better
    child.manifest["parent_run"] = "ref-0"
    write_run(child, runs)
    return tmp / "twin", runs


def components(node: Any) -> list[dict[str, Any]]:
    """Every component of a Dash layout (JSON)."""
    out = []
    if isinstance(node, dict) and "props" in node:
        out.append(node)
        node = node["props"].get("children")
    if isinstance(node, list):
        for n in node:
            out.extend(components(n))
    elif isinstance(node, dict):
        out.extend(components(node))
    return out


def test_page_carries_the_first_view_and_loads_deck_first(env: tuple[Path, Path]) -> None:
    twin_dir, runs = env
    client = create_app(twin_dir, runs, lang="en").server.test_client()
    page = client.get("/").data.decode()
    head, body = page.split("</head>")
    # deck.gl, then the renderer, from the head, once; Dash's own scripts after them
    assert head.index("vendor/deck.gl.min.js") < head.index("twin_viewer.js")
    assert page.count("twin_viewer.js") == 1 and page.count("deck.gl.min.js") == 1
    assert "dash_renderer" in body and "{%" not in page
    raw = re.search(r'<script id="twin-first" type="application/json">(.*?)</script>', head, re.S)
    assert raw is not None
    first = json.loads(html.unescape(raw.group(1)))
    assert first["base"]["buildings"]["count"] == 60
    assert first["base"]["buildings"]["length"] == 60  # one ring each
    view = first["scenario"]
    assert view["key"] == "heat-0:single:12:00"  # the first run, at the first time label
    assert {"grid", "points", "paths"} <= set(view["left"])
    assert view["left"]["grid"]["legend"]["label"] == "air_temperature_c@2026-07-15T12:00"
    # the tooltips' words, in the language served
    assert view["labels"] == tooltip_labels("en")
    assert (view["labels"]["buildings"], view["labels"]["colon"]) == ("Building", ": ")


def test_offline_export_keeps_its_language(env: tuple[Path, Path]) -> None:
    """The offline comparison carries the tooltips' words of the language it is exported in."""
    from twin.store.twinstore import open_twin
    from twin.viewer.offline import comparison_html

    twin_dir, runs = env
    cat = Catalogue(twin_dir, runs, open_twin(twin_dir))
    cat.refresh()
    for lang, building, mean in (
        ("fr", "Bâtiment", "moyenne dans le temps"),
        ("en", "Building", "time mean"),
    ):
        page = comparison_html(cat, "heat-0", lang)
        raw = re.search(
            r'<script id="twin-data" type="application/json">(.*?)</script>', page, re.S
        )
        assert raw is not None
        views = json.loads(raw.group(1))["views"].values()
        assert all(v["labels"] == tooltip_labels(lang) for v in views)  # in every view
        labels = next(iter(views))["labels"]
        assert (labels["lang"], labels["buildings"], labels["mean"]) == (lang, building, mean)
    assert (
        tooltip_labels("fr")["colon"] == " : "
        and tooltip_labels("fr")["obs.other"] == "observations"
    )


def test_no_callback_when_the_page_loads(env: tuple[Path, Path]) -> None:
    """What callbacks computed at page load is in the layout: no round trip (and no change of
    the page, which would move the map and draw it again) before the first view is drawn."""
    twin_dir, runs = env
    client = create_app(twin_dir, runs, lang="en").server.test_client()
    deps = client.get("/_dash-dependencies").get_json()
    at_load = [d for d in deps if not d.get("prevent_initial_call")]
    assert at_load and all("clientside_function" in d for d in at_load)
    layout = client.get("/_dash-layout").get_json()
    by_id = {c["props"]["id"]: c["props"] for c in components(layout) if "id" in c["props"]}
    assert by_id["title"]["children"] == "twin — sixty buildings"
    assert by_id["present"]["children"] == "Present"
    assert by_id["wi-parent"]["value"] == "heat-0"
    # the stores stay empty (the first view is in the page), the layout stays small
    assert by_id["base"].get("data") is None and by_id["scenario"].get("data") is None
    assert len(json.dumps(layout)) < 60_000
    kpis = json.dumps(by_id["kpis"]["children"])
    assert "1.5 K" in kpis and "kpi bad" in kpis
    assert by_id["time"]["max"] == 7 and by_id["time-box"]["style"] == {}  # 8 time labels


def first_view(client: Any) -> dict[str, Any]:
    """The first view written in the page's head."""
    page = client.get("/").data.decode()
    raw = re.search(r'<script id="twin-first" type="application/json">(.*?)</script>', page, re.S)
    assert raw is not None
    return dict(json.loads(html.unescape(raw.group(1)))["scenario"])


def picker_answer(client: Any, run_id: str, query: dict[str, Any]) -> dict[str, Any]:
    """The map payload the run picker's Dash callback answers for ``run_id``, the page's other
    choices being ``query`` (a request as Dash's renderer makes it)."""
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if d["output"].startswith("..scenario.data")]
    values = {"run": run_id, "time": query["step"], "lang": query["lg"], **query}
    inputs = [{**i, "value": values[i["id"]]} for i in dep["inputs"]]
    outputs = [
        dict(zip(("id", "property"), o.split("."), strict=True))
        for o in dep["output"].strip(".").split("...")
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": ["run.value"],
        "state": [],
    }
    answer = client.post("/_dash-update-component", json=body).get_json()
    return dict(answer["response"]["scenario"]["data"])


def test_view_route_answers_what_the_picker_will(env: tuple[Path, Path]) -> None:
    """``/view`` (asked for when a run of the picker is pressed) gives the very payload the
    picker's callback then sends, for the page's choices that the view on screen carries; bad
    choices are refused."""
    twin_dir, runs = env
    client = create_app(twin_dir, runs, lang="en").server.test_client()
    query = first_view(client)["query"]
    assert query["mode"] == "single" and query["lg"] == "en" and query["step"] == 0
    for q in (query, {**query, "mode": "diff", "lg": "fr"}, {**query, "mode": "side"}):
        early = client.get("/view/ref-0", query_string={"q": json.dumps(q)})
        assert early.status_code == 200
        assert early.get_json() == picker_answer(client, "ref-0", q)
        early = client.get("/view/heat-0", query_string={"q": json.dumps(q)}).get_json()
        assert early == picker_answer(client, "heat-0", q)
        assert early["query"] == q  # the next pick starts from these choices
    assert "right" in early and early["key"] == "heat-0:side:12:00:vs:ref-0"
    assert client.get("/view/nope-0", query_string={"q": json.dumps(query)}).status_code == 404
    for bad in (
        "not json",
        json.dumps([query]),
        json.dumps({**query, "extra": 1}),
        json.dumps({k: v for k, v in query.items() if k != "step"}),
        json.dumps({**query, "layers": "buildings"}),
        json.dumps({**query, "lg": "de"}),
        json.dumps({**query, "step": "3"}),
        json.dumps({**query, "step": True}),
        json.dumps({**query, "against": 4}),
    ):
        assert client.get("/view/heat-0", query_string={"q": bad}).status_code == 400, bad


def test_kpi_chart_shows_each_change_against_the_parent(env: tuple[Path, Path]) -> None:
    twin_dir, runs = env
    from twin.store.twinstore import open_twin

    cat = Catalogue(twin_dir, runs, open_twin(twin_dir))
    cat.refresh()
    fig = kpi_chart(cat.run("heat-0"), cat.run("ref-0"), "en")
    assert fig.layout.title.text == "Change against the parent (%)"
    (bar,) = fig.data
    got = dict(zip(bar.y, zip(bar.x, bar.marker.color, strict=True), strict=True))
    assert got["X"][0] == pytest.approx(50.0) and got["X"][1] == "#d73027"  # uhi_k: worse
    assert got["Shade"][0] == pytest.approx(25.0) and got["Shade"][1] == "#1a9850"
    assert kpi_chart(cat.run("heat-0"), None, "en").data == ()

    # a solver diagnostic (declared so by its simulation: headline False) is not charted
    def with_gap(r: Any, gap: float) -> Any:
        kpis = r.kpis.assign(headline=True)
        kpis.loc["relative_gap"] = ["traffic", gap, "1", "relative gap reached", "neutral", False]
        return dataclasses.replace(r, kpis=kpis)

    ref, heat = with_gap(cat.run("ref-0"), 1e-5), with_gap(cat.run("heat-0"), 1e-7)
    assert list(kpi_chart(heat, ref, "en").data[0].y) == ["X", "Shade"]


def test_runs_are_opened_once_and_views_kept(env: tuple[Path, Path]) -> None:
    twin_dir, runs = env
    from twin.store.twinstore import open_twin

    cat = Catalogue(twin_dir, runs, open_twin(twin_dir))
    cat.refresh()
    assert cat.warm(budget_s=60) == 2
    assert set(cat._cache) == {"ref-0", "heat-0"}
    first = cat.layers("heat-0", "diff", None)
    assert cat.layers("heat-0", "diff", None) is first  # computed once
    assert set(cat.layers("heat-0", "side", None)) == {"left", "right"}
    cat.VIEWS = 2
    cat.layers("ref-0", "single", None)
    assert len(cat._views) == 2 and ("heat-0", "diff", "") not in cat._views  # oldest out


def test_a_run_being_written_is_not_listed(tmp_path: Path) -> None:
    """A run's hidden temporary folder (``.<run>.tmp-<pid>-<random>``, renamed into place when
    whole) already holds a run.json while it is written: the catalogue never lists it, so no
    reader opens a folder about to vanish (seen under load: HTTP 500 in the run picker)."""
    import shutil

    runs = tmp_path / "runs"
    write_run(synthetic_run("ref"), runs)
    shutil.copytree(runs / "ref-0", runs / ".load-check-0.tmp-10377-0f72bf2d")
    cat = Catalogue(tmp_path / "twin", runs, None)  # type: ignore[arg-type]
    cat.refresh()
    assert list(cat.runs) == ["ref-0"]
