"""Build a twin from a declarative layer manifest (YAML files in ``layers/``).

A manifest names the territory, its working CRS (``auto`` by default) and its layers; each
layer names a source file, a registered loader, the loader's options, and its provenance
(producer, licence, retrieval date, sensitivity, personal-data flag). Derived grids (land
cover) are declared under ``derived``. Sources are paths relative to the manifest, absolute
paths, or ``pkg://<package>/<path>`` for data shipped inside an installed package. An
optional ``basemap`` names a local MBTiles or PMTiles file that the viewer draws under its
maps (checked at build, recorded by reference: see :func:`load_basemap`).

Example::

    name: Épinay-sur-Orge
    crs: auto
    layers:
      parcels:
        loader: cadastre.etalab
        source: cadastre-91216-parcelles.json.gz
        licence: etalab-2.0
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pyproj import CRS

from twin.errors import (
    BasemapError,
    InputError,
    SchemaError,
    TwinError,
    message,
    validation_problems,
)
from twin.io.basemap import open_archive
from twin.io.registry import get_loader
from twin.model.basemap import META_KEY as BASEMAP_KEY
from twin.model.basemap import Basemap
from twin.model.crs import parse_crs, working_crs_for
from twin.model.layer import Layer, SensorSeries
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.model.yamlfile import load_yaml
from twin.store.atomic import sha256_file
from twin.store.twinstore import save_twin

#: A layer name: it names the layer's files in the twin directory, so no path characters.
LAYER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class LayerSpec(BaseModel):
    """One layer of a manifest."""

    model_config = ConfigDict(extra="forbid")

    loader: str = Field(description="Registered loader name, e.g. 'osm.buildings'.")
    source: str = Field(description="Path (relative to the manifest) or pkg://package/path.")
    options: dict[str, Any] = Field(default_factory=dict, description="Loader options.")
    producer: str | None = None
    licence: str | None = None
    attribution: str | None = None
    retrieved: dt.date | None = None
    sensitivity: Literal["public", "internal", "restricted"] | None = None
    personal_data: bool | None = None
    description: str | None = None


class DerivedSpec(BaseModel):
    """A derived grid (land cover and morphology)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["landcover"] = "landcover"
    resolution_m: float = Field(10.0, gt=0, le=1000)
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="Role → layer name, roles: buildings, roads, landuse, natural.",
    )
    options: dict[str, Any] = Field(default_factory=dict)


class BasemapSpec(BaseModel):
    """The optional basemap: a local tile archive drawn under every map of the viewer."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        description="An .mbtiles or .pmtiles file: a path (relative to the manifest) or "
        "pkg://package/path. It is read in place, never copied into the twin."
    )
    attribution: str = Field(
        min_length=1,
        description="Text shown on the map and on the PNG sheet, e.g. "
        "'© OpenStreetMap contributors'.",
    )
    licence: str = Field(min_length=1, description="Licence, e.g. 'ODbL-1.0', 'etalab-2.0'.")
    producer: str = Field(min_length=1, description="Who produced the tiles or their data.")
    retrieved: dt.date = Field(description="Date the tiles or their data were retrieved.")
    description: str | None = None


class Manifest(BaseModel):
    """A territory's layer manifest."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    crs: str = Field("auto", description="'auto' or a CRS such as 'EPSG:2154'.")
    max_extent_km: float = Field(
        500.0,
        gt=0,
        le=5000,
        description="Largest span of the layers together [km]: beyond it, a layer in the "
        "wrong place or CRS is the likelier cause, and the build is refused.",
    )
    layers: dict[str, LayerSpec]
    derived: dict[str, DerivedSpec] = Field(default_factory=dict)
    basemap: BasemapSpec | None = Field(
        None, description="A local tile archive drawn under the viewer's maps (optional)."
    )

    @field_validator("layers", "derived")
    @classmethod
    def _safe_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if not LAYER_NAME.fullmatch(k)]
        if bad:
            msg = (
                f"layer names {bad} are not allowed: use letters, digits, '_', '-' and '.', "
                "starting with a letter or digit, at most 64 characters (they name files)"
            )
            raise ValueError(msg)
        return v


def _format_errors(exc: ValidationError, where: str) -> str:
    lines = [f"  - {p}" for p in validation_problems(exc.errors())]
    return f"{where}: {len(lines)} problem(s) in the manifest:\n" + "\n".join(lines)


def read_manifest_file(path: str | Path) -> tuple[Manifest, Path]:
    """Parse and validate a layer manifest.

    Raises
    ------
    SchemaError
        One error listing every problem with its path in the file.
    """
    p = Path(path)
    raw = load_yaml(p, what="manifest")
    if not isinstance(raw, dict):
        msg = message("must be a mapping with name and layers", where=p, fix="see layers/templates")
        raise SchemaError(msg)
    try:
        return Manifest.model_validate(raw), p.parent
    except ValidationError as exc:
        msg = _format_errors(exc, str(p)) + "\nFix: correct these fields (see layers/templates)."
        raise SchemaError(msg) from None


_PKG = re.compile(r"^pkg://(?P<pkg>[A-Za-z0-9_.]+)/(?P<path>.+)$")


def resolve_source(source: str, base: Path) -> Path:
    """Resolve a manifest source to a local path (``pkg://`` points inside a package)."""
    m = _PKG.match(source)
    if m:
        try:
            root = importlib.resources.files(m.group("pkg"))
        except ModuleNotFoundError:
            msg = message(
                f"package '{m.group('pkg')}' is not installed",
                where=source,
                fix=f"pip install {m.group('pkg')}",
            )
            raise InputError(msg) from None
        return Path(str(root.joinpath(m.group("path"))))
    p = Path(source).expanduser()
    return p if p.is_absolute() else (base / p)


def to_crs(layer: Layer, crs: CRS) -> Layer:
    """Reproject a layer of any kind to ``crs``."""
    d = layer.data
    if layer.kind == "vector":
        data: Any = d.to_crs(crs)
    elif layer.kind == "network":
        data = Network(nodes=d.nodes.to_crs(crs), links=d.links.to_crs(crs), model=d.model)
    elif layer.kind == "series":
        data = SensorSeries(points=d.points.to_crs(crs), data=d.data)
    else:
        from twin.io.raster import to_working_crs

        data = to_working_crs(d, crs)
    src = layer.crs
    if src is not None and not CRS(src).equals(crs):
        layer.provenance.step(f"reprojected from {CRS(src).to_string()} to {crs.to_string()}")
    return Layer(layer.name, layer.kind, data, layer.provenance)


def _span_km(b: tuple[float, float, float, float]) -> float:
    """Geodesic length of the diagonal of a lon/lat box [km]."""
    from pyproj import Geod

    return float(Geod(ellps="WGS84").line_length([b[0], b[2]], [b[1], b[3]])) / 1000.0


def check_extent(
    bounds: dict[str, tuple[float, float, float, float]], max_km: float, where: str
) -> None:
    """Refuse layers that cannot be one territory.

    The layers together must span at most ``max_km`` (diagonal of their common box), and
    each must come within 10 km of the others' box. The layer named is the one whose centre
    lies farthest from the median centre of all layers.

    Raises
    ------
    InputError
        Naming the stray layer, its box and what to check.
    """
    boxes = list(bounds.values())
    union = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    centres = {n: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for n, b in bounds.items()}
    mx = float(np.median([c[0] for c in centres.values()]))
    my = float(np.median([c[1] for c in centres.values()]))
    stray = max(centres, key=lambda n: _span_km((mx, my, *centres[n])))
    others = [b for n, b in bounds.items() if n != stray]
    span = _span_km(union)
    apart = bool(others) and _gap_km(bounds[stray], others) > 10.0
    if span > max_km or apart:
        what = (
            f"the layers span {span:,.0f} km, more than a territory (max_extent_km: {max_km:g})"
            if span > max_km
            else "a layer lies more than 10 km away from all the others"
        )
        b = bounds[stray]
        msg = message(
            f"{what}; layer '{stray}' lies apart (lon {b[0]:.3f}…{b[2]:.3f}, lat "
            f"{b[1]:.3f}…{b[3]:.3f})",
            where=where,
            fix=f"check the source and crs of layers.{stray} (a wrong CRS puts data far "
            "away), or raise max_extent_km in the manifest for a large territory",
        )
        raise InputError(msg)


def _gap_km(b: tuple[float, ...], others: Sequence[tuple[float, ...]]) -> float:
    """Distance from box ``b`` to the box of ``others`` [km] (0 when they overlap)."""
    ow, os_ = min(o[0] for o in others), min(o[1] for o in others)
    oe, on = max(o[2] for o in others), max(o[3] for o in others)
    dx = max(ow - b[2], b[0] - oe, 0.0)
    dy = max(os_ - b[3], b[1] - on, 0.0)
    if dx == 0 and dy == 0:
        return 0.0
    lat = (b[1] + b[3]) / 2
    return _span_km((0.0, lat, dx, lat + dy))


def _lonlat_bounds(layer: Layer) -> tuple[float, float, float, float]:
    src = layer.crs
    b = layer.bounds
    if src is None:
        return b
    g = gpd.GeoSeries.from_xy([b[0], b[2]], [b[1], b[3]], crs=src).to_crs(4326)
    return tuple(g.total_bounds)  # type: ignore[return-value]


def load_layer(name: str, spec: LayerSpec, base: Path) -> tuple[Layer, Path]:
    """Load one manifest layer and apply the manifest's provenance fields."""
    where = f"layers.{name}"
    ld = get_loader(spec.loader, where=f"{where}.loader")
    options = ld.validate_options(spec.options, where=f"{where}.options")
    src = resolve_source(spec.source, base)
    layer = ld.func(src, **options)
    layer.name = name
    prov = layer.provenance
    for field in ("producer", "licence", "attribution", "sensitivity", "personal_data"):
        v = getattr(spec, field)
        if v is not None:
            setattr(prov, field, v)
    if spec.retrieved is not None:
        prov.retrieved = spec.retrieved.isoformat()
    prov.source = spec.source
    return layer, src


def load_basemap(
    spec: BasemapSpec, base: Path, extent: tuple[float, float, float, float]
) -> Basemap:
    """Open and check the manifest's basemap, and record it by reference (not copied).

    Parameters
    ----------
    spec : BasemapSpec
        The manifest's ``basemap`` entry.
    base : Path
        The manifest's folder (relative sources start there).
    extent : tuple of float
        ``(west, south, east, north)`` of the twin's layers [degrees, WGS 84].

    Returns
    -------
    Basemap
        The file's resolved path, size and modification time, what it holds and its
        provenance (fields not given by its metadata are listed ASSUMED).

    Raises
    ------
    BasemapError
        When the file is missing or not a tile archive the viewer draws (see
        :func:`twin.io.basemap.open_archive`), or when its tiles do not overlap the twin.
    """
    path = resolve_source(spec.source, base).resolve()
    archive = open_archive(path)
    ts = archive.tileset
    archive.close()
    w, s, e, n = ts.bounds
    tw, ts_, te, tn = extent
    if w > te or e < tw or s > tn or n < ts_:
        msg = message(
            f"its tiles cover lon {w:.3f}…{e:.3f}, lat {s:.3f}…{n:.3f}, away from the twin "
            f"(lon {tw:.3f}…{te:.3f}, lat {ts_:.3f}…{tn:.3f})",
            where=path,
            fix="name a basemap of this territory in basemap.source",
        )
        raise BasemapError(msg)
    st = path.stat()
    prov = Provenance(
        source=spec.source,
        producer=spec.producer,
        licence=spec.licence,
        retrieved=spec.retrieved.isoformat(),
        attribution=spec.attribution,
        derived=dict(ts.derived),
    )
    prov.step(f"{ts.format} file recorded by reference ({st.st_size} bytes), not copied")
    return Basemap(
        path=str(path),
        size_bytes=st.st_size,
        mtime_ns=st.st_mtime_ns,
        format=ts.format,
        tile_type=ts.tile_type,
        minzoom=ts.minzoom,
        maxzoom=ts.maxzoom,
        bounds=list(ts.bounds),
        tile_size=ts.tile_size,
        provenance=prov,
        description=spec.description,
    )


def provenance_gaps(twin: Twin) -> list[str]:
    """What the layers' provenance lacks (licence, retrieval date), one sentence each, for
    the build's warnings and the algorithm notice."""
    out = []
    for name, lay in twin.layers.items():
        p = lay.provenance
        missing = [f for f in ("licence", "retrieved") if getattr(p, f) in ("", "unknown")]
        if missing:
            out.append(
                f"layer '{name}' has no {' and no '.join(missing)}: give "
                f"{' and '.join(f'layers.{name}.{m}' for m in missing)} in the layer manifest"
            )
    return out


def build_twin(manifest: str | Path) -> tuple[Twin, dict[str, str]]:
    """Build a twin in memory from a manifest.

    Returns
    -------
    twin : Twin
        Layers reprojected to the working CRS, derived grids added.
    inputs : dict
        ``{source: sha256}`` of every input file.
    """
    spec, base = read_manifest_file(manifest)
    loaded: list[Layer] = []
    inputs: dict[str, str] = {}
    for name, lspec in spec.layers.items():
        layer, src = load_layer(name, lspec, base)
        loaded.append(layer)
        inputs[lspec.source] = sha256_file(src)
    bounds = {lay.name: _lonlat_bounds(lay) for lay in loaded if lay.count}
    if not bounds:
        msg = message("no layer holds data", where=manifest, fix="check the sources")
        raise InputError(msg)
    check_extent(bounds, spec.max_extent_km, str(manifest))
    if spec.crs == "auto":
        bs = list(bounds.values())
        crs = working_crs_for(
            (
                min(b[0] for b in bs),
                min(b[1] for b in bs),
                max(b[2] for b in bs),
                max(b[3] for b in bs),
            )
        )
    else:
        crs = parse_crs(spec.crs, where=f"{manifest}: crs")
        if not crs.is_projected:
            msg = message(
                f"the working CRS {crs.to_string()} is in degrees: lengths and areas would be "
                "measured in degrees",
                where=f"{manifest}: crs",
                fix="use a projected CRS in metres (EPSG:2154 in metropolitan France), or auto",
            )
            raise InputError(msg)
    empty = [lay.name for lay in loaded if not lay.count]
    if empty:
        msg = message(
            f"layers {empty} hold no feature (after invalid geometries were dropped)",
            where=manifest,
            fix="check their sources and filters, or remove them from the manifest",
        )
        raise InputError(msg)
    twin = Twin(spec.name, crs)
    twin.meta["description"] = spec.description
    for layer in loaded:
        twin.add(to_crs(layer, crs))
    if spec.basemap is not None:
        twin.meta[BASEMAP_KEY] = load_basemap(spec.basemap, base, twin.extent_lonlat).to_dict()
    for name, dspec in spec.derived.items():
        twin.add(derive_grid(twin, name, dspec))
    twin.meta["build_warnings"] = provenance_gaps(twin)
    return twin, inputs


def derive_grid(twin: Twin, name: str, spec: DerivedSpec) -> Layer:
    """Compute a derived grid from the twin's layers."""
    from twin.derive import derive_landcover

    roles: dict[str, Layer] = {}
    for role, lname in spec.inputs.items():
        if lname not in twin:
            msg = message(
                f"input '{role}' names layer '{lname}', which the manifest does not declare",
                where=f"derived.{name}.inputs.{role}",
                fix=f"use one of {sorted(twin.layers)}",
            )
            raise SchemaError(msg)
        lay = twin.layer(lname)
        if lay.kind == "network":
            lay = Layer(lay.name, "vector", lay.data.links, lay.provenance)
        roles[role] = lay
    layer = derive_landcover(roles, resolution_m=spec.resolution_m, **spec.options)
    layer.name = name
    dates = sorted(
        r.provenance.retrieved for r in roles.values() if r.provenance.retrieved[:1].isdigit()
    )
    if layer.provenance.retrieved == "unknown" and len(dates) == len(roles):
        # a grid derived from dated layers is as recent as its oldest input
        layer.provenance.retrieved = dates[0]
    return layer


def build(manifest: str | Path, out: str | Path) -> Twin:
    """Build a twin from a manifest and write it atomically to ``out``."""
    twin, inputs = build_twin(manifest)
    try:
        save_twin(twin, out, inputs=inputs)
    except OSError as exc:
        msg = message(f"cannot write the twin ({exc})", where=out, fix="check space and rights")
        raise TwinError(msg) from None
    return twin
