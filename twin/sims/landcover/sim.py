"""Land-cover indicators of the twin's land-cover grid (greening, sealing, canopy).

Sums the per-cell fractions of the grid, weighted by cell area, into territory-wide figures.
Tree planting, green areas, de-sealing, water surfaces, cool and green roofs change the grid;
this simulation reports what they change. It is a bookkeeping model (no physics): the urban
heat island simulation turns the same grid into temperatures.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import xarray as xr
from pydantic import Field

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.landcover.interventions import DEFAULT_ROOF_ALBEDO, LANDCOVER_INTERVENTIONS


class LandCoverParams(Params):
    """Parameters of :class:`LandCover`."""

    landcover_layer: str = Field("landcover", description="Land-cover grid layer.")

    meanings_fr: ClassVar[dict[str, str]] = {
        "landcover_layer": "Grille d'occupation du sol.",
    }


class LandCover(Simulation):
    """Territory-wide land-cover indicators."""

    name = "landcover"
    title = {"en": "Land-cover indicators", "fr": "Indicateurs d'occupation du sol"}
    requires = {"landcover": "grid"}
    outputs = ("landcover",)
    consumes = LANDCOVER_INTERVENTIONS
    kpis = (
        KPISpec(
            "canopy_area_m2",
            "m²",
            "higher",
            {"en": "Tree canopy", "fr": "Canopée"},
            {"en": "tree canopy area", "fr": "surface de canopée arborée"},
        ),
        KPISpec(
            "green_share",
            "1",
            "higher",
            {"en": "Green share", "fr": "Part végétalisée"},
            {"en": "share of the area under vegetation", "fr": "part de la surface végétalisée"},
        ),
        KPISpec(
            "sealed_share",
            "1",
            "lower",
            {"en": "Sealed share", "fr": "Part imperméabilisée"},
            {
                "en": "share of sealed area (roofs, roads, paving)",
                "fr": "part de la surface imperméabilisée (toits, voies, revêtements)",
            },
        ),
        KPISpec(
            "water_area_m2",
            "m²",
            "higher",
            {"en": "Water area", "fr": "Surface en eau"},
            {"en": "open water area", "fr": "surface en eau"},
        ),
        KPISpec(
            "mean_roof_albedo",
            "1",
            "higher",
            {"en": "Mean roof albedo", "fr": "Albédo moyen des toits"},
            {
                "en": "roof-area weighted roof albedo",
                "fr": "albédo moyen des toits, pondéré par leur surface",
            },
        ),
        KPISpec(
            "green_roof_area_m2",
            "m²",
            "higher",
            {"en": "Green roofs", "fr": "Toitures végétalisées"},
            {"en": "vegetated roof area", "fr": "surface de toitures végétalisées"},
        ),
    )
    displays = {
        "landcover": (
            Display("trees", "1", {"en": "Tree canopy fraction", "fr": "Part de canopée"}),
            Display("roof", "1", {"en": "Roof fraction", "fr": "Part de toits"}),
        )
    }
    params_model = LandCoverParams
    notice = {
        "en": NoticeText(
            purpose="Report the tree canopy, green, sealed and water areas of the territory, "
            "and how an intervention changes them.",
            method="Area-weighted sums of the land-cover fractions of each grid cell; the "
            "fractions come from buildings, roads, land use and natural features.",
            limits="Grid resolution (usually 10 m) blurs small features; ground not described "
            "by any layer is assumed paved; a planted tree counts with its mature canopy.",
        ),
        "fr": NoticeText(
            purpose="Indiquer la canopée, les surfaces végétalisées, imperméabilisées et en "
            "eau du territoire, et ce qu'une intervention y change.",
            method="Sommes pondérées par la surface des fractions d'occupation du sol de "
            "chaque maille ; les fractions viennent des bâtiments, voies, usages du sol et "
            "éléments naturels.",
            limits="La résolution de la grille (souvent 10 m) lisse les petits objets ; le sol "
            "non décrit est supposé imperméabilisé ; un arbre planté compte avec sa canopée "
            "adulte.",
        ),
    }

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"landcover": params.landcover_layer}  # type: ignore[attr-defined]

    def run(
        self,
        twin: Twin,
        params: LandCoverParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
    ) -> SimResult:
        """Sum the fractions into KPIs and pass the grid on as an output."""
        lay = twin.layer(params.landcover_layer)
        g: xr.Dataset = lay.data
        res = float(g.attrs.get("resolution_m", abs(float(g.x[1] - g.x[0]))))
        cell = res * res
        area = float(g.sizes["x"] * g.sizes["y"] * cell)

        def total(var: str) -> float:
            return float(g[var].sum()) * cell if var in g else 0.0

        green = total("trees") + total("grass") + total("irrigated_grass")
        sealed = total("roof") + total("road") + total("concrete")
        roof = total("roof")
        albedo = (
            g["roof_albedo"] if "roof_albedo" in g else xr.full_like(g["roof"], DEFAULT_ROOF_ALBEDO)
        )
        green_roof = total("green_roof_fraction") if "green_roof_fraction" in g else 0.0
        weights = g["roof"] * cell
        mean_albedo = float((albedo * weights).sum() / weights.sum()) if roof else float("nan")
        kpis = [
            self.kpi("canopy_area_m2", total("trees")),
            self.kpi("green_share", green / area),
            self.kpi("sealed_share", sealed / area),
            self.kpi("water_area_m2", total("water")),
            self.kpi("mean_roof_albedo", mean_albedo),
            self.kpi("green_roof_area_m2", green_roof),
        ]
        out = Layer(
            "landcover",
            "grid",
            g,
            Provenance(
                source=f"twin layer '{params.landcover_layer}'",
                producer="twin (landcover)",
                licence=lay.provenance.licence,
            ).step("land-cover grid after the scenario's interventions"),
        )
        return SimResult(outputs={"landcover": out}, kpis=kpis)
