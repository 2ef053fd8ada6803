"""The ``power`` simulation: who loses electricity supply, and how the network is loaded.

1. **Connectivity** (always): which nodes stay connected to an in-service source
   (:func:`twin.sims.power.flow.supply`, a numba breadth-first search), and which buildings,
   shops, street lamps and lighting cabinets lose supply through the nodes they are joined to
   (:mod:`twin.sims.power.join`).
2. **Power flow** (when the network carries a pandapower net): pandapower's Newton–Raphson
   load flow on the scenario's state gives node voltages [p.u.] and line and transformer
   loadings [%] (:func:`twin.sims.power.flow.power_flow`).

See ``docs/simulations/power.md`` for the model, its validation and its limits.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field

from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import KPI, Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.power.cooling import CoolingRule, node_cooling_mw
from twin.sims.power.criticality import link_criticality, node_load_mw, source_criticality
from twin.sims.power.flow import (
    ADDED_LOADS,
    FlowResult,
    electrical_problems,
    power_flow,
    source_nodes,
    supply,
)
from twin.sims.power.interventions import POWER_INTERVENTIONS
from twin.sims.power.join import cabinet_points, feature_points, nearest_nodes

#: Supplied feature layers: their parameter and KPI.
FEATURES = {
    "buildings": ("buildings_layer", "buildings_without_power"),
    "shops": ("shops_layer", "shops_without_power"),
    "lamps": ("lamps_layer", "lamps_without_power"),
}


class PowerParams(Params):
    """Parameters of :class:`Power`."""

    network_layer: str = Field("energy", description="Energy network layer.")
    power_flow: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Power flow: 'auto' when the network has a pandapower net, 'on' "
        "(required), 'off' (connectivity only).",
    )
    max_loading_pct: float = Field(
        100.0, gt=0, le=1000, description="Loading above which a line is overloaded [%]."
    )
    max_iteration: int = Field(30, ge=1, le=500, description="Newton–Raphson iterations.")
    tolerance_mva: float = Field(
        1e-8, ge=1e-12, le=1.0, description="Power mismatch accepted by the flow [MVA]."
    )
    max_join_m: float = Field(
        300.0, gt=0, le=5000, description="Largest feature-to-node join distance [m] ASSUMED."
    )
    buildings_layer: str | None = Field(None, description="Buildings supplied (optional).")
    shops_layer: str | None = Field(None, description="Shops supplied (optional).")
    lamps_layer: str | None = Field(
        None, description="Street lamps supplied, through their 'cabinet' when given."
    )
    cooling_base_c: float = Field(
        24.0,
        ge=10,
        le=40,
        description="Air temperature above which buildings are cooled "
        "[°C] (ASSUMED; heat-wave load, with the heat simulation).",
    )
    cooling_w_per_m2_k: float = Field(
        3.0,
        ge=0,
        le=50,
        description="Cooling power per m² of cooled floor and per K above "
        "the base [W/(m²·K)] (ASSUMED).",
    )
    cooling_share: float = Field(
        0.25, ge=0, le=1, description="Air-conditioned share of the floor area (ASSUMED)."
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "network_layer": "Couche du réseau d'énergie.",
        "power_flow": "Calcul de répartition de charge : 'auto' quand le réseau a un modèle "
        "pandapower, 'on' (exigé), 'off' (connexité seule).",
        "max_loading_pct": "Charge au-delà de laquelle une ligne est surchargée [%].",
        "max_iteration": "Itérations de Newton–Raphson.",
        "tolerance_mva": "Écart de puissance accepté par le calcul [MVA].",
        "max_join_m": "Distance maximale de rattachement d'un objet à un nœud [m] SUPPOSÉE.",
        "buildings_layer": "Bâtiments alimentés (facultatif).",
        "shops_layer": "Commerces alimentés (facultatif).",
        "lamps_layer": "Points lumineux alimentés, par leur armoire ('cabinet') quand elle "
        "est donnée.",
        "cooling_base_c": "Température de l'air au-delà de laquelle les bâtiments sont "
        "climatisés [°C] (SUPPOSÉ ; charge de canicule, avec la simulation de chaleur).",
        "cooling_w_per_m2_k": "Puissance de climatisation par m² de plancher climatisé et "
        "par K au-dessus de la base [W/(m²·K)] (SUPPOSÉ).",
        "cooling_share": "Part climatisée de la surface de plancher (SUPPOSÉ).",
    }


def _spec(name: str, unit: str, better: Any, en: tuple[str, str], fr: tuple[str, str],
          headline: bool = True) -> KPISpec:  # fmt: skip
    return KPISpec(name, unit, better, {"en": en[0], "fr": fr[0]},
                   {"en": en[1], "fr": fr[1]}, headline)  # fmt: skip


KPIS = (
    _spec("buses_deenergised", "buses", "lower",
          ("De-energised nodes", "network nodes not connected to an in-service source"),
          ("Nœuds hors tension", "nœuds du réseau non reliés à une source en service")),
    _spec("load_not_supplied_mw", "MW", "lower",
          ("Load not supplied", "active load of the de-energised nodes"),
          ("Charge non alimentée", "charge active des nœuds hors tension")),
    _spec("buildings_without_power", "buildings", "lower",
          ("Buildings without power", "buildings joined to a de-energised node"),
          ("Bâtiments sans électricité", "bâtiments rattachés à un nœud hors tension")),
    _spec("shops_without_power", "shops", "lower",
          ("Shops without power", "shops joined to a de-energised node"),
          ("Commerces sans électricité", "commerces rattachés à un nœud hors tension")),
    _spec("lamps_without_power", "lamps", "lower",
          ("Street lamps without power", "street lamps whose supply node is de-energised"),
          ("Points lumineux éteints", "points lumineux dont le nœud d'alimentation est hors "
           "tension")),
    _spec("cabinets_without_power", "cabinets", "lower",
          ("Lighting cabinets without power", "lighting cabinets joined to a de-energised node"),
          ("Armoires d'éclairage sans électricité", "armoires d'éclairage rattachées à un "
           "nœud hors tension")),
    _spec("min_voltage_pu", "p.u.", "higher",
          ("Lowest voltage", "lowest voltage magnitude of the energised nodes"),
          ("Tension la plus basse", "plus basse tension des nœuds sous tension")),
    _spec("max_line_loading_pct", "%", "lower",
          ("Highest line loading", "highest line loading (current over rated current)"),
          ("Charge de ligne maximale", "plus forte charge de ligne (courant sur courant "
           "admissible)")),
    _spec("overloaded_lines", "lines", "lower",
          ("Overloaded lines", "lines loaded above {max_loading_pct:g} %"),
          ("Lignes en surcharge", "lignes chargées à plus de {max_loading_pct:g} %")),
    _spec("features_not_joined", "features", "neutral",
          ("Features not joined", "features farther than {max_join_m:g} m from any node"),
          ("Objets non rattachés", "objets à plus de {max_join_m:g} m de tout nœud"), False),
    _spec("cooling_load_mw", "MW", "lower",
          ("Heat-wave cooling load", "air-conditioning load of the buildings under the heat "
           "simulation's daily maximum air temperature (above {cooling_base_c:g} °C)"),
          ("Charge de climatisation (canicule)", "charge de climatisation des bâtiments sous "
           "la température maximale de l'air de la simulation de chaleur (au-delà de "
           "{cooling_base_c:g} °C)")),
    _spec("critical_elements", "elements", "lower",
          ("Elements without back-up", "lines, transformers, switches and sources whose "
           "failure alone cuts nodes off (N-1 connectivity)"),
          ("Éléments sans secours", "lignes, transformateurs, organes de coupure et sources "
           "dont la seule défaillance coupe des nœuds (N-1, connexité)")),
    _spec("worst_single_failure_mw", "MW", "lower",
          ("Worst single failure", "load cut off by the single failure that cuts the most"),
          ("Pire défaillance simple", "charge coupée par la défaillance simple la plus "
           "pénalisante")),
    _spec("power_flow_converged", "1", "higher",
          ("Power flow converged", "1 when the power flow converged, 0 when it did not"),
          ("Calcul de répartition convergé", "1 si le calcul de répartition a convergé, "
           "0 sinon"), False),
)  # fmt: skip

NOTICE = {
    "en": NoticeText(
        purpose="Find which parts of the electricity network, and which buildings, shops and "
        "street lights, lose supply after an outage or a switching operation, and how "
        "voltages and line loadings change (decision support, never an automatic decision).",
        method="Connectivity: a breadth-first search from the in-service sources (external "
        "grids, substations) through the in-service, closed lines, transformers and switches. "
        "Each building, shop or lighting cabinet is supplied by its nearest network node "
        "within {max_join_m:g} m (ASSUMED). Where the network carries electrical parameters, "
        "a Newton–Raphson AC power flow with pandapower (Thurner et al., 2018; power flow: "
        "{power_flow_text}, up to {max_iteration} iterations, mismatch {tolerance_mva:g} MVA) "
        "gives voltages and loadings; a line above {max_loading_pct:g} % is overloaded.",
        limits="Steady state only (no protection, no restoration time); a feature's supply "
        "node is the nearest one, not its real connection; loads are the net's values, with "
        "electric-vehicle charging at unity power factor; a power flow that does not converge "
        "is reported (KPI power_flow_converged = 0), its voltages and loadings left empty.",
    ),
    "fr": NoticeText(
        purpose="Trouver quelles parties du réseau électrique, et quels bâtiments, commerces "
        "et points lumineux, perdent l'alimentation après une panne ou une manœuvre, et "
        "comment tensions et charges des lignes évoluent (aide à la décision, jamais une "
        "décision automatique).",
        method="Connexité : parcours en largeur depuis les sources en service (réseau amont, "
        "postes) par les lignes, transformateurs et organes de coupure en service et fermés. "
        "Chaque bâtiment, commerce ou armoire d'éclairage est alimenté par le nœud du réseau "
        "le plus proche à moins de {max_join_m:g} m (HYPOTHÈSE). Quand le réseau porte ses "
        "paramètres électriques, un calcul de répartition de charge en courant alternatif "
        "(Newton–Raphson, pandapower, Thurner et al., 2018 ; calcul : {power_flow_text}, au "
        "plus {max_iteration} itérations, écart {tolerance_mva:g} MVA) donne tensions et "
        "charges ; une ligne chargée à plus de {max_loading_pct:g} % est en surcharge.",
        limits="Régime permanent seulement (ni protections, ni temps de rétablissement) ; "
        "le nœud d'alimentation d'un objet est le plus proche, pas son raccordement réel ; "
        "les charges sont celles du réseau, la recharge de véhicules électriques à facteur de "
        "puissance 1 ; un calcul qui ne converge pas est signalé (indicateur "
        "power_flow_converged = 0), tensions et charges restant vides.",
    ),
}

_FLOW_TEXT = {
    "en": {"auto": "when parameters exist", "on": "required", "off": "not run"},
    "fr": {"auto": "si les paramètres existent", "on": "exigé", "off": "non effectué"},
}


#: How the N-1 criticality layers are drawn.
_CRITICALITY = (
    Display(
        "load_cut_mw",
        "MW",
        {"en": "Load cut off by its failure", "fr": "Charge coupée par sa défaillance"},
    ),
    Display(
        "nodes_cut",
        "buses",
        {"en": "Nodes cut off by its failure", "fr": "Nœuds coupés par sa défaillance"},
    ),
)


class Power(Simulation):
    """Electricity supply after outages and switching, and the power flow."""

    name = "power"
    title = {"en": "Electricity supply", "fr": "Alimentation électrique"}
    requires = {"network": "network"}
    optional_inputs = ("heat",)
    outputs = (
        "power_nodes",
        "power_links",
        "power_customers",
        "power_outage_area",
        "power_criticality",
        "power_source_criticality",
    )
    consumes = POWER_INTERVENTIONS
    kpis = KPIS
    displays = {
        "power_nodes": (
            Display("energised", "1", {"en": "Energised", "fr": "Sous tension"}, "categorical"),
            Display("vm_pu", "p.u.", {"en": "Voltage", "fr": "Tension"}),
        ),
        "power_links": (
            Display("loading_percent", "%", {"en": "Loading", "fr": "Charge"}),
            Display("overloaded", "1", {"en": "Overloaded", "fr": "Surcharge"}, "categorical"),
        ),
        "power_customers": (
            Display("powered", "1", {"en": "Powered", "fr": "Alimenté"}, "categorical"),
        ),
        "power_outage_area": (
            Display(
                "load_off_mw",
                "MW",
                {
                    "en": "Area without power (load cut)",
                    "fr": "Zone privée d'électricité (charge coupée)",
                },
            ),
        ),
        "power_criticality": _CRITICALITY,
        "power_source_criticality": _CRITICALITY,
    }
    params_model = PowerParams
    notice = NOTICE

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"network": params.network_layer}  # type: ignore[attr-defined]

    def notice_values(self, params: Params, lang: str) -> dict[str, Any]:
        return {"power_flow_text": _FLOW_TEXT[lang][params.power_flow]}  # type: ignore[attr-defined]

    def check(self, twin: Twin, params: Params) -> list[str]:
        """Missing layers, a network without sources, and what stops a required flow."""
        problems = super().check(twin, params)
        p: PowerParams = params  # type: ignore[assignment]
        for field, _ in FEATURES.values():
            lname = getattr(p, field)
            if lname is not None and (lname not in twin or twin.layer(lname).kind != "vector"):
                problems.append(
                    f"power: {field} '{lname}' is not a vector layer of the twin "
                    f"(layers {sorted(twin.layers)}) — set parameters.power.{field} or null"
                )
        if problems:
            return problems
        net: Network = twin.layer(p.network_layer).data
        if not source_nodes(net.nodes).any():
            problems.append(
                f"power: network '{p.network_layer}' has no source node (is_source, or "
                "node_type 'substation') — load substations with the energy loader, or use "
                "a pandapower net with an external grid"
            )
        if p.power_flow != "off" and net.model is None and "pp_index" in net.nodes:
            problems.append(
                f"power: network '{p.network_layer}' was read from a pandapower net but no "
                "longer holds it (a twin built before twin kept engine models, or tables "
                "edited outside twin) — rebuild the twin from its manifest, or set "
                "parameters.power.power_flow: off for connectivity only"
            )
        elif _wants_flow(p, net):
            problems += [
                f"power: no power flow on '{p.network_layer}': {e} — fix the net, or set "
                "parameters.power.power_flow: off for connectivity only"
                for e in electrical_problems(net)
            ]
        return problems

    def run(
        self, twin: Twin, params: PowerParams, inputs: dict[str, Layer], rng: np.random.Generator
    ) -> SimResult:
        """Connectivity, joins and (when possible) the power flow; see the module docstring."""
        lay = twin.layer(params.network_layer)
        net, far = self._with_cooling(twin, params, lay.data, inputs.get("heat"))
        on, link_ok = supply(net)
        flow = None
        if _wants_flow(params, net):
            flow = power_flow(
                net, max_iteration=params.max_iteration, tolerance_mva=params.tolerance_mva
            )
        nodes = _node_output(net, on, flow)
        links = _link_output(net, on, link_ok, flow, params.max_loading_pct)
        customers, kpis = self._customers(twin, params, net, on)
        kpis = self._network_kpis(params, nodes, links, flow) + kpis
        prov = Provenance(source=f"power simulation of '{params.network_layer}'")
        prov.derived["supply node"] = (
            f"nearest network node within {params.max_join_m:g} m (ASSUMED)"
        )
        if far is not None:
            p = params
            kpis.append(self.kpi("cooling_load_mw", float(nodes["cooling_load_mw"].sum()),
                                 cooling_base_c=p.cooling_base_c))  # fmt: skip
            prov.derived["cooling_load_mw"] = (
                f"ASSUMED {p.cooling_share:g} × {p.cooling_w_per_m2_k:g} W/(m²·K) × floor area "
                f"× (daily max air temperature of the heat simulation − {p.cooling_base_c:g} °C)"
            )
            prov.counts["cooled_buildings_not_joined"] = far
        crit = link_criticality(net)
        src_crit = source_criticality(net)
        both = pd.concat(
            [crit[["nodes_cut", "load_cut_mw"]], src_crit[["nodes_cut", "load_cut_mw"]]]
        )
        kpis += [
            self.kpi("critical_elements", int((both["nodes_cut"] > 0).sum())),
            self.kpi(
                "worst_single_failure_mw", float(both["load_cut_mw"].max()) if len(both) else 0.0
            ),
        ]
        cprov = Provenance(source=f"N-1 connectivity sweep of '{params.network_layer}'")
        cprov.step(
            f"{len(crit)} conducting links and {len(src_crit)} sources failed one at a time "
            "from the scenario's state"
        )
        # the viewer draws the first point and line layers: the state of the network first
        outs = {
            "power_nodes": Layer("power_nodes", "vector", nodes, prov),
            "power_links": Layer("power_links", "vector", links, prov),
            "power_customers": Layer("power_customers", "vector", customers, prov),
            "power_outage_area": Layer(
                "power_outage_area", "vector", outage_area(net, nodes), self._area_prov(prov)
            ),
            "power_criticality": Layer("power_criticality", "vector", crit, cprov),
            "power_source_criticality": Layer(
                "power_source_criticality", "vector", src_crit, cprov
            ),
        }
        return SimResult(outputs=outs, kpis=kpis)

    @staticmethod
    def _area_prov(prov: Provenance) -> Provenance:
        out = copy.deepcopy(prov)
        out.derived["power_outage_area"] = (
            f"ASSUMED drawing aid: de-energised lines and nodes buffered by {OUTAGE_BUFFER_M:g} m"
        )
        return out

    def _with_cooling(
        self, twin: Twin, params: PowerParams, net: Network, heat: Layer | None
    ) -> tuple[Network, int | None]:
        """The network with the heat-wave cooling load of the buildings on its nodes
        (``cooling_load_mw``) when the heat simulation ran and buildings are joined, and how
        many cooled buildings no node takes (None without cooling)."""
        if heat is None or heat.kind != "grid" or not params.buildings_layer:
            return net, None
        rule = CoolingRule(params.cooling_base_c, params.cooling_w_per_m2_k, params.cooling_share)
        xy = np.column_stack([net.nodes.geometry.x, net.nodes.geometry.y])
        b = twin[params.buildings_layer]
        per_node, far = node_cooling_mw(b, heat.data, rule, xy, params.max_join_m)
        nodes = net.nodes.copy()
        nodes["cooling_load_mw"] = per_node
        return Network(nodes=nodes, links=net.links, model=net.model), far

    def _network_kpis(
        self,
        params: PowerParams,
        nodes: gpd.GeoDataFrame,
        links: gpd.GeoDataFrame,
        flow: FlowResult | None,
    ) -> list[KPI]:
        off = nodes["energised"] == 0
        load = pd.Series(node_load_mw(nodes), index=nodes.index)
        out = [
            self.kpi("buses_deenergised", int(off.sum())),
            self.kpi("load_not_supplied_mw", float(load[off].sum())),
        ]
        if flow is None:
            return out
        lines = links[links["link_type"] == "line"]
        vm = nodes["vm_pu"]
        m = params.max_loading_pct
        return [
            *out,
            self.kpi("power_flow_converged", float(flow.converged)),
            self.kpi("min_voltage_pu", float(vm.min()) if vm.notna().any() else np.nan),
            self.kpi("max_line_loading_pct", float(lines["loading_percent"].max())),
            self.kpi("overloaded_lines", int(lines["overloaded"].sum()), max_loading_pct=m),
        ]

    def _customers(
        self, twin: Twin, params: PowerParams, net: Network, on_arr: np.ndarray
    ) -> tuple[gpd.GeoDataFrame, list[KPI]]:
        """Supply of the features of the optional layers, and their KPIs."""
        xy = np.column_stack([net.nodes.geometry.x, net.nodes.geometry.y])
        on = pd.Series(on_arr, index=net.nodes.index.astype(str))
        frames, kpis, far = [], [], 0
        for what, (field, kpi) in FEATURES.items():
            lname = getattr(params, field)
            if lname is None:
                continue
            feats: gpd.GeoDataFrame = twin.layer(lname).data
            if what == "lamps" and "cabinet" in feats:
                frame, cab_kpi = self._lamps_by_cabinet(feats, xy, on, params.max_join_m)
                kpis.append(cab_kpi)
            else:
                frame = _joined(feats, feature_points(feats), xy, on, params.max_join_m)
            frame.insert(0, "layer", lname)
            frames.append(frame)
            far += int(frame["node"].isna().sum())
            kpis.append(self.kpi(kpi, int((frame["powered"] == 0).sum())))
        if frames:
            kpis.append(self.kpi("features_not_joined", far, max_join_m=params.max_join_m))
        cols = ["layer", "feature", "node", "distance_m", "powered"]
        empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=net.nodes.crs)
        out = pd.concat(frames, ignore_index=True) if frames else empty
        # ids stable across runs, so that a scenario's difference layer lines up
        out.index = pd.Index(out["layer"].astype(str) + ":" + out["feature"], name="id")
        return gpd.GeoDataFrame(out, geometry="geometry", crs=net.nodes.crs), kpis

    def _lamps_by_cabinet(
        self, lamps: gpd.GeoDataFrame, xy: np.ndarray, on: pd.Series, max_join_m: float
    ) -> tuple[gpd.GeoDataFrame, KPI]:
        """Lamps supplied through their cabinet (cabinet at the centroid of its lamps)."""
        _, cxy, lamp_cab = cabinet_points(lamps)
        cab = nearest_nodes(cxy, xy, max_join_m)
        alone = nearest_nodes(feature_points(lamps[lamp_cab < 0]), xy, max_join_m)
        node = np.full(len(lamps), -1, dtype=np.int64)
        dist = np.full(len(lamps), np.nan)
        has = lamp_cab >= 0
        node[has], dist[has] = cab.node[lamp_cab[has]], cab.distance_m[lamp_cab[has]]
        node[~has], dist[~has] = alone.node, alone.distance_m
        frame = _frame(lamps, node, dist, on)
        frame["cabinet"] = lamps["cabinet"].to_numpy()
        cab_off = int(((cab.node >= 0) & ~on.to_numpy()[np.maximum(cab.node, 0)]).sum())
        return frame, self.kpi("cabinets_without_power", cab_off)


#: Buffer drawn around the de-energised lines and nodes to show the outage area [m].
OUTAGE_BUFFER_M = 150.0


def outage_area(net: Network, nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The areas without power: the de-energised in-service nodes and the lines between them,
    buffered by :data:`OUTAGE_BUFFER_M` and merged, one row per separate area with
    ``buses_off`` and ``load_off_mw`` [MW] (empty when everything is supplied)."""
    off = (nodes["energised"] == 0) & nodes["in_service"]
    crs = nodes.crs
    empty = gpd.GeoDataFrame({"buses_off": [], "load_off_mw": []}, geometry=[], crs=crs)
    if not off.any():
        return empty
    ids = set(nodes.index[off])
    links = net.links[net.links["a_node"].isin(ids) & net.links["b_node"].isin(ids)]
    shapes = [*nodes.geometry[off].to_numpy(), *links.geometry.to_numpy()]
    merged = shapely.union_all(shapely.buffer(np.asarray(shapes), OUTAGE_BUFFER_M))
    parts = gpd.GeoDataFrame(geometry=list(shapely.get_parts(merged)), crs=crs)
    load = pd.Series(node_load_mw(nodes), index=nodes.index)[off]
    pts = gpd.GeoDataFrame({"load": load}, geometry=nodes.geometry[off], crs=crs)
    joined = gpd.sjoin(pts, parts, predicate="within", how="left")
    g = joined.groupby("index_right")
    parts["buses_off"] = g.size().reindex(parts.index).fillna(0).astype(np.int64)
    parts["load_off_mw"] = g["load"].sum().reindex(parts.index).fillna(0.0)
    parts.index = pd.Index([f"area{i}" for i in range(len(parts))], name="id")
    return parts[["buses_off", "load_off_mw", "geometry"]]


def _wants_flow(params: PowerParams, net: Network) -> bool:
    """Whether the power flow runs: required, or automatic on a network with a net."""
    return params.power_flow == "on" or (params.power_flow == "auto" and net.model is not None)


def _joined(
    feats: gpd.GeoDataFrame, pts: np.ndarray, xy: np.ndarray, on: pd.Series, max_m: float
) -> gpd.GeoDataFrame:
    j = nearest_nodes(pts, xy, max_m)
    return _frame(feats, j.node, j.distance_m, on)


def _frame(
    feats: gpd.GeoDataFrame, node: np.ndarray, dist: np.ndarray, on: pd.Series
) -> gpd.GeoDataFrame:
    """One row per feature: its supply node id (None when not joined), distance [m], and
    ``powered`` (1, 0, or NaN when not joined); ``on`` is the energised flag by node id."""
    joined = node >= 0
    at = np.maximum(node, 0)
    return gpd.GeoDataFrame(
        {
            "feature": feats.index.astype(str).to_numpy(),
            "node": np.where(joined, on.index.to_numpy()[at], None),
            "distance_m": dist,
            "powered": np.where(joined, on.to_numpy()[at].astype(float), np.nan),
        },
        geometry=feats.geometry.to_numpy(),
        crs=feats.crs,
    )


def _node_output(net: Network, on: np.ndarray, flow: FlowResult | None) -> gpd.GeoDataFrame:
    """Nodes with ``energised`` (1/0), ``vm_pu`` [p.u.], ``load_mw`` and the added loads
    ``ev_load_mw`` and ``cooling_load_mw`` [MW]."""
    n = net.nodes
    out = gpd.GeoDataFrame(
        {
            "energised": on.astype(np.int8),
            "in_service": n["in_service"].fillna(True).astype(bool).to_numpy()
            if "in_service" in n
            else np.ones(len(n), dtype=bool),
            "vm_pu": flow.vm_pu.to_numpy() if flow is not None else np.nan,
            "load_mw": n["load_mw"].to_numpy() if "load_mw" in n else 0.0,
            **{c: n[c].to_numpy() if c in n else 0.0 for c in ADDED_LOADS},
        },
        geometry=n.geometry.to_numpy(),
        index=n.index,
        crs=n.crs,
    )
    for col in ("name", "substation", "node_type"):
        if col in n:
            out.insert(0, col, n[col].to_numpy())
    return out


def _link_output(
    net: Network, on: np.ndarray, link_ok: np.ndarray, flow: FlowResult | None, max_pct: float
) -> gpd.GeoDataFrame:
    """Links with ``conducting``, ``energised`` (both ends), ``loading_percent`` [%] and
    ``overloaded`` (1/0)."""
    lk = net.links
    pos = pd.Index(net.nodes.index)
    both = on[pos.get_indexer(lk["a_node"])] & on[pos.get_indexer(lk["b_node"])]
    loading = flow.loading_percent.to_numpy() if flow is not None else np.full(len(lk), np.nan)
    kind = lk["link_type"].to_numpy() if "link_type" in lk else np.full(len(lk), "line")
    return gpd.GeoDataFrame(
        {
            "link_type": kind,
            "a_node": lk["a_node"].to_numpy(),
            "b_node": lk["b_node"].to_numpy(),
            "conducting": link_ok.astype(np.int8),
            "energised": (both & link_ok).astype(np.int8),
            "loading_percent": loading,
            "overloaded": (np.nan_to_num(loading) > max_pct).astype(np.int8),
        },
        geometry=lk.geometry.to_numpy(),
        index=lk.index,
        crs=lk.crs,
    )
