"""The water-network simulation plugin: service under pipe breaks, outages and demand changes.

Steps of a run, on the scenario's copy of the twin (events already marked on the network's
tables by the interventions, :mod:`twin.sims.water.events`):

1. the WNTR model is rebuilt from the EPANET text the network layer keeps, set to
   pressure-dependent demand over the period (:mod:`twin.sims.water.hydraulics`);
2. a network without a source, or with demand junctions cut from every source, is refused;
3. each break that isolates gets its valve segment (:mod:`twin.sims.water.segments`); every
   event becomes EPANET time controls (closures, leak orifices, scaled demand patterns);
4. EPANET 2.2 solves the period; per junction, pipe and building, and KPIs, follow
   (:mod:`twin.sims.water.metrics`).

A parent run without events goes through the same steps, so its KPIs compare.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar, Literal, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from twin.errors import InputError, TwinError, message
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Params, SimResult, Simulation
from twin.sims.water import events as ev
from twin.sims.water import hydraulics as hy
from twin.sims.water.criticality import pipe_criticality
from twin.sims.water.interventions import MAX_HOURS, WATER_INTERVENTIONS
from twin.sims.water.metrics import Thresholds, join_buildings, junction_table, link_table
from twin.sims.water.segments import ValvePolicy, isolation_sets, valve_layer
from twin.sims.water.texts import CRITICALITY_KPIS, DISPLAYS, KPIS, NOTICE

#: Period simulated when the file is a single snapshot and no duration is given [h] (ASSUMED).
DEFAULT_DURATION_H = 24.0


class WaterParams(Params):
    """Parameters of :class:`Water`."""

    network_layer: str = Field("water", description="EPANET water network layer.")
    buildings_layer: str | None = Field(
        "buildings", description="Buildings joined to junctions; skipped if absent."
    )
    valves_layer: str | None = Field(
        None, description="Vector layer of valves (columns link, node); else valves ASSUMED."
    )
    required_pressure_m: float = Field(
        20.0, gt=0, le=200, description="PDD pressure for the full demand [m] (ASSUMED)."
    )
    minimum_pressure_m: float = Field(
        0.0, ge=0, le=100, description="PDD pressure below which nothing flows [m] (ASSUMED)."
    )
    pressure_exponent: float = Field(0.5, gt=0, le=3, description="PDD exponent [-].")
    service_pressure_m: float = Field(
        14.0, ge=0, le=200, description="Pressure of an acceptable service [m] (ASSUMED)."
    )
    duration_h: float | None = Field(
        None, gt=0, le=MAX_HOURS, description="Period [h]; None: the file's (24 h if 0)."
    )
    hydraulic_timestep_s: int = Field(
        900, ge=60, le=3600, description="Hydraulic and report time step [s]."
    )
    max_join_m: float = Field(
        100.0, gt=0, le=5000, description="Largest building-to-junction distance [m]."
    )
    valve_strategy: Literal["strategic", "random"] = Field(
        "strategic", description="WNTR valve placement without a valve layer."
    )
    valve_n: int = Field(
        2, ge=0, le=1_000_000, description="Unvalved pipes per node (strategic), or valves."
    )
    valve_seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the valve placement.")

    meanings_fr: ClassVar[dict[str, str]] = {
        "network_layer": "Couche du réseau d'eau EPANET.",
        "buildings_layer": "Bâtiments rattachés aux nœuds ; ignorée si absente.",
        "valves_layer": "Couche des vannes (colonnes link, node) ; sinon vannes SUPPOSÉES.",
        "required_pressure_m": "Pression donnant toute la demande (PDD) [m] (SUPPOSÉ).",
        "minimum_pressure_m": "Pression sous laquelle rien ne coule (PDD) [m] (SUPPOSÉ).",
        "pressure_exponent": "Exposant de la loi pression-demande (PDD) [-].",
        "service_pressure_m": "Pression d'un service acceptable [m] (SUPPOSÉ).",
        "duration_h": "Période [h] ; None : celle du fichier (24 h si 0).",
        "hydraulic_timestep_s": "Pas de temps hydraulique et des résultats [s].",
        "max_join_m": "Distance maximale d'un bâtiment à son nœud [m].",
        "valve_strategy": "Placement des vannes par WNTR sans couche de vannes.",
        "valve_n": "Conduites sans vanne par nœud (strategic), ou nombre de vannes.",
        "valve_seed": "Graine du placement des vannes.",
    }

    @model_validator(mode="after")
    def _pressures(self) -> WaterParams:
        if self.minimum_pressure_m >= self.required_pressure_m:
            raise ValueError("minimum_pressure_m must be below required_pressure_m")
        return self


class Model(NamedTuple):
    """A configured WNTR model and how it was set."""

    wn: Any
    settings: hy.Settings
    duration_note: str


def period_h(params: WaterParams, file_h: float) -> tuple[float, str]:
    """The simulated period [h] and where it comes from."""
    if params.duration_h is not None:
        return params.duration_h, f"{params.duration_h:g} h (parameter)"
    if file_h > 0:
        return file_h, f"{file_h:g} h (the file's duration)"
    return DEFAULT_DURATION_H, f"ASSUMED {DEFAULT_DURATION_H:g} h (the file is a snapshot)"


def build_model(net: Network, params: WaterParams, where: str) -> Model:
    """The WNTR model of ``net``, configured by ``params``.

    Raises
    ------
    InputError
        When the model has no source, or demand junctions no source feeds (named).
    """
    assert net.model is not None  # checked by water_network
    wn = hy.open_model(net.model.text, where)
    hours, note = period_h(params, hy.file_duration_h(wn))
    step = params.hydraulic_timestep_s
    s = hy.Settings(
        max(1, round(hours * 3600 / step)) * step,
        step,
        params.required_pressure_m,
        params.minimum_pressure_m,
        params.pressure_exponent,
    )
    problems = hy.source_problems(wn)
    if problems:
        raise InputError(message(problems[0], where=where, fix="correct the EPANET file"))
    hy.configure(wn, s)
    return Model(wn, s, note)


class EventPlan(NamedTuple):
    """The events of a scenario in model terms (times [s])."""

    closures: dict[str, list[tuple[float, float]]]
    leaks: list[tuple[str, float, tuple[float, float]]]
    demands: list[tuple[list[str], tuple[float, float], float]]
    isolated: dict[str, list[str]]


def _windows(frame: pd.DataFrame, duration_s: float, where: str) -> pd.DataFrame:
    """Event rows of ``frame`` with ``a``/``b`` [s]; events beyond the period are errors."""
    rows = ev.events(frame)
    late = rows[rows[ev.END].astype(float) * 3600 > duration_s + 1e-6]
    if len(late):
        msg = message(
            f"{len(late)} water events end after the simulated period of "
            f"{duration_s / 3600:g} h (e.g. {late.index[0]} ends at {late[ev.END].iloc[0]:g} h)",
            where=where,
            fix="shorten the events (start_h + duration_h) or raise parameters.water.duration_h",
        )
        raise InputError(msg)
    return rows.assign(a=rows[ev.START].astype(float) * 3600, b=rows[ev.END].astype(float) * 3600)


def closed_in_table(net: Network, wn: Any) -> list[str]:
    """Links the twin's ``status`` column says are ``Closed`` while the EPANET model has them
    open (an edit of the twin's table): they are shut for the whole period."""
    if "status" not in net.links.columns:
        return []
    status = net.links["status"].astype(str)
    out = []
    for lid in status.index[status == "Closed"].astype(str):
        initial = wn.get_link(lid).initial_status
        if getattr(initial, "name", str(initial)) != "Closed":
            out.append(lid)
    return out


def event_plan(
    net: Network, wn: Any, valves: Callable[[], pd.DataFrame], s: hy.Settings
) -> EventPlan:
    """Closures, leaks and demand changes marked on ``net`` (see :mod:`.events`);
    ``valves()`` gives the valve layer, asked for only when a break is isolated."""
    links = _windows(net.links, s.duration_s, "network links")
    nodes = _windows(net.nodes, s.duration_s, "network nodes")
    closures: dict[str, list[tuple[float, float]]] = {}
    breaks = links[links[ev.EVENT] == "break"] if len(links) else links
    isolating = [str(i) for i in breaks.index[breaks[ev.ISOLATE].astype(bool)]]
    isolated = isolation_sets(wn, valves(), isolating) if isolating else {}
    leaks = []
    for lid, row in links.iterrows():
        if row[ev.EVENT] != "break" or row[ev.BREAK_MODE] == "closure":
            closures.setdefault(str(lid), []).append((row["a"], row["b"]))
        if row[ev.EVENT] == "break" and row[ev.BREAK_MODE] == "leak":
            leaks.append((str(lid), float(row[ev.LEAK_D]), (row["a"], row["b"])))
        for other in isolated.get(str(lid), []):
            closures.setdefault(other, []).append((row[ev.ISOLATE_AT] * 3600, row["b"]))
    for lid in closed_in_table(net, wn):
        closures.setdefault(lid, []).append((0.0, float(s.duration_s)))
    for nid, row in nodes[nodes[ev.EVENT] == "source_outage"].iterrows():
        for lid in wn.get_links_for_node(str(nid)):
            closures.setdefault(lid, []).append((row["a"], row["b"]))
    demand = nodes[nodes[ev.EVENT] == "demand_change"]
    demands = [
        ([str(i) for i in grp.index], (a, b), float(f))
        for (a, b, f), grp in demand.groupby(["a", "b", ev.FACTOR])
    ]
    return EventPlan(closures, leaks, demands, isolated)


def apply_plan(wn: Any, plan: EventPlan) -> hy.Added:
    """Give the events of ``plan`` effect on ``wn``; returns what was added to it (leaks
    first: a leaking pipe that is also shut has both halves shut)."""
    added = hy.Added()
    for pipe, d, w in plan.leaks:
        hy.add_leak(wn, pipe, d, w, added)
    halves = {added.halves[p]: w for p, w in plan.closures.items() if p in added.halves}
    hy.close_during(wn, {**plan.closures, **halves}, added)
    for junctions, window, factor in plan.demands:
        hy.scale_demands(wn, junctions, (window, factor), added)
    return added


class Outcome(NamedTuple):
    """What a run produced, before its output layers and KPIs are made."""

    net: Network
    params: WaterParams
    hyd: hy.Hydraulics
    prov: Provenance
    plan: EventPlan


class Water(Simulation):
    """Pressure-dependent hydraulics of a water network before and after events."""

    name = "water"
    title = {"en": "Water network", "fr": "Réseau d'eau potable"}
    requires = {"network": "network"}
    outputs = ("water_junctions", "water_pipes", "water_buildings", "water_criticality")
    consumes = WATER_INTERVENTIONS
    kpis = KPIS + CRITICALITY_KPIS
    displays = DISPLAYS
    params_model = WaterParams
    notice = NOTICE

    def notice_values(self, params: Params, lang: str) -> dict[str, Any]:
        p: WaterParams = params  # type: ignore[assignment]
        if p.duration_h is not None:
            period = f"{p.duration_h:g} h"
        else:
            period = {"en": "the file's period", "fr": "la durée du fichier"}[lang]
        return {"period": period}

    def check(self, twin: Twin, params: Params) -> list[str]:
        """Problems before running: the network layer, its EPANET model and sources; the
        optional valve and building layers."""
        p: WaterParams = params  # type: ignore[assignment]
        problems = super().check(twin, params)
        if problems:
            return problems
        where = f"parameters.water.network_layer ('{p.network_layer}')"
        try:
            net = ev.water_network(twin, p.network_layer, where)
            build_model(net, p, where)
        except TwinError as exc:
            return [f"water: {exc}"]
        if p.valves_layer is not None:
            lay = twin.layer(p.valves_layer) if p.valves_layer in twin else None
            if lay is None or lay.kind != "vector" or not {"link", "node"} <= set(lay.data):
                problems.append(
                    f"water: valves layer '{p.valves_layer}' is not a vector layer of the twin "
                    "with link and node columns (valve on link, next to node); set "
                    "parameters.water.valves_layer to such a layer, or null"
                )
        return problems

    def run(
        self, twin: Twin, params: WaterParams, inputs: dict[str, Layer], rng: np.random.Generator
    ) -> SimResult:
        """Run the hydraulics of the (scenario) twin's water network."""
        where = f"layer '{params.network_layer}'"
        net = ev.water_network(twin, params.network_layer, "parameters.water.network_layer")
        m = build_model(net, params, where)
        valves = self._valves(twin, m.wn, params)
        crit = pipe_criticality(net, m.wn, valves, self._served(twin, params, net))
        plan = event_plan(net, m.wn, lambda: valves, m.settings)
        added = apply_plan(m.wn, plan)
        junctions = net.nodes.index[net.nodes["node_type"] == "junction"].astype(str)
        h = hy.simulate(m.wn, list(junctions), list(net.links.index.astype(str)), added)
        prov = self._provenance(twin, params, m, plan)
        res = self._result(twin, Outcome(net, params, h, prov, plan))
        cprov = copy.deepcopy(prov)
        cprov.step(f"N-1 connectivity sweep: each of {len(crit)} pipes broken alone, its valve "
                   "segment shut")  # fmt: skip
        res.outputs["water_criticality"] = Layer("water_criticality", "vector", crit, cprov)
        res.kpis += [
            self.kpi("pipes_cutting_supply", float(crit["critical"].sum())),
            self.kpi(
                "worst_break_demand_l_s", float(crit["demand_cut_l_s"].max()) if len(crit) else 0.0
            ),
        ]
        return res

    @staticmethod
    def _served(twin: Twin, p: WaterParams, net: Network) -> pd.Series | None:
        """Buildings served by each demand junction (None without a buildings layer)."""
        if not p.buildings_layer or p.buildings_layer not in twin:
            return None
        if twin.layer(p.buildings_layer).kind != "vector":
            return None
        nodes = net.nodes
        demand = nodes[(nodes["node_type"] == "junction") & (nodes["base_demand_m3s"] > 0)]
        if not len(demand):
            return None
        demand = demand.set_axis(demand.index.astype(str))
        j = join_buildings(twin[p.buildings_layer], demand, p.max_join_m)
        return j["junction"].dropna().value_counts()

    @staticmethod
    def _valves(twin: Twin, wn: Any, params: WaterParams) -> pd.DataFrame:
        given = twin[params.valves_layer] if params.valves_layer else None
        policy = ValvePolicy(params.valve_strategy, params.valve_n, params.valve_seed)
        return valve_layer(wn, given, policy)

    def _provenance(self, twin: Twin, p: WaterParams, m: Model, plan: EventPlan) -> Provenance:
        lay = twin.layer(p.network_layer)
        prov = Provenance(
            source=f"twin layer '{p.network_layer}'",
            producer="twin (water)",
            licence=lay.provenance.licence,
            attribution=lay.provenance.attribution,
        )
        import wntr

        prov.step(
            f"EPANET 2.2 (WNTR {wntr.__version__} EpanetSimulator), pressure-dependent demand, "
            f"period {m.duration_note}, step {p.hydraulic_timestep_s} s"
        )
        prov.derived["pressures"] = (
            f"ASSUMED required {p.required_pressure_m:g} m, minimum {p.minimum_pressure_m:g} m, "
            f"exponent {p.pressure_exponent:g}, service {p.service_pressure_m:g} m"
        )
        prov.derived["valves"] = (
            f"valve layer '{p.valves_layer}'"
            if p.valves_layer
            else f"ASSUMED: WNTR {p.valve_strategy} placement, n = {p.valve_n}, seed {p.valve_seed}"
        )
        prov.derived["buildings"] = (
            f"ASSUMED: each building served by the nearest demand junction within "
            f"{p.max_join_m:g} m"
        )
        prov.counts["links_shut_by_events"] = len(plan.closures)
        prov.counts["leaks"] = len(plan.leaks)
        return prov

    def _result(self, twin: Twin, o: Outcome) -> SimResult:
        """Output layers and KPIs of a run."""
        net, p, h, prov, plan = o
        step = float(p.hydraulic_timestep_s)
        jt = junction_table(h, Thresholds(p.service_pressure_m, p.minimum_pressure_m, step))
        nodes = net.nodes.loc[jt.index]
        jt = pd.concat([nodes[["base_demand_m3s"]].astype(float), jt], axis=1)
        junc = gpd.GeoDataFrame(jt, geometry=nodes.geometry.to_numpy(), crs=nodes.crs)
        lt = link_table(h, step, pd.Index(list(plan.closures)))
        lt.insert(0, "link_type", net.links.loc[lt.index, "link_type"].to_numpy())
        pipes = gpd.GeoDataFrame(lt, geometry=net.links.loc[lt.index].geometry.to_numpy(),
                                 crs=net.links.crs)  # fmt: skip
        demand = junc[junc["base_demand_m3s"] > 0]
        bld = self._buildings(twin, p, demand)
        kpis = self._kpis(o, demand, bld)
        outs = {
            "water_junctions": Layer("water_junctions", "vector", junc, prov),
            "water_pipes": Layer("water_pipes", "vector", pipes, prov),
        }
        if bld is not None:
            outs["water_buildings"] = Layer("water_buildings", "vector", bld, prov)
        return SimResult(outputs=outs, kpis=kpis)

    @staticmethod
    def _buildings(twin: Twin, p: WaterParams, demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
        """Buildings with their junction and hours without water (None without a layer)."""
        if not p.buildings_layer or p.buildings_layer not in twin:
            return None
        b = twin[p.buildings_layer]
        if twin.layer(p.buildings_layer).kind != "vector" or not len(demand):
            return None
        j = join_buildings(b, demand, p.max_join_m)
        cols = ["hours_without_water_h", "longest_outage_h", "min_pressure_m"]
        vals = demand[cols].reindex(j["junction"].to_numpy())
        out = gpd.GeoDataFrame(
            {"junction": j["junction"].to_numpy(), "distance_m": j["distance_m"].to_numpy(),
             **{c: vals[c].to_numpy() for c in cols}},
            geometry=b.geometry.to_numpy(), crs=b.crs, index=b.index.astype(str),
        )  # fmt: skip
        out["without_water"] = out["hours_without_water_h"].fillna(0) > 0
        return out

    def _kpis(
        self, o: Outcome, demand: gpd.GeoDataFrame, bld: gpd.GeoDataFrame | None
    ) -> list[Any]:
        """The KPIs, over the demand junctions ``demand`` and the buildings ``bld``."""
        fmt = o.params.model_dump()
        step = float(o.params.hydraulic_timestep_s)
        expected = float(demand["expected_m3"].sum())
        lost = float(demand["not_delivered_m3"].sum())
        b_n = float(bld["without_water"].sum()) if bld is not None else float("nan")
        b_h = float(bld["hours_without_water_h"].sum()) if bld is not None else float("nan")
        return [
            self.kpi("volume_not_delivered_m3", lost),
            self.kpi("volume_not_delivered_share", lost / expected if expected else np.nan),
            self.kpi(
                "junctions_below_service",
                float((demand["hours_below_service_h"] > 0).sum()),
                **fmt,
            ),
            self.kpi("junctions_without_water", float((demand["hours_without_water_h"] > 0).sum())),
            self.kpi("buildings_without_water", b_n, **fmt),
            self.kpi("building_hours_without_water", b_h),
            self.kpi("worst_deficit_h", float(demand["longest_outage_h"].max())),
            self.kpi("leak_volume_m3", float(o.hyd.leak.to_numpy()[:-1].sum() * step)),
        ]
