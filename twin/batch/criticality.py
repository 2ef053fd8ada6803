"""Single-failure sweeps on the Dask batch engine: each element of a network fails alone.

A domain gives the function that evaluates a list of failures on one network (the power
simulation's :func:`twin.sims.power.sweep.outage_flows`); this module splits the elements
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


def _network(twin: Twin, layer: str) -> Network:
    if layer not in twin or twin.layer(layer).kind != "network":
        msg = message(f"no network layer '{layer}'", where="criticality", fix="name the layer")
        raise InputError(msg)
    net: Network = twin.layer(layer).data
    if net.model is None or net.model.engine != "pandapower":
        msg = message(
            f"layer '{layer}' has no pandapower net, so no power flow can run",
            where="criticality",
            fix="load the network with the 'pandapower' loader",
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
    net = _network(load_twin(twin), layer)
    links = net.links
    ok = links["link_type"].isin(["line", "trafo"]) & links["in_service"].astype(bool)
    ids = links.index[ok].astype(str).tolist()
    table = map_failures(
        outage_flows, (net, limits or FlowLimits()), ids, workers=workers, scheduler=scheduler
    )
    table.insert(0, "element", links.loc[ids, "link_type"].to_numpy())
    return gpd.GeoDataFrame(table, geometry=links.loc[ids].geometry.to_numpy(), crs=links.crs)
