"""The ``commerce`` simulation plugin: market shares, footfall and vacancy risk of retail units.

Steps of a run, on the scenario's copy of the twin (interventions already applied):

1. **Residents** of each building from its housing floor area (ASSUMED proxy,
   :func:`~twin.sims.commerce.footfall.residents`).
2. **Market shares** (Huff 1963): each building's residents choose among the units with
   probability ``∝ A^α·c^(−β)``, ``A`` = floor area, ``c`` = network travel time [min] on foot
   (walk network) and/or by car (drive network + a parking-search time at the destination,
   shorter near car parks); modes are mixed with ``walk_share`` (ASSUMED).
3. **Footfall** per street segment: gravity-weighted shortest-path trips from buildings to
   shops, amenities and transit stops on the walk network
   (:mod:`twin.sims.commerce.footfall`), scaled on pedestrian counters when the twin has
   them. Pedestrianised streets get ``pedestrian_uplift`` and streets beside roadworks
   ``roadworks_footfall_factor`` (both ASSUMED).
4. **Vacancy risk** per unit (:mod:`twin.sims.commerce.vacancy`): a logistic model of
   footfall, market share, floor area and rent, fitted on observed vacancy or ASSUMED
   defaults when too few vacancies are observed; a vacancy tax lowers the odds (ASSUMED).

Interventions it responds to: ``shopping_centre`` (a new unit), ``pedestrianise`` and
``roadworks`` / ``close_links`` (walk and drive times, footfall factors), ``new_parking``
(parking-search time), ``vacancy_tax`` (``vacancy_tax_rate`` on units).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import Field, field_validator
from scipy.sparse.csgraph import dijkstra

from twin.errors import InputError, SchemaError, message
from twin.kernels.huff import huff_demand
from twin.model.layer import Layer
from twin.model.network import Network, adjacency
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.accessibility import open_links
from twin.sims.base import KPI, Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.commerce import footfall as ff
from twin.sims.commerce import vacancy as vac
from twin.sims.commerce.interventions import RETAIL_INTERVENTIONS
from twin.sims.roads.interventions import ROAD_INTERVENTIONS

#: Amenities that attract pedestrians (others — benches, bins, vending machines — do not).
ATTRACTING_AMENITIES = (
    "restaurant", "cafe", "fast_food", "pub", "bar", "nightclub", "ice_cream", "food_court",
    "bank", "pharmacy", "post_office", "library", "cinema", "theatre", "arts_centre",
    "marketplace", "school", "university", "college", "kindergarten", "place_of_worship",
    "clinic", "doctors", "dentist", "hospital", "townhall", "community_centre",
)  # fmt: skip

#: A vacancy-model coefficient (log-odds per unit of its variable): beyond ±100 the
#: logistic curve is a step and the value a typing error.
Coefficient = Annotated[float, Field(ge=-100, le=100)]

#: Prefix of the ids of units added by a scenario (see the shopping_centre intervention).
SCENARIO_PREFIX = "scenario/"


class CommerceParams(Params):
    """Parameters of :class:`Commerce`."""

    shops_layer: str = Field("shops", description="Retail units (points or polygons).")
    buildings_layer: str = Field("buildings", description="Buildings (residential origins).")
    walk_layer: str = Field("walk", description="Walk network.")
    roads_layer: str = Field("roads", description="Drive network (modes drive and both).")
    amenities_layer: str | None = Field("amenities", description="Amenities, if present.")
    stops_layer: str | None = Field("stops", description="Transit stops, if present.")
    car_parks_layer: str | None = Field("car_parks", description="Car parks (spaces), if present.")
    counters_layer: str | None = Field(None, description="Pedestrian counters (series layer).")
    counts_variable: str | None = Field(None, description="Counter variable (default: first).")
    zones_layer: str | None = Field(None, description="Polygons for KPIs by zone.")
    zone_field: str | None = Field(None, description="Zone name column (default: index).")
    centre: dict[str, Any] | None = Field(
        None, description="GeoJSON polygon (EPSG:4326) of the centre; default: densest cluster."
    )
    centre_radius_m: float = Field(
        250.0, gt=0, le=5000, description="Radius of the densest cluster [m]."
    )
    mode: Literal["walk", "drive", "both"] = Field("both", description="Modes of the Huff model.")
    drive_times: Literal["free_flow", "congested"] = Field(
        "congested", description="Car times: congested ones of the traffic simulation when run."
    )
    walk_share: float = Field(
        0.6, ge=0, le=1, description="Walking share of shopping trips (ASSUMED)."
    )
    huff_alpha: float = Field(1.0, gt=0, le=5, description="Huff attractiveness exponent α.")
    huff_beta: float = Field(
        2.0, gt=0, le=5, description="Huff travel-time exponent β (power decay)."
    )
    min_time_min: float = Field(
        1.0, gt=0, le=30, description="Floor of travel times [min] (terminal time)."
    )
    default_floor_area_m2: float = Field(
        100.0, gt=0, le=100_000, description="Unit floor area when unknown (ASSUMED)."
    )
    m2_per_resident: float = Field(
        40.0, ge=5, le=500, description="Housing floor per resident [m²] (ASSUMED)."
    )
    mixed_housing_share: float = Field(
        0.5, ge=0, le=1, description="Housing share of untyped buildings (ASSUMED)."
    )
    trips_per_resident: float = Field(
        2.0, ge=0, le=20, description="Walking trips per resident and day (ASSUMED)."
    )
    footfall_beta_per_min: float = Field(
        0.2, ge=0, le=5, description="Footfall distance decay [1/min]."
    )
    footfall_cutoff_min: float = Field(15.0, gt=0, le=120, description="Longest walk [min].")
    amenity_weight: float = Field(
        0.5, ge=0, le=100, description="Attraction of an amenity (a 100 m² shop = 1)."
    )
    stop_weight: float = Field(
        5.0, ge=0, le=100, description="Attraction of a transit stop (ASSUMED)."
    )
    parking_search_min: float = Field(
        5.0, ge=0, le=60, description="Parking-search time by car [min] (ASSUMED)."
    )
    parking_radius_m: float = Field(
        300.0, gt=0, le=5000, description="Car parks within this serve a unit [m]."
    )
    parking_saturation_spaces: float = Field(
        500.0, gt=0, le=100_000, description="Spaces that remove the search time (ASSUMED)."
    )
    pedestrian_uplift: float = Field(
        1.3, ge=0, le=10, description="Footfall factor on pedestrianised streets (ASSUMED)."
    )
    roadworks_footfall_factor: float = Field(
        0.8, ge=0, le=1, description="Footfall factor beside roadworks (ASSUMED)."
    )
    street_buffer_m: float = Field(
        15.0, gt=0, le=200, description="Walk links this close to a road link share its street [m]."
    )
    unit_street_m: float = Field(
        30.0, gt=0, le=500, description="A unit fronts the busiest segment this close [m]."
    )
    max_snap_m: float = Field(
        150.0, gt=0, le=5000, description="Farther from the network → left out [m]."
    )
    walk_speed_kph: float = Field(
        4.8,
        gt=0,
        le=10,
        description="Walking speed, used when the walk network has no free_flow_time_s [km/h].",
    )
    min_events: int = Field(
        10, ge=2, le=100_000, description="Vacant and occupied units needed to fit."
    )
    coefficients: dict[str, Coefficient] | None = Field(
        None,
        max_length=16,
        description="Vacancy-model coefficients to use instead of fitting (const, log_footfall, "
        "log_share, log_floor_area, log_rent), e.g. those fitted on the baseline.",
    )

    @field_validator("coefficients")
    @classmethod
    def _coef_names(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        known = set(vac.DEFAULT_COEF)
        if "const" not in v or not set(v) <= known:
            msg = f"needs 'const' and only names among {sorted(known)}"
            raise ValueError(msg)
        return v

    at_risk_threshold: float = Field(0.25, gt=0, lt=1, description="Risk flagging a unit at risk.")
    tax_effect: float = Field(
        vac.TAX_EFFECT_PER_RATE, ge=-100, le=0, description="Log-odds per tax rate (ASSUMED)."
    )

    meanings_fr: ClassVar[dict[str, str]] = {
        "shops_layer": "Locaux commerciaux (points ou polygones).",
        "buildings_layer": "Bâtiments (origines résidentielles).",
        "walk_layer": "Réseau piéton.",
        "roads_layer": "Réseau routier (modes drive et both).",
        "amenities_layer": "Équipements, s'il y en a.",
        "stops_layer": "Arrêts de transport en commun, s'il y en a.",
        "car_parks_layer": "Parkings (places), s'il y en a.",
        "counters_layer": "Compteurs piétons (couche de séries).",
        "counts_variable": "Variable des compteurs (par défaut : la première).",
        "zones_layer": "Polygones des indicateurs par zone.",
        "zone_field": "Colonne du nom des zones (par défaut : l'index).",
        "centre": "Polygone GeoJSON (EPSG:4326) du centre ; par défaut : la grappe de "
        "commerces la plus dense.",
        "centre_radius_m": "Rayon de la grappe la plus dense [m].",
        "mode": "Modes du modèle de Huff.",
        "drive_times": "Temps en voiture : ceux, congestionnés, de la simulation de trafic "
        "quand elle est lancée.",
        "walk_share": "Part de la marche dans les déplacements d'achat (SUPPOSÉ).",
        "huff_alpha": "Exposant d'attractivité α du modèle de Huff.",
        "huff_beta": "Exposant du temps de parcours β du modèle de Huff (décroissance en "
        "puissance).",
        "min_time_min": "Temps de parcours minimal [min] (temps terminal).",
        "default_floor_area_m2": "Surface d'un local quand elle est inconnue (SUPPOSÉ).",
        "m2_per_resident": "Surface de logement par habitant [m²] (SUPPOSÉ).",
        "mixed_housing_share": "Part de logement des bâtiments sans usage connu (SUPPOSÉ).",
        "trips_per_resident": "Déplacements à pied par habitant et par jour (SUPPOSÉ).",
        "footfall_beta_per_min": "Décroissance de la fréquentation avec la distance [1/min].",
        "footfall_cutoff_min": "Marche la plus longue [min].",
        "amenity_weight": "Attraction d'un équipement (un commerce de 100 m² = 1).",
        "stop_weight": "Attraction d'un arrêt de transport en commun (SUPPOSÉ).",
        "parking_search_min": "Temps de recherche d'une place en voiture [min] (SUPPOSÉ).",
        "parking_radius_m": "Les parkings à moins de cette distance desservent un local [m].",
        "parking_saturation_spaces": "Nombre de places qui supprime le temps de recherche "
        "(SUPPOSÉ).",
        "pedestrian_uplift": "Facteur de fréquentation des rues piétonnes (SUPPOSÉ).",
        "roadworks_footfall_factor": "Facteur de fréquentation le long des travaux (SUPPOSÉ).",
        "street_buffer_m": "Les tronçons piétons à moins de cette distance d'un tronçon "
        "routier sont dans sa rue [m].",
        "unit_street_m": "Un local donne sur le tronçon le plus fréquenté à moins de cette "
        "distance [m].",
        "max_snap_m": "Plus loin du réseau → laissé de côté [m].",
        "walk_speed_kph": "Vitesse de marche, quand le réseau piéton n'a pas de "
        "free_flow_time_s [km/h].",
        "min_events": "Locaux vacants et occupés nécessaires à l'ajustement.",
        "coefficients": "Coefficients du modèle de vacance à utiliser au lieu de l'ajuster "
        "(const, log_footfall, log_share, log_floor_area, log_rent), par exemple ceux "
        "ajustés sur la situation de référence.",
        "at_risk_threshold": "Risque à partir duquel un local est signalé à risque.",
        "tax_effect": "Effet sur le log-odds par point de taux de taxe (SUPPOSÉ).",
    }


def od_times(
    net: Network,
    ok: np.ndarray,
    origins: np.ndarray,
    dests: np.ndarray,
    times_s: np.ndarray | None = None,
) -> np.ndarray:
    """Shortest times [s] from origin to destination node positions (inf: unreachable).

    Links are weighted by ``times_s`` (default: ``free_flow_time_s``); only ``ok`` links are
    used.
    """
    t = net.links["free_flow_time_s"].to_numpy(float) if times_s is None else times_s
    g = adjacency(net, t, ok)
    out = np.empty((len(origins), len(dests)))
    for s in range(0, len(origins), 256):
        d = dijkstra(g, directed=True, indices=origins[s : s + 256])
        out[s : s + 256] = d[:, dests]
    return out


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return gdf.geometry.representative_point()


def _optional(twin: Twin, name: str | None, kind: str) -> Any:
    if name and name in twin and twin.layer(name).kind == kind:
        return twin[name]
    return None


class Commerce(Simulation):
    """Huff market shares, street footfall and vacancy risk of retail units."""

    name = "commerce"
    title = {"en": "Commercial vacancy", "fr": "Vacance commerciale"}
    requires = {"shops": "vector", "buildings": "vector", "walk": "network"}
    optional_inputs = ("link_flows",)
    #: the runner passes the parent run's outputs as ``parent:<name>``: the vacancy model is
    #: fitted on the parent's state, the conditions under which vacancy was observed
    warm_start = True
    outputs = ("retail_units", "street_footfall")
    consumes = (*RETAIL_INTERVENTIONS, *ROAD_INTERVENTIONS)
    kpis = (
        KPISpec(
            "vacancy_rate_observed",
            "1",
            "lower",
            {"en": "Observed vacancy", "fr": "Vacance observée"},
            {
                "en": "observed vacancy rate of the units ({n_known} with a known status)",
                "fr": (
                    "part des cellules commerciales observées vacantes ({n_known} au statut connu)"
                ),
            },
            per_zone=True,
        ),
        KPISpec(
            "mean_vacancy_risk",
            "1",
            "lower",
            {"en": "Mean vacancy risk", "fr": "Risque moyen de vacance"},
            {
                "en": "mean modelled vacancy risk of the units{assumed_en}",
                "fr": "risque moyen de vacance des cellules (modèle){assumed_fr}",
            },
            per_zone=True,
        ),
        KPISpec(
            "units_at_risk",
            "units",
            "lower",
            {"en": "Units at risk", "fr": "Cellules à risque"},
            {
                "en": "units whose vacancy risk is at least {at_risk_threshold:g}",
                "fr": "cellules dont le risque de vacance atteint au moins {at_risk_threshold:g}",
            },
            per_zone=True,
        ),
        KPISpec(
            "centre_market_share",
            "1",
            "higher",
            {"en": "Centre market share", "fr": "Part de marché du centre"},
            {
                "en": "Huff market share of the units of the centre",
                "fr": "part de marché (modèle de Huff) des commerces du centre",
            },
        ),
        KPISpec(
            "centre_mean_vacancy_risk",
            "1",
            "lower",
            {"en": "Centre vacancy risk", "fr": "Risque de vacance du centre"},
            {
                "en": "mean vacancy risk of the units of the centre",
                "fr": "risque moyen de vacance des cellules du centre",
            },
        ),
        KPISpec(
            "centre_mean_footfall",
            "ped/day",
            "higher",
            {"en": "Centre footfall", "fr": "Fréquentation du centre"},
            {
                "en": "mean footfall in front of the units of the centre",
                "fr": "fréquentation piétonne moyenne devant les commerces du centre",
            },
        ),
        KPISpec(
            "new_units_market_share",
            "1",
            "neutral",
            {"en": "New units' market share", "fr": "Part de marché des nouveaux commerces"},
            {
                "en": "market share captured by the units the scenario adds",
                "fr": (
                    "part de marché captée par les commerces créés par le scénario (centre "
                    "commercial)"
                ),
            },
        ),
        KPISpec(
            "pedestrian_km_day",
            "km/day",
            "higher",
            {"en": "Walking on the network", "fr": "Marche sur le réseau"},
            {
                "en": "modelled walking distance on the network per day",
                "fr": "kilomètres parcourus à pied par jour sur le réseau (modèle)",
            },
        ),
        KPISpec(
            "vacancy_model_auc",
            "1",
            "higher",
            {"en": "Vacancy model AUC", "fr": "AUC du modèle de vacance"},
            {
                "en": "vacancy model ({model}); AUC on the observed units",
                "fr": "modèle de vacance ({model}) ; AUC sur les cellules observées",
            },
            headline=False,
        ),
        KPISpec(
            "footfall_calibration_r2",
            "1",
            "higher",
            {"en": "Footfall calibration R²", "fr": "R² du recalage de fréquentation"},
            {
                "en": (
                    "footfall model vs pedestrian counters: scale {scale:.4g}, RMSE {rmse:.4g}, "
                    "n={n}"
                ),
                "fr": (
                    "R² de la fréquentation modélisée, recalée par un facteur d'échelle "
                    "{scale:.4g} (moindres carrés), face aux comptages piétons : REQM {rmse:.4g}, "
                    "n={n}"
                ),
            },
            headline=False,
        ),
    )
    displays = {
        "retail_units": (
            Display("vacancy_risk", "1", {"en": "Vacancy risk", "fr": "Risque de vacance"}),
            Display(
                "footfall_ped_day",
                "ped/day",
                {"en": "Footfall", "fr": "Fréquentation piétonne"},
            ),
            Display("market_share", "1", {"en": "Market share", "fr": "Part de marché"}),
        ),
        "street_footfall": (
            Display(
                "footfall_ped_day",
                "ped/day",
                {"en": "Footfall", "fr": "Fréquentation piétonne"},
            ),
        ),
    }
    params_model = CommerceParams
    notice = {
        "en": NoticeText(
            purpose="Estimate which shops are likely to lose customers and become vacant, "
            "and how a new shopping centre, a pedestrian street, roadworks, a car park or a "
            "vacancy tax changes that, to help target support to the shopping streets most "
            "at risk.",
            method="Residents are estimated from the floor area of the buildings. Each "
            "building's residents share their shopping between the shops in proportion to "
            "shop size and inversely to a power of the travel time ({mode_en}) "
            "(Huff gravity model, size exponent {huff_alpha:g}, time exponent "
            "{huff_beta:g}). Pedestrian footfall on each street is the number of "
            "modelled walking trips from homes to shops, amenities and stops that take that "
            "street on their shortest path, adjusted to pedestrian counters when available. "
            "A logistic regression turns footfall, market share, shop size and rent into a "
            "probability of vacancy; it is fitted on the vacant units observed, or uses "
            "stated default coefficients when too few are observed.",
            limits="Residents, trip rates, walking/driving shares, parking-search times and "
            "the effects of pedestrianisation, roadworks and of a vacancy tax are assumptions "
            "(listed in the outputs' provenance), not measurements. Visitors, tourists, "
            "workers, online shopping, opening hours and shop quality are not modelled. A "
            "risk is a probability for a statistically average shop with these "
            "characteristics, not a forecast about a given business; it supports, and never "
            "replaces, a field study.",
        ),
        "fr": NoticeText(
            purpose="Estimer quels commerces risquent de perdre des clients et de devenir "
            "vacants, et comment un nouveau centre commercial, une rue piétonne, des travaux, "
            "un parking ou une taxe sur les locaux vacants modifient ce risque, pour cibler "
            "l'accompagnement des rues commerçantes les plus fragiles.",
            method="Le nombre d'habitants est estimé d'après la surface de plancher des "
            "bâtiments. Les habitants de chaque bâtiment répartissent leurs achats entre les "
            "commerces proportionnellement à leur surface et en raison inverse d'une puissance du "
            "temps de trajet ({mode_fr}) (modèle gravitaire de Huff, exposant de surface "
            "{huff_alpha:g}, exposant de temps {huff_beta:g}). La "
            "fréquentation piétonne de chaque rue est le nombre de déplacements à pied "
            "modélisés entre logements et commerces, équipements et arrêts qui empruntent "
            "cette rue sur leur plus court chemin, recalé sur les compteurs piétons quand il "
            "y en a. Une régression logistique transforme fréquentation, part de marché, "
            "surface et loyer en probabilité de vacance ; elle est ajustée sur les locaux "
            "vacants observés, ou utilise des coefficients par défaut affichés quand trop "
            "peu de vacances sont observées.",
            limits="Le nombre d'habitants, les taux de déplacement, les parts de la marche et "
            "de la voiture, les temps de recherche de stationnement et les effets de la "
            "piétonnisation, des travaux et d'une taxe sur les locaux vacants sont des "
            "hypothèses (listées dans la provenance des résultats), pas des mesures. Les "
            "visiteurs, touristes, actifs, le commerce en ligne, les horaires et la qualité "
            "des commerces ne sont pas modélisés. Un risque est une probabilité pour un "
            "commerce moyen ayant ces caractéristiques, pas une prévision sur une entreprise "
            "donnée ; il éclaire, sans la remplacer, une étude de terrain.",
        ),
    }

    def notice_values(self, params: Params, lang: str) -> dict[str, str]:
        """The travel modes of the Huff model, in words."""
        p: CommerceParams = params  # type: ignore[assignment]
        modes = {
            "walk": ("on foot", "à pied"),
            "drive": ("by car", "en voiture"),
            "both": ("on foot or by car", "à pied ou en voiture"),
        }
        return {"mode_en": modes[p.mode][0], "mode_fr": modes[p.mode][1]}

    def layer_names(self, params: Params) -> dict[str, str]:
        p: CommerceParams = params  # type: ignore[assignment]
        return {"shops": p.shops_layer, "buildings": p.buildings_layer, "walk": p.walk_layer}

    def check(self, twin: Twin, params: Params) -> list[str]:
        p: CommerceParams = params  # type: ignore[assignment]
        problems = super().check(twin, params)
        if p.mode != "walk":
            if p.roads_layer not in twin:
                problems.append(
                    f"commerce: mode '{p.mode}' needs a drive network '{p.roads_layer}'; the "
                    f"twin has {sorted(twin.layers)} — set parameters.commerce.roads_layer or "
                    "mode: walk"
                )
            elif twin.layer(p.roads_layer).kind != "network":
                problems.append(f"commerce: layer '{p.roads_layer}' is not a network")
        for opt, kind in (("counters_layer", "series"), ("zones_layer", "vector")):
            name = getattr(p, opt)
            if name is not None and (name not in twin or twin.layer(name).kind != kind):
                problems.append(
                    f"commerce: {opt} '{name}' is not a {kind} layer of the twin "
                    f"({sorted(twin.layers)})"
                )
        if p.zones_layer is not None and p.zones_layer in twin and p.zone_field is not None:
            zones = twin[p.zones_layer]
            if p.zone_field not in zones:
                problems.append(
                    f"commerce: no column '{p.zone_field}' in layer '{p.zones_layer}' — set "
                    f"parameters.commerce.zone_field to one of "
                    f"{[c for c in zones.columns if c != 'geometry']}"
                )
        return problems

    # -- run --------------------------------------------------------------------------------
    def run(
        self,
        twin: Twin,
        params: CommerceParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
        state: Any = None,
    ) -> SimResult:
        """Market shares, footfall and vacancy risk on a (scenario) twin (the vacancy model
        fitted on the parent comes as its outputs, ``inputs["parent:retail_units"]``;
        ``state`` is unused)."""
        p = params
        problems = self.check(twin, p)
        if problems:
            msg = message(
                "; ".join(problems),
                where="parameters.commerce",
                fix="name existing layers of the right kind in the parameters",
            )
            raise InputError(msg)
        shops_lay = twin.layer(p.shops_layer)
        units: gpd.GeoDataFrame = shops_lay.data
        if len(units) == 0:
            msg = message(
                "the retail-unit layer is empty",
                where=f"layer '{p.shops_layer}'",
                fix="load shops (osm.shops) or a retail survey into the twin",
            )
            raise InputError(msg)
        walk: Network = twin[p.walk_layer]
        buildings: gpd.GeoDataFrame = twin[p.buildings_layer]
        prov = Provenance(
            source=f"twin layers '{p.shops_layer}', '{p.buildings_layer}', '{p.walk_layer}'",
            producer="twin (commerce)",
            licence=shops_lay.provenance.licence,
            attribution=shops_lay.provenance.attribution,
        )
        walk = _with_walk_times(walk, p.walk_speed_kph, prov)
        ids = units.index.astype(str)
        new = np.asarray(ids.str.startswith(SCENARIO_PREFIX), dtype=bool)
        upts = _points(units)

        # 1. residents and unit sizes
        res = ff.residents(
            buildings, m2_per_resident=p.m2_per_resident, mixed_housing_share=p.mixed_housing_share
        ).to_numpy()
        prov.derived["residents"] = (
            f"ASSUMED proxy: housing floor area / {p.m2_per_resident:g} m² per resident; floor "
            f"= footprint × storeys (levels, else height / 3 m); untyped buildings count "
            f"{p.mixed_housing_share:g} of their floor as housing"
        )
        area = (
            pd.to_numeric(units["floor_area_m2"], errors="coerce").to_numpy(float)
            if "floor_area_m2" in units
            else np.full(len(units), np.nan)
        )
        n_area_assumed = int((~(np.isfinite(area) & (area > 0))).sum())
        area = np.where(np.isfinite(area) & (area > 0), area, p.default_floor_area_m2)
        if n_area_assumed:
            prov.derived["floor_area_m2"] = (
                f"ASSUMED {p.default_floor_area_m2:g} m² for {n_area_assumed} units of unknown size"
            )

        # 2. Huff market shares
        b_walk = ff.snap_nodes(walk.nodes, buildings.geometry, p.max_snap_m)
        u_walk = ff.snap_nodes(walk.nodes, upts, p.max_snap_m)
        placed = u_walk >= 0
        demand = np.zeros(len(units))
        log_attr = np.log(area)  # α is applied by the kernel
        shares_by_mode: dict[str, float] = {}
        if p.mode in ("walk", "both"):
            w = p.walk_share if p.mode == "both" else 1.0
            demand += w * self._huff(walk, ff.walk_open(walk), b_walk, res, u_walk, log_attr, p, 0)
            shares_by_mode["walk"] = w
        if p.mode in ("drive", "both"):
            roads: Network = twin[p.roads_layer]
            w = 1.0 - p.walk_share if p.mode == "both" else 1.0
            search = self._search_min(twin, units, upts, p, prov)
            b_drive = ff.snap_nodes(roads.nodes, buildings.geometry, p.max_snap_m)
            u_drive = ff.snap_nodes(roads.nodes, upts, p.max_snap_m)
            ok = open_links(roads).to_numpy()
            t_drive = roads.links["free_flow_time_s"].to_numpy(float)
            flows = inputs.get("link_flows")
            if flows is not None and p.drive_times == "congested" and "time_s" in flows.data:
                congested = flows.data["time_s"].reindex(roads.links.index).to_numpy(float)
                if np.isfinite(congested).any():
                    t_drive = np.where(np.isfinite(congested), congested, t_drive)
                    prov.step(
                        "car times: congested peak-hour times of the traffic simulation "
                        "(link_flows.time_s)"
                    )
            demand += w * self._huff(roads, ok, b_drive, res, u_drive, log_attr, p, search, t_drive)
            shares_by_mode["drive"] = w
        total = demand.sum()
        share = demand / total if total > 0 else np.zeros(len(units))
        n_existing = int((~new).sum())
        share_index = share * n_existing
        prov.derived["walk_share"] = f"ASSUMED mode shares {shares_by_mode}"
        prov.step(
            f"Huff model (α={p.huff_alpha:g}, β={p.huff_beta:g} on travel time [min], floor "
            f"{p.min_time_min:g} min) from {int((b_walk >= 0).sum())} buildings to "
            f"{int(placed.sum())} units; modes {shares_by_mode}"
        )

        # 3. footfall
        seg, seg_flow, ped, works, cal = self._footfall(
            twin, walk, buildings, res, units, upts, area, p, prov
        )
        unit_foot = self._unit_footfall(seg, seg_flow, upts, p)

        # 4. vacancy risk
        observed = vac.observed_vacancy(units)
        observed[new] = np.nan  # units a scenario adds have no history
        rent = None
        for col in ("rent_eur_m2", "rent_eur_m2_year", "rent"):
            if col in units and pd.to_numeric(units[col], errors="coerce").notna().mean() >= 0.5:
                rent = pd.to_numeric(units[col], errors="coerce").to_numpy(float)
                prov.step(f"rent from column '{col}' (missing values = median)")
                break
        feats = vac.features(unit_foot, share_index, area, rent)
        parent = inputs.get("parent:retail_units")
        if p.coefficients is not None:
            fit = vac.given_model(p.coefficients, feats, observed)
        elif parent is not None:
            fit = self._fit_on_parent(parent.data, ids, feats, observed, rent, p, prov)
        else:
            fit = vac.calibrate(feats, observed, min_events=p.min_events)
        tax = (
            pd.to_numeric(units["vacancy_tax_rate"], errors="coerce").fillna(0).to_numpy(float)
            if "vacancy_tax_rate" in units
            else np.zeros(len(units))
        )
        risk = vac.vacancy_risk(fit, feats, tax, p.tax_effect)
        risk[~placed] = np.nan
        coef_txt = "; ".join(
            f"{n}={b:+.3f}" + (f" (se {s:.3f})" if np.isfinite(s) else "")
            for n, b, s in zip(fit.names, fit.coef, fit.se, strict=True)
        )
        prov.step(f"vacancy model: {fit.note}; {coef_txt}; AUC {fit.auc:.3f}; n {fit.n}")
        if fit.assumed:
            prov.derived["vacancy_risk"] = f"ASSUMED default coefficients ({coef_txt})"
        else:
            prov.derived["vacancy_risk"] = (
                f"logistic model fitted on observed vacancy ({fit.note}): {coef_txt}; "
                f"AUC {fit.auc:.3f}; n {fit.n}"
            )
        if (tax > 0).any():
            prov.derived["vacancy_tax"] = (
                f"ASSUMED effect: log-odds {p.tax_effect:g} × tax rate on "
                f"{int((tax > 0).sum())} units"
            )

        # centre and zones
        in_centre = self._centre(twin, units, upts, new, p, prov)
        out = gpd.GeoDataFrame(
            {
                "market_share": share,
                "catchment_residents": demand,
                "footfall_ped_day": unit_foot,
                "floor_area_m2": area,
                "vacancy_risk": risk,
                "at_risk": np.nan_to_num(risk) >= p.at_risk_threshold,
                "vacant_observed": observed,
                "vacancy_tax_rate": tax,
                "in_centre": in_centre,
                "new_unit": new,
            },
            geometry=upts.to_numpy(),
            crs=units.crs,
            index=pd.Index(ids, name="id"),
        )
        for col in ("name", "shop", "activity"):
            if col in units:
                out[col] = units[col].astype(object).to_numpy()
        zone_kpis = self._zones(twin, out, p)

        # segment aggregates of the units
        tree = shapely.STRtree(seg.geometry.to_numpy())
        ui, si = tree.query_nearest(out.geometry.to_numpy(), max_distance=p.unit_street_m)
        ui, first = np.unique(ui, return_index=True)
        si = si[first]
        seg_units = np.bincount(si, minlength=len(seg))
        seg_vac = np.bincount(si, weights=np.nan_to_num(observed[ui]), minlength=len(seg))
        seg_risk = np.bincount(si, weights=np.nan_to_num(risk[ui]), minlength=len(seg))
        streets = seg.assign(
            footfall_ped_day=seg_flow,
            pedestrianised=ped,
            roadworks=works,
            units=seg_units,
            vacant_units=seg_vac,
            mean_vacancy_risk=np.where(seg_units > 0, seg_risk / np.maximum(seg_units, 1), np.nan),
        )
        kpis = self._kpis(out, streets, observed, fit, cal, p) + zone_kpis
        return SimResult(
            outputs={
                "retail_units": Layer("retail_units", "vector", out, prov),
                "street_footfall": Layer("street_footfall", "vector", streets, prov),
            },
            kpis=kpis,
        )

    # -- steps ------------------------------------------------------------------------------
    @staticmethod
    def _huff(
        net: Network,
        ok: np.ndarray,
        b_nodes: np.ndarray,
        res: np.ndarray,
        u_nodes: np.ndarray,
        log_attr: np.ndarray,
        p: CommerceParams,
        extra_min: float | np.ndarray,
        times_s: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected residents of each unit by one mode (``extra_min`` added at the unit)."""
        has = (b_nodes >= 0) & (res > 0)
        w = pd.Series(res[has]).groupby(b_nodes[has]).sum()
        placed = u_nodes >= 0
        if len(w) == 0 or not placed.any():
            return np.zeros(len(u_nodes))
        t = od_times(net, ok, w.index.to_numpy(np.int64), u_nodes[placed], times_s) / 60.0
        extra = np.broadcast_to(np.asarray(extra_min, float), (len(u_nodes),))[placed]
        cost = np.maximum(t + extra[None, :], p.min_time_min)
        d = huff_demand(
            np.ascontiguousarray(log_attr[placed]), cost, p.huff_alpha, p.huff_beta,
            w.to_numpy(float),
        )  # fmt: skip
        out = np.zeros(len(u_nodes))
        out[placed] = d
        return out

    @staticmethod
    def _fit_on_parent(
        parent: gpd.GeoDataFrame,
        ids: pd.Index,
        feats: pd.DataFrame,
        observed: np.ndarray,
        rent: np.ndarray | None,
        p: CommerceParams,
        prov: Provenance,
    ) -> vac.LogitFit:
        """Fit the vacancy model on the parent run's footfall and shares of the same units.

        Observed vacancy belongs to today's conditions, not to the scenario's: the model is
        fitted on the parent's features, then applied to the scenario's.
        """
        par = parent.copy()
        par.index = par.index.astype(str)
        old = ~par["new_unit"].to_numpy(bool) if "new_unit" in par else np.ones(len(par), bool)
        common = pd.Index(ids).intersection(par.index[old])
        if len(common) == 0:
            return vac.calibrate(feats, observed, min_events=p.min_events)
        pos = pd.Index(ids).get_indexer(common)
        row = par.loc[common]
        pf = vac.features(
            row["footfall_ped_day"].to_numpy(float),
            row["market_share"].to_numpy(float) * int(old.sum()),
            row["floor_area_m2"].to_numpy(float),
            None if rent is None else rent[pos],
        )
        fit = vac.calibrate(pf, observed[pos], min_events=p.min_events)
        if not fit.assumed:
            fit.note += " (on the parent run's footfall and market shares)"
            prov.step("vacancy model fitted on the parent run's state, applied to this scenario")
        return fit

    @staticmethod
    def _search_min(
        twin: Twin,
        units: gpd.GeoDataFrame,
        upts: gpd.GeoSeries,
        p: CommerceParams,
        prov: Provenance,
    ) -> np.ndarray:
        """Parking-search time [min] at each unit: shorter with car-park spaces within reach.

        ``search = parking_search_min × max(0.2, 1 − spaces / parking_saturation_spaces)``
        with ``spaces`` = spaces of car parks within ``parking_radius_m`` plus the unit's own
        ``parking_spaces`` (ASSUMED linear relief, floor of 20 % of the search time).
        """
        spaces = (
            pd.to_numeric(units["parking_spaces"], errors="coerce").fillna(0).to_numpy(float)
            if "parking_spaces" in units
            else np.zeros(len(units))
        )
        parks = _optional(twin, p.car_parks_layer, "vector")
        if parks is not None and len(parks):
            cap = (
                pd.to_numeric(parks["spaces"], errors="coerce").fillna(0).to_numpy(float)
                if "spaces" in parks
                else np.zeros(len(parks))
            )
            tree = shapely.STRtree(_points(parks).to_numpy())
            ui, pi = tree.query(upts.to_numpy(), predicate="dwithin", distance=p.parking_radius_m)
            spaces = spaces + np.bincount(ui, weights=cap[pi], minlength=len(units))
            prov.step(f"{len(parks)} car parks ({cap.sum():,.0f} spaces) shorten parking search")
        prov.derived["parking_search_min"] = (
            f"ASSUMED {p.parking_search_min:g} min by car, × max(0.2, 1 − spaces within "
            f"{p.parking_radius_m:g} m / {p.parking_saturation_spaces:g})"
        )
        return p.parking_search_min * np.maximum(0.2, 1.0 - spaces / p.parking_saturation_spaces)

    def _footfall(
        self,
        twin: Twin,
        walk: Network,
        buildings: gpd.GeoDataFrame,
        res: np.ndarray,
        units: gpd.GeoDataFrame,
        upts: gpd.GeoSeries,
        area: np.ndarray,
        p: CommerceParams,
        prov: Provenance,
    ) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, np.ndarray, ff.Calibration | None]:
        n = len(walk.nodes)
        attraction = np.zeros(n)
        u_nodes = ff.snap_nodes(walk.nodes, upts, p.max_snap_m)
        ok = u_nodes >= 0
        np.add.at(attraction, u_nodes[ok], area[ok] / 100.0)
        parts = [f"{int(ok.sum())} units (floor area / 100 m²)"]
        am = _optional(twin, p.amenities_layer, "vector")
        if am is not None and "amenity" in am and p.amenity_weight > 0:
            am = am[am["amenity"].isin(ATTRACTING_AMENITIES)]
            a_nodes = ff.snap_nodes(walk.nodes, am.geometry, p.max_snap_m)
            np.add.at(attraction, a_nodes[a_nodes >= 0], p.amenity_weight)
            parts.append(f"{int((a_nodes >= 0).sum())} amenities (× {p.amenity_weight:g})")
        st = _optional(twin, p.stops_layer, "vector")
        if st is not None and p.stop_weight > 0:
            s_nodes = ff.snap_nodes(walk.nodes, st.geometry, p.max_snap_m)
            np.add.at(attraction, s_nodes[s_nodes >= 0], p.stop_weight)
            parts.append(f"{int((s_nodes >= 0).sum())} transit stops (× {p.stop_weight:g})")
        b_nodes = ff.snap_nodes(walk.nodes, buildings.geometry, p.max_snap_m)
        result = ff.footfall(
            walk,
            b_nodes,
            res * p.trips_per_resident,
            attraction,
            beta_per_min=p.footfall_beta_per_min,
            cutoff_min=p.footfall_cutoff_min,
        )
        flow = result.link_flow.copy()
        links = walk.links
        # pedestrianised and roadworks streets (on the walk network itself or on the roads)
        ped = self._flag(links, "pedestrian")
        works = self._flag(links, "works_start")
        roads = _optional(twin, p.roads_layer, "network")
        if roads is not None and roads is not walk:
            rl = roads.links
            ped |= ff.links_near(links, rl, self._flag(rl, "pedestrian"), p.street_buffer_m)
            works |= ff.links_near(links, rl, self._flag(rl, "works_start"), p.street_buffer_m)
        flow[ped] *= p.pedestrian_uplift
        flow[works & ~ped] *= p.roadworks_footfall_factor
        seg, codes = ff.segments(walk)
        seg_flow = ff.segment_flow(flow, codes, len(seg))
        seg_ped = np.bincount(codes, weights=ped.astype(float), minlength=len(seg)) > 0
        seg_works = np.bincount(codes, weights=works.astype(float), minlength=len(seg)) > 0
        prov.step(
            f"footfall: {result.trips:,.0f} walking trips/day from {result.counts['origin_nodes']}"
            f" origin nodes to {', '.join(parts)}, decay {p.footfall_beta_per_min:g}/min, "
            f"cut-off {p.footfall_cutoff_min:g} min; {result.lost:,.0f} trips found no attractor"
        )
        prov.derived["trips_per_resident"] = (
            f"ASSUMED {p.trips_per_resident:g} walking trips per resident and day"
        )
        if ped.any():
            prov.derived["pedestrian_uplift"] = (
                f"ASSUMED footfall × {p.pedestrian_uplift:g} on {int(seg_ped.sum())} "
                "pedestrianised segments"
            )
        if works.any():
            prov.derived["roadworks_footfall_factor"] = (
                f"ASSUMED footfall × {p.roadworks_footfall_factor:g} on {int(seg_works.sum())} "
                "segments beside roadworks"
            )
        prov.counts["street_segments"] = len(seg)
        if p.counters_layer:
            series = twin[p.counters_layer]
            cal = ff.calibrate_on_counters(
                seg, seg_flow, series, variable=p.counts_variable,
                where=f"layer '{p.counters_layer}'",
            )  # fmt: skip
            seg_flow = seg_flow * cal.scale
            prov.step(
                f"footfall scaled × {cal.scale:.4g} on {cal.n} pedestrian counters "
                f"(least squares; R² {cal.r2:.3f}, RMSE {cal.rmse:.4g})"
            )
        else:
            cal = None
            prov.derived["footfall_ped_day"] = (
                "model estimate (ASSUMED trip rates), not calibrated on pedestrian counters"
            )
        return seg, seg_flow, seg_ped, seg_works, cal

    @staticmethod
    def _flag(links: pd.DataFrame, col: str) -> np.ndarray:
        if col not in links:
            return np.zeros(len(links), dtype=bool)
        v = links[col]
        if v.dtype == bool:
            return v.to_numpy()
        if col == "pedestrian":
            return v.fillna(False).astype(bool).to_numpy()
        return v.notna().to_numpy()

    @staticmethod
    def _unit_footfall(
        seg: gpd.GeoDataFrame, seg_flow: np.ndarray, upts: gpd.GeoSeries, p: CommerceParams
    ) -> np.ndarray:
        """Footfall of the busiest segment within ``unit_street_m``, else of the nearest one."""
        tree = shapely.STRtree(seg.geometry.to_numpy())
        pts = upts.to_numpy()
        out = np.zeros(len(pts))
        ui, si = tree.query_nearest(pts, max_distance=p.max_snap_m)
        np.maximum.at(out, ui, seg_flow[si])
        ui, si = tree.query(pts, predicate="dwithin", distance=p.unit_street_m)
        np.maximum.at(out, ui, seg_flow[si])
        return out

    @staticmethod
    def _centre(
        twin: Twin,
        units: gpd.GeoDataFrame,
        upts: gpd.GeoSeries,
        new: np.ndarray,
        p: CommerceParams,
        prov: Provenance,
    ) -> np.ndarray:
        """Units of the centre: inside ``centre``, or within ``centre_radius_m`` of the unit
        with the most existing units within that radius (the densest cluster)."""
        if p.centre is not None:
            geom = _geojson_polygon(p.centre, twin.crs, "parameters.commerce.centre")
            prov.step("centre: polygon given in parameters")
            return shapely.contains_xy(geom, *shapely.get_coordinates(upts.to_numpy()).T)
        xy = shapely.get_coordinates(upts.to_numpy())
        old = xy[~new]
        tree = shapely.STRtree(shapely.points(old))
        i, _ = tree.query(shapely.points(old), predicate="dwithin", distance=p.centre_radius_m)
        k = int(np.argmax(np.bincount(i, minlength=len(old))))
        c = old[k]
        inside = np.hypot(xy[:, 0] - c[0], xy[:, 1] - c[1]) <= p.centre_radius_m
        prov.step(
            f"centre: the {int(inside.sum())} units within {p.centre_radius_m:g} m of "
            f"({c[0]:.0f}, {c[1]:.0f}), the densest cluster of units"
        )
        return inside

    def _zones(self, twin: Twin, out: gpd.GeoDataFrame, p: CommerceParams) -> list[KPI]:
        if not p.zones_layer:
            return []
        zones = twin[p.zones_layer]
        zones = zones[zones.geom_type.isin(["Polygon", "MultiPolygon"])]
        names = (zones[p.zone_field] if p.zone_field else zones.index.to_series()).astype(str)
        names = names.reset_index(drop=True)  # positions: sjoin's index_right below
        zones = zones[["geometry"]].reset_index(drop=True)
        j = gpd.sjoin(out[["geometry"]], zones, how="left", predicate="within")
        j = j[~j.index.duplicated()]
        zone = names.reindex(j["index_right"]).to_numpy()
        out["zone"] = zone
        kpis = []
        for z in sorted(pd.unique(pd.Series(zone).dropna())):
            m = (out["zone"] == z).to_numpy()
            vac_obs = out["vacant_observed"].to_numpy()[m]
            observed_rate = float(np.nanmean(vac_obs)) if np.isfinite(vac_obs).any() else np.nan
            fmt = {"n_known": int(np.isfinite(vac_obs).sum()), "assumed_en": "", "assumed_fr": ""}
            kpis += [
                self.kpi("mean_vacancy_risk", float(np.nanmean(out["vacancy_risk"][m])), z, **fmt),
                self.kpi("units_at_risk", float(out["at_risk"][m].sum()), z, **p.model_dump()),
                self.kpi("vacancy_rate_observed", observed_rate, z, **fmt),
            ]
        return kpis

    def _kpis(
        self,
        out: gpd.GeoDataFrame,
        streets: gpd.GeoDataFrame,
        observed: np.ndarray,
        fit: vac.LogitFit,
        cal: ff.Calibration | None,
        p: CommerceParams,
    ) -> list[KPI]:
        c = out["in_centre"].to_numpy()
        risk = out["vacancy_risk"].to_numpy()
        obs = np.isfinite(observed)
        model = (
            (fit.note.split(":")[0] if fit.assumed or p.coefficients else "fitted by IRLS")
            + f"; n={fit.n}; vacant={fit.n_events}; "
            + "; ".join(
                f"{n}={b:+.3f}" + (f"±{s:.3f}" if np.isfinite(s) else "")
                for n, b, s in zip(fit.names, fit.coef, fit.se, strict=True)
            )
        )
        fmt = {
            **p.model_dump(),
            "n_known": int(obs.sum()),
            "assumed_en": " (ASSUMED coefficients)" if fit.assumed else "",
            "assumed_fr": " (coefficients SUPPOSÉS)" if fit.assumed else "",
            "model": model,
        }
        walked_km = float((streets["footfall_ped_day"] * streets.geometry.length).sum() / 1000.0)
        kpis = [
            self.kpi(
                "vacancy_rate_observed",
                float(observed[obs].mean()) if obs.any() else float("nan"),
                **fmt,
            ),
            self.kpi("mean_vacancy_risk", float(np.nanmean(risk)), **fmt),
            self.kpi("units_at_risk", float(out["at_risk"].sum()), **fmt),
            self.kpi("centre_market_share", float(out["market_share"][c].sum())),
            self.kpi("centre_mean_vacancy_risk", float(np.nanmean(risk[c])) if c.any() else np.nan),
            self.kpi(
                "centre_mean_footfall",
                float(out["footfall_ped_day"][c].mean()) if c.any() else np.nan,
            ),
            self.kpi("new_units_market_share", float(out["market_share"][out["new_unit"]].sum())),
            self.kpi("pedestrian_km_day", walked_km),
            self.kpi("vacancy_model_auc", fit.auc, **fmt),
        ]
        if cal is not None:
            kpis.append(
                self.kpi("footfall_calibration_r2", cal.r2, scale=cal.scale, rmse=cal.rmse, n=cal.n)
            )
        return kpis


def _geojson_polygon(g: dict[str, Any], crs: Any, where: str) -> Any:
    """A GeoJSON geometry (EPSG:4326) as one shapely geometry in ``crs``."""
    import json

    try:
        geom = shapely.from_geojson(json.dumps(g.get("geometry", g)))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        msg = message(
            f"invalid GeoJSON ({exc})", where=where, fix="give a GeoJSON polygon in EPSG:4326"
        )
        raise SchemaError(msg) from None
    return shapely.make_valid(gpd.GeoSeries([geom], crs=4326).to_crs(crs).iloc[0])


def _with_walk_times(net: Network, speed_kph: float, prov: Provenance) -> Network:
    """The walk network, with walking times from link lengths when it has none.

    A street centre-line network (e.g. a city's ``network.lines`` layer) carries lengths but
    no walking times; they are then ``length_m / speed`` (ASSUMED speed, in provenance).
    """
    if "free_flow_time_s" in net.links:
        return net
    if "length_m" not in net.links:
        msg = message(
            "the walk network has neither free_flow_time_s nor length_m",
            where="parameters.commerce.walk_layer",
            fix="use a network loaded with osm.network or network.lines",
        )
        raise InputError(msg)
    links = net.links.copy()
    links["free_flow_time_s"] = links["length_m"].to_numpy(float) / (speed_kph / 3.6)
    prov.derived["walk_time_s"] = f"length_m / {speed_kph:g} km/h (ASSUMED walking speed)"
    return Network(nodes=net.nodes, links=links)
