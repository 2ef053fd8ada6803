"""Water twins: a small branched network written here, and ky10 as WNTR ships it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import wntr

from twin.io.epanet import read_epanet
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin

KY10 = Path(wntr.__file__).parent / "library" / "networks" / "ky10.inp"

#: R (60 m head) feeds J1; J1 feeds J2 → J3 (a branch) and J4. Flat ground, large pipes:
#: every junction is above 50 m of pressure, so all its demand is served.
X0, Y0 = 700_000.0, 6_600_000.0
BRANCHED = f"""[TITLE]
branched test network
[JUNCTIONS]
;ID Elev Demand
J1 0 1
J2 0 2
J3 0 3
J4 0 4
[RESERVOIRS]
R 60
[PIPES]
;ID N1 N2 Length Diam Rough MinorLoss Status
P1 R J1 100 300 130 0 Open
P2 J1 J2 100 200 130 0 Open
P3 J2 J3 100 200 130 0 Open
P4 J1 J4 100 200 130 0 Open
[TIMES]
Duration 8:00
Hydraulic Timestep 0:15
[OPTIONS]
Units LPS
Headloss H-W
[COORDINATES]
R {X0} {Y0}
J1 {X0 + 100} {Y0}
J2 {X0 + 200} {Y0}
J3 {X0 + 300} {Y0}
J4 {X0 + 100} {Y0 + 100}
[END]
"""

#: Demand of each junction [m³/s] (the file's L/s).
DEMANDS = {"J1": 0.001, "J2": 0.002, "J3": 0.003, "J4": 0.004}


def branched_twin(tmp_path: Path, text: str = BRANCHED) -> Twin:
    """A twin of the branched network, with three buildings: by J3, by J4, and far away."""
    inp = tmp_path / "branched.inp"
    inp.write_text(text)
    net, prov = read_epanet(inp, crs="EPSG:2154")
    t = Twin("branched", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    boxes = [
        shapely.box(X0 + 300, Y0 + 10, X0 + 310, Y0 + 20),
        shapely.box(X0 + 100, Y0 + 110, X0 + 110, Y0 + 120),
        shapely.box(X0 + 2000, Y0, X0 + 2010, Y0 + 10),
    ]
    b = gpd.GeoDataFrame(
        {"use": ["house"] * 3}, geometry=boxes, crs=t.crs, index=["b3", "b4", "bx"]
    )
    t.add(Layer("buildings", "vector", b, Provenance(source="test buildings")))
    return t


@pytest.fixture
def branched(tmp_path: Path) -> Twin:
    """The branched twin."""
    return branched_twin(tmp_path)


@pytest.fixture(scope="module")
def ky10() -> Twin:
    """ky10 (Kentucky, 1,043 pipes) through the EPANET loader."""
    net, prov = read_epanet(KY10, crs="EPSG:3089")
    t = Twin("ky10", net.links.crs)
    t.add(Layer("water", "network", net, prov))
    return t
