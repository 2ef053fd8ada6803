"""Land-cover indicators of the twin's land-cover grid (greening, sealing, canopy).

Sums the per-cell fractions of the grid, weighted by cell area, into territory-wide figures.
Tree planting, green areas, de-sealing, water surfaces, cool and green roofs change the grid;
this simulation reports what they change. It is a bookkeeping model (no physics): the urban
heat island simulation turns the same grid into temperatures.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from pydantic import Field

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import KPI, NoticeText, Params, SimResult, Simulation

#: Albedo of conventional roofs when the grid has no ``roof_albedo`` (ASSUMED; bitumen,
#: tiles and concrete roofs range 0.05–0.25, Oke et al. 2017, *Urban Climates*, table 4.2).
DEFAULT_ROOF_ALBEDO = 0.15


class LandCoverParams(Params):
    """Parameters of :class:`LandCover`."""

    landcover_layer: str = Field("landcover", description="Land-cover grid layer.")


class LandCover(Simulation):
    """Territory-wide land-cover indicators."""

    name = "landcover"
    title = {"en": "Land-cover indicators", "fr": "Indicateurs d'occupation du sol"}
    requires = {"landcover": "grid"}
    outputs = ("landcover",)
    kpi_names = (
        "canopy_area_m2",
        "green_share",
        "sealed_share",
        "water_area_m2",
        "mean_roof_albedo",
        "green_roof_area_m2",
    )
    kpi_fr = {
        "canopy_area_m2": "surface de canopée arborée",
        "green_share": "part de la surface végétalisée",
        "sealed_share": "part de la surface imperméabilisée (toits, voies, revêtements)",
        "water_area_m2": "surface en eau",
        "mean_roof_albedo": "albédo moyen des toits, pondéré par leur surface",
        "green_roof_area_m2": "surface de toitures végétalisées",
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
            KPI("canopy_area_m2", total("trees"), "m²", "tree canopy area", "higher"),
            KPI("green_share", green / area, "1", "share of the area under vegetation", "higher"),
            KPI(
                "sealed_share",
                sealed / area,
                "1",
                "share of sealed area (roofs, roads, paving)",
                "lower",
            ),
            KPI("water_area_m2", total("water"), "m²", "open water area", "higher"),
            KPI("mean_roof_albedo", mean_albedo, "1", "roof-area weighted roof albedo", "higher"),
            KPI("green_roof_area_m2", green_roof, "m²", "vegetated roof area", "higher"),
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
