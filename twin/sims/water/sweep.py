"""N-1 hydraulic sweep: each pipe's valve segment shut for the whole period, EPANET's PDD run.

The connectivity sweep (:mod:`twin.sims.water.criticality`) says which junctions a break
cuts from every source; this one says how much water the network then fails to deliver,
pressures included (a junction still connected may fall below service pressure). One call
evaluates a list of pipes on one WNTR model (built and configured once, each segment shut
and reopened in place), so that a batch engine can give each worker a share of the pipes
(:mod:`twin.batch.criticality`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from twin.model.network import Network
from twin.sims.water import hydraulics as hy
from twin.sims.water.segments import ValvePolicy, isolation_sets, valve_layer

#: Columns of a sweep's result, one row per pipe broken.
SWEEP_COLUMNS = ("segment_links", "not_delivered_m3", "junctions_below_service")


def _set_status(wn: Any, statuses: dict[str, Any]) -> None:
    for name, status in statuses.items():
        wn.get_link(name).initial_status = status


def not_delivered(h: hy.Hydraulics, step_s: float, service_m: float) -> tuple[float, int]:
    """Volume of the expected demand not delivered [m³] and junctions below ``service_m``
    at some report time (the last report time closes the period and is left out)."""
    exp = np.clip(h.expected.to_numpy()[:-1], 0, None)
    served = np.clip(h.demand.to_numpy()[:-1], 0, None)
    below = (h.pressure.to_numpy()[:-1] < service_m) & (exp > 0)
    return float(np.clip(exp - served, 0, None).sum() * step_s), int(below.any(axis=0).sum())


def break_sweep(
    net: Network, params: Any, valves: pd.DataFrame | None, pipes: list[str]
) -> pd.DataFrame:
    """EPANET's pressure-dependent run with each pipe's valve segment shut, one at a time.

    Parameters
    ----------
    net : Network
        A water network with its EPANET model.
    params : WaterParams
        The water simulation's parameters (pressures, period, step, valve placement).
    valves : DataFrame, optional
        The valve layer (``link``, ``node``); None: placed as ``params`` says (ASSUMED).
    pipes : list of str
        Pipe ids to break.

    Returns
    -------
    DataFrame
        Indexed by pipe: ``segment_links`` (links shut), ``not_delivered_m3`` [m³] over the
        period, ``junctions_below_service``.
    """
    import wntr
    from wntr.network import LinkStatus

    from twin.sims.water.sim import build_model

    m = build_model(net, params, "water sweep")
    policy = ValvePolicy(params.valve_strategy, params.valve_n, params.valve_seed)
    sets = isolation_sets(m.wn, valve_layer(m.wn, valves, policy), pipes)
    junctions = list(m.wn.junction_name_list)
    # closures leave the expected demands as they are: computed once (the costliest step)
    expected = wntr.metrics.expected_demand(m.wn)
    rows = []
    for pipe in pipes:
        before = {n: m.wn.get_link(n).initial_status for n in sets[pipe]}
        _set_status(m.wn, dict.fromkeys(sets[pipe], LinkStatus.Closed))
        h = hy.simulate(m.wn, junctions, [], expected=expected)
        lost, below = not_delivered(h, m.settings.step_s, params.service_pressure_m)
        rows.append((len(sets[pipe]), lost, below))
        _set_status(m.wn, before)
    return pd.DataFrame(rows, columns=list(SWEEP_COLUMNS), index=pd.Index(pipes, name="id"))
