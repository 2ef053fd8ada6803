"""A third-party twin plugin: cycle lanes on the street network.

It declares, in this one package, everything twin needs: one intervention (``bike_lane``:
its model and the function that applies it), one simulation (``cycling``) with its
parameters, the intervention it reads, two KPIs with English and French labels, one output
with display hints, and its algorithm notice. twin's scenario schema, planner, runner,
notice and viewer read these declarations; nothing in twin is changed.
"""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import numpy as np
from pydantic import Field

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.targets import select


# -- the intervention ------------------------------------------------------------------------
class BikeLane(Intervention):
    """Paint a cycle lane on road links."""

    type: Literal["bike_lane"]
    target: Target
    width_m: float = Field(1.5, gt=0, le=5, description="Lane width [m].")


def bike_lane(twin: Twin, iv: BikeLane, where: str) -> Done:
    """Mark the target links with a cycle lane of ``width_m``."""
    links = twin[iv.target.layer].links
    ids = select(twin, iv.target, f"{where}.target")
    if "bike_lane_m" not in links:
        links["bike_lane_m"] = 0.0
    links.loc[ids, "bike_lane_m"] = iv.width_m
    return Done(
        f"cycle lanes of {iv.width_m:g} m on {len(ids)} links",
        f"bandes cyclables de {iv.width_m:g} m sur {len(ids)} tronçons",
    )


INTERVENTIONS = (InterventionSpec(BikeLane, bike_lane),)


# -- the simulation --------------------------------------------------------------------------
class CyclingParams(Params):
    """Parameters of :class:`Cycling`."""

    network_layer: str = Field("roads", description="Street network layer.")
    min_width_m: float = Field(1.2, gt=0, description="Narrowest lane that counts [m].")


class Cycling(Simulation):
    """Length and share of the street network with a cycle lane."""

    name = "cycling"
    title = {"en": "Cycle lanes", "fr": "Aménagements cyclables"}
    requires = {"network": "network"}
    outputs = ("cycle_lanes",)
    consumes = ("bike_lane",)
    params_model = CyclingParams
    kpis = (
        KPISpec(
            "bike_lane_km",
            "km",
            "higher",
            {"en": "Cycle lanes", "fr": "Bandes cyclables"},
            {
                "en": "length of links with a lane of at least {min_width_m:g} m",
                "fr": "longueur des tronçons dotés d'une bande d'au moins {min_width_m:g} m",
            },
        ),
        KPISpec(
            "bike_lane_share",
            "1",
            "higher",
            {"en": "Share of streets with a lane", "fr": "Part des rues cyclables"},
            {
                "en": "share of the network length with a cycle lane",
                "fr": "part de la longueur du réseau dotée d'une bande cyclable",
            },
        ),
    )
    displays = {
        "cycle_lanes": (
            Display("bike_lane_m", "m", {"en": "Cycle lane width", "fr": "Largeur de bande"}),
        )
    }
    notice = {
        "en": NoticeText(
            purpose="Measure how much of the street network has a cycle lane.",
            method="Sum of the lengths of the links whose cycle lane is at least "
            "{min_width_m:g} m wide.",
            limits="Lane quality, continuity and safety are not assessed.",
        ),
        "fr": NoticeText(
            purpose="Mesurer la part du réseau de rues dotée d'une bande cyclable.",
            method="Somme des longueurs des tronçons dont la bande cyclable mesure au moins "
            "{min_width_m:g} m.",
            limits="La qualité, la continuité et la sécurité des bandes ne sont pas évaluées.",
        ),
    }

    def run(
        self, twin: Twin, params: CyclingParams, inputs: dict[str, Layer], rng: np.random.Generator
    ) -> SimResult:
        """Report the lanes of the network and their length."""
        lay = twin.layer(params.network_layer)
        links = lay.data.links
        width = links["bike_lane_m"] if "bike_lane_m" in links else 0.0 * links["length_m"]
        ok = (width >= params.min_width_m).to_numpy()
        length = links["length_m"].to_numpy(float)
        out = gpd.GeoDataFrame(
            {"bike_lane_m": width.to_numpy(float)}, geometry=links.geometry, crs=links.crs
        )
        prov = Provenance(f"twin layer '{params.network_layer}'", producer="twin-cycling")
        prov.licence = lay.provenance.licence
        kpis = [
            self.kpi("bike_lane_km", length[ok].sum() / 1000.0, min_width_m=params.min_width_m),
            self.kpi("bike_lane_share", length[ok].sum() / max(length.sum(), 1e-9)),
        ]
        return SimResult({"cycle_lanes": Layer("cycle_lanes", "vector", out, prov)}, kpis)
