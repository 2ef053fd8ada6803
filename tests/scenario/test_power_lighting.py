"""Coupling: an electricity outage darkens the street lamps it cuts off, in the same run.

Real Montpellier street lamps (29,969 in the inventory, those of a 1.5 km square kept) and
real centre-line arcs stand in for two separate medium-voltage feeder systems (west and east
of a 100 m gap, each with its substation; the topology is made up, the geometry is real).
Taking the western substation out must de-energise the western feeders only; the lighting
simulation of the same run must switch off exactly the lamps the power simulation reports
without power, and its dark-street length and compliance must follow.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from twin.io.lighting import read_lighting_inventory
from twin.io.registry import get_loader
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.twin import Twin
from twin.scenario.runner import run
from twin.scenario.schema import Scenario

WEST = (770000, 6279000, 770700, 6280500)
EAST = (770800, 6279000, 771500, 6280500)
ALL = (770000, 6279000, 771500, 6280500)


def _energy(arcs: gpd.GeoDataFrame, tmp: Path) -> Layer:
    """Two feeder systems on the real arcs of the west and east boxes, one substation each."""
    inside = arcs.within(shapely.box(*WEST)) | arcs.within(shapely.box(*EAST))
    feeders = arcs[inside][["geometry"]].rename_axis("IDARC").reset_index()
    feeders["tension_kv"] = 20.0
    gpkg = tmp / "grid.gpkg"
    feeders.to_file(gpkg, layer="feeders")
    postes = gpd.GeoDataFrame(
        {"nom": ["Ouest", "Est"]},
        geometry=[shapely.Point(770350, 6279750), shapely.Point(771150, 6279750)],
        crs=2154,
    )
    postes.to_file(gpkg, layer="postes")
    ld = get_loader("energy.lines")
    opts = {
        "lines_layer": "feeders",
        "substations": str(gpkg),
        "substations_layer": "postes",
        "mapping": {"voltage_kv": "tension_kv"},
        "id": "IDARC",
        "substations_id": "nom",
    }
    layer = ld.func(gpkg, **ld.validate_options(opts, "layers.energy"))
    layer.name = "energy"
    return layer


@pytest.fixture(scope="module")
def grid_twin(montpellier: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("power-lighting")
    lamps, lprov = read_lighting_inventory(
        montpellier / "VilleMTP_MTP_EclairagePublic" / "VilleMTP_MTP_EclairagePublic.zip",
        encoding="latin-1",
        mapping={"lamp_type": "type_lante"},
    )
    arcs, aprov = read_vector(
        montpellier / "VilleMTP_MTP_FilaireVoies" / "VilleMTP_MTP_FilaireVoies.zip",
        encoding="latin-1",
        id="IDARC",
    )
    box = shapely.box(*ALL)
    t = Twin("Montpellier centre", CRS.from_epsg(2154))
    t.add(Layer("street_lamps", "vector", lamps[lamps.within(box)].copy(), lprov))
    t.add(Layer("roads", "vector", arcs[arcs.within(box)].copy(), aprov))
    t.add(_energy(arcs, tmp))
    t.save(tmp / "twin")
    return tmp / "twin"


def test_outage_darkens_the_lamps_it_cuts_off(grid_twin: Path, tmp_path: Path) -> None:
    sims = ["power", "lighting"]
    params = {"power": {"lamps_layer": "street_lamps", "max_join_m": 150}}
    base = Scenario.from_dict(
        {"name": "grid", "parent": None, "simulations": sims, "parameters": params}
    )
    outage = Scenario.from_dict(
        {
            "name": "west_out",
            "parent": "grid",
            "interventions": [
                {
                    "type": "substation_outage",
                    "target": {"layer": "energy", "where": {"substation": "Ouest"}},
                }
            ],
            "simulations": sims,
            "parameters": params,
        }
    )
    lib = {"grid": base, "west_out": outage}
    r = run(grid_twin, outage, out=tmp_path, library=lib)
    parent = run(grid_twin, base, out=tmp_path, library=lib)
    assert r.manifest["parent_run"] == parent.run_id
    k, kp = r.kpis["value"], parent.kpis["value"]
    # power: the western feeders only
    # (feeder pieces that reach no substation are dark in both runs)
    nodes = r.outputs["power_nodes"].data
    before = parent.outputs["power_nodes"].data["energised"].reindex(nodes.index)
    west = nodes.geometry.x < 770750
    assert (nodes.loc[west, "energised"] == 0).all()
    assert (nodes.loc[~west, "energised"] == before[~west]).all()
    lost = int(((before == 1) & (nodes["energised"] == 0)).sum())
    assert lost > 100 and k["buses_deenergised"] - kp["buses_deenergised"] == lost
    # lighting switches off exactly the lamps the power simulation cut off
    supply = r.outputs["power_customers"].data
    cut = set(supply.loc[supply["powered"] == 0, "feature"])
    was = parent.outputs["power_customers"].data
    assert len(cut) > len(set(was.loc[was["powered"] == 0, "feature"])) + 100
    lamps = r.outputs["lamp_energy"].data
    assert set(lamps.index[~lamps["powered"]].astype(str)) == cut
    assert k["lamps_without_power"] == len(cut)
    assert (lamps.loc[~lamps["powered"], "level_at_check"] == 0).all()
    assert (~parent.outputs["lamp_energy"].data["powered"]).sum() == kp["lamps_without_power"]
    # the streets follow: darker, less compliant; the annual energy assumes supply restored
    assert k["dark_street_m"] > kp["dark_street_m"] + 1000
    assert k["compliance_share"] < kp["compliance_share"]
    assert k["energy_kwh_year"] == pytest.approx(kp["energy_kwh_year"])
    dark = r.outputs["street_lighting"].data
    was_dark = parent.outputs["street_lighting"].data
    dark_now = dark["lit"] & (dark["em_lx"].fillna(0) <= 0)
    newly = dark_now & ~(was_dark["lit"] & (was_dark["em_lx"].fillna(0) <= 0))
    assert newly.sum() > 20
    assert np.all(dark[newly].geometry.centroid.x < 770800)  # west of the gap
    notice = (r.path / "notice.fr.md").read_text()
    assert "**Rues plongées dans le noir**" in notice and "privées de courant" in notice
