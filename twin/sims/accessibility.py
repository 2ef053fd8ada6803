"""Network accessibility: free-flow travel times from sampled origins to every node.

The network's open links (not ``closed``, capacity > 0) are weighted by their free-flow time
``free_flow_time_s``; shortest paths from a seeded random sample of origin nodes are found with
Dijkstra's algorithm (scipy's compiled implementation). Each node gets its mean travel time
*from* the origins that reach it and the share of origins that reach it. Closures, speed changes
and pedestrianisation change these times; capacity changes alone do not (that is the job of
the traffic assignment).

References
----------
Dijkstra, E. W. (1959). A note on two problems in connexion with graphs. *Numerische
Mathematik* 1, 269–271.
"""

from __future__ import annotations

from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field
from scipy.sparse.csgraph import dijkstra

from twin.model.layer import Layer
from twin.model.network import Network, adjacency
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import Column, Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.roads.interventions import ROAD_INTERVENTIONS

#: Origins routed at once: bounds memory to CHUNK × nodes travel times (8 bytes each).
CHUNK = 128


class AccessibilityParams(Params):
    """Parameters of :class:`Accessibility`."""

    network_layer: str = Field("roads", description="Network layer to route on.")
    n_origins: int = Field(200, ge=1, le=100_000, description="Origins sampled (seeded).")
    unreachable_time_s: float = Field(
        3600.0,
        gt=0,
        le=86_400,
        description="Time counted for a pair with no path in the mean travel time [s] "
        "(ASSUMED), so that cutting places off never lowers the mean.",
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "network_layer": "Couche réseau sur laquelle les itinéraires sont calculés.",
        "n_origins": "Nombre d'origines tirées au sort (graine fixée).",
        "unreachable_time_s": "Temps compté pour un couple sans itinéraire dans le temps "
        "moyen de parcours [s] (SUPPOSÉ), pour qu'isoler des lieux ne baisse jamais la "
        "moyenne.",
    }


def open_links(net: Network) -> pd.Series:
    """Boolean mask of links open to traffic."""
    links = net.links
    ok = pd.Series(True, index=links.index)
    if "closed" in links:
        ok &= ~links["closed"].fillna(False).astype(bool)
    if "capacity_veh_h" in links:
        ok &= links["capacity_veh_h"].fillna(1.0) > 0
    return ok


def travel_times(net: Network, origins: np.ndarray) -> np.ndarray:
    """Shortest free-flow times [s] from origin node positions to every node (inf: unreachable).

    Parallel links keep their fastest time.
    """
    ok = open_links(net).to_numpy()
    g = adjacency(net, net.links["free_flow_time_s"].to_numpy(dtype=float), ok)
    return np.asarray(dijkstra(g, directed=True, indices=origins))


class Accessibility(Simulation):
    """Free-flow accessibility of every node of a network."""

    name = "accessibility"
    title = {"en": "Network accessibility", "fr": "Accessibilité du réseau"}
    requires = {"network": "network"}
    outputs = ("node_access",)
    consumes = ROAD_INTERVENTIONS
    columns = (
        Column("network", "length_m", "m", table="links"),
        Column("network", "free_flow_time_s", "s", derive="road_supply", table="links"),
    )
    kpis = (
        KPISpec(
            "mean_travel_time_s",
            "s",
            "lower",
            {"en": "Mean travel time", "fr": "Temps moyen de parcours"},
            {
                "en": "mean free-flow travel time between sampled origins and all nodes (a "
                "pair with no path counts {unreachable_time_s:g} s, ASSUMED)",
                "fr": "temps moyen de parcours à vitesse libre entre les origines "
                "échantillonnées et tous les carrefours (un couple sans chemin compte "
                "{unreachable_time_s:g} s, HYPOTHÈSE)",
            },
        ),
        KPISpec(
            "unreachable_pair_share",
            "1",
            "lower",
            {"en": "Unreachable trips", "fr": "Trajets impossibles"},
            {
                "en": "share of origin–node pairs with no path",
                "fr": "part des couples origine–carrefour sans chemin",
            },
        ),
        KPISpec(
            "open_network_km",
            "km",
            "neutral",
            {"en": "Open network", "fr": "Réseau ouvert"},
            {
                "en": "length of open directed links",
                "fr": "longueur des tronçons orientés ouverts",
            },
        ),
    )
    displays = {
        "node_access": (
            Display(
                "access_time_s",
                "s",
                {"en": "Mean free-flow access time", "fr": "Temps d'accès moyen à vitesse libre"},
            ),
            Display(
                "reach_share",
                "1",
                {
                    "en": "Share of origins reaching the node",
                    "fr": "Part des origines atteignant le nœud",
                },
            ),
        )
    }
    params_model = AccessibilityParams
    notice = {
        "en": NoticeText(
            purpose="Measure how long it takes to reach each point of the street network "
            "at free-flow speed, to see which places a closure or a speed change isolates.",
            method="Shortest paths (Dijkstra) from a random but reproducible sample of "
            "up to {n_origins} origin junctions to every junction, on open links weighted by "
            "length / speed.",
            limits="Free-flow times: congestion, turning delays and public transport are not "
            "modelled. The origins are a sample, so values are estimates. A junction that "
            "cannot be reached counts {unreachable_time_s:g} s in the mean (ASSUMED).",
        ),
        "fr": NoticeText(
            purpose="Mesurer le temps nécessaire pour atteindre chaque point du réseau de "
            "voirie à vitesse libre, pour voir quels lieux une fermeture ou un changement de "
            "vitesse isole.",
            method="Plus courts chemins (Dijkstra) depuis un échantillon aléatoire mais "
            "reproductible d'au plus {n_origins} carrefours d'origine vers tous les carrefours, "
            "sur les tronçons "
            "ouverts pondérés par longueur / vitesse.",
            limits="Temps à vitesse libre : la congestion, les temps de tourne-à-gauche et les "
            "transports en commun ne sont pas modélisés. Les origines sont un échantillon : "
            "les valeurs sont des estimations. Un carrefour inaccessible compte "
            "{unreachable_time_s:g} s dans la moyenne (HYPOTHÈSE).",
        ),
    }

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"network": params.network_layer}  # type: ignore[attr-defined]

    def run(
        self,
        twin: Twin,
        params: AccessibilityParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
    ) -> SimResult:
        """Compute node accessibility and its KPIs (origins in chunks to bound memory)."""
        net: Network = twin[params.network_layer]
        n = len(net.nodes)
        origins = np.sort(rng.choice(n, size=min(params.n_origins, n), replace=False))
        reached = np.zeros(n)
        total_t = np.zeros(n)
        for start in range(0, len(origins), CHUNK):
            times = travel_times(net, origins[start : start + CHUNK])
            finite = np.isfinite(times)
            reached += finite.sum(axis=0)
            total_t += np.where(finite, times, 0.0).sum(axis=0)
        reach = reached / len(origins)
        with np.errstate(invalid="ignore"):
            mean_t = total_t / reached
        pairs = reached.sum()
        all_pairs = len(origins) * n
        # pairs with no path count at the ASSUMED penalty: a closure that cuts places off
        # must raise the mean, not drop those trips from it
        penalty = (all_pairs - pairs) * params.unreachable_time_s
        mean_all = float((total_t.sum() + penalty) / all_pairs) if all_pairs else float("nan")
        nodes = gpd.GeoDataFrame(
            {"access_time_s": mean_t, "reach_share": reach},
            geometry=net.nodes.geometry.to_numpy(),
            crs=net.nodes.crs,
            index=net.nodes.index,
        )
        ok = open_links(net)
        prov = Provenance(
            source=f"twin layer '{params.network_layer}'",
            producer="twin (accessibility)",
            licence=twin.layer(params.network_layer).provenance.licence,
        ).step(f"Dijkstra from {len(origins)} sampled origins over {int(ok.sum())} open links")
        open_km = (
            float(net.links.loc[ok, "length_m"].sum() / 1000.0)
            if "length_m" in net.links
            else float("nan")
        )
        kpis = [
            self.kpi("mean_travel_time_s", mean_all, **params.model_dump()),
            self.kpi("unreachable_pair_share", float(1 - pairs / (len(origins) * n))),
            self.kpi("open_network_km", open_km),
        ]
        return SimResult(
            outputs={"node_access": Layer("node_access", "vector", nodes, prov)}, kpis=kpis
        )
