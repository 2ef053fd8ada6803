"""Pressure-dependent, extended-period hydraulics of an EPANET network with WNTR.

The model is rebuilt from the ``.inp`` text the twin keeps (``network.model.text``), set to
pressure-dependent demand (PDD) over the requested period, the scenario's events are turned
into EPANET time controls (:func:`apply_events`), and EPANET 2.2 solves it through
``wntr.sim.EpanetSimulator``.

PDD (Wagner et al. 1988, as in EPANET 2.2): a junction whose pressure ``p`` is between the
minimum ``p_min`` and the required ``p_req`` pressures receives
``d = D · ((p − p_min) / (p_req − p_min)) ** e`` of its expected demand ``D``; nothing below
``p_min``, all of it above ``p_req``.

References
----------
Wagner, J. M., Shamir, U., Marks, D. H. (1988). Water distribution reliability: simulation
methods. J. Water Resour. Plann. Manage. 114(3), 276–294.
Rossman, L. et al. (2020). EPANET 2.2 User Manual. US EPA, EPA/600/R-20/133.
Klise, K. A. et al. (2018). An overview of the Water Network Tool for Resilience (WNTR).
Proc. 1st International WDSA/CCWI Joint Conference, Kingston, Canada.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd

from twin.errors import InputError, message

if TYPE_CHECKING:
    from wntr.network import WaterNetworkModel

#: Discharge coefficient of a leak orifice [-] (WNTR's default, ASSUMED).
LEAK_DISCHARGE_COEFF = 0.75
#: Gravity [m/s²].
G = 9.81


class Settings(NamedTuple):
    """Hydraulic settings of a run.

    Attributes
    ----------
    duration_s : int
        Simulated period [s].
    step_s : int
        Hydraulic and report time step [s].
    required_m, minimum_m : float
        PDD required and minimum pressures [m].
    exponent : float
        PDD pressure exponent [-].
    """

    duration_s: int
    step_s: int
    required_m: float
    minimum_m: float
    exponent: float


class Hydraulics(NamedTuple):
    """Results of a run at the report times (rows, [s] from the start).

    Attributes
    ----------
    pressure : DataFrame
        Junction pressure [m], one column per original junction.
    demand : DataFrame
        Served demand [m³/s] of the junctions.
    expected : DataFrame
        Expected (requested) demand [m³/s] of the junctions.
    flow : DataFrame
        Flow rate [m³/s] of the original links.
    closed : DataFrame of bool
        Whether each original link is closed (by the network, its controls or an event).
    leak : Series
        Flow [m³/s] lost through leaks, by time.
    """

    pressure: pd.DataFrame
    demand: pd.DataFrame
    expected: pd.DataFrame
    flow: pd.DataFrame
    closed: pd.DataFrame
    leak: pd.Series


def open_model(text: str, where: str = "network") -> WaterNetworkModel:
    """A WNTR model of an EPANET ``.inp`` text (written to a temporary file).

    Raises
    ------
    InputError
        When WNTR cannot read it.
    """
    import wntr

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "network.inp"
        path.write_text(text, encoding="utf-8")
        try:
            return wntr.network.WaterNetworkModel(str(path))
        except Exception as exc:  # WNTR raises many types; each means the text is unreadable
            msg = message(
                f"the network's EPANET model is not readable ({type(exc).__name__}: {exc})",
                where=where,
                fix="reload the layer from a valid .inp file",
            )
            raise InputError(msg) from None


def file_duration_h(wn: WaterNetworkModel) -> float:
    """The period the ``.inp`` file asks for [h] (0 for a single snapshot)."""
    return float(wn.options.time.duration) / 3600.0


def configure(wn: WaterNetworkModel, s: Settings) -> None:
    """Set PDD and the period and time steps of ``s`` on ``wn``."""
    o = wn.options
    o.time.duration = int(s.duration_s)
    o.time.hydraulic_timestep = int(s.step_s)
    o.time.report_timestep = int(s.step_s)
    o.time.report_start = 0
    o.hydraulic.demand_model = "PDD"
    o.hydraulic.required_pressure = float(s.required_m)
    o.hydraulic.minimum_pressure = float(s.minimum_m)
    o.hydraulic.pressure_exponent = float(s.exponent)


def source_problems(wn: WaterNetworkModel) -> list[str]:
    """What stops a hydraulic run: no tank or reservoir, or demand junctions connected to
    none (named)."""
    sources = list(wn.tank_name_list) + list(wn.reservoir_name_list)
    if not sources:
        return ["the network has no source (no reservoir or tank): add one in the .inp file"]
    graph = wn.to_graph().to_undirected()
    fed: set[str] = set()
    for comp in nx.connected_components(graph):
        if any(s in comp for s in sources):
            fed |= comp
    orphans = [
        j
        for j in wn.junction_name_list
        if j not in fed and any(d.base_value > 0 for d in wn.get_node(j).demand_timeseries_list)
    ]
    if orphans:
        some = (
            f"{len(orphans)} junctions with demand are"
            if len(orphans) > 1
            else ("1 junction with demand is")
        )
        return [
            f"{some} connected to no reservoir or tank (e.g. {orphans[:10]}): connect them or "
            "remove their demand"
        ]
    return []


def simulate(
    wn: WaterNetworkModel,
    junctions: list[str],
    links: list[str],
    added: Added | None = None,
    expected: pd.DataFrame | None = None,
) -> Hydraulics:
    """Run EPANET 2.2 (PDD) on a configured model; results of ``junctions`` and ``links``
    (``added``: what events added to the model; ``expected``: the expected demands when
    already known, e.g. in a sweep of closures, which leave them unchanged).

    Raises
    ------
    InputError
        When EPANET fails (its error is quoted).
    """
    import wntr

    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EPANET's warnings are in its report
        try:
            res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(Path(d) / "run"))
        except Exception as exc:  # EpanetException and OSError name EPANET's problem
            msg = message(
                f"EPANET failed on the network ({type(exc).__name__}: {exc})",
                where="water simulation",
                fix="check the network in EPANET; shorten the time step or the events",
            )
            raise InputError(msg) from None
    if expected is None:
        expected = wntr.metrics.expected_demand(wn)
    expected = expected.reindex(res.node["pressure"].index)
    added = added or Added()
    status = res.link["status"]
    closed = status[links] == 0
    for name, gate in added.gates.items():  # a link shut through its gate counts as closed
        closed[name] |= status[gate] == 0
    return Hydraulics(
        pressure=res.node["pressure"][junctions].astype(np.float64),
        demand=res.node["demand"][junctions].astype(np.float64),
        expected=expected[junctions].astype(np.float64),
        flow=res.link["flowrate"][links].astype(np.float64),
        closed=closed,
        leak=res.node["demand"][added.orifices].astype(np.float64).sum(axis=1),
    )


# -- events as EPANET controls ---------------------------------------------------------------
@dataclass
class Added:
    """Elements twin adds to a model to give events effect.

    Attributes
    ----------
    gates : dict
        Link → the pipe in series that shuts it (absent when the link is shut itself).
    halves : dict
        Leaking pipe → its second half (the pipe is split at the leak).
    orifices : list of str
        Junctions whose emitters are the leaks.
    """

    gates: dict[str, str] = field(default_factory=dict)
    halves: dict[str, str] = field(default_factory=dict)
    orifices: list[str] = field(default_factory=list)
    count: int = 0

    def name(self, wn: WaterNetworkModel, stem: str) -> str:
        """A new id ``~tw<stem><n>``, unused in ``wn`` and short enough for EPANET (31
        characters at most)."""
        while True:
            self.count += 1
            out = f"~tw{stem}{self.count}"
            # (a PatternRegistry answers every name: its list is asked instead)
            if out not in wn.nodes and out not in wn.links and out not in wn.pattern_name_list:
                return out


def merge(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of time windows [s], as sorted disjoint windows (empty ones dropped)."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(w for w in windows if w[1] > w[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def controlled_links(wn: WaterNetworkModel) -> set[str]:
    """Links some control or rule of the file acts on."""
    out: set[str] = set()
    for _, ctrl in wn.controls():
        for act in ctrl.actions():
            obj = act.target()[0]
            if hasattr(obj, "link_type"):
                out.add(obj.name)
    return out


def _time_control(wn: WaterNetworkModel, link: Any, t: float, status: Any, name: str) -> None:
    from wntr.network.controls import Control, ControlAction

    act = ControlAction(link, "status", status)
    wn.add_control(name, Control._time_control(wn, round(t), "SIM_TIME", False, act))


def _smooth(wn: WaterNetworkModel) -> float:
    """A smooth-pipe roughness in the file's head-loss formula."""
    return {"H-W": 150.0, "D-W": 1e-6, "C-M": 0.009}.get(str(wn.options.hydraulic.headloss), 150.0)


def _short_pipe(wn: WaterNetworkModel, name: str, ends: tuple[str, str], status: str) -> Any:
    """A 1 cm, 2 m wide smooth pipe (no head loss to speak of) between ``ends``."""
    wn.add_pipe(name, ends[0], ends[1], length=0.01, diameter=2.0, roughness=_smooth(wn),
                minor_loss=0.0, initial_status=status)  # fmt: skip
    return wn.get_link(name)


def _gate(wn: WaterNetworkModel, link_name: str, added: Added, free: bool) -> Any:
    """What to open and close to shut ``link_name``: the link itself when ``free`` (an open
    pipe no control acts on), else a short pipe inserted between the link and its end node,
    that the file's controls cannot reopen."""
    link = wn.get_link(link_name)
    if free:
        return link
    end = link.end_node
    elev = getattr(end, "elevation", None)
    elev = float(end.base_head if elev is None else elev)
    node = added.name(wn, "g")
    wn.add_junction(node, 0.0, None, elev, coordinates=end.coordinates)
    link.end_node = wn.get_node(node)
    added.gates[link_name] = node
    return _short_pipe(wn, node, (node, end.name), "OPEN")


def close_during(wn: WaterNetworkModel, closures: dict[str, list[tuple[float, float]]],
                 added: Added) -> None:  # fmt: skip
    """Shut each link of ``closures`` during its windows [s] (EPANET time controls)."""
    from wntr.network import LinkStatus

    controlled = controlled_links(wn)
    for name, windows in closures.items():
        link = wn.get_link(name)
        status = getattr(link.initial_status, "name", str(link.initial_status))
        free = link.link_type == "Pipe" and status == "Open" and not link.check_valve
        gate = _gate(wn, name, added, free and name not in controlled)
        for k, (a, b) in enumerate(merge(windows)):
            _time_control(wn, gate, a, LinkStatus.Closed, f"twin_close_{name}_{k}")
            if b < wn.options.time.duration:
                _time_control(wn, gate, b, LinkStatus.Open, f"twin_open_{name}_{k}")


def add_leak(
    wn: WaterNetworkModel, pipe: str, diameter_m: float, window: tuple[float, float], added: Added
) -> None:
    """Split ``pipe`` at mid-length and leak through an orifice of ``diameter_m`` [m] at the
    split during ``window`` [s] (the second half is recorded in ``added.halves``).

    The orifice is an EPANET emitter, ``q = C · p**0.5`` with ``C = Cd · A · √(2 g)``
    (``Cd`` = :data:`LEAK_DISCHARGE_COEFF`), behind a pipe opened at the start of the window
    and shut at its end.
    """
    import wntr
    from wntr.network import LinkStatus

    node, half, orifice = (added.name(wn, k) for k in ("s", "h", "o"))
    wntr.morph.split_pipe(wn, pipe, half, node, return_copy=False)
    split = wn.get_node(node)
    wn.add_junction(orifice, 0.0, None, split.elevation, coordinates=split.coordinates)
    area = math.pi * diameter_m**2 / 4.0
    wn.get_node(orifice).emitter_coefficient = LEAK_DISCHARGE_COEFF * area * math.sqrt(2 * G)
    link = _short_pipe(wn, added.name(wn, "l"), (node, orifice), "CLOSED")
    _time_control(wn, link, window[0], LinkStatus.Open, f"twin_leak_{pipe}_on")
    if window[1] < wn.options.time.duration:
        _time_control(wn, link, window[1], LinkStatus.Closed, f"twin_leak_{pipe}_off")
    added.halves[pipe] = half
    added.orifices.append(orifice)


def scale_demands(
    wn: WaterNetworkModel,
    junctions: list[str],
    change: tuple[tuple[float, float], float],
    added: Added,
) -> None:
    """Multiply the demands of ``junctions`` by ``factor`` on the pattern steps that start
    within ``window`` [s], ``change = (window, factor)`` (each demand gets a copy of its
    pattern, scaled on those steps)."""
    window, factor = change
    o = wn.options.time
    ps, p0 = int(o.pattern_timestep), int(o.pattern_start)
    n = math.ceil((o.duration + p0) / ps) + 1
    starts = np.arange(n) * ps - p0
    inside = (starts >= window[0]) & (starts < window[1])
    made: dict[str | None, str] = {}
    for j in junctions:
        for d in wn.get_node(j).demand_timeseries_list:
            base = d.pattern_name or _default_pattern(wn)
            if base not in made:
                mult = (
                    np.resize(np.asarray(wn.get_pattern(base).multipliers, float), n)
                    if base is not None
                    else np.ones(n)
                )
                made[base] = added.name(wn, "d")
                wn.add_pattern(made[base], list(np.where(inside, mult * factor, mult)))
            d.pattern_name = made[base]


def _default_pattern(wn: WaterNetworkModel) -> str | None:
    name = wn.options.hydraulic.pattern
    return str(name) if name is not None and name in wn.pattern_name_list else None
