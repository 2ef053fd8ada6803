"""The lighting plugin: Montpellier end to end, light spill, LED payback, adaptive dimming."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely.geometry import LineString, Point, box

from twin.errors import InputError
from twin.io.lighting import fill_lamp_defaults, read_lighting_inventory
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.lighting import Lighting, LightingParams

RNG = np.random.default_rng(0)


def kpis(res) -> dict[str, float]:
    return {k.name: k.value for k in res.kpis}


@pytest.fixture(scope="module")
def montpellier_twin(montpellier: Path) -> Twin:
    lamps, prov = read_lighting_inventory(
        montpellier / "VilleMTP_MTP_EclairagePublic" / "VilleMTP_MTP_EclairagePublic.zip",
        encoding="latin-1",
        mapping={"lamp_type": "type_lante"},
    )
    streets, sprov = read_vector(
        montpellier / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip",
        encoding="latin-1",
    )
    t = Twin("Montpellier", CRS.from_epsg(2154))
    t.add(Layer("street_lamps", "vector", lamps, prov))
    t.add(Layer("roads", "vector", streets, sprov))
    return t


def test_montpellier_end_to_end_dimming_saves_energy(montpellier_twin: Twin) -> None:
    t = montpellier_twin
    assert len(t["street_lamps"]) == 29969
    sim = Lighting()
    base = sim.run(t, LightingParams(), {}, RNG)
    kb = kpis(base)
    lamps = base.outputs["lamp_energy"].data
    assert len(lamps) == 29969
    # dusk to dawn: every lamp burns the ~4300 night hours of Montpellier
    assert lamps["burning_hours_h"].between(4250, 4400).all()
    installed_kw = t["street_lamps"]["power_w"].sum() / 1000
    assert kb["energy_kwh_year"] == pytest.approx(installed_kw * lamps["burning_hours_h"].iloc[0])
    assert kb["peak_kw"] == pytest.approx(installed_kw)
    assert kb["cost_eur_year"] == pytest.approx(kb["energy_kwh_year"] * 0.20)
    assert kb["co2_kg_year"] == pytest.approx(kb["energy_kwh_year"] * 0.052)
    streets = base.outputs["street_lighting"].data
    assert len(streets) == 8011 and streets["lit"].sum() > 7000
    assert 0.3 < kb["compliance_share"] < 1.0
    cab = base.outputs["cabinet_energy"].data
    assert list(cab.index) == ["unknown"]  # the open data has no cabinets

    # a dimming scenario: half power from 22:00 to 06:00
    scen = t.copy()
    scen["street_lamps"]["schedule"] = json.dumps([["22:00", 0.5], ["06:00", 1.0]])
    dim = sim.run(scen, LightingParams(), {}, RNG)
    kd = kpis(dim)
    saving = 1 - kd["energy_kwh_year"] / kb["energy_kwh_year"]
    # 8 of ~11.8 night hours at half power: ~33 % saved (less in June, when 22:00 is dusk)
    assert 0.28 < saving < 0.36
    assert kd["cost_eur_year"] < kb["cost_eur_year"] and kd["co2_kg_year"] < kb["co2_kg_year"]
    assert kd["compliance_share"] < kb["compliance_share"]  # checked at 01:00, at half power
    em = dim.outputs["street_lighting"].data["em_lx"] / streets["em_lx"]
    assert np.nanmedian(em) == pytest.approx(0.5)


def _small_twin(**lamp_cols) -> Twin:
    """Six lamps every 25 m along a 150 m street, a park 10 m north of it."""
    prov = Provenance(source="test")
    pts = [Point(12.5 + 25 * i, -6.0) for i in range(6)]
    raw = gpd.GeoDataFrame(
        {"lamp_type": ["LANTERNE"] * 6, "cabinet": ["C1"] * 3 + ["C2"] * 3, **lamp_cols},
        geometry=pts,
        crs=2154,
        index=pd.Index([f"L{i}" for i in range(6)]),
    )
    lamps = fill_lamp_defaults(raw, prov)
    street = gpd.GeoDataFrame(
        {"flow_veh_h": [300.0]}, geometry=[LineString([(0, 0), (150, 0)])], crs=2154, index=["s"]
    )
    park = gpd.GeoDataFrame(
        {"landuse": [None], "leisure": ["park"]}, geometry=[box(0, 10, 150, 60)], crs=2154
    )
    t = Twin("small", CRS.from_epsg(2154))
    t.add(Layer("street_lamps", "vector", lamps, prov))
    t.add(Layer("roads", "vector", street, prov))
    t.add(Layer("landuse", "vector", park, prov))
    return t


def test_lamps_face_their_street_and_light_it() -> None:
    res = Lighting().run(_small_twin(), LightingParams(), {}, RNG)
    lamps = res.outputs["lamp_energy"].data
    # lamps are south of an eastward street: C0 along it, C90 (counter-clockwise) faces north
    assert np.allclose(lamps["azimuth_deg"], 0.0)
    st = res.outputs["street_lighting"].data.loc["s"]
    assert st["em_full_lx"] > 10 and st["compliant_full"]


def test_switch_off_cuts_spill_on_the_park() -> None:
    t = _small_twin()
    k0 = kpis(Lighting().run(t, LightingParams(), {}, RNG))
    t2 = _small_twin(switch_off=['["23:00", "05:00"]'] * 6)
    k1 = kpis(Lighting().run(t2, LightingParams(), {}, RNG))
    assert k0["spill_index"] > 0
    hours = Lighting().run(t2, LightingParams(), {}, RNG).outputs["lamp_energy"].data
    ratio = hours["full_load_hours_h"].iloc[0] / (hours["full_load_hours_h"].iloc[0] + 6 * 365)
    assert k1["spill_index"] == pytest.approx(k0["spill_index"] * ratio, rel=1e-3)
    assert np.isnan(k0["retrofit_payback_years"])


def test_led_retrofit_payback() -> None:
    t = _small_twin()
    lamps = t["street_lamps"]
    old = lamps["power_w"].copy()
    lamps["power_w"] = old * 0.4  # as the led_retrofit intervention does
    lamps["lamp_technology"] = "led"
    lamps["retrofit_cost_eur"] = 600.0
    res = Lighting().run(t, LightingParams(tariff_eur_kwh=0.25), {}, RNG)
    hours = res.outputs["lamp_energy"].data["full_load_hours_h"].iloc[0]
    saved_eur = float((old * 0.6).sum()) * hours / 1000 * 0.25
    assert kpis(res)["retrofit_payback_years"] == pytest.approx(6 * 600 / saved_eur)
    # 100 W HPS → 40 W LED, ~4300 h, 0.25 €/kWh: 600 € pays back in ~9 years
    assert 8 < kpis(res)["retrofit_payback_years"] < 11


def test_adaptive_dimming_from_traffic() -> None:
    t = _small_twin()
    base = kpis(Lighting().run(t, LightingParams(), {}, RNG))
    res = Lighting().run(t, LightingParams(adaptive=True), {}, RNG)
    # night flow 0.2 × 300 = 60 veh/h < 200: P2 drops two steps to P4, Ē 5 / 10 → level 0.5
    assert np.allclose(res.outputs["lamp_energy"].data["level_at_check"], 0.5)
    assert kpis(res)["energy_kwh_year"] < 0.75 * base["energy_kwh_year"]
    st = res.outputs["street_lighting"].data.loc["s"]
    assert st["lighting_class"] == "P4"
    t.layer("roads").data = t["roads"].drop(columns="flow_veh_h")
    with pytest.raises(InputError, match=r"traffic column 'flow_veh_h'.*adaptive: false"):
        Lighting().run(t, LightingParams(adaptive=True), {}, RNG)


def test_bad_inputs_are_explained() -> None:
    t = _small_twin()
    t["street_lamps"].loc["L2", "power_w"] = -5.0
    with pytest.raises(InputError, match=r"ids \['L2'\].*power_w"):
        Lighting().run(t, LightingParams(), {}, RNG)
    with pytest.raises(ValueError, match="lighting_class"):
        LightingParams(lighting_class="Q7")
