"""The what-if editor's server side: form → validated scenario, and background jobs."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from twin.errors import SchemaError
from twin.scenario.runner import Run, run
from twin.viewer import whatif as wi
from twin.viewer.catalogue import Catalogue
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


#: The area drawn, closed (as the editor sends it in the scenario).
RING = [*AREA, AREA[0]]
#: The intervention each choice of the area's selector gives, for the value set in the form.
AREA_CASES = [
    (
        "plant_trees",
        0.3,
        {
            "type": "plant_trees",
            "label": "trees planted (30% canopy over the open ground) in the area drawn in the "
            "editor",
            "canopy_fraction": 0.3,
        },
    ),
    (
        "cool_roofs",
        0.85,
        {
            "type": "cool_roofs",
            "label": "cool roofs (albedo 0.85) in the area drawn in the editor",
            "albedo": 0.85,
        },
    ),
    (
        "green_roofs",
        0.4,
        {
            "type": "green_roofs",
            "label": "green roofs (40% of the roofs) in the area drawn in the editor",
            "fraction": 0.4,
        },
    ),
    (
        "water_surface",
        0.1,
        {
            "type": "water_surface",
            "label": "water surface (10% of the paved and grass ground) in the area drawn in "
            "the editor",
            "fraction": 0.1,
        },
    ),
    (
        "desealing",
        0.6,
        {
            "type": "desealing",
            "label": "de-sealing (60% of the paving) in the area drawn in the editor",
            "fraction": 0.6,
        },
    ),
    # no value: the scenario schema's default (cool roofs: albedo 0.7)
    (
        "cool_roofs",
        None,
        {
            "type": "cool_roofs",
            "label": "cool roofs (albedo 0.7) in the area drawn in the editor",
            "albedo": 0.7,
        },
    ),
]


@pytest.mark.parametrize(("kind", "value", "expected"), AREA_CASES)
def test_area_intervention_from_the_form(
    store: Catalogue, kind: str, value: float | None, expected: dict[str, Any]
) -> None:
    """The drawn area carries the intervention picked in the editor, with its parameter under
    the schema's name; the scenario validates, and the intervention applies to the twin."""
    from twin.sims.interventions import apply_interventions

    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    form = wi.Form(parent, name=f"area_{kind}", polygon=AREA, area_type=kind, area_value=value)
    target = {"layer": "landcover", "geometry": {"type": "Polygon", "coordinates": [RING]}}
    assert wi.interventions(store.twin, form) == [{**expected, "target": target}]
    sc, _ = wi.build_scenario(store.twin, chain["trees"], chain, form)
    (iv,) = sc.interventions
    assert iv.model_dump(mode="json", exclude_none=True) == {
        **expected,
        "target": {**target, "crs": "EPSG:4326"},
    }
    assert sc.simulations == ["landcover"]  # the parent's land cover reports the change
    (done,) = apply_interventions(store.twin.copy(), sc.interventions)
    m2 = float(re.search(r"([\d,]+) m²", done).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert m2 > 100, done


def test_area_parameters_are_the_schemas() -> None:
    got = {k: wi.area_parameter(k) for k in wi.area_interventions()}
    assert got == {
        "plant_trees": wi.AreaParameter("canopy_fraction", 0.5, 0.0, 1.0),
        "cool_roofs": wi.AreaParameter("albedo", 0.7, 0.0, 1.0),
        "green_roofs": wi.AreaParameter("fraction", 0.5, 0.0, 1.0),
        "water_surface": wi.AreaParameter("fraction", 0.2, 0.0, 1.0),
        "desealing": wi.AreaParameter("fraction", 0.5, 0.0, 1.0),
    }


def test_area_intervention_needs_a_simulation(store: Catalogue) -> None:
    """From a parent running none of the simulations that react, land cover is added."""
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, _trees(store))
    form = wi.Form("x", name="roofs", polygon=AREA, area_type="green_roofs")
    sc, _ = wi.build_scenario(store.twin, chain["baseline"], chain, form)
    assert "landcover" in sc.simulations and "heat" not in sc.simulations


def test_area_parameter_out_of_range_is_listed(store: Catalogue) -> None:
    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    bad = wi.Form(parent, name="shiny", polygon=AREA[:2], area_type="cool_roofs", area_value=1.5)
    with pytest.raises(SchemaError) as err:
        wi.build_scenario(store.twin, chain["trees"], chain, bad)
    assert str(err.value).splitlines() == [
        "what-if editor: 2 problem(s):",
        "  - cool_roofs: the area needs at least 3 points (click on the map)",
        "  - cool_roofs.albedo: must be between 0 and 1 (got 1.5)",
        "Fix: correct the form and launch again.",
    ]
    # an emptied value (NaN) and an unknown intervention are refused too
    nan = wi.Form(parent, name="x", polygon=AREA, area_type="desealing", area_value=float("nan"))
    with pytest.raises(SchemaError, match=r"desealing\.fraction: must be between 0 and 1"):
        wi.build_scenario(store.twin, chain["trees"], chain, nan)
    odd = wi.Form(parent, name="x", polygon=AREA, area_type="lava")
    with pytest.raises(SchemaError, match="area: unknown intervention 'lava'"):
        wi.build_scenario(store.twin, chain["trees"], chain, odd)


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


def test_whole_street_by_name(store: Catalogue) -> None:
    """A search offers the whole street first (all its directed links, beyond the 50 listed)
    and says how many links are not listed; picking it selects every link of the street."""
    t = store.twin
    links = t["roads"].links
    n = int((links["name"] == "Mannerheimintie").sum())
    assert n > 50  # the demo's Mannerheimintie: more links than a search lists
    opts = wi.link_options(t, "mannerheim", lang="fr")
    assert opts[0] == {
        "label": f"▸ Toute la rue : Mannerheimintie ({n} tronçons)",
        "value": "street:Mannerheimintie",
    }
    singles = [o for o in opts if not o["value"].startswith(("street:", "more:"))]
    assert len(singles) == 50
    assert opts[1]["disabled"] and opts[1]["label"].startswith(f"… {n - 50} tronçons de plus")
    ids = wi.expand_streets(t, ["street:Mannerheimintie", singles[0]["value"]])
    assert sorted(ids) == sorted(links.index[links["name"] == "Mannerheimintie"].astype(str))
    parent = _trees(store)
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, parent)
    form = wi.Form(parent, name="no_mannerheim", links=ids)
    sc, _ = wi.build_scenario(t, chain["trees"], chain, form)
    assert len(sc.interventions[0].target.ids) == n
