"""The commerce plugin end to end on the real demo twin (OSM, central Helsinki)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from twin.errors import InputError, SchemaError
from twin.model.layer import Layer, SensorSeries
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.scenario.runner import run
from twin.scenario.schema import Scenario
from twin.sims.commerce.sim import Commerce, CommerceParams
from twin.sims.registry import get_simulation

ROOT = Path(__file__).resolve().parents[3]
SCEN = ROOT / "scenarios"
RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def demo(demo_dir: Path) -> Twin:
    return Twin.open(demo_dir)


@pytest.fixture(scope="module")
def base(demo: Twin):  # type: ignore[no-untyped-def]
    return Commerce().run(demo, CommerceParams(), {}, RNG)


def _kpis(res) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {k.name: k.value for k in res.kpis}


def test_baseline_on_demo(demo: Twin, base) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(get_simulation("commerce"), Commerce)
    units = base.outputs["retail_units"].data
    streets = base.outputs["street_footfall"].data
    assert len(units) == len(demo["shops"]) == 515
    assert units.index.equals(demo["shops"].index.astype(str))
    assert units.crs == demo.crs and set(units.geom_type) == {"Point"}
    assert units["market_share"].sum() == pytest.approx(1.0)
    assert units["vacancy_risk"].between(0, 1).all()
    assert units["footfall_ped_day"].gt(0).mean() > 0.95
    assert set(streets.geom_type) == {"LineString"}
    assert len(streets) == pytest.approx(len(demo["walk"].links) / 2, rel=0.01)
    k = _kpis(base)
    assert k["vacancy_rate_observed"] == 0.0  # no OSM shop of the demo is tagged vacant
    assert 0.05 < k["mean_vacancy_risk"] < 0.3
    assert 0.1 < k["centre_market_share"] < 0.9
    assert k["new_units_market_share"] == 0.0
    assert k["units_at_risk"] == int(units["at_risk"].sum())
    # too few vacancies: ASSUMED defaults, said in KPIs and provenance
    auc = next(x for x in base.kpis if x.name == "vacancy_model_auc")
    assert "ASSUMED default coefficients" in auc.description and "n=515" in auc.description
    prov = base.outputs["retail_units"].provenance
    assert "ASSUMED" in prov.derived["residents"] and "ASSUMED" in prov.derived["vacancy_risk"]
    assert "not calibrated" in prov.derived["footfall_ped_day"]
    # the centre (densest cluster, 250 m around Mannerheimintie – Aleksanterinkatu) holds
    # 3 × more units per km² than the whole demo area
    c = units[units["in_centre"]]
    x0, y0, x1, y1 = demo.extent
    assert len(c) / (np.pi * 0.25**2) > 3 * len(units) / ((x1 - x0) * (y1 - y0) / 1e6)
    streets_c = demo["shops"].loc[c.index, "addr:street"].value_counts()
    assert {"Mannerheimintie", "Aleksanterinkatu"} <= set(streets_c.index[:4])
    # busy streets carry thousands of pedestrians a day, back streets few
    assert streets["footfall_ped_day"].max() > 1000
    assert streets["footfall_ped_day"].median() < 200


def test_mall_scenario_raises_risk_in_centre(demo_dir: Path, tmp_path: Path) -> None:
    r = run(demo_dir, SCEN / "mall.yaml", out=tmp_path)
    assert (r.path / "compare" / "retail_units.parquet").is_file()
    fr = (r.path / "notice.fr.md").read_text()
    assert "Vacance commerciale" in fr and "part de marché" in fr
    # the vacancy model actually used (coefficients, standard errors) is in the notice
    assert "Valeurs estimées ou supposées par les simulations" in fr
    line = next(x for x in fr.splitlines() if "`retail_units.vacancy_risk`" in x)
    assert "const=" in line and "log_footfall=" in line
    cmp = r.parent_comparison
    k = cmp.kpis
    assert k.loc["centre_mean_vacancy_risk", "diff"] > 0.01
    assert k.loc["centre_market_share", "diff"] < -0.05
    assert k.loc["new_units_market_share", "b"] > 0.1
    assert k.loc["mean_vacancy_risk", "diff"] > 0
    assert k.loc["units_at_risk", "diff"] > 0
    # where: the difference layer, unit by unit
    d = cmp.layers["retail_units"].data
    units = r.outputs["retail_units"].data
    centre = units.index[units["in_centre"] & ~units["new_unit"]]
    assert (d.loc[centre, "vacancy_risk_diff"] > 0).mean() > 0.9
    assert (d.loc[centre, "market_share_diff"] < 0).all()
    mall = units.index[units["new_unit"]]
    assert len(mall) == 1 and np.isnan(d.loc[mall[0], "vacancy_risk_a"])
    assert "street_footfall" in cmp.layers


def test_pedestrian_scenario(demo_dir: Path) -> None:
    r = run(demo_dir, SCEN / "pedestrian.yaml")
    s = r.outputs["street_footfall"].data
    d = r.parent_comparison.layers["street_footfall"].data
    ped = s.index[s["pedestrianised"]]
    assert len(ped) > 20
    a, b = d.loc[ped, "footfall_ped_day_a"].sum(), d.loc[ped, "footfall_ped_day_b"].sum()
    assert b / a == pytest.approx(1.3, rel=0.05)  # ASSUMED uplift, routes barely change
    assert "new car park of 400 spaces in 'car_parks'" in r.manifest["interventions_applied"]
    k = r.parent_comparison.kpis
    assert k.loc["centre_market_share", "diff"] > 0  # parking next to the centre
    assert k.loc["centre_mean_footfall", "diff"] > 0


def test_vacancy_tax_and_roadworks(demo: Twin, base) -> None:  # type: ignore[no-untyped-def]
    sc = Scenario.from_dict(
        {
            "name": "tax",
            "parent": None,
            "interventions": [
                {"type": "vacancy_tax", "rate": 0.2,
                 "target": {"layer": "shops", "where": {"addr:street": "Yrjönkatu"}}},
                {"type": "roadworks", "start": "2027-04-01", "end": "2027-06-30",
                 "target": {"layer": "roads", "where": {"name": "Mannerheimintie"}}},
            ],
            "simulations": ["commerce"],
        }
    )  # fmt: skip
    r = run(demo, sc, compare_parent=False)
    u0 = base.outputs["retail_units"].data
    u1 = r.outputs["retail_units"].data
    taxed = u1["vacancy_tax_rate"] > 0
    assert taxed.sum() == (demo["shops"]["addr:street"] == "Yrjönkatu").sum()
    # odds × exp(−2 × 0.2) on taxed units (their footfall and share move little)
    odds = lambda p: p / (1 - p)  # noqa: E731
    ratio = odds(u1.loc[taxed, "vacancy_risk"]) / odds(u0.loc[taxed, "vacancy_risk"])
    assert ratio.median() == pytest.approx(np.exp(-0.4), rel=0.1)
    s0 = base.outputs["street_footfall"].data
    s1 = r.outputs["street_footfall"].data
    w = s1.index[s1["roadworks"]]
    assert len(w) > 20
    assert s1.loc[w, "footfall_ped_day"].sum() < 0.9 * s0.loc[w, "footfall_ped_day"].sum()


def test_congested_car_times_from_traffic(demo: Twin, base) -> None:  # type: ignore[no-untyped-def]
    roads = demo["roads"].links
    slow = roads["free_flow_time_s"] * 20.0  # gridlock everywhere but the north-east
    north = roads.geometry.centroid.y > 6672700
    flows = gpd.GeoDataFrame(
        {"time_s": np.where(north, roads["free_flow_time_s"], slow)},
        geometry=roads.geometry.to_numpy(), crs=roads.crs, index=roads.index,
    )  # fmt: skip
    lay = Layer("link_flows", "vector", flows, Provenance(source="test", producer="test"))
    res = Commerce().run(demo, CommerceParams(), {"link_flows": lay}, RNG)
    assert any("congested" in s for s in res.outputs["retail_units"].provenance.steps)
    u0 = base.outputs["retail_units"].data
    u1 = res.outputs["retail_units"].data
    n = u1.geometry.y > 6672700
    assert u1.loc[n, "market_share"].sum() > u0.loc[n, "market_share"].sum()
    free = (
        Commerce()
        .run(demo, CommerceParams(drive_times="free_flow"), {"link_flows": lay}, RNG)
        .outputs["retail_units"]
        .data
    )
    np.testing.assert_allclose(free["market_share"], u0["market_share"])


def test_calibrated_on_counters_and_fitted_vacancy(demo: Twin, base) -> None:  # type: ignore[no-untyped-def]
    t = demo.copy()
    streets = base.outputs["street_footfall"].data
    busy = streets[streets["footfall_ped_day"] > 100].iloc[::150][:12]
    pts = busy.geometry.interpolate(0.5, normalized=True)
    ids = [f"c{i}" for i in range(len(busy))]
    counts = 2.5 * busy["footfall_ped_day"].to_numpy()
    ds = xr.Dataset(
        {"pedestrians_day": (("sensor", "time"), np.repeat(counts[:, None], 3, axis=1))},
        coords={"sensor": ids, "time": pd.date_range("2025-05-01", periods=3)},
    )
    pts_gdf = gpd.GeoDataFrame(geometry=pts.to_numpy(), index=pd.Index(ids), crs=t.crs)
    t.add(Layer("counters", "series", SensorSeries(pts_gdf, ds),
                Provenance(source="synthetic", producer="test")))  # fmt: skip
    # synthetic observed vacancy: more likely where the modelled footfall is low
    u = base.outputs["retail_units"].data
    rng = np.random.default_rng(3)
    eta = -1.5 - 1.0 * np.log(np.maximum(u["footfall_ped_day"], 1) / 1000)
    t["shops"]["vacant"] = rng.random(len(u)) < 1 / (1 + np.exp(-eta.to_numpy()))
    res = Commerce().run(t, CommerceParams(counters_layer="counters"), {}, RNG)
    k = {x.name: x for x in res.kpis}
    assert k["footfall_calibration_r2"].value > 0.99
    assert "scale 2.5" in k["footfall_calibration_r2"].description
    s = res.outputs["street_footfall"].data
    np.testing.assert_allclose(s["footfall_ped_day"], 2.5 * streets["footfall_ped_day"], rtol=1e-3)
    assert "fitted by IRLS" in k["vacancy_model_auc"].description
    assert 0.6 < k["vacancy_model_auc"].value < 1
    assert k["vacancy_rate_observed"].value == pytest.approx(t["shops"]["vacant"].mean())


def test_zones(demo: Twin) -> None:
    t = demo.copy()
    x0, y0, x1, y1 = t.extent
    ym = (y0 + y1) / 2
    import shapely

    zones = gpd.GeoDataFrame(
        {"name": ["south", "north"]},
        geometry=[shapely.box(x0, y0, x1, ym), shapely.box(x0, ym, x1, y1)], crs=t.crs,
    )  # fmt: skip
    t.add(Layer("districts", "vector", zones, Provenance(source="test", producer="test")))
    lon0, lat0, lon1, lat1 = t.extent_lonlat
    north = [[lon0, (lat0 + lat1) / 2], [lon1, (lat0 + lat1) / 2], [lon1, lat1], [lon0, lat1]]
    centre = {"type": "Polygon", "coordinates": [[*north, north[0]]]}
    params = CommerceParams(zones_layer="districts", zone_field="name", mode="walk", centre=centre)
    res = Commerce().run(t, params, {}, RNG)
    u = res.outputs["retail_units"].data
    assert u["in_centre"].sum() > 10
    assert (u["in_centre"] == (u["zone"] == "north")).mean() > 0.98  # same half, up to the CRS
    k = {x.name: x.value for x in res.kpis}
    assert 0 < k["mean_vacancy_risk[north]"] < 1 and 0 < k["mean_vacancy_risk[south]"] < 1
    assert set(res.outputs["retail_units"].data["zone"].dropna()) == {"north", "south"}
    with pytest.raises(InputError, match="zone_field"):
        Commerce().run(t, CommerceParams(zones_layer="districts", zone_field="nom"), {}, RNG)
    # per-zone KPIs can be selected in a scenario; a wrong zone name is a clear error
    base = {"name": "zones", "parent": None, "simulations": ["commerce"],
            "parameters": {"commerce": {"zones_layer": "districts", "zone_field": "name",
                                        "mode": "walk"}}}  # fmt: skip
    sc = Scenario.from_dict({**base, "kpis": ["units_at_risk[north]", "mean_vacancy_risk"]})
    r = run(t, sc, compare_parent=False)
    assert list(r.kpis.index) == ["units_at_risk[north]", "mean_vacancy_risk"]
    assert r.kpis.loc["units_at_risk[north]", "value"] == k["units_at_risk[north]"]
    with pytest.raises(SchemaError, match=r"units_at_risk\[centre\].*units_at_risk\[north\]"):
        run(t, Scenario.from_dict({**base, "kpis": ["units_at_risk[centre]"]}),
            compare_parent=False)  # fmt: skip
    with pytest.raises(SchemaError, match="per zone"):
        run(t, Scenario.from_dict({**base, "kpis": ["footfall[north]"]}), compare_parent=False)


def test_bad_inputs(demo: Twin) -> None:
    sc = Scenario.from_dict(
        {"name": "bad", "parent": None, "simulations": ["commerce"],
         "parameters": {"commerce": {"shops_layer": "boutiques", "walk_share": 2,
                                     "counters_layer": "shops"}}}
    )  # fmt: skip
    with pytest.raises(SchemaError) as e:
        run(demo, sc, compare_parent=False)
    assert "parameters.commerce.walk_share" in str(e.value)
    sc = Scenario.from_dict(
        {"name": "bad", "parent": None, "simulations": ["commerce"],
         "parameters": {"commerce": {"coefficients": {"log_footfall": -1.0}}}}
    )  # fmt: skip
    with pytest.raises(SchemaError, match=r"parameters\.commerce\.coefficients: needs .const."):
        run(demo, sc, compare_parent=False)
    sc = Scenario.from_dict(
        {"name": "bad", "parent": None, "simulations": ["commerce"],
         "parameters": {"commerce": {"shops_layer": "boutiques", "counters_layer": "shops"}}}
    )  # fmt: skip
    with pytest.raises(SchemaError) as e:
        run(demo, sc, compare_parent=False)
    text = str(e.value)
    assert "needs a vector layer 'boutiques' (shops)" in text
    assert "set parameters.commerce.shops_layer" in text
    assert "counters_layer 'shops' is not a series layer" in text
    t = demo.copy()
    del t.layers["roads"]
    problems = Commerce().check(t, CommerceParams())
    assert any("needs a drive network 'roads'" in p and "mode: walk" in p for p in problems)
    assert Commerce().check(t, CommerceParams(mode="walk")) == []
    t.layer("shops").data = t["shops"].iloc[:0]
    with pytest.raises(InputError, match="retail-unit layer is empty"):
        Commerce().run(t, CommerceParams(mode="walk"), {}, RNG)


def test_intervention_errors(demo: Twin) -> None:
    from twin.sims.interventions import apply_interventions

    def apply(iv: dict) -> list[str]:
        sc = Scenario.from_dict({"name": "x", "interventions": [iv]})
        return apply_interventions(demo.copy(), sc.interventions)

    pt = {"type": "Point", "coordinates": [24.94, 60.17]}
    with pytest.raises(SchemaError, match=r"interventions\[0\].location.*location geometry"):
        apply({"type": "new_parking", "spaces": 10, "location": {"layer": "car_parks"}})
    with pytest.raises(SchemaError, match="not a car-park point layer"):
        apply({"type": "new_parking", "spaces": 10, "location": {"layer": "roads", "geometry": pt}})
    with pytest.raises(SchemaError, match="selects no feature"):
        apply({"type": "vacancy_tax", "rate": 0.1,
               "target": {"layer": "shops", "where": {"name": "no such shop"}}})  # fmt: skip
    done = apply(
        {"type": "new_parking", "spaces": 10, "location": {"layer": "amenities", "geometry": pt}}
    )
    assert done == ["new car park of 10 spaces in 'amenities'"]


def test_scenario_uses_the_model_fitted_on_the_parent(demo: Twin, base) -> None:  # type: ignore[no-untyped-def]
    t = demo.copy()
    u = base.outputs["retail_units"].data
    rng = np.random.default_rng(4)
    eta = -1.5 - 1.0 * np.log(np.maximum(u["footfall_ped_day"], 1) / 1000)
    t["shops"]["vacant"] = rng.random(len(u)) < 1 / (1 + np.exp(-eta.to_numpy()))
    sc = Scenario.from_yaml(SCEN / "mall.yaml").model_copy(update={"kpis": []})
    r = run(t, sc, library={})
    desc = r.kpis["description"]["vacancy_model_auc"]
    alone = run(t, Scenario(name="baseline", parent=None, seed=7, simulations=["commerce"]))
    parent_desc = alone.kpis["description"]["vacancy_model_auc"]
    assert "fitted by IRLS" in desc and "fitted by IRLS" in parent_desc
    # same coefficients: fitted on the parent's state, not refitted on the scenario's
    assert desc.split("; const=")[1] == parent_desc.split("; const=")[1]
    steps = r.outputs["retail_units"].provenance.steps
    assert any("fitted on the parent run's state" in s for s in steps)
    np.testing.assert_allclose(
        r.parent_comparison.layers["retail_units"].data["vacancy_risk_a"].dropna(),
        alone.outputs["retail_units"].data["vacancy_risk"],
    )
