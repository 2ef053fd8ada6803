"""Single-failure sweeps on the Dask batch engine: each element of a network fails alone.

A domain gives the function that evaluates a list of failures on one network (the power
simulation's :func:`twin.sims.power.sweep.outage_flows`, the water simulation's
:func:`twin.sims.water.sweep.break_sweep`); this module splits the elements
into chunks, one task per chunk on the workers (each parses the network's engine model once
per chunk, not once per failure), and gathers one table in the elements' order.

>>> from twin.batch.criticality import power_flow_sweep  # doctest: +SKIP
>>> table = power_flow_sweep("data/oberrhein", workers=2)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.batch.cluster import dask_client
from twin.errors import InputError, message
from twin.model.network import Network
from twin.model.twin import Twin
from twin.scenario.runner import load_twin
from twin.sims.power.sweep import FlowLimits, outage_flows
from twin.sims.water.sim import WaterParams
from twin.sims.water.sweep import break_sweep

#: Chunks per worker: enough to balance uneven chunks, few enough to parse the model rarely.
CHUNKS_PER_WORKER = 3


def chunked(items: Sequence[str], n: int) -> list[list[str]]:
    """``items`` split into at most ``n`` contiguous chunks of near-equal size."""
    parts = np.array_split(np.arange(len(items)), max(1, min(n, len(items))))
    return [[items[i] for i in p] for p in parts if len(p)]


def map_failures(
    func: Callable[..., pd.DataFrame],
    shared: tuple[Any, ...],
    elements: Sequence[str],
    *,
    workers: int = 2,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """``func(*shared, chunk)`` over chunks of ``elements`` on a Dask cluster, concatenated.

    Parameters
    ----------
    func : callable
        Evaluates a list of element ids; returns a table indexed by them.
    shared : tuple
        Its first arguments (sent to the cluster once).
    elements : sequence of str
        Element ids.
    workers : int
        Local worker processes (ignored with ``scheduler``).
    scheduler : str, optional
        Address or scheduler file of an existing cluster.
    """
    with dask_client(workers, scheduler) as client:
        n = CHUNKS_PER_WORKER * max(1, len(client.scheduler_info()["workers"]))
        data = client.scatter(list(shared), broadcast=True)
        futures = [client.submit(func, *data, chunk, pure=False) for chunk in chunked(elements, n)]
        parts = client.gather(futures)
    return pd.concat(parts).reindex(list(elements))


def _network(twin: Twin, layer: str, engine: str) -> Network:
    """The network layer ``layer`` of ``twin``, with an ``engine`` model."""
    if layer not in twin or twin.layer(layer).kind != "network":
        msg = message(f"no network layer '{layer}'", where="criticality", fix="name the layer")
        raise InputError(msg)
    net: Network = twin.layer(layer).data
    if net.model is None or net.model.engine != engine:
        loader = {"pandapower": "pandapower", "epanet": "epanet"}[engine]
        msg = message(
            f"layer '{layer}' has no {engine} model, so no {engine} computation can run",
            where="criticality",
            fix=f"load the network with the '{loader}' loader",
        )
        raise InputError(msg)
    return net


def power_flow_sweep(
    twin: Twin | str | Path,
    layer: str = "energy",
    *,
    limits: FlowLimits | None = None,
    workers: int = 2,
    scheduler: str | None = None,
) -> gpd.GeoDataFrame:
    """N-1 power flows: every in-service line and transformer out alone, on Dask workers.

    Returns
    -------
    GeoDataFrame
        One row per branch (link id): ``element``, ``converged``, ``min_vm_pu`` [p.u.],
        ``max_loading_pct`` [%], ``overloaded_lines``, on the branch's geometry.
    """
    net = _network(load_twin(twin), layer, "pandapower")
    links = net.links
    ok = links["link_type"].isin(["line", "trafo"]) & links["in_service"].astype(bool)
    ids = links.index[ok].astype(str).tolist()
    table = map_failures(
        outage_flows, (net, limits or FlowLimits()), ids, workers=workers, scheduler=scheduler
    )
    table.insert(0, "element", links.loc[ids, "link_type"].to_numpy())
    return gpd.GeoDataFrame(table, geometry=links.loc[ids].geometry.to_numpy(), crs=links.crs)


def hydraulic_sweep(
    twin: Twin | str | Path,
    layer: str = "water",
    *,
    params: WaterParams | None = None,
    pipes: list[str] | None = None,
    workers: int = 2,
    scheduler: str | None = None,
) -> gpd.GeoDataFrame:
    """N-1 hydraulics: each pipe's valve segment shut for the period, on Dask workers.

    Parameters
    ----------
    twin : Twin or path
        A twin with an EPANET water network.
    layer : str
        The network layer.
    params : WaterParams, optional
        Pressures, period, step and valve placement (the water simulation's defaults).
    pipes : list of str, optional
        Pipes to break (all pipes by default).
    workers, scheduler
        As :func:`map_failures`.

    Returns
    -------
    GeoDataFrame
        One row per pipe: ``segment_links``, ``not_delivered_m3`` [m³],
        ``junctions_below_service``, on the pipe's geometry.
    """
    t = load_twin(twin)
    net = _network(t, layer, "epanet")
    p = params or WaterParams.model_validate({"network_layer": layer})
    valves = t[p.valves_layer] if p.valves_layer and p.valves_layer in t else None
    links = net.links.set_axis(net.links.index.astype(str))
    ids = pipes or links.index[links["link_type"] == "pipe"].tolist()
    unknown = [i for i in ids if i not in links.index]
    if unknown:
        msg = message(f"unknown pipes {unknown[:5]}", where="criticality", fix="give pipe ids")
        raise InputError(msg)
    table = map_failures(break_sweep, (net, p, valves), ids, workers=workers, scheduler=scheduler)
    return gpd.GeoDataFrame(table, geometry=links.loc[ids].geometry.to_numpy(), crs=links.crs)
