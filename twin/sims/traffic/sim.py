"""The traffic simulation plugin: synthetic peak-hour demand from the twin, equilibrium
assignment on the drivable network, and the KPIs of a closure or a capacity change.

Demand (all rates ASSUMED, recorded in provenance):

1. **Trip generation** from building floor area (:func:`twin.model.buildings.floor_area_m2`:
   footprint × ``levels``, else height / 3 m, else one storey):
   residential buildings produce ``residential_rate`` vehicle trips per 100 m² of floor in
   the peak hour; other buildings attract ``jobs_rate`` per 100 m²; untyped buildings
   (``building=yes``) count ``mixed_housing_share`` of their floor as housing; shops attract
   ``shop_rate`` each (orders of magnitude of the ITE *Trip Generation* AM-peak rates for
   apartments and general offices, converted to m²).
2. **Zones**: square cells of ``zone_size_m``; each zone is loaded at the network node nearest
   to its trip-weighted centre.
3. **Distribution**: doubly constrained gravity model ``T_ij = A_i·B_j·P_i·D_j·exp(−β·c_ij)``
   with free-flow zone-to-zone times ``c_ij`` [min], balanced by iterative proportional
   fitting (Furness) until productions and attractions match to 0.1 %.
4. **Assignment**: user equilibrium (:func:`twin.traffic.assign`, path-based gradient
   projection by default, or bi-conjugate Frank–Wolfe) with BPR costs on ``capacity_veh_h``
   and ``free_flow_time_s``; closed links carry nothing. In a scenario with a parent run, the
   assignment warm-starts from the parent's equilibrium (its paths when the parent was solved
   in this process, else its link flows with ``bfw``); the run's ``link_flows`` provenance
   records whether it did and the iterations against the parent's cold solve.

Emissions: ``co2_g_per_km`` per vehicle-kilometre (ASSUMED, average French car fleet, about
0.18 kgCO₂/km — ADEME Base Empreinte orders of magnitude, to confirm).
"""

from __future__ import annotations

from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from twin.errors import InputError, message
from twin.model.buildings import floor_area_m2
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.accessibility import open_links, travel_times
from twin.sims.base import Column, Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.building_use import RESIDENTIAL
from twin.sims.roads.interventions import ROAD_INTERVENTIONS
from twin.sims.traffic.assign import AssignmentResult, assign

#: Full names of the assignment algorithms, for the notice.
ALGORITHM_NAMES = {
    "gp": {
        "en": "path-based gradient projection",
        "fr": "projection du gradient sur les chemins",
    },
    "bfw": {"en": "bi-conjugate Frank–Wolfe", "fr": "Frank–Wolfe biconjugué"},
}


class TrafficParams(Params):
    """Parameters of :class:`Traffic`."""

    network_layer: str = Field("roads", description="Drivable network layer.")
    buildings_layer: str = Field("buildings", description="Buildings layer (height_m).")
    shops_layer: str | None = Field("shops", description="Shops layer, or null.")
    residential_rate: float = Field(
        0.6, ge=0, le=20, description="Peak-hour trips per 100 m² of housing floor (ASSUMED)."
    )
    jobs_rate: float = Field(
        1.5, ge=0, le=20, description="Peak-hour trips per 100 m² of other floor (ASSUMED)."
    )
    mixed_housing_share: float = Field(
        0.5, ge=0, le=1, description="Housing share of the floor of untyped buildings (ASSUMED)."
    )
    shop_rate: float = Field(
        5.0, ge=0, le=1000, description="Peak-hour trips attracted per shop (ASSUMED)."
    )
    zone_size_m: float = Field(250.0, ge=50, le=5000, description="Zone cell size [m].")
    beta_per_min: float = Field(0.15, ge=0, le=5, description="Gravity decay β [1/min].")
    rgap: float = Field(1e-4, gt=0, lt=1, description="Target relative gap.")
    max_iter: int = Field(
        500, ge=1, le=100_000, description="Iteration cap of the assignment (at most 100,000)."
    )
    co2_g_per_km: float = Field(
        180.0, ge=0, le=1000, description="CO₂ per vehicle-km [g] (ASSUMED)."
    )
    algorithm: Literal["gp", "bfw"] = Field(
        "gp",
        description="Assignment: path-based gradient projection (gp) or bi-conjugate "
        "Frank–Wolfe (bfw).",
    )
    warm_start: bool = Field(
        True, description="Start from the parent run's equilibrium when it is available."
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "network_layer": "Couche du réseau routier praticable.",
        "buildings_layer": "Couche des bâtiments (height_m).",
        "shops_layer": "Couche des commerces, ou null.",
        "residential_rate": "Déplacements à l'heure de pointe pour 100 m² de surface de "
        "plancher de logement (SUPPOSÉ).",
        "jobs_rate": "Déplacements à l'heure de pointe pour 100 m² des autres surfaces de "
        "plancher (SUPPOSÉ).",
        "mixed_housing_share": "Part de logement dans la surface des bâtiments sans usage "
        "connu (SUPPOSÉ).",
        "shop_rate": "Déplacements attirés par commerce à l'heure de pointe (SUPPOSÉ).",
        "zone_size_m": "Côté des mailles de zonage [m].",
        "beta_per_min": "Décroissance du modèle gravitaire β [1/min].",
        "rgap": "Écart relatif à l'équilibre visé.",
        "max_iter": "Nombre maximal d'itérations de l'affectation (au plus 100 000).",
        "co2_g_per_km": "CO₂ par véhicule-km [g] (SUPPOSÉ).",
        "algorithm": "Affectation : projection du gradient sur les chemins (gp) ou "
        "Frank–Wolfe biconjugué (bfw).",
        "warm_start": "Partir de l'équilibre du scénario parent quand il est disponible.",
    }


def zone_demand(
    net: Network, buildings: gpd.GeoDataFrame, shops: gpd.GeoDataFrame | None, p: TrafficParams
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Peak-hour OD demand between zone nodes (``origin``, ``destination``, ``trips``)."""
    b = buildings
    floor = floor_area_m2(b).to_numpy()
    kind = b["building"].astype(str).str.lower() if "building" in b else pd.Series("", b.index)
    # housing share of the floor: 1 for residential tags, 0 for other known uses, and
    # ``mixed_housing_share`` for untyped buildings (building=yes), common in town centres
    housing = np.where(
        kind.isin(RESIDENTIAL),
        1.0,
        np.where(kind.isin(["yes", "nan", ""]), p.mixed_housing_share, 0.0),
    )
    prod = floor * housing * p.residential_rate / 100.0
    attr = floor * (1.0 - housing) * p.jobs_rate / 100.0
    pts = b.geometry.representative_point()
    xy = np.column_stack([pts.x, pts.y])
    w = [(xy, prod, attr)]
    if shops is not None and len(shops):
        sp = shops.to_crs(b.crs).geometry.representative_point()
        w.append((np.column_stack([sp.x, sp.y]), np.zeros(len(sp)), np.full(len(sp), p.shop_rate)))
    xy = np.vstack([x for x, _, _ in w])
    prod = np.concatenate([v for _, v, _ in w])
    attr = np.concatenate([v for _, _, v in w])
    cell = np.floor(xy / p.zone_size_m).astype(np.int64)
    key = pd.MultiIndex.from_arrays([cell[:, 0], cell[:, 1]])
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "p": prod, "a": attr}, index=key)
    tot = df["p"] + df["a"]
    g = df.assign(wx=df.x * tot, wy=df.y * tot, t=tot).groupby(level=[0, 1]).sum()
    g = g[g["t"] > 0]
    cx, cy = g["wx"] / g["t"], g["wy"] / g["t"]
    usable = open_links(net)
    live = pd.Index(net.links.loc[usable, "a_node"]).intersection(net.links.loc[usable, "b_node"])
    nodes = net.nodes.loc[net.nodes.index.isin(live)]
    near = gpd.sjoin_nearest(
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(cx, cy), crs=b.crs),
        nodes[["geometry"]],
        how="left",
    )
    near = near[~near.index.duplicated()]
    right = nodes.index.name or "index_right"  # sjoin names the column after the index
    zone_node = near[right].to_numpy()
    P = g.groupby(zone_node)["p"].sum()
    D = g.groupby(zone_node)["a"].sum()
    zones = P.index.union(D.index)
    P, D = P.reindex(zones, fill_value=0.0).to_numpy(), D.reindex(zones, fill_value=0.0).to_numpy()
    pos = pd.Index(net.nodes.index).get_indexer(zones)
    c = travel_times(net, pos)[:, pos] / 60.0
    f = np.where(np.isfinite(c), np.exp(-p.beta_per_min * c), 0.0)
    np.fill_diagonal(f, 0.0)
    D = D * P.sum() / D.sum() if D.sum() > 0 else D
    T = f * P[:, None] * D[None, :]
    for _ in range(200):  # Furness balancing
        rs = T.sum(axis=1)
        T *= np.divide(P, rs, out=np.zeros_like(P), where=rs > 0)[:, None]
        cs = T.sum(axis=0)
        T *= np.divide(D, cs, out=np.zeros_like(D), where=cs > 0)[None, :]
        err = np.abs(T.sum(axis=1) - P).sum() / max(P.sum(), 1e-9)
        if err < 1e-3:
            break
    i, j = np.nonzero(T > 1e-6)
    od = pd.DataFrame({"origin": zones[i], "destination": zones[j], "trips": T[i, j]})
    return od, {"zones": float(len(zones)), "trips": float(T.sum()), "furness_error": float(err)}


class Traffic(Simulation):
    """Peak-hour traffic: demand from the twin and user-equilibrium assignment."""

    name = "traffic"
    title = {"en": "Traffic rerouting", "fr": "Report de trafic"}
    requires = {"network": "network", "buildings": "vector"}
    outputs = ("link_flows",)
    consumes = ROAD_INTERVENTIONS
    columns = (
        Column("network", "length_m", "m", table="links"),
        Column("network", "capacity_veh_h", "veh/h", derive="road_supply", table="links"),
        Column("network", "free_flow_time_s", "s", derive="road_supply", table="links"),
    )
    kpis = (
        KPISpec(
            "vehicle_km",
            "veh·km",
            "lower",
            {"en": "Vehicle-km (peak)", "fr": "Véhicules-km (pointe)"},
            {
                "en": "peak-hour vehicle-kilometres",
                "fr": "véhicules-kilomètres à l'heure de pointe",
            },
        ),
        KPISpec(
            "vehicle_hours",
            "veh·h",
            "lower",
            {"en": "Vehicle-hours (peak)", "fr": "Véhicules-heures (pointe)"},
            {"en": "peak-hour vehicle-hours", "fr": "véhicules-heures à l'heure de pointe"},
        ),
        KPISpec(
            "delay_h",
            "veh·h",
            "lower",
            {"en": "Total delay", "fr": "Retard cumulé"},
            {
                "en": "total delay against free flow",
                "fr": "retard total par rapport à la circulation libre",
            },
        ),
        KPISpec(
            "co2_kg",
            "kg",
            "lower",
            {"en": "Traffic CO₂ (peak)", "fr": "CO₂ du trafic (pointe)"},
            {"en": "peak-hour CO₂ emissions", "fr": "émissions de CO₂ de l'heure de pointe"},
        ),
        KPISpec(
            "relative_gap",
            "1",
            "neutral",
            {"en": "Equilibrium gap", "fr": "Écart à l'équilibre"},
            {"en": "relative gap reached", "fr": "écart relatif à l'équilibre atteint"},
            headline=False,
        ),
    )
    displays = {
        "link_flows": (
            Display("flow_veh_h", "veh/h", {"en": "Traffic flow", "fr": "Débit de trafic"}),
            Display("v_c", "1", {"en": "Volume / capacity", "fr": "Charge / capacité"}),
            Display("time_s", "s", {"en": "Travel time", "fr": "Temps de parcours"}),
        )
    }
    params_model = TrafficParams
    #: the runner passes the parent run's link_flows as "parent:link_flows" and its solved
    #: equilibrium (paths) as ``state``
    warm_start = True
    notice = {
        "en": NoticeText(
            purpose="Estimate where peak-hour car traffic goes, and where it goes instead when "
            "streets are closed or their capacity changes.",
            method="Trips generated from building floor area, distributed between "
            "{zone_size_m:g} m zones by a doubly constrained gravity model (decay "
            "{beta_per_min:g} per minute) balanced by iterative proportional fitting, and "
            "assigned to the street network at user equilibrium ({algorithm_name}, BPR link "
            "costs, stopped at a relative gap of {rgap:g} or {max_iter} iterations).",
            limits="Synthetic demand from generic rates, not survey data; no public transport, "
            "parking or turn restrictions; static peak hour; uncalibrated unless counts are "
            "used. Results show orders of magnitude and directions of change.",
        ),
        "fr": NoticeText(
            purpose="Estimer où passe le trafic automobile à l'heure de pointe, et où il se "
            "reporte quand des rues ferment ou changent de capacité.",
            method="Déplacements générés à partir des surfaces de plancher, distribués entre "
            "zones de {zone_size_m:g} m par un modèle gravitaire doublement contraint "
            "(décroissance {beta_per_min:g} par minute) équilibré par ajustement proportionnel "
            "itératif, puis affectés au réseau à l'équilibre ({algorithm_name}, coûts BPR, "
            "arrêt à un écart relatif de {rgap:g} ou après {max_iter} itérations).",
            limits="Demande synthétique à partir de ratios génériques, pas d'enquête ; ni "
            "transports en commun, ni stationnement, ni interdictions de tourner ; heure de "
            "pointe statique ; non calé sans comptages. Les résultats donnent des ordres de "
            "grandeur et des sens de variation.",
        ),
    }

    def notice_values(self, params: Params, lang: str) -> dict[str, str]:
        """The full name of the assignment algorithm used, in ``lang``."""
        assert isinstance(params, TrafficParams)
        return {"algorithm_name": ALGORITHM_NAMES[params.algorithm][lang]}

    def layer_names(self, params: Params) -> dict[str, str]:
        """Twin layers read: the network and the buildings."""
        assert isinstance(params, TrafficParams)
        return {"network": params.network_layer, "buildings": params.buildings_layer}

    def run(
        self,
        twin: Twin,
        params: TrafficParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
        state: AssignmentResult | None = None,
    ) -> SimResult:
        """Generate demand, assign it, and report flows and KPIs."""
        net: Network = twin[params.network_layer]
        shops = (
            twin[params.shops_layer] if params.shops_layer and params.shops_layer in twin else None
        )
        od, info = zone_demand(net, twin[params.buildings_layer], shops, params)
        if od.empty:
            msg = message(
                "no trips could be generated",
                where=params.buildings_layer,
                fix="check the buildings layer has footprints and height_m",
            )
            raise InputError(msg)
        links = net.links
        table = pd.DataFrame(
            {
                "a_node": links["a_node"].to_numpy(),
                "b_node": links["b_node"].to_numpy(),
                "capacity": links["capacity_veh_h"].clip(lower=1.0).to_numpy(float),
                "free_flow_time": links["free_flow_time_s"].clip(lower=0.01).to_numpy(float),
                "closed": ~open_links(net).to_numpy(),
            },
            index=links.index,
        )
        initial, parent_iter, why = _parent_equilibrium(
            inputs.get("parent:link_flows"), state, params, links.index
        )
        try:
            res = assign(
                table,
                od,
                rgap=params.rgap,
                max_iter=params.max_iter,
                algorithm=params.algorithm,
                initial=initial,
            )
        except InputError:  # parent flows of another demand (bfw): solve cold
            if initial is None:
                raise
            why = "the parent's link flows carry another demand: cold start"
            res = assign(
                table, od, rgap=params.rgap, max_iter=params.max_iter, algorithm=params.algorithm
            )
        flow = res.flow.to_numpy(float)
        t = res.cost.to_numpy(float)
        t0 = table["free_flow_time"].to_numpy(float)
        length_km = links["length_m"].to_numpy(float) / 1000.0
        out = gpd.GeoDataFrame(
            {
                "flow_veh_h": flow,
                "time_s": t,
                "v_c": flow / table["capacity"].to_numpy(float),
                "closed": table["closed"].to_numpy(),
            },
            geometry=links.geometry.to_numpy(),
            crs=links.crs,
            index=links.index,
        )
        vkm = float((flow * length_km).sum())
        prov = Provenance(
            source=f"twin layers '{params.network_layer}', '{params.buildings_layer}'",
            producer="twin (traffic)",
            licence=twin.layer(params.network_layer).provenance.licence,
        )
        prov.step(
            f"{int(info['zones'])} zones, {info['trips']:.0f} peak-hour trips "
            f"(Furness error {info['furness_error']:.1e}); assignment rgap "
            f"{res.rgap:.1e} in {res.iterations} iterations"
        )
        prov.derived["demand"] = "synthetic, from floor area and ASSUMED trip rates"
        prov.counts["assignment_iterations"] = int(res.iterations)
        prov.counts["warm_started"] = int(res.warm_started)
        if res.warm_started:
            prov.counts["warm_reused_paths"] = int(res.warm_reused_paths)
            prov.counts["parent_iterations"] = int(parent_iter)
            prov.counts["iterations_saved"] = int(parent_iter - res.iterations)
            prov.step(
                f"warm-started from the parent run's equilibrium ({params.algorithm}"
                + (f", {res.warm_reused_paths} paths reused" if res.warm_reused_paths else "")
                + f"): {res.iterations} iterations against {parent_iter} for the parent's "
                f"solve ({parent_iter - res.iterations} saved)"
            )
        elif why:
            prov.step(f"not warm-started: {why}")
        if res.n_disconnected:
            prov.counts["disconnected_od_pairs"] = int(res.n_disconnected)
        kpis = [
            self.kpi("vehicle_km", vkm),
            self.kpi("vehicle_hours", float((flow * t).sum() / 3600.0)),
            self.kpi("delay_h", float((flow * (t - t0)).sum() / 3600.0)),
            self.kpi("co2_kg", vkm * params.co2_g_per_km / 1000.0),
            self.kpi("relative_gap", float(res.rgap)),
        ]
        return SimResult(
            outputs={"link_flows": Layer("link_flows", "vector", out, prov)}, kpis=kpis, state=res
        )


def _parent_equilibrium(
    parent: Layer | None,
    solved: AssignmentResult | None,
    params: TrafficParams,
    index: pd.Index,
) -> tuple[AssignmentResult | pd.Series | None, int, str]:
    """What to warm-start from: the parent's solve (its state), its link flows, or nothing
    (and why)."""
    if parent is None and solved is None:
        return None, 0, ""
    if not params.warm_start:
        return None, 0, "warm_start is off"
    if isinstance(solved, AssignmentResult):
        return solved, solved.iterations, ""
    if parent is None:
        return None, 0, "the parent run has no link flows"
    iters = int(parent.provenance.counts.get("assignment_iterations", 0))
    if params.algorithm == "bfw" and "flow_veh_h" in parent.data:
        flows = parent.data["flow_veh_h"].astype(float)
        if flows.index.isin(index).all():
            return flows, iters, ""
    return None, 0, "the parent's paths are not in memory (its run was read from disk)"
