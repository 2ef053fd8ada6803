"""Shop accessibility: each shop inherits the accessibility of its nearest network node.

It consumes the ``node_access`` output of :mod:`twin.sims.accessibility`, so in one run a
closure changes travel times, which change how reachable each shop is (a first coupling of the
traffic and commerce domains; the full footfall and vacancy models come with the commerce
simulation).
"""

from __future__ import annotations

from typing import ClassVar

import geopandas as gpd
import numpy as np
from pydantic import Field

from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.roads.interventions import ROAD_INTERVENTIONS


class ShopAccessParams(Params):
    """Parameters of :class:`ShopAccess`."""

    shops_layer: str = Field("shops", description="Shops layer (points).")
    threshold_s: float = Field(
        300.0, gt=0, le=7200, description="Shops slower to reach are flagged."
    )
    max_snap_m: float = Field(
        200.0, gt=0, le=5000, description="Shops farther from the network are left out."
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "shops_layer": "Couche des commerces (points).",
        "threshold_s": "Les commerces plus longs à atteindre sont signalés [s].",
        "max_snap_m": "Les commerces plus éloignés du réseau sont laissés de côté [m].",
    }


class ShopAccess(Simulation):
    """How reachable each shop is over the network."""

    name = "shop_access"
    title = {"en": "Shop accessibility", "fr": "Accessibilité des commerces"}
    requires = {"shops": "vector"}
    inputs = ("node_access",)
    outputs = ("shop_access",)
    consumes = (*ROAD_INTERVENTIONS, "shopping_centre")
    kpis = (
        KPISpec(
            "shop_mean_access_time_s",
            "s",
            "lower",
            {"en": "Mean access to shops", "fr": "Accès moyen aux commerces"},
            {
                "en": "mean free-flow travel time to reach a shop",
                "fr": "temps moyen de parcours à vitesse libre pour atteindre un commerce",
            },
        ),
        KPISpec(
            "shops_slow_share",
            "1",
            "lower",
            {"en": "Hard-to-reach shops", "fr": "Commerces difficiles d'accès"},
            {
                "en": "share of shops slower than {threshold_s:.0f} s to reach",
                "fr": "part des commerces à plus de {threshold_s:.0f} s d'accès",
            },
        ),
    )
    displays = {
        "shop_access": (
            Display(
                "access_time_s",
                "s",
                {"en": "Free-flow access time", "fr": "Temps d'accès à vitesse libre"},
            ),
        )
    }
    params_model = ShopAccessParams
    notice = {
        "en": NoticeText(
            purpose="Show which shops become harder to reach when streets change.",
            method="Each shop takes the mean free-flow travel time of its nearest street "
            "junction (within {max_snap_m:g} m), computed by the accessibility simulation; "
            "shops slower than {threshold_s:g} s to reach are flagged.",
            limits="Access by car or on foot depends on the network chosen; parking, public "
            "transport and shop attractiveness are not modelled here.",
        ),
        "fr": NoticeText(
            purpose="Montrer quels commerces deviennent plus difficiles d'accès quand les rues "
            "changent.",
            method="Chaque commerce prend le temps moyen de parcours à vitesse libre du "
            "carrefour le plus proche (à moins de {max_snap_m:g} m), calculé par la simulation "
            "d'accessibilité ; les commerces à plus de {threshold_s:g} s sont signalés.",
            limits="L'accès en voiture ou à pied dépend du réseau choisi ; le stationnement, "
            "les transports en commun et l'attractivité des commerces ne sont pas modélisés "
            "ici.",
        ),
    }

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"shops": params.shops_layer}  # type: ignore[attr-defined]

    def run(
        self,
        twin: Twin,
        params: ShopAccessParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
    ) -> SimResult:
        """Join shops to their nearest node's accessibility."""
        shops: gpd.GeoDataFrame = twin[params.shops_layer]
        nodes: gpd.GeoDataFrame = inputs["node_access"].data
        pts = shops[["geometry"]].copy()
        pts["geometry"] = pts.geometry.representative_point()
        joined = gpd.sjoin_nearest(
            pts,
            nodes[["access_time_s", "geometry"]],
            how="left",
            max_distance=params.max_snap_m,
            distance_col="snap_m",
        )
        joined = joined[~joined.index.duplicated()]
        out = gpd.GeoDataFrame(
            {
                "access_time_s": joined["access_time_s"].to_numpy(),
                "snap_m": joined["snap_m"].to_numpy(),
            },
            geometry=pts.geometry.to_numpy(),
            crs=shops.crs,
            index=shops.index,
        )
        out["slow"] = out["access_time_s"] > params.threshold_s
        placed = out["access_time_s"].notna()
        kpis = [
            self.kpi("shop_mean_access_time_s", float(out.loc[placed, "access_time_s"].mean())),
            self.kpi(
                "shops_slow_share",
                float(out.loc[placed, "slow"].mean()),
                threshold_s=params.threshold_s,
            ),
        ]
        prov = Provenance(
            source=f"twin layer '{params.shops_layer}' + node_access",
            producer="twin (shop_access)",
            licence=twin.layer(params.shops_layer).provenance.licence,
        ).step(f"nearest node within {params.max_snap_m} m; {int((~placed).sum())} shops left out")
        return SimResult(
            outputs={"shop_access": Layer("shop_access", "vector", out, prov)}, kpis=kpis
        )
