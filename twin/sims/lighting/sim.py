"""The street-lighting simulation plugin: energy, cost, CO₂, compliance, light spill, payback.

Steps of a run, on the scenario's copy of the twin (dimming schedules, switch-off windows and
LED retrofits already applied to the lamp layer by the interventions):

1. every lamp is attached to its nearest street segment (within ``attach_m``), and turned so
   that its C = 0 plane runs along the street and C = 90° faces the carriageway;
2. optionally (``adaptive: true``), lamps on streets whose night traffic is low run one or
   two EN 13201 classes lower during the adaptive window (level = ratio of the classes' Ē);
3. the astronomical clock of the territory gives the night minutes of the year; schedules
   and switch-off windows give each lamp's level; kWh, €, CO₂ and each cabinet's peak kW
   follow;
4. illuminance on the EN 13201-3 calculation points of each street (or a regular grid) at
   full power and at ``check_time``; each lit street is checked against its class;
5. the light reaching parks and natural areas ("trame noire") is summed, weighted by each
   lamp's mean night level;
6. retrofitted lamps (``retrofit_cost_eur > 0``) get a simple payback: cost / annual savings.
"""

from __future__ import annotations

import json
from typing import Annotated, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, field_validator

from twin.errors import InputError, message
from twin.io.lighting import EFFICACY_LM_W, LAMP_DEFAULTS
from twin.model.layer import Layer
from twin.model.network import Network
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.lighting.compliance import CLASSES, compliance, get_class, step_down
from twin.sims.lighting.energy import (
    DEFAULT_EMISSION_KG_KWH,
    DEFAULT_TARIFF_EUR_KWH,
    cabinet_peaks,
    check_power,
    lamp_energy,
    lamp_profiles,
    night_clock,
)
from twin.sims.lighting.grid import RoadPoints, en13201_grid, road_grid
from twin.sims.lighting.interventions import LIGHTING_INTERVENTIONS
from twin.sims.lighting.photometry import illuminance

#: Land-use / natural tag values treated as dark areas ("trame noire").
DARK_TAGS: dict[str, set[str]] = {
    "landuse": {"forest", "meadow", "grass", "recreation_ground", "village_green", "orchard",
                "vineyard", "allotments", "farmland", "greenfield", "cemetery"},
    "leisure": {"park", "nature_reserve", "garden", "common"},
    "natural": {"wood", "scrub", "grassland", "heath", "wetland", "water", "beach"},
}  # fmt: skip

#: A street traffic flow [veh/h] (the busiest urban motorways carry under 10,000).
FlowVehH = Annotated[float, Field(ge=0, le=10_000)]


class LightingParams(Params):
    """Parameters of :class:`Lighting`."""

    lamps_layer: str = Field("street_lamps", description="Street-lighting inventory layer.")
    roads_layer: str | None = Field(
        "roads", description="Street layer (network or lines) for compliance; skipped if absent."
    )
    road_width_m: Annotated[float, Field(gt=0, le=100)] | str = Field(
        7.0, description="Lit width [m] of every street (ASSUMED two 3.5 m lanes) or a column."
    )
    lighting_class: str = Field("P2", description="EN 13201-2 class of streets without one.")
    class_column: str = Field("lighting_class", description="Street column holding the class.")
    maintenance_factor: float = Field(0.8, gt=0, le=1, description="Maintained / initial light.")
    cutoff_m: float = Field(60.0, gt=0, le=500, description="Illuminance cut-off radius [m].")
    grid_step_m: float | None = Field(
        None,
        ge=0.5,
        le=100,
        description="Regular grid step [m], 0.5–100 m; None → EN 13201-3 points.",
    )
    attach_m: float = Field(
        40.0, gt=0, le=500, description="Lamp-to-street attachment distance [m]."
    )
    check_time: str = Field("01:00", description="Local time of the compliance check (HH:MM).")
    tariff_eur_kwh: float = Field(
        DEFAULT_TARIFF_EUR_KWH, ge=0, le=10, description="[€/kWh] ASSUMED"
    )
    emission_kg_kwh: float = Field(
        DEFAULT_EMISSION_KG_KWH, ge=0, le=2, description="[kgCO2e/kWh] ASSUMED (ADEME)"
    )
    year: int = Field(2025, ge=1901, le=2099, description="Year of the astronomical clock.")
    timezone: str = Field("Europe/Paris", description="Time zone of the schedules.")
    dark_layers: list[str] = Field(
        ["landuse", "natural"], description="Layers with parks and natural areas (if present)."
    )
    spill_sample_m: float = Field(
        5.0, ge=0.5, le=100, description="Sampling step on dark areas [m]."
    )
    adaptive: bool = Field(False, description="Traffic-driven (EN 13201 adaptive) dimming.")
    flow_column: str = Field("flow_veh_h", description="Street column with traffic [veh/h].")
    night_flow_share: float = Field(
        0.2, ge=0, le=1, description="Night traffic / flow_column value (ASSUMED)."
    )
    adaptive_window: tuple[str, str] = Field(("22:00", "06:00"), description="Local window.")
    adaptive_thresholds_veh_h: tuple[FlowVehH, FlowVehH] = Field(
        (600.0, 200.0), description="Night flows below which classes drop 1 and 2 steps."
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "lamps_layer": "Couche de l'inventaire de l'éclairage public.",
        "roads_layer": "Couche des rues (réseau ou lignes) pour la conformité ; ignorée si "
        "absente.",
        "road_width_m": "Largeur éclairée [m] de chaque rue (SUPPOSÉ : deux voies de 3,5 m) "
        "ou une colonne.",
        "lighting_class": "Classe EN 13201-2 des rues qui n'en ont pas.",
        "class_column": "Colonne des rues qui porte la classe.",
        "maintenance_factor": "Facteur de maintenance (flux maintenu / flux initial).",
        "cutoff_m": "Rayon au-delà duquel l'éclairement est négligé [m].",
        "grid_step_m": "Pas de la grille régulière [m], de 0,5 à 100 m ; None → points de "
        "la norme EN 13201-3.",
        "attach_m": "Distance maximale de rattachement d'un point lumineux à une rue [m].",
        "check_time": "Heure locale de la vérification de conformité (HH:MM).",
        "tariff_eur_kwh": "Prix de l'électricité [€/kWh] SUPPOSÉ.",
        "emission_kg_kwh": "Facteur d'émission [kgCO2e/kWh] SUPPOSÉ (ADEME).",
        "year": "Année de l'horloge astronomique.",
        "timezone": "Fuseau horaire des horaires d'allumage.",
        "dark_layers": "Couches des parcs et espaces naturels (si présentes).",
        "spill_sample_m": "Pas d'échantillonnage des espaces à préserver de la lumière [m].",
        "adaptive": "Abaissement selon le trafic (éclairage adaptatif EN 13201).",
        "flow_column": "Colonne des rues portant le trafic [véh/h].",
        "night_flow_share": "Trafic de nuit / valeur de flow_column (SUPPOSÉ).",
        "adaptive_window": "Plage horaire locale de l'abaissement adaptatif.",
        "adaptive_thresholds_veh_h": "Trafics de nuit sous lesquels la classe baisse d'un "
        "puis de deux niveaux [véh/h].",
    }

    @field_validator("check_time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        hh, _, mm = v.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("must be a time HH:MM")
        return v

    @field_validator("lighting_class")
    @classmethod
    def _cls(cls, v: str) -> str:
        if v not in CLASSES:
            raise ValueError(f"must be one of {sorted(CLASSES)}")
        return v


# -- geometry helpers --------------------------------------------------------------------------
def streets_of(twin: Twin, name: str | None) -> gpd.GeoDataFrame | None:
    """Street centre-lines from a network (one link per two-way pair) or a line layer."""
    if not name or name not in twin:
        return None
    lay = twin.layer(name)
    if lay.kind == "network":
        net: Network = lay.data
        links = net.links
        a = links["a_node"].astype(str).to_numpy()
        b = links["b_node"].astype(str).to_numpy()
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        ln = np.round(links.geometry.length.to_numpy(), 1)
        key = pd.Series([f"{x}|{y}|{z}" for x, y, z in zip(lo, hi, ln, strict=True)])
        keep = ~key.duplicated().to_numpy()
        out = links.loc[keep]
        return gpd.GeoDataFrame(out, geometry=out.geometry.name, crs=links.crs)
    if lay.kind == "vector":
        gdf = lay.data
        lines = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])]
        return lines if len(lines) else None
    return None


def orient_lamps(
    lamps: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, *, max_distance_m: float = 40.0
) -> pd.DataFrame:
    """Nearest street of each lamp and the azimuth of its C = 0 plane.

    Returns
    -------
    DataFrame
        Aligned with ``lamps``: ``street`` (id or NaN beyond ``max_distance_m``),
        ``street_pos`` (position, −1 if none), ``distance_m``, ``azimuth_deg`` (C = 0 along
        the street, C = 90° towards it; 0 when unattached).
    """
    pts = lamps.geometry.to_numpy()
    tree = shapely.STRtree(streets.geometry.to_numpy())
    li, si = tree.query_nearest(pts, max_distance=max_distance_m, all_matches=False)
    pos = np.full(len(lamps), -1, dtype=np.int64)
    pos[li] = si
    out = pd.DataFrame(index=lamps.index)
    out["street_pos"] = pos
    has = pos >= 0
    out["street"] = pd.Series(streets.index[np.where(has, pos, 0)], index=lamps.index).where(has)
    az = np.zeros(len(lamps))
    dist = np.full(len(lamps), np.nan)
    if has.any():
        lines = streets.geometry.to_numpy()[pos[has]]
        p = pts[has]
        s = shapely.line_locate_point(lines, p)
        near = shapely.line_interpolate_point(lines, s)
        a = shapely.line_interpolate_point(lines, np.maximum(s - 0.5, 0))
        b = shapely.line_interpolate_point(lines, s + 0.5)
        ta = shapely.get_coordinates(b) - shapely.get_coordinates(a)
        pn = shapely.get_coordinates(near) - shapely.get_coordinates(p)
        cross = ta[:, 0] * pn[:, 1] - ta[:, 1] * pn[:, 0]
        ta = np.where((cross < 0)[:, None], -ta, ta)
        az[has] = np.degrees(np.arctan2(ta[:, 1], ta[:, 0]))
        dist[has] = shapely.distance(p, near)
    out["distance_m"] = dist
    out["azimuth_deg"] = az
    return out


def dark_points(
    twin: Twin, layers: list[str], envelope: shapely.Geometry, step: float
) -> tuple[np.ndarray, float]:
    """Sample points (every ``step`` m) on parks and natural areas within ``envelope``.

    Dark areas are the polygons of ``layers`` whose ``landuse``, ``leisure`` or ``natural``
    tag is in :data:`DARK_TAGS`; points farther than the cut-off from every lamp receive no
    light, so the envelope is the lamps' bounding box grown by the cut-off.

    Returns the (m, 2) points and the area of one sample [m²].
    """
    polys = []
    for name in layers:
        if name not in twin or twin.layer(name).kind != "vector":
            continue
        gdf = twin[name]
        gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
        mask = pd.Series(False, index=gdf.index)
        for col, vals in DARK_TAGS.items():
            if col in gdf:
                mask |= gdf[col].isin(vals)
        polys += list(gdf.geometry[mask].to_numpy())
    if not polys:
        return np.empty((0, 2)), step * step
    area = shapely.intersection(shapely.union_all(polys), envelope)
    if area.is_empty:
        return np.empty((0, 2)), step * step
    x0, y0, x1, y1 = area.bounds
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    mx, my = np.meshgrid(xs, ys)
    gx, gy = mx.ravel(), my.ravel()
    shapely.prepare(area)
    inside = shapely.contains_xy(area, gx, gy)
    return np.column_stack([gx[inside], gy[inside]]), step * step


def _profile_to_steps(profile: np.ndarray) -> list[list[object]]:
    """A 1440-minute level profile as ``[HH:MM, level]`` steps (the schedule format)."""
    change = np.flatnonzero(np.diff(np.concatenate([[profile[-1]], profile])) != 0)
    if len(change) == 0:
        change = np.array([0])
    return [[f"{m // 60:02d}:{m % 60:02d}", round(float(profile[m]), 6)] for m in change]


def adaptive_schedules(
    lamps: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    attach: pd.DataFrame,
    classes: pd.Series,
    params: LightingParams,
) -> tuple[gpd.GeoDataFrame, int, np.ndarray]:
    """Lower the level of lamps on low-traffic streets during the adaptive window.

        The night flow of a street is ``night_flow_share × flow``; below the first threshold its
        class drops one step, below the second two steps (EN 13201-2 series M, C, P); the lamp
        level in the window becomes ``Ē(lower class) / Ē(design class)`` (and never rises above
        its own schedule). Returns the new lamps, the number of lamps changed and the class steps
    down of each street.
    """
    if params.flow_column not in streets:
        msg = message(
            f"adaptive dimming needs a traffic column '{params.flow_column}' on the streets",
            where=f"parameters.lighting.flow_column (layer '{params.roads_layer}')",
            fix="run a traffic simulation that writes link flows, add counts, or set "
            "adaptive: false",
        )
        raise InputError(msg)
    flow = pd.to_numeric(streets[params.flow_column], errors="coerce").to_numpy(float)
    night = flow * params.night_flow_share
    hi, lo = params.adaptive_thresholds_veh_h
    steps = np.where(np.isnan(night), 0, np.where(night < lo, 2, np.where(night < hi, 1, 0)))
    ratio = np.ones(len(streets))
    for k, (c, s) in enumerate(zip(classes.to_numpy(), steps, strict=True)):
        if s:
            ratio[k] = get_class(step_down(c, int(s))).em_lx / get_class(c).em_lx
    pos = attach["street_pos"].to_numpy()
    lamp_ratio = np.where(pos >= 0, ratio[np.maximum(pos, 0)], 1.0)
    changed = lamp_ratio < 1.0
    if not changed.any():
        return lamps, 0, steps
    out = lamps.copy()
    profiles, which = lamp_profiles(out)
    m = np.arange(1440)
    a = int(params.adaptive_window[0][:2]) * 60 + int(params.adaptive_window[0][3:5])
    b = int(params.adaptive_window[1][:2]) * 60 + int(params.adaptive_window[1][3:5])
    window = (m >= a) & (m < b) if a <= b else (m >= a) | (m < b)
    groups = pd.Series(list(zip(which, np.round(lamp_ratio, 6), strict=True)), index=out.index)
    sched = out["schedule"].astype(object).copy()
    for (w, r), idx in groups[changed].groupby(groups[changed]).groups.items():
        prof = np.where(window, np.minimum(profiles[w], r), profiles[w])
        sched.loc[idx] = json.dumps(_profile_to_steps(prof))
    out["schedule"] = sched
    if "switch_off" in out:  # already folded into the profile
        out.loc[changed, "switch_off"] = None
    return out, int(changed.sum()), steps


def _powered(
    lamps: gpd.GeoDataFrame, supply: Layer | None, lamps_layer: str, prov: Provenance
) -> np.ndarray:
    """Whether each lamp has power: all, unless a power simulation of the same run says
    which lamps of ``lamps_layer`` lost it (its ``power_customers`` output: ``layer``,
    ``feature`` and ``powered`` columns). A lamp it could not join keeps its power."""
    if supply is None:
        return np.ones(len(lamps), dtype=bool)
    frame = supply.data
    mine = frame[frame["layer"].astype(str) == lamps_layer]
    off = set(mine.loc[mine["powered"] == 0, "feature"].astype(str))
    powered = ~lamps.index.astype(str).isin(off)
    prov.counts["lamps_without_power"] = int((~powered).sum())
    prov.step(
        f"{int((~powered).sum())} lamps without power at the check time (power simulation "
        "of the same run); the annual energy assumes the supply restored"
    )
    return np.asarray(powered, dtype=bool)


def _in_window(t: str, window: tuple[str, str]) -> bool:
    m = int(t[:2]) * 60 + int(t[3:5])
    a = int(window[0][:2]) * 60 + int(window[0][3:5])
    b = int(window[1][:2]) * 60 + int(window[1][3:5])
    return a <= m < b if a <= b else (m >= a or m < b)


def old_power(lamps: pd.DataFrame) -> np.ndarray:
    """Power before an LED retrofit [W]: ``power_w_before`` if given, else, for lamps whose
    power was ASSUMED from their flux, ``flux_lm / efficacy`` of the family's default
    technology (NaN otherwise)."""
    if "power_w_before" in lamps:
        return pd.to_numeric(lamps["power_w_before"], errors="coerce").to_numpy(float)
    fam = lamps["lamp_type"] if "lamp_type" in lamps else pd.Series("unknown", index=lamps.index)
    eff = fam.map(
        lambda f: EFFICACY_LM_W[LAMP_DEFAULTS.get(f, LAMP_DEFAULTS["unknown"])["lamp_technology"]]
    ).to_numpy(float)
    assumed = (
        lamps["assumed"].astype(str).str.contains("power_w").to_numpy()
        if "assumed" in lamps
        else np.zeros(len(lamps), dtype=bool)
    )
    flux = pd.to_numeric(lamps["flux_lm"], errors="coerce").to_numpy(float)
    return np.where(assumed, flux / eff, np.nan)


# -- the plugin --------------------------------------------------------------------------------
class Lighting(Simulation):
    """Street-lighting energy, EN 13201 compliance, light spill and retrofit payback."""

    name = "lighting"
    title = {"en": "Street lighting", "fr": "Éclairage public"}
    requires = {"lamps": "vector"}
    optional_inputs = ("link_flows", "power_customers")
    outputs = ("lamp_energy", "street_lighting", "cabinet_energy")
    consumes = LIGHTING_INTERVENTIONS
    kpis = (
        KPISpec(
            "energy_kwh_year",
            "kWh",
            "lower",
            {"en": "Lighting energy", "fr": "Énergie de l'éclairage"},
            {
                "en": "annual electricity use of street lighting",
                "fr": "consommation annuelle d'électricité de l'éclairage public",
            },
        ),
        KPISpec(
            "cost_eur_year",
            "€",
            "lower",
            {"en": "Annual cost", "fr": "Coût annuel"},
            {
                "en": "annual electricity cost at {tariff_eur_kwh:g} €/kWh",
                "fr": (
                    "coût annuel de l'électricité de l'éclairage public à {tariff_eur_kwh:g} €/kWh"
                ),
            },
        ),
        KPISpec(
            "co2_kg_year",
            "kg",
            "lower",
            {"en": "CO₂ emissions", "fr": "Émissions de CO₂"},
            {
                "en": "annual CO₂ emissions ({emission_kg_kwh:g} kgCO₂e/kWh)",
                "fr": "émissions annuelles de CO₂ ({emission_kg_kwh:g} kgCO₂e/kWh)",
            },
        ),
        KPISpec(
            "peak_kw",
            "kW",
            "lower",
            {"en": "Peak power", "fr": "Puissance de pointe"},
            {
                "en": "largest simultaneous power of all lamps",
                "fr": "puissance maximale appelée simultanément par l'ensemble des armoires",
            },
        ),
        KPISpec(
            "compliance_share",
            "1",
            "higher",
            {"en": "EN 13201 compliant streets", "fr": "Rues conformes EN 13201"},
            {
                "en": "share of lit street length meeting its EN 13201 class at {check_time}",
                "fr": (
                    "part de la longueur de voies éclairées conforme à sa classe EN 13201 à "
                    "{check_time}"
                ),
            },
        ),
        KPISpec(
            "dark_street_m",
            "m",
            "lower",
            {"en": "Streets left dark", "fr": "Rues plongées dans le noir"},
            {
                "en": (
                    "length of streets lit when every lamp is on that get no light at "
                    "{check_time} (lamps switched off, or without power in an outage)"
                ),
                "fr": (
                    "longueur de voies éclairées lampes allumées qui ne reçoivent aucune "
                    "lumière à {check_time} (lampes éteintes, ou privées de courant par une "
                    "panne)"
                ),
            },
        ),
        KPISpec(
            "spill_index",
            "lm",
            "lower",
            {"en": "Light on dark corridors", "fr": "Lumière sur la trame noire"},
            {
                "en": "night-mean luminous flux falling on parks and natural areas (trame noire)",
                "fr": (
                    "flux lumineux moyen nocturne reçu par les parcs et espaces naturels (trame "
                    "noire)"
                ),
            },
        ),
        KPISpec(
            "retrofit_payback_years",
            "years",
            "lower",
            {"en": "LED retrofit payback", "fr": "Retour sur investissement LED"},
            {
                "en": "simple payback of LED retrofits",
                "fr": "temps de retour simple des rénovations LED",
            },
        ),
    )
    displays = {
        "street_lighting": (
            Display(
                "em_lx",
                "lx",
                {"en": "Average illuminance", "fr": "Éclairement moyen"},
            ),
        ),
        "lamp_energy": (
            Display("energy_kwh", "kWh", {"en": "Annual energy", "fr": "Énergie annuelle"}),
        ),
        "cabinet_energy": (
            Display("peak_kw", "kW", {"en": "Peak power", "fr": "Puissance de pointe"}),
            Display("energy_kwh", "kWh", {"en": "Annual energy", "fr": "Énergie annuelle"}),
        ),
    }
    params_model = LightingParams
    notice = {
        "en": NoticeText(
            purpose="Estimate the energy, cost and CO₂ of street lighting, the peak power of "
            "each cabinet, whether streets stay lit to their EN 13201 class, and how much "
            "light reaches parks and natural areas, under dimming, switch-off, LED retrofit "
            "or traffic-driven dimming scenarios.",
            method="Night hours from sunrise and sunset at the territory (NOAA solar "
            "equations); each lamp's power times its schedule level, minute by minute over a "
            "year. Horizontal illuminance E = Σ I(C,γ)·cos³γ/h² from every luminaire within a "
            "cut-off radius of {cutoff_m:g} m (maintenance factor {maintenance_factor:g}), on "
            "EN 13201-3 calculation points along each street, compared "
            "with the EN 13201-2 targets of its class (average, minimum, uniformity).",
            limits="Missing powers, fluxes, heights and photometries are filled with typical "
            "values (ASSUMED); default photometries are analytic shapes, not manufacturer "
            "data; street widths are assumed; light output is taken proportional to power; "
            "obstacles (trees, buildings) and reflections are ignored. Results support, and "
            "never replace, a lighting design study.",
        ),
        "fr": NoticeText(
            purpose="Estimer la consommation, le coût et le CO₂ de l'éclairage public, la "
            "puissance maximale de chaque armoire, le respect des classes EN 13201 des voies "
            "et la lumière reçue par les parcs et espaces naturels, selon des scénarios "
            "d'abaissement, d'extinction, de rénovation LED ou d'éclairage adaptatif au "
            "trafic.",
            method="Heures de nuit d'après le lever et le coucher du soleil sur le territoire "
            "(équations solaires de la NOAA) ; puissance de chaque point lumineux multipliée "
            "par son niveau d'abaissement, minute par minute sur un an. Éclairement "
            "horizontal E = Σ I(C,γ)·cos³γ/h² de chaque luminaire dans un rayon de coupure de "
            "{cutoff_m:g} m (facteur de maintenance {maintenance_factor:g}), "
            "aux points de calcul EN 13201-3 de chaque voie, comparé aux exigences EN 13201-2 "
            "de sa classe (moyenne, minimum, uniformité).",
            limits="Les puissances, flux, hauteurs et photométries manquants sont remplacés "
            "par des valeurs types (HYPOTHÈSES) ; les photométries par défaut sont des formes "
            "analytiques, pas des données de fabricants ; la largeur des voies est supposée ; "
            "le flux est supposé proportionnel à la puissance ; les obstacles (arbres, "
            "bâtiments) et les réflexions sont ignorés. Les résultats éclairent, sans la "
            "remplacer, une étude d'éclairagisme.",
        ),
    }

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"lamps": params.lamps_layer}  # type: ignore[attr-defined]

    def run(
        self,
        twin: Twin,
        params: LightingParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
    ) -> SimResult:
        """Run the lighting model on a (scenario) twin."""
        lay = twin.layer(params.lamps_layer)
        lamps: gpd.GeoDataFrame = lay.data
        where = f"layer '{params.lamps_layer}'"
        check_power(lamps, where)
        for col in ("flux_lm", "mounting_height_m"):
            if col not in lamps:
                msg = message(
                    f"no '{col}' column",
                    where=where,
                    fix="load the lamps with lighting.inventory or osm.street_lamps",
                )
                raise InputError(msg)
        prov = Provenance(
            source=f"twin layer '{params.lamps_layer}'",
            producer="twin (lighting)",
            licence=lay.provenance.licence,
            attribution=lay.provenance.attribution,
        )
        lon0, lat0, lon1, lat1 = twin.extent_lonlat
        lat, lon = (lat0 + lat1) / 2, (lon0 + lon1) / 2
        prov.step(f"astronomical clock at {lat:.4f}° N, {lon:.4f}° E, {params.year}")
        streets = streets_of(twin, params.roads_layer)
        attach = None
        classes = None
        if streets is not None:
            attach = orient_lamps(lamps, streets, max_distance_m=params.attach_m)
            lamps = lamps.assign(azimuth_deg=attach["azimuth_deg"].to_numpy())
            cls_col = (
                streets[params.class_column]
                if params.class_column in streets
                else pd.Series(None, index=streets.index, dtype=object)
            )
            classes = cls_col.astype(object).where(cls_col.notna(), params.lighting_class)
            for name in classes.unique():
                get_class(str(name))
            prov.counts["lamps_attached"] = int((attach["street_pos"] >= 0).sum())
            prov.step(
                f"lamps attached to the nearest street within {params.attach_m:g} m and "
                "turned to face it"
            )
        if params.adaptive:
            if streets is None or attach is None or classes is None:
                msg = message(
                    "adaptive dimming needs a street layer",
                    where="parameters.lighting.roads_layer",
                    fix="name the roads layer or set adaptive: false",
                )
                raise InputError(msg)
            flows = inputs.get("link_flows")
            if flows is not None and params.flow_column == "flow_veh_h":
                # modelled flows of the traffic simulation of the same run, joined on link ids
                modelled = flows.data["flow_veh_h"].reindex(streets.index)
                if modelled.notna().any():
                    streets = streets.assign(flow_veh_h=modelled.to_numpy())
                    prov.step("adaptive dimming driven by the traffic simulation's link flows")
            lamps, n_ad, steps = adaptive_schedules(lamps, streets, attach, classes, params)
            if _in_window(params.check_time, params.adaptive_window):
                classes = pd.Series(
                    [step_down(c, int(k)) for c, k in zip(classes, steps, strict=True)],
                    index=classes.index,
                )
            prov.counts["adaptive_lamps"] = n_ad
            prov.step(f"adaptive dimming on {n_ad} lamps of low-traffic streets")

        clock = night_clock(params.year, round(lat, 4), round(lon, 4), params.timezone)
        per = lamp_energy(
            lamps,
            clock,
            tariff=params.tariff_eur_kwh,
            emission_factor=params.emission_kg_kwh,
            where=where,
        )
        cab = (
            lamps["cabinet"].astype(object).where(lamps["cabinet"].notna(), "unknown")
            if "cabinet" in lamps
            else pd.Series("unknown", index=lamps.index)
        ).astype(str)
        profiles, which = lamp_profiles(lamps)
        hh, mm = (int(v) for v in params.check_time.split(":"))
        level_check = profiles[which, hh * 60 + mm]
        powered = _powered(lamps, inputs.get("power_customers"), params.lamps_layer, prov)
        level_check = np.where(powered, level_check, 0.0)
        mean_level = per["full_load_hours_h"].to_numpy() / max(clock.night_hours, 1e-9)

        out_lamps = gpd.GeoDataFrame(
            {
                "power_w": check_power(lamps),
                "cabinet": cab.to_numpy(),
                "level_at_check": level_check,
                "powered": powered,
                **{c: per[c].to_numpy() for c in per.columns},
            },
            geometry=lamps.geometry.to_numpy(),
            crs=lamps.crs,
            index=lamps.index,
        )
        if attach is not None:
            out_lamps["street"] = attach["street"].to_numpy()
            out_lamps["azimuth_deg"] = attach["azimuth_deg"].to_numpy()

        # cabinets
        g = out_lamps.groupby("cabinet")
        cab_tab = pd.DataFrame(
            {
                "n_lamps": g.size(),
                "installed_kw": g["power_w"].sum() / 1000.0,
                "energy_kwh": g["energy_kwh"].sum(),
                "cost_eur": g["cost_eur"].sum(),
                "co2_kg": g["co2_kg"].sum(),
            }
        )
        cab_tab["peak_kw"] = cabinet_peaks(lamps, clock, cab).reindex(cab_tab.index)
        xy = shapely.get_coordinates(lamps.geometry.to_numpy())
        cx = pd.Series(xy[:, 0], index=lamps.index).groupby(cab.to_numpy()).mean()
        cy = pd.Series(xy[:, 1], index=lamps.index).groupby(cab.to_numpy()).mean()
        cabinets = gpd.GeoDataFrame(
            cab_tab,
            geometry=gpd.points_from_xy(cx.reindex(cab_tab.index), cy.reindex(cab_tab.index)),
            crs=lamps.crs,
        )
        cabinets.index = cabinets.index.astype(str)
        total_peak = float(cabinet_peaks(lamps, clock, pd.Series("all", index=lamps.index)).iloc[0])

        # compliance
        if streets is not None and classes is not None and attach is not None:
            spacing = self._spacing(streets, attach)
            pts: RoadPoints = (
                road_grid(streets, step_m=params.grid_step_m, width_m=params.road_width_m)
                if params.grid_step_m
                else en13201_grid(streets, width_m=params.road_width_m, spacing_m=spacing)
            )
            kw = dict(maintenance_factor=params.maintenance_factor, cutoff_m=params.cutoff_m)
            e_full = illuminance(lamps, pts, **kw)  # type: ignore[arg-type]
            e_check = illuminance(lamps, pts, level=level_check, **kw)  # type: ignore[arg-type]
            full = compliance(e_full, pts.seg, pts.segment_ids, classes)
            now = compliance(e_check, pts.seg, pts.segment_ids, classes)
            lit = (full["emax_lx"].fillna(0) > 0).to_numpy()
            length = streets.geometry.length.to_numpy()
            st = gpd.GeoDataFrame(
                {
                    "lighting_class": classes.to_numpy(),
                    "em_full_lx": full["em_lx"].to_numpy(),
                    "compliant_full": full["compliant"].to_numpy() & lit,
                    "em_lx": now["em_lx"].to_numpy(),
                    "emin_lx": now["emin_lx"].to_numpy(),
                    "u0": now["u0"].to_numpy(),
                    "target_em_lx": now["target_em_lx"].to_numpy(),
                    "target_emin_lx": now["target_emin_lx"].to_numpy(),
                    "compliant": now["compliant"].to_numpy() & lit,
                    "lit": lit,
                    "n_points": now["n_points"].to_numpy().astype(np.int64),
                    "length_m": length,
                },
                geometry=streets.geometry.to_numpy(),
                crs=streets.crs,
                index=streets.index.astype(str),
            )
            lit_len = float(length[lit].sum())
            dark = float(length[lit & (st["em_lx"].fillna(0).to_numpy() <= 0)].sum())
            share = float(length[st["compliant"].to_numpy()].sum() / lit_len) if lit_len else np.nan
            prov.counts["calculation_points"] = len(pts)
            prov.counts["lit_streets"] = int(lit.sum())
            prov.step(
                f"illuminance on {len(pts):,} "
                f"{'regular' if params.grid_step_m else 'EN 13201-3'} points, cut-off "
                f"{params.cutoff_m:g} m, maintenance factor {params.maintenance_factor:g}; "
                f"compliance at {params.check_time}"
            )
        else:
            st = gpd.GeoDataFrame(
                {"lighting_class": [], "em_lx": [], "compliant": []},
                geometry=[],
                crs=lamps.crs,
            )
            share = dark = float("nan")
            prov.step("no street layer: compliance not assessed")

        # trame noire
        bx0, by0, bx1, by1 = lamps.total_bounds
        cut = params.cutoff_m
        envelope = shapely.box(bx0 - cut, by0 - cut, bx1 + cut, by1 + cut)
        dpts, cell = dark_points(twin, params.dark_layers, envelope, params.spill_sample_m)
        if len(dpts):
            e_dark = illuminance(
                lamps, dpts, level=mean_level, cutoff_m=params.cutoff_m, maintenance_factor=1.0
            )
            spill = float(e_dark.sum() * cell)
            prov.counts["dark_sample_points"] = len(dpts)
        else:
            spill = float("nan")

        # payback
        cost = (
            pd.to_numeric(lamps["retrofit_cost_eur"], errors="coerce").fillna(0).to_numpy(float)
            if "retrofit_cost_eur" in lamps
            else np.zeros(len(lamps))
        )
        retro = cost > 0
        payback = float("nan")
        if retro.any():
            before = old_power(lamps)[retro]
            saved_kwh = (
                (before - out_lamps["power_w"].to_numpy()[retro])
                * per["full_load_hours_h"].to_numpy()[retro]
                / 1000.0
            )
            ok = np.isfinite(saved_kwh)
            savings = float(saved_kwh[ok].sum()) * params.tariff_eur_kwh
            if ok.any() and savings > 0:
                payback = float(cost[retro][ok].sum() / savings)
            prov.counts["retrofitted_lamps"] = int(retro.sum())
            prov.derived["retrofit_payback_years"] = (
                "retrofit cost / annual € saved; power before the retrofit from power_w_before, "
                "else flux_lm / efficacy of the family's default technology (ASSUMED)"
            )

        prov.derived["tariff_eur_kwh"] = f"ASSUMED {params.tariff_eur_kwh:g} €/kWh"
        prov.derived["emission_kg_kwh"] = (
            f"ASSUMED {params.emission_kg_kwh:g} kgCO2e/kWh (ADEME Base Empreinte, French mix)"
        )
        fmt = params.model_dump()
        kpis = [
            self.kpi("energy_kwh_year", float(per["energy_kwh"].sum())),
            self.kpi("cost_eur_year", float(per["cost_eur"].sum()), **fmt),
            self.kpi("co2_kg_year", float(per["co2_kg"].sum()), **fmt),
            self.kpi("peak_kw", total_peak),
            self.kpi("compliance_share", share, **fmt),
            self.kpi("dark_street_m", dark, **fmt),
            self.kpi("spill_index", spill),
            self.kpi("retrofit_payback_years", payback),
        ]
        outs = {
            "lamp_energy": Layer("lamp_energy", "vector", out_lamps, prov),
            "street_lighting": Layer("street_lighting", "vector", st, prov),
            "cabinet_energy": Layer("cabinet_energy", "vector", cabinets, prov),
        }
        return SimResult(outputs=outs, kpis=kpis)

    @staticmethod
    def _spacing(streets: gpd.GeoDataFrame, attach: pd.DataFrame) -> np.ndarray:
        """Luminaire spacing per street: length / attached lamps (NaN when fewer than 2)."""
        pos = attach["street_pos"].to_numpy()
        n = np.bincount(pos[pos >= 0], minlength=len(streets)).astype(float)
        length = streets.geometry.length.to_numpy()
        return np.where(n >= 2, length / np.maximum(n, 1), np.nan)
