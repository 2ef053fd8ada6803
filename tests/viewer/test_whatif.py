"""The what-if editor's server side: form → validated scenario, and background jobs."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from twin.errors import FormError, SchemaError
from twin.scenario.runner import Run, run
from twin.viewer import whatif as wi
from twin.viewer.catalogue import Catalogue, manifest_title
from twin.viewer.editor import ANSWERS, FORM, job_row
from twin.viewer.jobs import JobTable
from twin.viewer.problems import FIELDS, Problem, by_field

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
    # the job table says what failed in the interface language, the library's text folded
    assert jb.failure == "schema", jb.failure
    row = str(job_row(jb, "fr"))
    assert "le scénario n'est pas valide" in row and "Détail technique" in row, row
    assert "no_such_sim" in row and "The run failed" not in row
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


def _form_of_three(t: Any, parent: str) -> wi.Form:
    """A closure of a whole street, a tree area at 30 % and a dimming to 50 % at night."""
    return wi.Form(
        parent,
        name="three",
        links=wi.expand_streets(t, ["street:Mannerheimintie"]),
        polygon=AREA,
        area_type="plant_trees",
        area_value=0.3,
        lamp_group="all",
        dim_start="22:00",
        dim_end="06:00",
        dim_level=0.5,
    )


def test_pending_changes_in_plain_words(store: Catalogue) -> None:
    """The changes the form will launch, one per intervention it builds, in the interface
    language, each with the part of the form its undo clears."""
    t = store.twin
    n = int((t["roads"].links["name"] == "Mannerheimintie").sum())
    form = _form_of_three(t, _trees(store))
    fr = wi.pending(t, form, "fr")
    assert [(c.part, c.text) for c in fr] == [
        ("links", f"Fermer Mannerheimintie ({n} tronçons)"),
        ("area", "Zone dessinée : plantation d'arbres, 30\u00a0%"),
        ("lamps", "Gradation de l'éclairage à 50\u00a0% de 22:00 à 06:00"),
    ]
    assert [c.text for c in wi.pending(t, form, "en")] == [
        f"Close Mannerheimintie ({n} links)",
        "Drawn area: tree planting, 30%",
        "Street lamps dimmed to 50% from 22:00 to 06:00",
    ]
    # the same interventions as the launch: one change per intervention, in order
    assert [iv["type"] for iv in wi.interventions(t, form)] == [
        "close_links",
        "plant_trees",
        "dimming_schedule",
    ]
    # an albedo is a plain number; one link is one link; several streets are named
    links = t["roads"].links
    named = links[links["name"].notna() & (links["name"] != "Mannerheimintie")]
    one = wi.Form("x", links=[str(named.index[0])], polygon=AREA, area_type="cool_roofs")
    (close, roofs) = wi.pending(t, one, "fr")
    assert close.text == f"Fermer {named['name'].iloc[0]} (1 tronçon)"
    assert roofs.text == "Zone dessinée : toitures claires, 0,7"
    streets = list(dict.fromkeys(named["name"].astype(str)))[:5]
    many = [str(named.index[named["name"] == s][0]) for s in streets]
    (five,) = wi.pending(t, wi.Form("x", links=many), "en")
    assert five.text.endswith(" and 2 other streets (5 links)"), five.text
    assert wi.pending(t, wi.Form("x"), "fr") == []


def _problems(store: Catalogue, form: wi.Form) -> list[Any]:
    chain = wi.parent_chain({r: store.manifest(r) for r in store.runs}, _trees(store))
    with pytest.raises(FormError) as err:
        wi.build_scenario(store.twin, chain["trees"], chain, form)
    assert isinstance(err.value, SchemaError)  # scripts still catch a schema error
    return err.value.problems


#: What the page must never show a planner: schema paths, patterns, internal ids.
INTERNAL = re.compile(r"interventions[.\[]|\^\[|\]\+\$|target\.ids|schedule\[|no-such-link")


def test_form_problems_under_their_fields(store: Catalogue) -> None:
    """Each problem names the field of the form it is shown under, with its message in the
    interface language (no schema path, pattern or link id); the English text stays."""
    bad_name = _problems(store, wi.Form(_trees(store), name="fermeture été"))
    shown = {p.field: p.message("fr") for p in bad_name}
    assert shown == {
        "name": "Le nom ne peut contenir que des lettres sans accent, des chiffres, « - », "
        "« _ » et « . » (pas d'espace)",
        "changes": "Ajoutez au moins une modification : fermer une rue, dessiner une zone ou "
        "graduer l'éclairage",
    }
    assert {p.field: p.message("en") for p in bad_name}["changes"].startswith("Nothing to")
    assert "name: String should match pattern" in " ".join(p.text for p in bad_name)
    bad = wi.Form(
        _trees(store),
        name="trees",  # taken by the parent
        links=["no-such-link"],
        polygon=AREA,
        area_type="plant_trees",
        area_value=1.5,
        lamp_group="all",
        dim_start="25:99",
        dim_level=1.5,
    )
    got = {p.field: p.message("fr") for p in _problems(store, bad)}
    assert got == {
        "name": "« trees » est déjà le nom du scénario de départ ou d'un de ses parents : "
        "choisissez-en un autre",
        "links": "1 tronçon(s) choisi(s) ne sont pas dans le réseau de voirie : retirez-les et "
        "choisissez dans la liste",
        "amount": "Entre 0\u00a0% et 100\u00a0%",  # the declared bounds, as a share
        "dim_start": "Début : une heure au format HH:MM, par exemple 22:00",
        "dim_level": "Niveau : entre 0 et 1",
    }
    assert not any(INTERNAL.search(m) for m in got.values())
    same = wi.Form(_trees(store), name="x", lamp_group="all", dim_start="22:00", dim_end="22:00")
    (p,) = _problems(store, same)
    assert (p.field, p.message("en")) == (
        "dim_end",
        "To: the end time must differ from the start time",
    )
    roofs = wi.Form(_trees(store), name="x", polygon=AREA[:2], area_type="cool_roofs", area_value=2)
    assert {p.field: p.message("en") for p in _problems(store, roofs)} == {
        "area": "The area needs at least 3 points: click on the map with the “Draw an area” tool",
        "amount": "Between 0 and 1",  # an albedo: a plain number
    }


def test_other_schema_problems_are_kept() -> None:
    """A schema error no field of the form explains goes to the general area, in the
    schema's words, rather than being lost."""
    err = {
        "loc": ("interventions", 0, "close_links", "target", "layer"),
        "msg": "Field required",
        "type": "missing",
    }
    p = wi.schema_problem(err, ["links"], "plant_trees")
    assert p.field == "form" and p.key == "wi.err.other"
    assert p.message("fr") == "Problème : interventions[0].target.layer: Field required"
    stored = [p.to_dict(), Problem("name", "wi.err.name_chars").to_dict()]
    shown = by_field(stored, "en")
    assert shown["form"] == ["Problem: interventions[0].target.layer: Field required"]
    assert shown["name"][0].startswith("The name may only hold")
    assert shown["links"] == []


def test_rerun_parent_named_in_the_interface_language() -> None:
    """A parent run again with more simulations is named by its own title and what was
    added, in the language of the picker; the editor's chain takes the scenario as written."""
    rerun = {
        "title": "Night dimming",
        "added": ["traffic"],
        "added_titles": {"en": ["Traffic rerouting"], "fr": ["Report de trafic"]},
    }
    scen = {"name": "dim", "title": "Night dimming (+ Traffic rerouting)", "parent": "baseline"}
    m = {"scenario": {**scen, "simulations": ["lighting", "traffic"]}, "rerun": rerun}
    assert manifest_title(m, "fr") == "Night dimming (+ Report de trafic)"
    assert manifest_title(m, "en") == scen["title"]
    plain = {"scenario": {**scen, "title": "Night dimming", "simulations": ["lighting"]}}
    assert manifest_title(plain, "fr") == "Night dimming"
    base = {"scenario": {"name": "baseline", "parent": None, "simulations": ["lighting"]}}
    child = {"scenario": {"name": "kid", "parent": "dim", "simulations": ["lighting"]}}
    for order in ([m, plain], [plain, m]):
        manifests = {f"r{i}": x for i, x in enumerate([*order, base, child])}
        chain = wi.parent_chain(manifests, "r3")
        assert list(chain) == ["kid", "dim", "baseline"]
        assert chain["dim"].title == "Night dimming" and chain["dim"].simulations == ["lighting"]


def test_every_field_of_the_form_answers_its_own_problems() -> None:
    """Each field of the form clears the problems shown under it when changed: every field
    is listed, and each names fields problems are shown under."""
    assert set(ANSWERS) == {i for i, _ in FORM}
    assert all(set(fs) <= set(FIELDS) for fs in ANSWERS.values())
    shown = {f for fs in ANSWERS.values() for f in fs}
    assert shown == set(FIELDS)  # no problem is left that no change answers
