"""On-disk twin: a directory of open formats and a JSON manifest.

Layout::

    DIR/twin.json                         manifest: CRS, extent, time, layers, provenance, hashes
    DIR/layers/<name>.parquet             vector layers (GeoParquet 1.x; QGIS ≥ 3.30 opens them)
    DIR/layers/<name>.nodes.parquet       network nodes
    DIR/layers/<name>.links.parquet       network links
    DIR/layers/<name>.<engine>.<suffix>   a network's engine file (EPANET .inp, pandapower JSON)
    DIR/layers/<name>.nc                  grids (NetCDF-4, CF grid mapping) and sensor series
    DIR/layers/<name>.points.parquet      sensor positions

The directory is written atomically (see :mod:`twin.store.atomic`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from twin.errors import StoreError, message
from twin.model.crs import parse_crs
from twin.model.layer import Layer, SensorSeries
from twin.model.network import EngineModel, Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.store._hdf5 import HDF5_LOCK
from twin.store.atomic import (
    atomic_directory,
    changed_files,
    directory_lock,
    file_stamp,
    recover_directory,
    sha256_file,
)

FORMAT_VERSION = 1
MANIFEST = "twin.json"


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (dt.date, pd.Timestamp)):
        return v.isoformat()
    return str(v)


def netcdf_safe(ds: xr.Dataset) -> xr.Dataset:
    """NetCDF attributes must be scalars, strings or 1-D arrays: JSON-encode the rest."""
    ds = ds.copy()
    for obj in [ds, *ds.data_vars.values()]:
        for k, v in list(obj.attrs.items()):
            if isinstance(v, (dict, list, tuple, bool)) or v is None:
                obj.attrs[k] = "json:" + json.dumps(v, default=_jsonable)
    return ds


def read_netcdf(path: Path) -> xr.Dataset:
    """Read a NetCDF file written by :func:`write_netcdf` fully into memory.

    The file is opened, loaded and closed under :data:`~twin.store._hdf5.HDF5_LOCK`; JSON
    attributes are decoded back.

    Parameters
    ----------
    path : Path
        The ``.nc`` file.

    Returns
    -------
    xarray.Dataset
        The dataset, in memory (no file handle left open).
    """
    with HDF5_LOCK, xr.open_dataset(path, engine="netcdf4", decode_coords="all") as ds:
        out = ds.load()
    for obj in [out, *out.data_vars.values()]:
        for k, v in list(obj.attrs.items()):
            if isinstance(v, str) and v.startswith("json:"):
                obj.attrs[k] = json.loads(v[5:])
    return out


def write_netcdf(ds: xr.Dataset, path: Path) -> None:
    """Write ``ds`` to a NetCDF-4 file (attributes made NetCDF-safe) under the HDF5 lock.

    Parameters
    ----------
    ds : xarray.Dataset
        The dataset; lazy variables are computed before the file is written.
    path : Path
        The ``.nc`` file to write.
    """
    safe = netcdf_safe(ds)
    with HDF5_LOCK:
        safe.to_netcdf(path, engine="netcdf4")


def netcdf_bytes(ds: xr.Dataset) -> bytes:
    """The bytes of ``ds`` serialised as NetCDF in memory (for hashing), under the HDF5 lock."""
    with HDF5_LOCK:
        return bytes(ds.to_netcdf())


def write_geoparquet(
    gdf: gpd.GeoDataFrame, path: Path, provenance: Provenance | None = None
) -> None:
    """Write GeoParquet (zstd, bbox covering); with ``provenance``, the layer's provenance is
    stored in the file's metadata (key ``twin:provenance``, JSON), so a file copied alone
    still says where it comes from and under which licence."""
    out = gdf.copy()
    for c in out.columns:
        if c != out.geometry.name and out[c].dtype == object:
            out[c] = out[c].map(
                lambda v: v if v is None or isinstance(v, (str, float, int, bool)) else str(v)
            )
    out.to_parquet(path, index=True, compression="zstd", write_covering_bbox=True)
    if provenance is not None:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = dict(table.schema.metadata or {})
        meta[b"twin:provenance"] = json.dumps(provenance.to_dict(), default=str).encode()
        pq.write_table(table.replace_schema_metadata(meta), path, compression="zstd")


def _plain_name(name: str, where: Path) -> str:
    """``name`` when it is a plain file name (no directory part, not hidden), else refuse:
    a layer's files stay inside its store directory."""
    if not name or name != Path(name).name or name.startswith(".") or "\\" in name:
        msg = message(
            f"'{name}' cannot name a layer's files (it is not a plain file name)",
            where=where,
            fix="name layers with letters, digits, '_', '-' and '.'",
        )
        raise StoreError(msg)
    return name


def write_layer(layer: Layer, folder: Path) -> list[str]:
    """Write a layer of any kind into ``folder``; return its file names.

    Vector layers as one GeoParquet file, networks as nodes and links, grids as NetCDF, sensor
    series as NetCDF (the series) and GeoParquet (the sensors). :func:`read_layer` reads them.
    """
    n = _plain_name(layer.name, folder)
    prov = layer.provenance
    if layer.kind == "vector":
        write_geoparquet(layer.data, folder / f"{n}.parquet", prov)
        return [f"{n}.parquet"]
    if layer.kind == "network":
        write_geoparquet(layer.data.nodes, folder / f"{n}.nodes.parquet", prov)
        write_geoparquet(layer.data.links, folder / f"{n}.links.parquet", prov)
        files = [f"{n}.nodes.parquet", f"{n}.links.parquet"]
        model = layer.data.model
        if model is not None:
            files.append(f"{n}.{model.engine}.{EngineModel.SUFFIX[model.engine]}")
            (folder / files[-1]).write_text(model.text, encoding="utf-8")
        return files
    if layer.kind == "grid":
        write_netcdf(_with_provenance(layer.data, layer), folder / f"{n}.nc")
        return [f"{n}.nc"]
    series: SensorSeries = layer.data
    write_netcdf(_with_provenance(series.data, layer), folder / f"{n}.nc")
    write_geoparquet(series.points, folder / f"{n}.points.parquet", prov)
    return [f"{n}.nc", f"{n}.points.parquet"]


def _with_provenance(ds: xr.Dataset, layer: Layer) -> xr.Dataset:
    """The dataset with its layer's provenance as global attributes (``twin_licence``…), so
    that a NetCDF file opened alone still says where it comes from."""
    from twin.store.export import provenance_tags

    out = ds.copy()
    out.attrs.update({f"twin_{k}": v for k, v in provenance_tags(layer.provenance).items()})
    return out


def save_twin(twin: Twin, path: str | PathLike[str], inputs: dict[str, str] | None = None) -> Path:
    """Write a twin directory atomically.

    Parameters
    ----------
    twin : Twin
        The twin.
    path : path-like
        Target directory; an existing twin there is replaced only once the new one is complete.
    inputs : dict, optional
        ``{source path: sha256}`` of the files the twin was built from.

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    StoreError
        If ``path`` exists and is not a twin directory (it is never overwritten).
    """
    target = Path(path)
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / MANIFEST).exists())
    ):
        msg = message(
            "exists and is not a twin directory; refusing to overwrite it",
            where=target,
            fix="choose an empty or new directory for --out",
        )
        raise StoreError(msg)
    from twin._version import __version__

    with atomic_directory(target) as tmp:
        folder = tmp / "layers"
        folder.mkdir()
        layers: dict[str, Any] = {}
        info = twin.info()
        for name, layer in twin.layers.items():
            files = write_layer(layer, folder)
            layers[name] = {
                **info["layers"][name],
                "files": {f: sha256_file(folder / f) for f in files},
                "stamps": {f: file_stamp(folder / f) for f in files},
            }
        t = twin._time
        manifest = {
            "format_version": FORMAT_VERSION,
            "twin_version": __version__,
            "name": twin.name,
            "crs": twin.crs.to_string(),
            "crs_wkt": twin.crs.to_wkt(),
            "extent": info["extent"],
            "extent_lonlat": info["extent_lonlat"],
            "time": None if t is None else [x.isoformat() for x in t],
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "inputs": inputs or {},
            "meta": twin.meta,
            "layers": layers,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=_jsonable))
    return target


def read_manifest(path: str | PathLike[str], recover: bool = True) -> dict[str, Any]:
    """Read and check a twin directory's manifest.

    Raises
    ------
    StoreError
        If the directory or its manifest is missing, unreadable or of a newer format.
    """
    d = Path(path)
    if recover:
        recover_directory(d)
    f = d / MANIFEST
    if not f.is_file():
        msg = message(
            "is not a twin directory (no twin.json)",
            where=d,
            fix="build one with `twin build MANIFEST --out DIR` or `twin demo --out DIR`",
        )
        raise StoreError(msg)
    try:
        m: dict[str, Any] = json.loads(f.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = message(f"manifest is corrupt ({exc})", where=f, fix="rebuild the twin")
        raise StoreError(msg) from None
    if not isinstance(m, dict) or not isinstance(m.get("format_version", 0), int):
        msg = message("manifest is not a twin manifest", where=f, fix="rebuild the twin")
        raise StoreError(msg)
    if m.get("format_version", 0) > FORMAT_VERSION:
        msg = message(
            f"written by a newer twin (format {m.get('format_version')})",
            where=f,
            fix="upgrade twin",
        )
        raise StoreError(msg)
    return m


def open_twin(path: str | PathLike[str]) -> Twin:
    """Read a twin directory written by :func:`save_twin` (under its shared lock, so that a
    concurrent build replaces it only between two reads, never during one)."""
    d = Path(path)
    recover_directory(d)
    with directory_lock(d, shared=True):
        try:
            return _read_twin(d)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            msg = message(
                f"{MANIFEST} is malformed ({type(exc).__name__}: {exc})",
                where=d,
                fix="rebuild the twin with `twin build`; do not edit twin.json by hand",
            )
            raise StoreError(msg) from None


def _read_twin(d: Path) -> Twin:
    m = read_manifest(d, recover=False)
    time = None if m.get("time") is None else pd.DatetimeIndex(m["time"])
    twin = Twin(m["name"], parse_crs(m["crs_wkt"], where=str(d / MANIFEST)), time)
    twin.meta = m.get("meta", {})
    twin.source = d.resolve()
    folder = d / "layers"
    for name, entry in m["layers"].items():
        files = [_plain_name(f, d / MANIFEST) for f in entry["files"]]
        bad = changed_files(folder, dict(entry["files"]), entry.get("stamps"))
        if bad:
            msg = message(
                f"layer '{name}' has files that are missing or not those the build wrote: {bad}",
                where=folder,
                fix="rebuild the twin with `twin build`; do not edit a twin directory by hand",
            )
            raise StoreError(msg)
        prov = Provenance.from_dict(entry["provenance"])
        twin.layers[name] = read_layer(name, entry["kind"], files, folder, prov)
    return twin


def read_layer(
    name: str,
    kind: str,
    files: list[str],
    folder: Path,
    provenance: Provenance,
    display: list[dict[str, Any]] | None = None,
) -> Layer:
    """Read a layer written by :func:`write_layer` (``files`` as it returned them).

    Raises
    ------
    StoreError
        When a file cannot be read (naming the layer and what to do).
    """
    try:
        if kind == "vector":
            data: Any = gpd.read_parquet(folder / files[0])
        elif kind == "network":
            data = Network(
                nodes=gpd.read_parquet(folder / files[0]),
                links=gpd.read_parquet(folder / files[1]),
                model=_engine_model(folder, files[2:]),
            )
        elif kind == "grid":
            data = read_netcdf(folder / files[0])
        else:
            data = SensorSeries(
                points=gpd.read_parquet(folder / files[1]), data=read_netcdf(folder / files[0])
            )
    except (OSError, ValueError) as exc:
        msg = message(
            f"layer '{name}' cannot be read ({type(exc).__name__}: {exc})",
            where=folder,
            fix="rebuild the twin (or rerun the scenario)",
        )
        raise StoreError(msg) from None
    return Layer(name, kind, data, provenance, list(display or []))  # type: ignore[arg-type]


def _engine_model(folder: Path, files: list[str]) -> EngineModel | None:
    """The engine file kept beside a network's tables (``<name>.<engine>.<suffix>``)."""
    if not files:
        return None
    engine = files[0].rsplit(".", 2)[-2]
    if engine not in EngineModel.SUFFIX:
        raise ValueError(f"unknown engine file {files[0]}")
    return EngineModel(engine, (folder / files[0]).read_text(encoding="utf-8"))


def content_hashes(twin: Twin) -> dict[str, str]:
    """SHA-256 of each layer's content (names, values, geometries, grid coordinates, CRS).

    The identity of a twin for run keys: computed from the data in memory, so an opened twin,
    the same twin opened from its directory, or an in-memory copy give the same hashes, and an
    edited layer gives a new one.
    """
    out = {}
    for name, lay in twin.layers.items():
        h = hashlib.sha256(f"{name}|{lay.kind}|{twin.crs.to_wkt()}".encode())
        d = lay.data
        frames: list[gpd.GeoDataFrame] = []
        if lay.kind == "vector":
            frames = [d]
        elif lay.kind == "network":
            frames = [d.nodes, d.links]
            if d.model is not None:
                h.update(f"{d.model.engine}|{d.model.text}".encode())
        elif lay.kind == "series":
            frames = [d.points]
            h.update(netcdf_bytes(d.data))
        else:
            for c in ("y", "x"):
                if c in d.coords:
                    h.update(np.ascontiguousarray(d[c].to_numpy()).tobytes())
            for v in sorted(d.data_vars):
                h.update(str(v).encode())
                h.update(np.ascontiguousarray(d[v].to_numpy()).tobytes())
        for f in frames:
            plain = pd.DataFrame(f.drop(columns=f.geometry.name)).astype(str)
            h.update("|".join(map(str, plain.columns)).encode())
            h.update(pd.util.hash_pandas_object(plain, index=True).to_numpy().tobytes())
            h.update(b"".join(f.geometry.to_wkb()))
        out[name] = h.hexdigest()
    return out
