"""Heat indicators from the model output: UHI intensity, hours above thresholds, exposure.

* **UHI intensity** of a cell: its air temperature minus the rural reference air temperature
  of the same time step [K] (Oke, 1973; the forcing is the rural reference).
* **Hours above a threshold**: number of time steps at or above it × the step [h]. UTCI
  thresholds follow the UTCI assessment scale (Bröde et al., 2012): 32 °C "strong heat
  stress", 38 °C "very strong heat stress" (46 °C "extreme").
* **Outdoor value of a place.** The model's cells are mixes of roofs and open ground; people
  are exposed outdoors, so a building or a site takes the value of the **nearest mostly-open
  cell** (roof fraction < 0.5) — for a building, the street or yard next to it. Area means
  (KPIs) weight each cell by its open (non-roof) area for the same reason.
* **Buildings exposed**: buildings whose outdoor cell reaches the exposure threshold (UTCI ≥
  ``threshold_c``) for at least ``min_hours``; floor area = footprint × ``levels`` (else
  ``height_m`` / 3 m per storey, ASSUMED; else one storey).
* **Population**: only from an aggregate population field of the twin (a grid with a
  ``population`` variable, or polygons/points with a ``population`` column — e.g. INSEE
  Filosofi 200 m tiles); never from personal data. Without one, exposed population is not
  available (NaN).
* **Sensitive sites**: amenities and buildings tagged as places of vulnerable people
  (:data:`SENSITIVE_TAGS`: schools, kindergartens, childcare, nursing homes, hospitals,
  clinics, social facilities).
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from scipy import ndimage

#: Tags marking sites of vulnerable people: ``{column: {value: category}}``.
SENSITIVE_TAGS: dict[str, dict[str, str]] = {
    "amenity": {
        "school": "school",
        "kindergarten": "kindergarten",
        "childcare": "childcare",
        "nursing_home": "nursing_home",
        "hospital": "hospital",
        "clinic": "clinic",
        "social_facility": "social_facility",
    },
    "building": {
        "school": "school",
        "kindergarten": "kindergarten",
        "hospital": "hospital",
    },
    "social_facility": {
        "nursing_home": "nursing_home",
        "assisted_living": "nursing_home",
        "group_home": "social_facility",
        "day_care": "childcare",
    },
    "healthcare": {"hospital": "hospital", "clinic": "clinic"},
}
#: UTCI assessment scale thresholds [°C] (Bröde et al., 2012).
UTCI_STRONG_C = 32.0
UTCI_VERY_STRONG_C = 38.0


def uhi_intensity(result: xr.Dataset) -> xr.DataArray:
    """Cell air temperature minus the rural reference [K], on ``(time, y, x)``."""
    out = result["air_temperature"] - result["rural_air_temperature"]
    out.attrs = {"units": "K", "long_name": "urban heat island intensity"}
    return out


def step_hours(result: xr.Dataset) -> float:
    """Time step of the result [h] (1 with a single step)."""
    t = pd.DatetimeIndex(result["time"].to_numpy())
    return (t[1] - t[0]).total_seconds() / 3600.0 if len(t) > 1 else 1.0


def hours_above(da: xr.DataArray, threshold: float, dt_h: float) -> xr.DataArray:
    """Hours at or above ``threshold`` per cell [h] (NaN where the cell has no data)."""
    n = (da >= threshold).sum("time") * dt_h
    return n.where(da.notnull().any("time"))


def outdoor(values: np.ndarray, roof: np.ndarray, roof_threshold: float = 0.5) -> np.ndarray:
    """Each cell's value replaced by that of its nearest mostly-open cell (roof < threshold)."""
    closed = ~(np.nan_to_num(roof, nan=1.0) < roof_threshold) | ~np.isfinite(values)
    if closed.all() or not closed.any():
        return values.copy()
    idx = ndimage.distance_transform_edt(closed, return_distances=False, return_indices=True)
    return values[idx[0], idx[1]]


def cell_index(
    points: gpd.GeoSeries, grid: xr.Dataset | xr.DataArray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column and inside-the-grid flag of each point's cell."""
    gx, gy = grid["x"].to_numpy(), grid["y"].to_numpy()
    xs, ys = points.x.to_numpy(), points.y.to_numpy()
    col = np.rint((xs - gx[0]) / (gx[1] - gx[0])).astype(np.int64)
    row = np.rint((ys - gy[0]) / (gy[1] - gy[0])).astype(np.int64)
    inside = (col >= 0) & (col < len(gx)) & (row >= 0) & (row < len(gy))
    return np.clip(row, 0, len(gy) - 1), np.clip(col, 0, len(gx) - 1), inside


def sample(gdf: gpd.GeoDataFrame, fields: dict[str, np.ndarray], grid: xr.Dataset) -> pd.DataFrame:
    """Values of 2-D ``fields`` at the cell of each feature's representative point."""
    pts = gdf.geometry.representative_point()
    row, col, inside = cell_index(pts, grid)
    out = pd.DataFrame(index=gdf.index)
    for name, arr in fields.items():
        out[name] = np.where(inside, arr[row, col], np.nan)
    return out


def sensitive_sites(frames: Iterable[tuple[str, gpd.GeoDataFrame]]) -> gpd.GeoDataFrame:
    """Sites of vulnerable people from tagged layers (:data:`SENSITIVE_TAGS`).

    Parameters
    ----------
    frames : iterable of (layer name, GeoDataFrame)
        Layers to search (amenities, buildings…), all in one CRS.

    Returns
    -------
    GeoDataFrame
        Index ``<layer>:<id>``; ``category``, ``name``, ``layer``; geometry = representative
        point. A feature matching several tags keeps the first category found.
    """
    parts = []
    crs = None
    for lname, gdf in frames:
        crs = crs or gdf.crs
        cat = pd.Series(None, index=gdf.index, dtype=object)
        for col, values in SENSITIVE_TAGS.items():
            if col in gdf:
                hit = gdf[col].map(values)
                cat = cat.where(cat.notna(), hit)
        sel = gdf[cat.notna()]
        if len(sel) == 0:
            continue
        name = (
            sel["name"].astype(object).where(sel["name"].notna(), "")
            if "name" in sel
            else pd.Series("", index=sel.index)
        )
        parts.append(
            gpd.GeoDataFrame(
                {"category": cat[cat.notna()].to_numpy(), "name": name.to_numpy(), "layer": lname},
                geometry=sel.geometry.representative_point().to_numpy(),
                index=pd.Index([f"{lname}:{i}" for i in sel.index], name="site"),
                crs=gdf.crs,
            )
        )
    if not parts:
        return gpd.GeoDataFrame(
            {"category": [], "name": [], "layer": []},
            geometry=[],
            crs=crs,
            index=pd.Index([], name="site", dtype=object),
        )
    return gpd.GeoDataFrame(pd.concat(parts), crs=crs)


def population_per_cell(pop: xr.Dataset | gpd.GeoDataFrame, grid: xr.Dataset) -> np.ndarray:
    """Residents per cell of ``grid`` from a population grid (same cells) or features.

    A polygon's population is shared equally among the cells whose centre it contains (or
    goes to the cell of its representative point when it contains none); a point's goes to
    its cell.
    """
    if isinstance(pop, xr.Dataset):
        return np.nan_to_num(pop["population"].to_numpy().astype(float), nan=0.0)
    from rasterio.features import rasterize

    ny, nx = grid.sizes["y"], grid.sizes["x"]
    out = np.zeros((ny, nx))
    val = pd.to_numeric(pop["population"], errors="coerce").fillna(0).to_numpy(float)
    poly = pop.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    ids = np.zeros((ny, nx), dtype=np.int32)
    if poly.any():
        shapes = [(g, k + 1) for k, g in enumerate(pop.geometry.to_numpy()) if poly[k]]
        ids = rasterize(
            shapes, out_shape=(ny, nx), transform=grid.rio.transform(), fill=0, dtype="int32"
        )
    counts = np.bincount(ids.ravel(), minlength=len(pop) + 1)[1:]
    spread = poly & (counts > 0)
    share = np.where(spread, val / np.maximum(counts, 1), 0.0)
    out += np.concatenate([[0.0], share])[ids]
    rest = ~spread
    row, col, inside = cell_index(pop.geometry.representative_point(), grid)
    m = rest & inside
    np.add.at(out, (row[m], col[m]), val[m])
    return out
