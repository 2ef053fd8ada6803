"""Street-lighting inventories (points), in a schema inspired by the CNIG EclExt géostandard.

EclExt (CNIG, *Géostandard d'éclairage extérieur*, v0.3, 2021) describes outdoor light points
with, among others, the light source's technology, power and flux, the mounting height, the
luminaire and its photometry, the electrical circuit and cabinet, and the operating schedule.
twin keeps these fields, with units in their names:

========================  ===============================================================
``lamp_type``             luminaire family: ``lantern`` (road luminaire on a mast),
                          ``ambient`` (decorative/residential), ``floodlight``,
                          ``recessed`` (in-ground), ``bollard``, ``wall``, ``unknown``
``lamp_type_source``      the source's own value (e.g. Montpellier ``LANTERNE``)
``lamp_technology``       ``hps`` (high-pressure sodium), ``lps``, ``metal_halide``,
                          ``mercury``, ``led``, ``fluorescent``, ``incandescent``,
                          ``halogen``, or the source's text when unknown
``power_w``               electrical power of the light point [W]
``flux_lm``               luminous flux of the light point [lm]
``mounting_height_m``     luminaire height above ground [m]
``photometry``            photometric family (``road``, ``ambient``, ``floodlight``,
                          ``uplight``, ``bollard``) or an ``.ldt`` file name
``circuit``, ``cabinet``  electrical circuit and supply cabinet ids
``schedule``              operating schedule (``dusk_to_dawn`` by default)
``light_count``           lamps at the point (OSM ``light:count``), 1 by default
``assumed``               comma-separated list of the fields filled by defaults
========================  ===============================================================

Missing values are filled from :data:`LAMP_DEFAULTS` (per lamp family) and
:data:`EFFICACY_LM_W` (per technology). The rule: each family has a typical luminous flux,
technology, height and photometry; the flux is what the street needs, so when the technology
is known and differs, the power is ``flux / efficacy``. Every filled field is recorded in
``provenance.derived`` as ASSUMED, counted in ``provenance.counts`` (``filled_<field>``) and
listed per lamp in the ``assumed`` column.

The defaults are orders of magnitude of French public lighting before the LED retrofits:
a 100 W high-pressure sodium road lantern at 8 m (about 10 klm), 70 W decorative luminaires at
4 m, 150 W metal-halide floodlights, 35 W metal-halide recessed uplighters and 32 W
fluorescent bollards; lamp efficacies are typical catalogue values (HPS ≈ 100 lm/W,
metal halide ≈ 85 lm/W, mercury ≈ 50 lm/W, LED luminaires ≈ 120 lm/W). They are
assumptions: replace them with the inventory's own values, or pass ``defaults``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.errors import InputError, SchemaError, message
from twin.io.osm import parse_number
from twin.io.registry import loader
from twin.io.vector import read_vector
from twin.model.layer import Layer
from twin.model.provenance import Provenance

#: Schema fields, in order.
FIELDS = (
    "lamp_type",
    "lamp_type_source",
    "lamp_technology",
    "power_w",
    "flux_lm",
    "mounting_height_m",
    "photometry",
    "circuit",
    "cabinet",
    "schedule",
    "light_count",
    "assumed",
)

#: Per lamp family: luminous flux [lm], technology, mounting height [m], photometry.
LAMP_DEFAULTS: dict[str, dict[str, Any]] = {
    "lantern": {
        "flux_lm": 10000.0,
        "lamp_technology": "hps",
        "mounting_height_m": 8.0,
        "photometry": "road",
    },
    "ambient": {
        "flux_lm": 7000.0,
        "lamp_technology": "hps",
        "mounting_height_m": 4.0,
        "photometry": "ambient",
    },
    "floodlight": {
        "flux_lm": 12750.0,
        "lamp_technology": "metal_halide",
        "mounting_height_m": 6.0,
        "photometry": "floodlight",
    },
    "recessed": {
        "flux_lm": 2975.0,
        "lamp_technology": "metal_halide",
        "mounting_height_m": 0.0,
        "photometry": "uplight",
    },
    "bollard": {
        "flux_lm": 2080.0,
        "lamp_technology": "fluorescent",
        "mounting_height_m": 1.0,
        "photometry": "bollard",
    },
    "wall": {
        "flux_lm": 7000.0,
        "lamp_technology": "hps",
        "mounting_height_m": 4.0,
        "photometry": "road",
    },
    "unknown": {
        "flux_lm": 10000.0,
        "lamp_technology": "hps",
        "mounting_height_m": 8.0,
        "photometry": "road",
    },
}

#: Luminous efficacy per technology [lm/W] (lamp or LED luminaire, typical catalogue values).
EFFICACY_LM_W: dict[str, float] = {
    "hps": 100.0,
    "lps": 150.0,
    "metal_halide": 85.0,
    "mercury": 50.0,
    "led": 120.0,
    "fluorescent": 65.0,
    "incandescent": 14.0,
    "halogen": 20.0,
}

#: Default operating schedule.
DEFAULT_SCHEDULE = "dusk_to_dawn"

#: Source values (lower case, accents kept) → lamp family. French inventory terms and OSM
#: ``lamp_mount`` values.
FAMILY_SYNONYMS: dict[str, str] = {
    "lanterne": "lantern",
    "lantern": "lantern",
    "luminaire": "lantern",
    "luminaire routier": "lantern",
    "crosse": "lantern",
    "candelabre": "lantern",
    "candélabre": "lantern",
    "straight_mast": "lantern",
    "bent_mast": "lantern",
    "cast_steel_mast": "lantern",
    "mast": "lantern",
    "pole": "lantern",
    "suspended": "lantern",
    "suspended_cable": "lantern",
    "cable": "lantern",
    "luminaire ambiance": "ambient",
    "luminaire d'ambiance": "ambient",
    "ambiance": "ambient",
    "boule": "ambient",
    "top": "ambient",
    "ambient": "ambient",
    "projecteur": "floodlight",
    "floodlight": "floodlight",
    "encastre": "recessed",
    "encastré": "recessed",
    "recessed": "recessed",
    "borne": "bollard",
    "borne colonne": "bollard",
    "colonne": "bollard",
    "bollard": "bollard",
    "ground": "bollard",
    "applique": "wall",
    "luminaire en applique": "wall",
    "wall": "wall",
    "facade": "wall",
    "façade": "wall",
}

#: Source values → technology (OSM ``light:method`` / ``lamp_type``, French abbreviations).
TECHNOLOGY_SYNONYMS: dict[str, str] = {
    "hps": "hps",
    "sodium": "hps",
    "high_pressure_sodium": "hps",
    "high-pressure sodium": "hps",
    "son": "hps",
    "shp": "hps",
    "sodium haute pression": "hps",
    "sodium_vapour": "hps",
    "lps": "lps",
    "low_pressure_sodium": "lps",
    "sox": "lps",
    "sbp": "lps",
    "sodium basse pression": "lps",
    "led": "led",
    "light_emitting_diode": "led",
    "diode": "led",
    "metal_halide": "metal_halide",
    "metal-halide": "metal_halide",
    "metal halide": "metal_halide",
    "iodures métalliques": "metal_halide",
    "iodure": "metal_halide",
    "im": "metal_halide",
    "cosmopolis": "metal_halide",
    "discharge": "metal_halide",
    "mercury": "mercury",
    "mercury_vapour": "mercury",
    "mercury vapour": "mercury",
    "ballon fluo": "mercury",
    "bf": "mercury",
    "vapeur de mercure": "mercury",
    "fluorescent": "fluorescent",
    "compact_fluorescent": "fluorescent",
    "fluocompacte": "fluorescent",
    "fluo": "fluorescent",
    "tube fluo": "fluorescent",
    "incandescent": "incandescent",
    "halogen": "halogen",
    "halogène": "halogen",
}


def _norm(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    s = re.sub(r"\s+", " ", str(value).strip().lower())
    return s or None


def lamp_family(value: Any) -> str:
    """Lamp family of a source value (``"LANTERNE"`` → ``"lantern"``); ``"unknown"`` if none."""
    s = _norm(value)
    return FAMILY_SYNONYMS.get(s, "unknown") if s else "unknown"


def lamp_technology(value: Any) -> str | None:
    """Technology code of a source value (``"sodium"`` → ``"hps"``), the text if unknown."""
    s = _norm(value)
    if s is None:
        return None
    return TECHNOLOGY_SYNONYMS.get(s, TECHNOLOGY_SYNONYMS.get(s.replace(" ", "_"), s))


def _numbers(df: pd.DataFrame, col: str, where: str | Path, *, unit: str) -> pd.Series:
    raw = df[col]
    if pd.api.types.is_numeric_dtype(raw):
        out = raw.astype("float64")
        bad = pd.Series(False, index=df.index)
    else:
        text = raw.astype("string").str.strip()
        plain = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        out = plain.where(plain.notna(), raw.map(parse_number)).astype("float64")
        bad = out.isna() & text.notna() & (text != "")
    if bad.any():
        rows = (np.flatnonzero(bad.to_numpy())[:10] + 1).tolist()
        msg = message(
            f"{int(bad.sum())} values of '{col}' are not numbers (rows {rows}, ids "
            f"{df.index[bad][:5].tolist()}, e.g. {raw[bad].iloc[0]!r})",
            where=where,
            fix=f"give '{col}' as a number [{unit}], or leave it empty to use the defaults",
        )
        raise InputError(msg)
    neg = out < 0
    if neg.any():
        rows = (np.flatnonzero(neg.to_numpy())[:10] + 1).tolist()
        msg = message(
            f"{int(neg.sum())} negative values of '{col}' (rows {rows}, ids "
            f"{df.index[neg][:5].tolist()})",
            where=where,
            fix=f"'{col}' must be ≥ 0 [{unit}]; correct those lamps",
        )
        raise InputError(msg)
    return out


def fill_lamp_defaults(
    gdf: gpd.GeoDataFrame,
    prov: Provenance,
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
    where: str | Path = "lighting inventory",
) -> gpd.GeoDataFrame:
    """Normalise lighting fields and fill the missing ones from the defaults table.

    Parameters
    ----------
    gdf : GeoDataFrame
        Points with any of the schema fields (see the module docstring); ``lamp_type`` and
        ``lamp_technology`` may hold source vocabulary.
    prov : Provenance
        Receives, for each filled field, the rule (``derived``, marked ASSUMED) and the count
        (``counts["filled_<field>"]``).
    defaults : dict, optional
        Overrides of :data:`LAMP_DEFAULTS`, per family, e.g.
        ``{"lantern": {"flux_lm": 8000, "lamp_technology": "led"}}``.
    where : str or Path
        For messages.

    Returns
    -------
    GeoDataFrame
        The schema fields (then the other columns), aligned with the input index.
    """
    table = {k: dict(v) for k, v in LAMP_DEFAULTS.items()}
    for fam, over in (defaults or {}).items():
        if fam not in table:
            msg = message(
                f"defaults name an unknown lamp family {fam!r}",
                where=where,
                fix=f"use families {sorted(table)}",
            )
            raise SchemaError(msg)
        unknown = set(over) - {"flux_lm", "lamp_technology", "mounting_height_m", "photometry"}
        if unknown:
            msg = message(
                f"defaults for {fam!r} set unknown fields {sorted(unknown)}",
                where=where,
                fix="set flux_lm, lamp_technology, mounting_height_m or photometry",
            )
            raise SchemaError(msg)
        table[fam].update(over)
    out = gdf.copy()
    n = len(out)
    assumed: list[list[str]] = [[] for _ in range(n)]

    def note(field: str, mask: np.ndarray, rule: str) -> None:
        k = int(mask.sum())
        if k:
            prov.counts[f"filled_{field}"] = k
            prov.derived[field] = f"ASSUMED where missing ({k} lamps): {rule}"
            for i in np.flatnonzero(mask):
                assumed[i].append(field)

    src_type = out["lamp_type"] if "lamp_type" in out else pd.Series([None] * n, index=out.index)
    out["lamp_type_source"] = src_type.astype(object).where(src_type.notna(), None)
    fam = src_type.map(lamp_family)
    out["lamp_type"] = fam
    unknown_fam = (fam == "unknown") & src_type.notna()
    if unknown_fam.any():
        prov.counts["unknown_lamp_type"] = int(unknown_fam.sum())
    # numbers
    for col, unit in (("power_w", "W"), ("flux_lm", "lm"), ("mounting_height_m", "m")):
        out[col] = _numbers(out, col, where, unit=unit) if col in out else np.nan
    out["light_count"] = (
        _numbers(out, "light_count", where, unit="lamps") if "light_count" in out else np.nan
    )
    no_count = out["light_count"].isna().to_numpy()
    out["light_count"] = out["light_count"].fillna(1.0)
    note("light_count", no_count, "one lamp per light point")
    # technology
    tech_src = (
        out["lamp_technology"]
        if "lamp_technology" in out
        else pd.Series([None] * n, index=out.index)
    )
    tech = tech_src.map(lamp_technology)
    miss = tech.isna().to_numpy()
    tech = tech.where(~miss, fam.map(lambda f: table[f]["lamp_technology"]))
    out["lamp_technology"] = tech
    note("lamp_technology", miss, "technology of the lamp family (LAMP_DEFAULTS)")
    odd = ~tech.isin(list(EFFICACY_LM_W))
    if odd.any():
        prov.counts["unknown_technology"] = int(odd.sum())
    eff = tech.map(EFFICACY_LM_W)
    fam_eff = fam.map(lambda f: EFFICACY_LM_W[table[f]["lamp_technology"]])
    eff = eff.fillna(fam_eff).to_numpy()
    fam_flux = fam.map(lambda f: float(table[f]["flux_lm"])).to_numpy() * out["light_count"]
    power, flux = out["power_w"].to_numpy(), out["flux_lm"].to_numpy()
    no_p, no_f = np.isnan(power), np.isnan(flux)
    # flux: from power when known, else the family's flux
    f_from_p = no_f & ~no_p
    f_from_fam = no_f & no_p
    flux = np.where(f_from_p, power * eff, np.where(f_from_fam, fam_flux, flux))
    note_rules = []
    if f_from_p.any():
        note_rules.append("power_w × efficacy of the technology (EFFICACY_LM_W)")
    if f_from_fam.any():
        note_rules.append("flux of the lamp family × light_count (LAMP_DEFAULTS)")
    note("flux_lm", no_f, "; else ".join(note_rules))
    power = np.where(no_p, flux / eff, power)
    note("power_w", no_p, "flux_lm / efficacy of the technology (EFFICACY_LM_W)")
    out["power_w"], out["flux_lm"] = power, flux
    h = out["mounting_height_m"].to_numpy()
    no_h = np.isnan(h)
    out["mounting_height_m"] = np.where(
        no_h, fam.map(lambda f: float(table[f]["mounting_height_m"])).to_numpy(), h
    )
    note("mounting_height_m", no_h, "typical height of the lamp family (LAMP_DEFAULTS)")
    for col, fill, rule in (
        (
            "photometry",
            fam.map(lambda f: table[f]["photometry"]),
            "photometric family of the lamp family (LAMP_DEFAULTS)",
        ),
        ("schedule", pd.Series(DEFAULT_SCHEDULE, index=out.index), "lit all night, dusk to dawn"),
    ):
        cur = out[col] if col in out else pd.Series([None] * n, index=out.index)
        cur = cur.astype(object).where(cur.notna() & (cur.astype(str).str.strip() != ""), None)
        m = cur.isna().to_numpy()
        out[col] = cur.where(~m, fill)
        note(col, m, rule)
    for col in ("circuit", "cabinet"):
        if col in out:
            out[col] = (
                out[col]
                .astype(object)
                .where(out[col].notna(), None)
                .map(lambda v: None if v is None else str(v))
            )
        else:
            out[col] = None
    out["assumed"] = [",".join(a) for a in assumed]
    geom = out.geometry.name
    rest = [c for c in out.columns if c not in FIELDS and c != geom]
    prov.step("filled missing lighting fields from twin.io.lighting.LAMP_DEFAULTS")
    return out[[*FIELDS, *rest, geom]]


def read_lighting_inventory(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    x: str | None = None,
    y: str | None = None,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[gpd.GeoDataFrame, Provenance]:
    """Read a street-lighting inventory of points into the lighting schema.

    Parameters
    ----------
    path : str or Path
        Vector file of light points (GeoPackage, GeoJSON, zipped Shapefile…) or a CSV with
        ``x``/``y`` columns and a ``crs``.
    layer : str, optional
        Layer inside a GeoPackage.
    encoding : str, optional
        Text encoding of the attributes (e.g. ``"latin-1"``).
    mapping : dict, optional
        ``{schema_field: source_column}``, e.g. ``{"lamp_type": "type_lante",
        "power_w": "PUISSANCE"}``; every source column must exist.
    crs : str or int, optional
        CRS when the file has none (required for CSV).
    id : str, optional
        Unique lamp id field; rows are numbered otherwise.
    x, y : str, optional
        CSV coordinate columns [CRS units].
    defaults : dict, optional
        Overrides of :data:`LAMP_DEFAULTS` per family.

    Returns
    -------
    lamps : GeoDataFrame
        Points with the schema fields (see the module docstring) then the other columns.
    provenance : Provenance
        ``derived`` holds the rule of every filled field (ASSUMED); ``counts`` the number of
        values filled per field (``filled_power_w``…) and per lamp family (``lamps_<family>``).

    Raises
    ------
    InputError
        Non-point features, negative or non-numeric power, flux or height (naming rows).
    SchemaError
        Mapped columns missing (listing those present).
    """
    gdf, prov = read_vector(
        path, layer=layer, encoding=encoding, mapping=mapping, crs=crs, id=id, x=x, y=y
    )
    types = set(gdf.geom_type)
    if not types <= {"Point", "MultiPoint"}:
        bad = gdf.index[~gdf.geom_type.isin(["Point", "MultiPoint"])][:10].tolist()
        msg = message(
            f"light points expected, found {sorted(types)} (e.g. features {bad})",
            where=path,
            fix="give a point layer of light points (one per luminaire or support)",
        )
        raise InputError(msg)
    if "MultiPoint" in types:
        gdf = gdf.set_geometry(gdf.geometry.centroid)
        prov.step("multi-points reduced to their centroid")
    out = fill_lamp_defaults(gdf, prov, defaults=defaults, where=path)
    for fam, k in out["lamp_type"].value_counts().items():
        prov.counts[f"lamps_{fam}"] = int(k)
    return out, prov


@loader("lighting.inventory", kind="vector")
def load_lighting_inventory(
    source: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
    crs: str | int | None = None,
    id: str | None = None,
    x: str | None = None,
    y: str | None = None,
    defaults: dict[str, dict[str, Any]] | None = None,
) -> Layer:
    """Street-lighting inventory, missing values from defaults per lamp family.

    See :func:`read_lighting_inventory`.
    """
    gdf, prov = read_lighting_inventory(
        source,
        layer=layer,
        encoding=encoding,
        mapping=mapping,
        crs=crs,
        id=id,
        x=x,
        y=y,
        defaults=defaults,
    )
    return Layer(source.stem, "vector", gdf, prov)


def lamps_from_osm(
    gdf: gpd.GeoDataFrame,
    prov: Provenance | None = None,
    *,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> gpd.GeoDataFrame:
    """Map OSM street-lamp tags to the lighting schema, filling the rest from the defaults.

    Tags used: ``lamp_mount`` → ``lamp_type`` (family: masts and cables → lantern, wall →
    wall, ground → bollard); ``light:method`` (else a technology-like ``lamp_type``, e.g.
    ``sodium``, ``LED``, ``metal-halide``, ``mercury``) → ``lamp_technology``;
    ``light:count`` → ``light_count`` (power and flux scale with it); ``height`` →
    ``mounting_height_m``; ``ref`` is kept as ``ref``.

    Parameters
    ----------
    gdf : GeoDataFrame
        Street lamps as read by :func:`twin.io.osm.read_osm_street_lamps` (tag columns).
    prov : Provenance, optional
        Receives the derived rules and counts (a new one is made otherwise and dropped).
    defaults : dict, optional
        Overrides of :data:`LAMP_DEFAULTS`.

    Returns
    -------
    GeoDataFrame
        Same index and geometry, with the schema fields.
    """
    prov = prov if prov is not None else Provenance(source="OpenStreetMap")
    n = len(gdf)

    def tag(k: str) -> pd.Series:
        return gdf[k] if k in gdf.columns else pd.Series([None] * n, index=gdf.index)

    method = tag("light:method")
    lt = tag("lamp_type")
    lt_tech = lt.map(lamp_technology)
    lt_is_tech = lt_tech.isin(list(EFFICACY_LM_W))
    tech = method.where(method.notna(), lt.where(lt_is_tech, None))
    base = gpd.GeoDataFrame(
        {
            "lamp_type": tag("lamp_mount"),
            "lamp_technology": tech,
            "mounting_height_m": tag("height").map(parse_number),
            "light_count": tag("light:count").map(parse_number),
        },
        geometry=gdf.geometry.to_numpy(),
        index=gdf.index,
        crs=gdf.crs,
    )
    for k in ("ref", "operator", "support", "light:colour"):
        if k in gdf.columns:
            base[k.replace(":", "_")] = gdf[k].to_numpy()
    prov.step("mapped OSM lamp_mount, light:method/lamp_type, light:count, height to the schema")
    return fill_lamp_defaults(base, prov, defaults=defaults, where="OpenStreetMap street lamps")
