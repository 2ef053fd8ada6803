"""Land-cover interventions, read by the land-cover and heat simulations.

The fractions of the land-cover grid are moved between classes in proportion to how much of
each cell the area covers, so fractions still sum to 1; cool and green roofs add
``roof_albedo`` and ``green_roof_fraction`` grids.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from pydantic import Field

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.sims.interventions import (
    Amount,
    AreaTarget,
    Done,
    Intervention,
    InterventionSpec,
    Target,
)
from twin.sims.targets import area_of, grid_coverage

#: Albedo of conventional roofs when the grid has no ``roof_albedo`` (ASSUMED; bitumen,
#: tiles and concrete roofs range 0.05–0.25, Oke et al. 2017, *Urban Climates*, table 4.2).
DEFAULT_ROOF_ALBEDO = 0.15


class PlantTrees(Intervention):
    """Plant trees in an area: tree canopy covers ``canopy_fraction`` of its open ground."""

    title = {"en": "Tree planting", "fr": "Plantation d'arbres"}
    amount = Amount(
        "canopy_fraction",
        {"en": "Canopy (share of open ground)", "fr": "Canopée (part du sol libre)"},
        "trees planted ({v:.0%} canopy over the open ground)",
    )

    type: Literal["plant_trees"]
    target: AreaTarget
    canopy_fraction: float = Field(0.5, ge=0, le=1)


class GreenArea(Intervention):
    """Turn sealed ground in an area into (irrigated) grass."""

    type: Literal["green_area"]
    target: AreaTarget
    fraction: float = Field(1.0, ge=0, le=1)
    irrigated: bool = False


class CoolRoofs(Intervention):
    """Raise roof albedo in an area (reflective coatings)."""

    title = {"en": "Cool roofs", "fr": "Toitures claires"}
    amount = Amount(
        "albedo",
        {
            "en": "Roof albedo (share of sunlight reflected)",
            "fr": "Albédo des toits (part du soleil réfléchie)",
        },
        "cool roofs (albedo {v:g})",
    )

    type: Literal["cool_roofs"]
    target: AreaTarget
    albedo: float = Field(0.7, ge=0, le=1)


class GreenRoofs(Intervention):
    """Vegetate a share of roofs in an area."""

    title = {"en": "Green roofs", "fr": "Toitures végétalisées"}
    amount = Amount(
        "fraction",
        {"en": "Share of roofs greened", "fr": "Part des toits végétalisée"},
        "green roofs ({v:.0%} of the roofs)",
    )

    type: Literal["green_roofs"]
    target: AreaTarget
    fraction: float = Field(0.5, ge=0, le=1)


class WaterSurface(Intervention):
    """Create a water surface (pond, fountain) in an area."""

    title = {"en": "Water surface", "fr": "Surface en eau"}
    amount = Amount(
        "fraction",
        {
            "en": "Share of paved and grass ground turned to water",
            "fr": "Part du sol revêtu ou enherbé mise en eau",
        },
        "water surface ({v:.0%} of the paved and grass ground)",
    )

    type: Literal["water_surface"]
    target: AreaTarget
    fraction: float = Field(0.2, ge=0, le=1)


class Desealing(Intervention):
    """Remove paving (other than roads and roofs) in an area, giving grass."""

    title = {"en": "De-sealing", "fr": "Désimperméabilisation"}
    amount = Amount(
        "fraction",
        {"en": "Share of paving removed", "fr": "Part du sol revêtu désimperméabilisée"},
        "de-sealing ({v:.0%} of the paving)",
    )

    type: Literal["desealing"]
    target: AreaTarget
    fraction: float = Field(0.5, ge=0, le=1)


def _grid_and_cover(twin: Twin, target: Target, where: str) -> tuple[xr.Dataset, np.ndarray]:
    grids = [n for n, v in twin.layers.items() if v.kind == "grid" and "roof" in v.data]
    if not grids:
        msg = message(
            "the twin has no land-cover grid",
            where=where,
            fix="declare a derived landcover grid in the layer manifest",
        )
        raise SchemaError(msg)
    grid = twin[grids[0]]
    cover = grid_coverage(grid, area_of(twin, target, f"{where}.target"))
    if not cover.any():
        msg = message(
            "the area does not overlap the land-cover grid",
            where=f"{where}.target",
            fix="check the coordinates and their crs",
        )
        raise SchemaError(msg)
    return grid, cover


def _cell_m2(grid: xr.Dataset) -> float:
    res = float(abs(grid.x[1] - grid.x[0]))
    return res * res


def _move(grid: xr.Dataset, cover: np.ndarray, share: float, src: list[str], dst: str) -> float:
    """Move ``share × cover`` of the ``src`` classes of each cell to ``dst``; return m² moved."""
    pool = sum(grid[c].to_numpy().astype(np.float64) for c in src)
    moved = pool * cover * share
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(pool > 0, moved / pool, 0.0)
    for c in src:
        grid[c] = grid[c] - (grid[c].to_numpy() * ratio).astype(np.float32)
    grid[dst] = grid[dst] + moved.astype(np.float32)
    return float(moved.sum() * _cell_m2(grid))


def plant_trees(twin: Twin, iv: PlantTrees, where: str) -> Done:
    """Turn open ground (paving, grass) of the area into tree canopy."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.canopy_fraction, ["concrete", "grass", "irrigated_grass"], "trees")
    return Done(
        f"planted trees: {m2:,.0f} m² of canopy over open ground",
        f"arbres plantés : {m2:,.0f} m² de canopée sur le sol libre",
    )


def green_area(twin: Twin, iv: GreenArea, where: str) -> Done:
    """Turn paving of the area into grass (irrigated or not)."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    dst = "irrigated_grass" if iv.irrigated else "grass"
    m2 = _move(grid, cover, iv.fraction, ["concrete"], dst)
    kind_fr = {"irrigated_grass": "pelouse arrosée", "grass": "pelouse"}.get(dst, dst)
    return Done(
        f"green area: {m2:,.0f} m² of paving turned to {dst.replace('_', ' ')}",
        f"espace vert : {m2:,.0f} m² de revêtement transformés en {kind_fr}",
    )


def desealing(twin: Twin, iv: Desealing, where: str) -> Done:
    """Turn paving of the area into grass."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.fraction, ["concrete"], "grass")
    return Done(
        f"de-sealing: {m2:,.0f} m² of paving removed",
        f"désimperméabilisation : {m2:,.0f} m² de revêtement retirés",
    )


def water_surface(twin: Twin, iv: WaterSurface, where: str) -> Done:
    """Turn paving and grass of the area into open water."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.fraction, ["concrete", "grass"], "water")
    return Done(f"water surface: {m2:,.0f} m² created", f"plan d'eau : {m2:,.0f} m² créés")


def cool_roofs(twin: Twin, iv: CoolRoofs, where: str) -> Done:
    """Raise the roof albedo of the area's cells towards ``albedo``."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    if "roof_albedo" not in grid:
        grid["roof_albedo"] = xr.full_like(grid["roof"], DEFAULT_ROOF_ALBEDO)
        grid["roof_albedo"].attrs["note"] = f"ASSUMED {DEFAULT_ROOF_ALBEDO} before cool roofs"
    grid["roof_albedo"] = grid["roof_albedo"] + ((iv.albedo - grid["roof_albedo"]) * cover).astype(
        np.float32
    )
    m2 = float((grid["roof"].to_numpy() * cover).sum() * _cell_m2(grid))
    return Done(
        f"cool roofs: albedo {iv.albedo:g} on {m2:,.0f} m² of roofs",
        f"toitures fraîches : albédo {iv.albedo:g} sur {m2:,.0f} m² de toits",
    )


def green_roofs(twin: Twin, iv: GreenRoofs, where: str) -> Done:
    """Vegetate a share of the roofs of the area."""
    grid, cover = _grid_and_cover(twin, iv.target, where)
    if "green_roof_fraction" not in grid:
        grid["green_roof_fraction"] = xr.zeros_like(grid["roof"])
    add = grid["roof"].to_numpy() * cover * iv.fraction
    grid["green_roof_fraction"] = grid["green_roof_fraction"] + add.astype(np.float32)
    m2 = float(add.sum() * _cell_m2(grid))
    return Done(
        f"green roofs: {m2:,.0f} m² of roofs vegetated",
        f"toitures végétalisées : {m2:,.0f} m² de toits végétalisés",
    )


INTERVENTIONS = (
    InterventionSpec(PlantTrees, plant_trees),
    InterventionSpec(GreenArea, green_area),
    InterventionSpec(CoolRoofs, cool_roofs),
    InterventionSpec(GreenRoofs, green_roofs),
    InterventionSpec(WaterSurface, water_surface),
    InterventionSpec(Desealing, desealing),
)

#: The intervention types that change the land-cover grid.
LANDCOVER_INTERVENTIONS = tuple(spec.type for spec in INTERVENTIONS)
