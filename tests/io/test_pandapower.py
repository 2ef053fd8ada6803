"""The pandapower loader on pandapower's real ``mv_oberrhein`` net, a saved JSON net, and bad
inputs."""

from __future__ import annotations

from pathlib import Path

import pandapower as pp
import pandapower.networks as pn
import pytest

from twin.build import resolve_source
from twin.errors import InputError
from twin.io.pandapower import read_pandapower
from twin.io.registry import get_loader
from twin.model.twin import Twin
from twin.store.twinstore import content_hashes

OBERRHEIN = resolve_source("pkg://pandapower/networks/mv_oberrhein.json", Path("."))
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pandapower")


def test_mv_oberrhein_through_the_registry(tmp_path: Path) -> None:
    ld = get_loader("pandapower")
    assert ld.kind == "network"
    layer = ld.func(OBERRHEIN, **ld.validate_options({"network": "mv_oberrhein"}, "x"))
    net, prov = layer.data, layer.provenance
    ref = pn.mv_oberrhein()
    assert len(net.nodes) == len(ref.bus) == 179
    assert net.links["link_type"].value_counts().to_dict() == {"line": 181, "trafo": 2}
    assert net.nodes.crs.to_epsg() == 2154 and net.nodes.crs.is_projected
    # lengths: declared km → m, and the geometry drawn in a metric CRS agrees (within 5 %)
    lines = net.links[net.links["link_type"] == "line"]
    assert lines["length_m"].sum() == pytest.approx(ref.line["length_km"].sum() * 1000)
    assert lines.geometry.length.sum() == pytest.approx(lines["length_m"].sum(), rel=0.05)
    # loads: p_mw × scaling (0.6 in the 'load' case), summed per bus
    assert net.nodes["load_mw"].sum() == pytest.approx((ref.load.p_mw * ref.load.scaling).sum())
    assert set(net.nodes.index[net.nodes["is_source"]]) == {"58", "318"}
    assert net.nodes.loc["39", "substation"] == "HV/MV Transformer 0"
    trafo = net.links.loc["trafo114"]
    assert (trafo["a_node"], trafo["b_node"], trafo["sn_mva"]) == ("58", "39", 25.0)
    # the six open sectioning points are line switches: their lines are open
    assert int((~net.links["closed"]).sum()) == 6 == prov.counts["open_switches"]
    assert prov.licence == "BSD-3-Clause" and "generic 20 kV" in prov.derived["data"]
    assert net.model is not None and net.model.engine == "pandapower"
    back = pp.from_json_string(net.model.text)
    assert len(back.bus) == 179 and back.load["scaling"].eq(0.6).all()
    # the net travels with the twin, hashed with it
    t = Twin("o", net.nodes.crs)
    t.add(layer)
    t.save(tmp_path / "t")
    assert (tmp_path / "t" / "layers" / f"{layer.name}.pandapower.json").is_file()
    reopened = Twin.open(tmp_path / "t")
    assert reopened.layer(layer.name).data.model == net.model
    assert content_hashes(reopened) == content_hashes(t)


def test_a_saved_json_net_and_its_geodata(tmp_path: Path) -> None:
    """A net saved with pandapower.to_json reads back the same (no named network)."""
    ref = pn.mv_oberrhein("generation")
    p = tmp_path / "net.json"
    pp.to_json(ref, str(p))
    net, prov = read_pandapower(p)
    assert len(net.nodes) == 179
    assert net.nodes["sgen_mw"].sum() == pytest.approx((ref.sgen.p_mw * ref.sgen.scaling).sum())
    assert "from_json" in prov.steps[0]


def test_bad_inputs(tmp_path: Path) -> None:
    text = tmp_path / "not_a_net.json"
    text.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="not a pandapower network file") as err:
        read_pandapower(text)
    assert str(text) in str(err.value)
    # a net without geodata: named buses, and how to fix it
    bare = pp.create_empty_network()
    b0 = pp.create_bus(bare, 20.0)
    b1 = pp.create_bus(bare, 20.0, geodata=(7.8, 48.4))
    pp.create_line(bare, b0, b1, 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    p = tmp_path / "bare.json"
    pp.to_json(bare, str(p))
    with pytest.raises(InputError, match=r"1 of 2 buses have no geodata \(e.g. buses \[0\]\)"):
        read_pandapower(p)
    # a scenario without a named network would be ignored: refused
    with pytest.raises(InputError, match="applies to a named network only"):
        read_pandapower(p, scenario="generation")
    # a named network read from another file
    with pytest.raises(InputError, match=r"pkg://pandapower/networks/mv_oberrhein\.json"):
        read_pandapower(p, network="mv_oberrhein")
