"""French cadastre: Etalab GeoJSON (parcels, buildings) and IGN BD TOPO buildings.

* Etalab ``cadastre-<insee>-parcelles.json[.gz]`` and ``-batiments.json[.gz]``, WGS 84,
  Licence Ouverte 2.0 (https://cadastre.data.gouv.fr). Parcels keep ``contenance`` (the legal
  area [m²]) as ``legal_area_m2`` and gain ``area_m2``, measured in Lambert-93.
* BD TOPO ``batiment`` layer (GeoPackage, Lambert-93), IGN, Licence Ouverte 2.0, whose
  ``hauteur`` field [m] becomes ``height_m``; missing heights come from ``nombre_d_etages`` ×
  storey height, else a default, recorded as derived.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.errors import SchemaError, message
from twin.io._common import unique_index
from twin.io.registry import loader
from twin.io.vector import read_vector
from twin.model.crs import LAMBERT93
from twin.model.layer import Layer
from twin.model.provenance import Provenance

ETALAB_PRODUCER = "DGFiP, published by Etalab (cadastre.data.gouv.fr)"
LICENCE_OUVERTE = "etalab-2.0"


def read_etalab_cadastre(
    path: str | Path, *, kind: Literal["parcelles", "batiments"] | None = None
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read an Etalab cadastre GeoJSON file (``.json`` or ``.json.gz``).

    Parameters
    ----------
    path : str or Path
        ``cadastre-<insee>-parcelles.json[.gz]`` or ``cadastre-<insee>-batiments.json[.gz]``.
    kind : {"parcelles", "batiments"}, optional
        Inferred from the file name when omitted.

    Returns
    -------
    gdf : GeoDataFrame
        Indexed by the cadastral id (parcels) or numbered (buildings), in EPSG:4326, with
        ``area_m2`` measured in Lambert-93 and, for parcels, ``legal_area_m2``.
    provenance : Provenance
    """
    p = Path(path)
    if kind is None:
        kind = "batiments" if "batiments" in p.name else "parcelles"
    gdf, prov = read_vector(p)
    prov.producer, prov.licence = ETALAB_PRODUCER, LICENCE_OUVERTE
    prov.attribution = "Cadastre, DGFiP / Etalab, Licence Ouverte 2.0"
    if kind == "parcelles":
        if "contenance" not in gdf.columns:
            msg = message(
                "no 'contenance' field: this is not an Etalab parcels file",
                where=p,
                fix="use the 'vector' loader for other parcel files",
            )
            raise SchemaError(msg)
        gdf = unique_index(gdf.rename(columns={"contenance": "legal_area_m2"}), p, "id", "")
    gdf["area_m2"] = gdf.geometry.to_crs(LAMBERT93).area.to_numpy()
    prov.derived["area_m2"] = "polygon area measured in Lambert-93 (EPSG:2154)"
    return gdf, prov


@loader("cadastre.etalab", kind="vector")
def load_etalab_cadastre(
    source: Path, *, kind: Literal["parcelles", "batiments"] | None = None
) -> Layer:
    """Etalab cadastre parcels or buildings (see :func:`read_etalab_cadastre`)."""
    gdf, prov = read_etalab_cadastre(source, kind=kind)
    return Layer(kind or "parcelles", "vector", gdf, prov)


def read_bdtopo_buildings(
    path: str | Path,
    *,
    layer: str = "batiment",
    height_field: str = "hauteur",
    levels_field: str = "nombre_d_etages",
    storey_height_m: float = 3.0,
    default_height_m: float = 9.0,
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read BD TOPO buildings (GeoPackage) with a height for each.

    Parameters
    ----------
    path : str or Path
        BD TOPO GeoPackage.
    layer : str
        Buildings layer name (``batiment`` in BD TOPO v3).
    height_field : str
        Field holding the height [m].
    levels_field : str
        Field holding the number of storeys.
    storey_height_m, default_height_m : float
        Fallbacks [m] for buildings without a height.

    Returns
    -------
    gdf : GeoDataFrame
        Buildings with ``height_m`` and ``height_source``.
    provenance : Provenance
    """
    p = Path(path)
    gdf, prov = read_vector(p, layer=layer, id="cleabs" if _has_field(p, layer, "cleabs") else None)
    cols = {c.lower(): c for c in gdf.columns}
    if height_field.lower() in cols:
        h = pd.to_numeric(gdf[cols[height_field.lower()]], errors="coerce")
    else:
        # an extract without heights: storeys, else the default (ASSUMED, said below)
        h = pd.Series(np.nan, index=gdf.index)
        fields = [c for c in gdf.columns if c != "geometry"]
        prov.step(
            f"no height field '{height_field}' in layer '{layer}' (fields: {fields or 'none'}): "
            "heights from storeys, else the default"
        )
    lv = (
        pd.to_numeric(gdf[cols[levels_field.lower()]], errors="coerce")
        if levels_field.lower() in cols
        else h * np.nan
    )
    src = np.where(h.gt(0), "height", np.where(lv.gt(0), "levels", "default"))
    gdf["height_m"] = np.where(
        h.gt(0), h, np.where(lv.gt(0), lv * storey_height_m, default_height_m)
    )
    gdf["height_source"] = src
    prov.producer, prov.licence = "IGN (BD TOPO)", LICENCE_OUVERTE
    prov.attribution = "IGN – BD TOPO®, Licence Ouverte 2.0"
    prov.derived["height_m"] = (
        f"{height_field}; else {levels_field} × {storey_height_m} m; else {default_height_m} m "
        "(ASSUMED)"
    )
    prov.counts.update(
        {f"height_from_{k}": int(v) for k, v in pd.Series(src).value_counts().items()}
    )
    return gdf, prov


def _has_field(path: Path, layer: str, field: str) -> bool:
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception:
        return False
    return field in list(info["fields"])


@loader("cadastre.bdtopo_buildings", kind="vector")
def load_bdtopo_buildings(
    source: Path,
    *,
    layer: str = "batiment",
    height_field: str = "hauteur",
    levels_field: str = "nombre_d_etages",
    storey_height_m: float = 3.0,
    default_height_m: float = 9.0,
) -> Layer:
    """BD TOPO buildings with heights (see :func:`read_bdtopo_buildings`)."""
    gdf, prov = read_bdtopo_buildings(
        source,
        layer=layer,
        height_field=height_field,
        levels_field=levels_field,
        storey_height_m=storey_height_m,
        default_height_m=default_height_m,
    )
    return Layer("buildings", "vector", gdf, prov)
