"""The what-if editor's server side: form → validated scenario, and background jobs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from twin.errors import SchemaError
from twin.scenario.runner import Run, run
from twin.viewer import whatif as wi
from twin.viewer.app import Catalogue
from twin.viewer.jobs import JobTable

AREA = [[24.9440, 60.1670], [24.9530, 60.1666], [24.9533, 60.1680], [24.9443, 60.1684]]


@pytest.fixture(scope="module")
def store(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    from twin.scenario.schema import Scenario
    from twin.store.twinstore import open_twin

    out = tmp_path_factory.mktemp("whatif-runs")
    trees = {
        "name": "trees",
        "title": "Trees",
        "interventions": [
            {
                "type": "plant_trees",
                "target": {
                    "layer": "landcover",
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [
                            [
                                [24.9440, 60.1670],
                                [24.9485, 60.1668],
                                [24.9487, 60.1680],
                                [24.9440, 60.1670],
                            ]
                        ],
                    },
                },
            }
        ],
        "simulations": ["landcover"],
    }
    run(demo_dir, Scenario.from_dict(trees), out=out)
    cat = Catalogue(demo_dir, out, open_twin(demo_dir))
    cat.refresh()
    return cat


def _trees(cat: Catalogue) -> str:
    return next(r for r in cat.runs if r.startswith("trees-"))


def test_form_to_scenario(store: Catalogue) -> None:
    t = store.twin
    ids = wi.link_ids_from_indices(t, [0, 5, 10**9, -1])
    assert len(ids) == 2 and ids[0] == str(t["roads"].links.index[0])  # out of range dropped
    assert wi.link_indices(t, ids) == [0, 5]
    assert any("Mannerheimintie" in o["label"] for o in wi.link_options(t, "mannerheim"))
    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    assert list(chain) == ["trees", "baseline"]
    form = wi.Form(parent, name="edited", links=ids, polygon=AREA, lamp_group="all")
    sc, lib = wi.build_scenario(t, chain["trees"], chain, form)
    assert [iv.type for iv in sc.interventions] == [
        "close_links",
        "plant_trees",
        "dimming_schedule",
    ]
    assert sc.parent == "trees" and set(lib) == {"trees", "baseline", "edited"}
    # the parent only ran landcover: the editor adds what the new interventions need
    assert sc.simulations == ["landcover", "accessibility", "lighting"]
    ring = sc.interventions[1].target.geometry["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5  # closed by the editor


def test_form_errors_list_every_problem(store: Catalogue) -> None:
    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    bad = wi.Form(
        parent,
        name="trees",  # taken by the parent
        links=["no-such-link"],
        polygon=AREA[:2],
        lamp_group="all",
        dim_start="25:99",
        dim_level=1.5,
    )
    with pytest.raises(SchemaError) as err:
        wi.build_scenario(store.twin, chain["trees"], chain, bad)
    text = str(err.value)
    assert "name: 'trees' is already used" in text
    assert "unknown links ['no-such-link']" in text
    assert "at least 3 points" in text
    assert "schedule[0].level: must be between 0 and 1" in text
    assert "schedule[0].start" in text
    with pytest.raises(SchemaError, match="add at least one"):
        wi.build_scenario(store.twin, chain["trees"], chain, wi.Form(parent, name="empty"))
    with pytest.raises(SchemaError, match="unknown parent run"):
        wi.parent_chain({}, "../../etc")


def test_jobs_run_in_background(store: Catalogue) -> None:
    """Submitting returns at once; a good job finishes with a run, a bad one fails with text."""
    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    sc, lib = wi.build_scenario(
        store.twin, chain["trees"], chain, wi.Form(parent, name="more_trees", polygon=AREA)
    )
    good = sc.model_dump(mode="json")
    bad = {**good, "name": "broken", "simulations": ["landcover", "no_such_sim"]}
    library = {n: s.model_dump(mode="json") for n, s in lib.items() if n != sc.name}
    jobs = JobTable(store.twin_dir, store.runs_dir, workers=2)
    t0 = time.perf_counter()
    a = jobs.submit(good, library, expected_s=5)
    b = jobs.submit(bad, library, expected_s=5)
    assert time.perf_counter() - t0 < 0.5  # the callbacks never wait for a run
    assert jobs.get(a).status in ("queued", "running") and jobs.get("nope") is None
    deadline = time.time() + 180
    while time.time() < deadline and any(
        jobs.get(j).status in ("queued", "running") for j in (a, b)
    ):
        time.sleep(0.5)
    ja, jb = jobs.get(a), jobs.get(b)
    assert ja.status == "done", ja.error
    assert jb.status == "failed" and "no_such_sim" in jb.error
    assert ja.progress() == 1.0 and jb.progress() == 0.0
    store.refresh()
    assert ja.run_id in store.runs
    r = Run.open(store.runs[ja.run_id])
    assert r.manifest["parent_run"] == parent  # the parent run is reused from the cache
    parent_canopy = store.run(parent).kpis.loc["canopy_area_m2", "value"]
    assert r.kpis.loc["canopy_area_m2", "value"] > parent_canopy  # more trees were planted
    jobs.shutdown()
