"""Compare two runs: KPI tables (absolute and % change) and difference layers.

``compare_runs(a, b)`` gives ``b − a``: with ``a`` the parent (or baseline) and ``b`` the
scenario, positive differences are what the scenario adds. Vector outputs are joined on their
id index: every numeric column gets ``<col>_a``, ``<col>_b`` and ``<col>_diff``; features
present on one side only are kept with NaN on the other. Grid outputs give ``b − a`` for every
shared variable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.store.twinstore import write_geoparquet, write_netcdf


@dataclass
class Comparison:
    """Differences between two runs.

    Attributes
    ----------
    a, b : str
        Run ids (``b − a``).
    kpis : DataFrame
        Index ``kpi``; columns ``unit``, ``a``, ``b``, ``diff``, ``pct_change``, ``better``,
        ``description``.
    layers : dict of str to Layer
        Difference layers by output name.
    """

    a: str
    b: str
    kpis: pd.DataFrame
    layers: dict[str, Layer] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (KPIs and, per layer, how many features or cells changed)."""
        return {
            "a": self.a,
            "b": self.b,
            "kpis": json.loads(self.kpis.reset_index().to_json(orient="records")),
            "layers": {n: changed_summary(lay) for n, lay in self.layers.items()},
        }

    def save(self, folder: Path) -> None:
        """Write ``kpis.csv``, ``kpis.json`` and one file per difference layer."""
        folder.mkdir(parents=True, exist_ok=True)
        self.kpis.reset_index().to_csv(folder / "kpis.csv", index=False)
        (folder / "comparison.json").write_text(json.dumps(self.to_dict(), indent=2))
        for name, lay in self.layers.items():
            if lay.kind == "grid":
                write_netcdf(lay.data, folder / f"{name}.nc")
            else:
                write_geoparquet(lay.data, folder / f"{name}.parquet")


def changed_summary(lay: Layer) -> dict[str, Any]:
    """How many features (or cells) differ, and the extreme differences, per variable."""
    out: dict[str, Any] = {}
    d = lay.data
    cols = (
        [c for c in d.columns if c.endswith("_diff")] if lay.kind == "vector" else list(d.data_vars)
    )
    for c in cols:
        v = np.asarray(d[c], dtype=float)
        nz = np.isfinite(v) & (np.abs(v) > 1e-9)
        out[c] = {
            "changed": int(nz.sum()),
            "min": float(np.nanmin(v)) if np.isfinite(v).any() else None,
            "max": float(np.nanmax(v)) if np.isfinite(v).any() else None,
        }
    return out


def compare_kpis(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """KPI table ``b − a`` with the % change relative to ``a``."""
    idx = a.index.union(b.index, sort=False)
    va = a["value"].reindex(idx).astype(float)
    vb = b["value"].reindex(idx).astype(float)
    meta = b.reindex(idx).combine_first(a.reindex(idx))
    diff = vb - va
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(va.abs() > 0, 100.0 * diff / va.abs(), np.nan)
    out = pd.DataFrame(
        {
            "unit": meta["unit"],
            "a": va,
            "b": vb,
            "diff": diff,
            "pct_change": pct,
            "better": meta["better"],
            "description": meta["description"],
        },
        index=idx,
    )
    for col in ("headline", "label_en", "label_fr", "description_fr"):
        if col in meta:
            out[col] = meta[col]
    out.index.name = "kpi"
    return out


def _numeric(df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if c != "geometry"
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]


def diff_vector(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Join two vector outputs on their ids and difference every shared numeric column."""
    cols = [c for c in _numeric(b) if c in _numeric(a)]
    idx = a.index.union(b.index, sort=False)
    geom = b.geometry.reindex(idx)
    missing = geom.isna()
    if missing.any():
        geom[missing] = a.geometry.reindex(idx)[missing]
    data = {}
    for c in cols:
        va = a[c].reindex(idx).astype(float)
        vb = b[c].reindex(idx).astype(float)
        data[f"{c}_a"], data[f"{c}_b"], data[f"{c}_diff"] = va, vb, vb - va
    return gpd.GeoDataFrame(data, geometry=geom.to_numpy(), crs=b.crs, index=idx)


def diff_grid(a: xr.Dataset, b: xr.Dataset) -> xr.Dataset:
    """``b − a`` for every numeric variable present in ``b`` (missing in ``a`` counts as the
    value ``b`` would have without the scenario: it is skipped unless both have it)."""
    out = xr.Dataset(coords={k: b.coords[k] for k in ("y", "x") if k in b.coords})
    for v in b.data_vars:
        if v in a.data_vars and np.issubdtype(b[v].dtype, np.number):
            out[v] = b[v] - a[v]
    if b.rio.crs is not None:
        out = out.rio.write_crs(b.rio.crs)
    out.attrs = {"difference": "scenario − parent"}
    return out


def compare_runs(a: Any, b: Any) -> Comparison:
    """Compare run ``b`` with run ``a`` (``b − a``) for every shared output and KPI."""
    layers: dict[str, Layer] = {}
    for name, lb in b.outputs.items():
        la = a.outputs.get(name)
        if la is None or la.kind != lb.kind:
            continue
        data: Any = (
            diff_grid(la.data, lb.data) if lb.kind == "grid" else diff_vector(la.data, lb.data)
        )
        prov = Provenance(
            source=f"runs {a.run_id} and {b.run_id}",
            producer="twin (compare)",
        )
        prov.step(f"difference {b.run_id} − {a.run_id}")
        layers[name] = Layer(f"{name}_diff", lb.kind, data, prov, list(lb.display))
    return Comparison(a.run_id, b.run_id, compare_kpis(a.kpis, b.kpis), layers)
