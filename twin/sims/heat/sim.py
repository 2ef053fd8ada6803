"""The urban heat island simulation plugin (``heat``).

Steps of a run, on the scenario's copy of the twin (tree planting, green areas, de-sealing,
water, cool and green roofs already applied to the land-cover grid by the interventions):

1. the surface of the model from the land-cover grid, with the ground-level sky view factor
   ray-cast from the building heights (:mod:`twin.sims.heat.surface`);
2. the forcing: a CSV of observations (``forcing_csv``) or an ASSUMED clear-sky heat-wave
   design day at the twin's latitude (:mod:`twin.sims.heat.design_day`);
3. the energy balance (:func:`twin.sims.heat.model.simulate`), tile by tile with halos on
   grids larger than ``tile`` cells (:mod:`twin.sims.heat.chunked`);
4. optionally, errors against the twin's air-temperature sensors and a bias correction
   (:mod:`twin.sims.heat.sensors`);
5. indicators: UHI intensity, hours above thresholds, exposed buildings, population and
   sensitive sites (:mod:`twin.sims.heat.exposure`).

Outputs: ``heat`` — a grid of 2-D summaries of the analysed period (first variable
``air_temperature_max``, what the viewer draws); ``heat_sites`` — sensitive sites with their
exposure; ``heat_stations`` (with sensors) — per-station errors; ``heat_hourly`` (with
``keep_hourly``) — air temperature and UTCI on ``(time, y, x)``.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field, field_validator

from twin.errors import InputError, message
from twin.model.buildings import floor_area_m2
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.base import KPI, Display, KPISpec, NoticeText, Params, SimResult, Simulation
from twin.sims.heat import exposure as ex
from twin.sims.heat.design_day import _utc_offset_h, design_day, read_forcing_csv
from twin.sims.heat.sensors import (
    bias_offset,
    correct_bias,
    paired_series,
    station_cells,
    station_errors,
)
from twin.sims.heat.surface import check_same_grid, surface_from_twin
from twin.sims.landcover.interventions import LANDCOVER_INTERVENTIONS


class HeatParams(Params):
    """Parameters of :class:`Heat`."""

    landcover_layer: str = Field("landcover", description="Land-cover grid layer.")
    forcing_csv: str | None = Field(
        None, description="Forcing CSV (time + 6 columns); None → ASSUMED design day."
    )
    date: str = Field("2025-07-15", description="Design day (YYYY-MM-DD).")
    timezone: str = Field("Europe/Paris", description="Local clock of the forcing times.")
    tmax_c: float = Field(32.0, ge=-40, le=55, description="Design-day maximum [°C] ASSUMED.")
    tmin_c: float = Field(20.0, ge=-50, le=45, description="Design-day minimum [°C] ASSUMED.")
    dew_point_c: float = Field(16.0, ge=-50, le=35, description="Design-day dew point [°C].")
    wind_m_s: float = Field(2.0, ge=0, le=40, description="Design-day wind [m/s].")
    spinup_hours: float = Field(
        24.0, ge=0, le=240, description="Spin-up dropped from the output [h] (at most 10 days)."
    )
    reference_surface: str = Field("grass", description="Surface of the rural reference site.")
    air_threshold_c: float = Field(
        30.0, ge=-60, le=60, description="Air-temperature threshold [°C]."
    )
    utci_strong_c: float = Field(
        ex.UTCI_STRONG_C, ge=-60, le=60, description="UTCI strong heat stress [°C]."
    )
    utci_very_strong_c: float = Field(
        ex.UTCI_VERY_STRONG_C, ge=-60, le=60, description="UTCI very strong heat stress [°C]."
    )
    exposure_min_hours: float = Field(
        1.0, ge=0, le=24, description="Hours of very strong heat stress that make a place exposed."
    )
    report_hour: int = Field(15, ge=0, le=23, description="Local hour of the snapshot grid.")
    outdoor_roof_max: float = Field(
        0.95,
        ge=0,
        le=1,
        description="Street-level maps (air, UHI, UTCI, hours) only where roof < this share "
        "(cells above it are solid roof: no street to stand in).",
    )
    svf: bool = Field(True, description="Ray-cast the sky view factor (else from H/W).")
    svf_directions: int = Field(16, ge=4, le=360, description="Ray-casting azimuths.")
    svf_radius_m: float = Field(100.0, gt=0, le=2000, description="Ray-casting radius [m].")
    tile: int = Field(
        512, ge=16, le=4096, description="Tile side [cells] above which runs are tiled."
    )
    sensors_layer: str | None = Field(None, description="Air-temperature sensor series layer.")
    sensors_variable: str | None = Field(None, description="Its air-temperature variable.")
    bias_correction: bool = Field(False, description="Subtract the sensors' mean bias.")
    buildings_layer: str | None = Field("buildings", description="Buildings (exposure).")
    amenities_layer: str | None = Field("amenities", description="Amenities (sensitive sites).")
    population_layer: str | None = Field(None, description="Aggregate population layer.")
    keep_hourly: bool = Field(False, description="Also output hourly air temperature / UTCI.")

    meanings_fr: ClassVar[dict[str, str]] = {
        "landcover_layer": "Grille d'occupation du sol.",
        "forcing_csv": "Fichier CSV de forçage météorologique (heure + 6 colonnes) ; "
        "None → journée type SUPPOSÉE.",
        "date": "Journée type (AAAA-MM-JJ).",
        "timezone": "Fuseau horaire des heures du forçage.",
        "tmax_c": "Température maximale de la journée type [°C] SUPPOSÉE.",
        "tmin_c": "Température minimale de la journée type [°C] SUPPOSÉE.",
        "dew_point_c": "Point de rosée de la journée type [°C].",
        "wind_m_s": "Vent de la journée type [m/s].",
        "spinup_hours": "Mise en route retirée des résultats [h] (au plus 10 jours).",
        "reference_surface": "Surface du site rural de référence.",
        "air_threshold_c": "Seuil de température de l'air [°C].",
        "utci_strong_c": "Seuil UTCI de fort stress thermique [°C].",
        "utci_very_strong_c": "Seuil UTCI de très fort stress thermique [°C].",
        "exposure_min_hours": "Heures de très fort stress thermique à partir desquelles un "
        "lieu est exposé.",
        "report_hour": "Heure locale de la carte instantanée.",
        "outdoor_roof_max": "Cartes au niveau de la rue (air, îlot de chaleur, UTCI, heures) "
        "seulement où la part de toiture est inférieure à cette valeur (au-delà, la maille "
        "est un toit : pas de rue où se tenir).",
        "svf": "Facteur de vue du ciel calculé par lancer de rayons (sinon d'après H/L).",
        "svf_directions": "Nombre d'azimuts du lancer de rayons.",
        "svf_radius_m": "Portée du lancer de rayons [m].",
        "tile": "Côté des tuiles [mailles] au-delà duquel le calcul est découpé.",
        "sensors_layer": "Couche des séries des capteurs de température de l'air.",
        "sensors_variable": "Sa variable de température de l'air.",
        "bias_correction": "Retrancher le biais moyen mesuré par les capteurs.",
        "buildings_layer": "Bâtiments (exposition).",
        "amenities_layer": "Équipements (sites sensibles).",
        "population_layer": "Couche de population agrégée.",
        "keep_hourly": "Produire aussi la température de l'air et l'UTCI heure par heure.",
    }

    @field_validator("date")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError("must be a date YYYY-MM-DD") from None
        return v


class Heat(Simulation):
    """Urban heat island: air and surface temperature, UTCI, exposure of people and sites."""

    name = "heat"
    title = {"en": "Urban heat island", "fr": "Îlot de chaleur urbain"}
    requires = {"landcover": "grid"}
    outputs = ("heat", "heat_sites")
    consumes = LANDCOVER_INTERVENTIONS
    kpis = (
        KPISpec(
            "uhi_mean_c",
            "°C",
            "lower",
            {"en": "Mean heat island", "fr": "Îlot de chaleur moyen"},
            {
                "en": "mean urban heat island intensity (outdoor-area weighted, analysed period)",
                "fr": "intensité moyenne de l'îlot de chaleur (écart à la référence rurale)",
            },
        ),
        KPISpec(
            "uhi_max_c",
            "°C",
            "lower",
            {"en": "Peak heat island", "fr": "Îlot de chaleur maximal"},
            {
                "en": "largest hourly urban heat island intensity of an outdoor cell",
                "fr": "intensité maximale de l'îlot de chaleur",
            },
        ),
        KPISpec(
            "mean_daytime_air_temperature_c",
            "°C",
            "lower",
            {"en": "Daytime air temperature", "fr": "Température de l'air en journée"},
            {
                "en": "mean air temperature while the sun is up (outdoor-area weighted)",
                "fr": "température moyenne de l'air en journée",
            },
        ),
        KPISpec(
            "hours_air_above_threshold",
            "h",
            "lower",
            {"en": "Hours of hot air", "fr": "Heures d'air chaud"},
            {
                "en": "hours with air ≥ {air_threshold_c:g} °C, outdoor-area mean",
                "fr": (
                    "heures où l'air dépasse {air_threshold_c:g} °C, en moyenne sur l'espace "
                    "extérieur"
                ),
            },
        ),
        KPISpec(
            "hours_utci_strong",
            "h",
            "lower",
            {"en": "Hours of strong heat stress", "fr": "Heures de fort stress thermique"},
            {
                "en": (
                    "hours with UTCI ≥ {utci_strong_c:g} °C (strong heat stress), outdoor-area mean"
                ),
                "fr": (
                    "heures de stress thermique fort (UTCI ≥ {utci_strong_c:g} °C), en moyenne sur"
                    " l'espace extérieur"
                ),
            },
        ),
        KPISpec(
            "hours_utci_very_strong",
            "h",
            "lower",
            {
                "en": "Hours of very strong heat stress",
                "fr": "Heures de très fort stress thermique",
            },
            {
                "en": (
                    "hours with UTCI ≥ {utci_very_strong_c:g} °C (very strong heat stress), "
                    "outdoor-area mean"
                ),
                "fr": (
                    "heures de stress thermique très fort (UTCI ≥ {utci_very_strong_c:g} °C), en "
                    "moyenne sur l'espace extérieur"
                ),
            },
        ),
        KPISpec(
            "buildings_exposed",
            "buildings",
            "lower",
            {"en": "Exposed buildings", "fr": "Bâtiments exposés"},
            {
                "en": (
                    "buildings next to ≥ {exposure_min_hours:g} h of very strong heat stress (UTCI"
                    " ≥ {utci_very_strong_c:g} °C)"
                ),
                "fr": (
                    "bâtiments exposés à au moins {exposure_min_hours:g} h de stress thermique "
                    "très fort (UTCI ≥ {utci_very_strong_c:g} °C)"
                ),
            },
        ),
        KPISpec(
            "floor_area_exposed_m2",
            "m²",
            "lower",
            {"en": "Exposed floor area", "fr": "Surface de plancher exposée"},
            {
                "en": "floor area of the exposed buildings",
                "fr": "surface de plancher des bâtiments exposés",
            },
        ),
        KPISpec(
            "population_exposed",
            "people",
            "lower",
            {"en": "Exposed residents", "fr": "Habitants exposés"},
            {
                "en": "residents of exposed cells (from an aggregate population layer)",
                "fr": "population exposée (d'après une couche de population agrégée)",
            },
        ),
        KPISpec(
            "sensitive_sites_exposed",
            "sites",
            "lower",
            {"en": "Exposed sensitive sites", "fr": "Sites sensibles exposés"},
            {
                "en": (
                    "schools, nurseries, care homes, hospitals… next to ≥ {exposure_min_hours:g} h"
                    " of very strong heat stress"
                ),
                "fr": (
                    "sites sensibles (écoles, crèches, EHPAD, hôpitaux…) exposés à au moins "
                    "{exposure_min_hours:g} h de stress thermique très fort"
                ),
            },
        ),
        KPISpec(
            "sensor_rmse_c",
            "°C",
            "lower",
            {"en": "Error against sensors (RMSE)", "fr": "Erreur face aux capteurs (REQM)"},
            {
                "en": "RMSE of the modelled air temperature at the sensors (NaN without sensors)",
                "fr": "erreur quadratique moyenne du modèle face aux capteurs",
            },
            headline=False,
        ),
        KPISpec(
            "sensor_bias_c",
            "°C",
            "neutral",
            {"en": "Bias against sensors", "fr": "Biais face aux capteurs"},
            {
                "en": "mean bias model − sensors (before any correction; NaN without sensors)",
                "fr": "biais moyen du modèle face aux capteurs (avant correction)",
            },
            headline=False,
        ),
    )
    displays = {
        "heat": (
            Display(
                "uhi_max",
                "°C",
                {
                    "en": "Peak heat island intensity",
                    "fr": "Intensité maximale de l'îlot de chaleur",
                },
            ),
            Display(
                "air_temperature_max",
                "°C",
                {"en": "Highest air temperature", "fr": "Température de l'air maximale"},
            ),
            Display(
                "utci_max",
                "°C",
                {
                    "en": "Highest felt temperature (UTCI)",
                    "fr": "Température ressentie maximale (UTCI)",
                },
            ),
            Display(
                "hours_utci_very_strong",
                "h",
                {
                    "en": "Hours of very strong heat stress",
                    "fr": "Heures de très fort stress thermique",
                },
            ),
        ),
        "heat_sites": (
            Display(
                "hours_utci_very_strong_h",
                "h",
                {
                    "en": "Hours of very strong heat stress",
                    "fr": "Heures de très fort stress thermique",
                },
            ),
        ),
    }
    params_model = HeatParams
    notice = {
        "en": NoticeText(
            purpose="Estimate how hot streets, squares and parks get during a heat wave, "
            "where the urban heat island is strongest, which buildings, residents and "
            "sensitive sites (schools, nurseries, care homes, hospitals) are exposed, and how "
            "much trees, green or cool roofs, water and de-sealing would cool them.",
            method="A local-scale urban energy balance of the TARGET family (Broadbent et "
            "al., 2019) on the land-cover grid: for each cell, the shares of roofs, roads, "
            "paving, water, trees and grass, the building height, the street width and the "
            "share of sky seen from the ground ({svf_method}) give surface temperatures "
            "(force-restore), the street-level air temperature and a thermal-comfort index "
            "(UTCI). The weather is {weather}. The heat island is the difference with the rural "
            "reference temperature; exposure counts hours above thresholds next to each "
            "building and site.",
            limits="The air temperature is a neighbourhood (25 m radius) value: it does not "
            "resolve the air of a single street, and there is no wind-driven transport of "
            "heat beyond the neighbourhood; trees are shade and evaporation, not individual "
            "crowns; "
            "building heights and street widths are estimated; the default weather is a "
            "hypothesis, not a forecast. Values are indicative (errors of 1–2 °C are "
            "typical of this model family) and compare scenarios better than they predict "
            "absolute temperatures. No personal data are used: population comes only from "
            "aggregate counts.",
        ),
        "fr": NoticeText(
            purpose="Estimer la chaleur des rues, places et parcs pendant une canicule, "
            "repérer où l'îlot de chaleur urbain est le plus fort, quels bâtiments, habitants "
            "et sites sensibles (écoles, crèches, EHPAD, hôpitaux) y sont exposés, et ce que "
            "des arbres, des toitures végétalisées ou réfléchissantes, de l'eau ou la "
            "désimperméabilisation apporteraient.",
            method="Un bilan d'énergie urbain à l'échelle locale, de la famille du modèle "
            "TARGET (Broadbent et al., 2019), sur la grille d'occupation du sol : pour chaque "
            "maille, les parts de toits, voies, revêtements, eau, arbres et pelouses, la "
            "hauteur des bâtiments, la largeur des rues et la part de ciel vue depuis le sol "
            "({svf_method}) donnent les températures de surface, la température de l'air au "
            "niveau de la rue et un indice de confort thermique (UTCI). La météo est "
            "{weather}. L'îlot de chaleur est l'écart à la température de "
            "référence rurale ; l'exposition compte les heures au-dessus de seuils au pied "
            "de chaque bâtiment et site.",
            limits="La température de l'air est une valeur de voisinage (rayon de 25 m) : "
            "elle ne résout pas l'air d'une seule rue, et la chaleur n'est pas transportée "
            "par le vent au-delà de ce voisinage ; les arbres sont représentés par leur ombre "
            "et leur évaporation, pas arbre par arbre ; hauteurs de bâtiments et largeurs de "
            "rues sont estimées ; la météo par défaut est une hypothèse, pas une prévision. "
            "Les valeurs sont indicatives (erreurs de 1 à 2 °C usuelles pour ce type de "
            "modèle) et comparent des scénarios mieux qu'elles ne prédisent des températures "
            "absolues. Aucune donnée personnelle : la population ne vient que de comptages "
            "agrégés.",
        ),
    }

    def notice_values(self, params: Params, lang: str) -> dict[str, str]:
        """The sky-view method and the weather actually used, in ``lang``."""
        assert isinstance(params, HeatParams)
        fr = lang == "fr"
        if params.svf:
            svf = (
                f"calculée à partir des hauteurs de bâtiments par lancer de rayons dans "
                f"{params.svf_directions} directions sur {params.svf_radius_m:g} m"
                if fr
                else f"computed from building heights by casting rays in "
                f"{params.svf_directions} directions over {params.svf_radius_m:g} m"
            )
        else:
            svf = (
                "déduite du rapport hauteur / largeur des rues"
                if fr
                else "from the street height-to-width ratio"
            )
        if params.forcing_csv:
            weather = (
                f"mesurée (fichier {params.forcing_csv})"
                if fr
                else f"measured data (file {params.forcing_csv})"
            )
        else:
            t = f"{params.tmax_c:g} °C / {params.tmin_c:g} °C, {params.date}"
            weather = (
                f"une journée de canicule par ciel clair SUPPOSÉE ({t}) à la latitude du territoire"
                if fr
                else f"an ASSUMED clear-sky heat-wave day ({t}) at the territory's latitude"
            )
        return {"svf_method": svf, "weather": weather}

    def layer_names(self, params: Params) -> dict[str, str]:
        return {"landcover": params.landcover_layer}  # type: ignore[attr-defined]

    def check(self, twin: Twin, params: Params) -> list[str]:
        problems = super().check(twin, params)
        p: HeatParams = params  # type: ignore[assignment]
        if p.sensors_layer is not None:
            if p.sensors_layer not in twin:
                problems.append(
                    f"heat: no sensor layer '{p.sensors_layer}' — set parameters.heat."
                    "sensors_layer to a series layer, or remove it"
                )
            elif twin.layer(p.sensors_layer).kind != "series":
                problems.append(f"heat: layer '{p.sensors_layer}' is not a series layer")
        if p.population_layer is not None and p.population_layer not in twin:
            problems.append(f"heat: no population layer '{p.population_layer}'")
        return problems

    # -- run ------------------------------------------------------------------------------
    def run(
        self,
        twin: Twin,
        params: HeatParams,
        inputs: dict[str, Layer],
        rng: np.random.Generator,
    ) -> SimResult:
        """Run the heat model on a (scenario) twin."""
        from twin.sims.heat.chunked import simulate_chunked

        lay = twin.layer(params.landcover_layer)
        prov = Provenance(
            source=f"twin layer '{params.landcover_layer}'",
            producer="twin (heat)",
            licence=lay.provenance.licence,
            attribution=lay.provenance.attribution,
        )
        lc = lay.data
        small = max(lc.sizes.get("y", 0), lc.sizes.get("x", 0)) <= params.tile
        if params.population_layer:  # fail before the (long) model run
            _population_layer(twin, params, lay.data)
        surface = surface_from_twin(
            twin,
            params.landcover_layer,
            svf=params.svf and small,  # large grids: ray-cast per tile, with halos
            n_directions=params.svf_directions,
            max_radius_m=params.svf_radius_m,
        )
        prov.step("surface from the land-cover grid (fractions, heights, street widths)")
        lon0, lat0, lon1, lat1 = twin.extent_lonlat
        lat, lon = (lat0 + lat1) / 2, (lon0 + lon1) / 2
        forcing = self._forcing(params, lat, lon, prov)
        offset = float(np.nanmedian(_utc_offset_h(forcing.index, params.timezone)))
        model_params: dict[str, Any] = dict(
            spinup_hours=params.spinup_hours,
            reference_surface=params.reference_surface,
            latitude=lat,
            longitude=lon,
            utc_offset_hours=offset,
        )
        ny, nx = surface.sizes["y"], surface.sizes["x"]
        result = simulate_chunked(
            surface,
            forcing,
            tile=params.tile if not small else max(ny, nx),
            svf=params.svf,
            n_directions=params.svf_directions,
            max_radius_m=params.svf_radius_m,
            **model_params,
        )
        if params.svf:
            prov.step(
                f"sky view factor ray-cast from building heights ({params.svf_directions} "
                f"directions, {params.svf_radius_m:g} m)"
            )
        prov.step(
            f"TARGET-family energy balance on {ny}×{nx} cells, {len(forcing)} time steps "
            f"({params.spinup_hours:g} h of spin-up dropped)"
        )
        if len(result["time"]) == 0:
            msg = message(
                f"no time step left after the {params.spinup_hours:g} h spin-up",
                where="parameters.heat.spinup_hours",
                fix="give a longer forcing or a shorter spin-up",
            )
            raise InputError(msg)
        kpis: list[KPI] = []
        outputs: dict[str, Layer] = {}
        rmse = bias = float("nan")
        if params.sensors_layer is not None:
            result, rmse, bias, stations = self._sensors(twin, params, result, prov)
            outputs["heat_stations"] = Layer("heat_stations", "vector", stations, prov)
        grid, summary, w = self._summaries(result, surface, forcing, params)
        grid.attrs["forcing"] = prov.derived.get("forcing", "")
        outputs["heat"] = Layer("heat", "grid", grid, prov)
        sites, exp_kpis = self._exposure(twin, params, grid, surface, prov)
        outputs["heat_sites"] = Layer("heat_sites", "vector", sites, prov)
        if params.keep_hourly:
            hourly = result[["air_temperature", "utci"]].astype(np.float32)
            outputs["heat_hourly"] = Layer("heat_hourly", "grid", hourly, prov)
        fmt = params.model_dump()
        kpis += [
            self.kpi("uhi_mean_c", summary["uhi_mean"]),
            self.kpi("uhi_max_c", summary["uhi_max"]),
            self.kpi("mean_daytime_air_temperature_c", summary["day_mean"]),
            self.kpi("hours_air_above_threshold", _wmean(grid["hours_air_above"], w), **fmt),
            self.kpi("hours_utci_strong", _wmean(grid["hours_utci_strong"], w), **fmt),
            self.kpi("hours_utci_very_strong", _wmean(grid["hours_utci_very_strong"], w), **fmt),
            *exp_kpis,
            self.kpi("sensor_rmse_c", rmse),
            self.kpi("sensor_bias_c", bias),
        ]
        return SimResult(outputs=outputs, kpis=kpis)

    # -- steps ----------------------------------------------------------------------------
    @staticmethod
    def _forcing(params: HeatParams, lat: float, lon: float, prov: Provenance) -> pd.DataFrame:
        if params.forcing_csv:
            f = read_forcing_csv(params.forcing_csv)
            prov.derived["forcing"] = f"observed forcing from {params.forcing_csv}"
            prov.step(f"forcing read from {params.forcing_csv} ({len(f)} steps)")
            return f
        f = design_day(
            lat,
            lon,
            params.date,
            timezone=params.timezone,
            tmax_c=params.tmax_c,
            tmin_c=params.tmin_c,
            dew_point_c=params.dew_point_c,
            wind_m_s=params.wind_m_s,
            spinup_days=max(math.ceil(params.spinup_hours / 24.0), 0),
        )
        prov.derived["forcing"] = f.attrs["assumed"]
        prov.step("forcing: ASSUMED clear-sky heat-wave design day (no observations given)")
        return f

    @staticmethod
    def _sensors(
        twin: Twin, params: HeatParams, result: xr.Dataset, prov: Provenance
    ) -> tuple[xr.Dataset, float, float, gpd.GeoDataFrame]:
        series = twin.layer(str(params.sensors_layer)).data
        pairs = paired_series(result["air_temperature"], series, params.sensors_variable)
        if pairs.empty:
            msg = message(
                "no sensor observation matches the modelled period and grid",
                where=f"layer '{params.sensors_layer}'",
                fix="check the sensors' positions (inside the land-cover grid) and that the "
                "forcing covers their observation times",
            )
            raise InputError(msg)
        errs = station_errors(pairs)
        err = pairs["model_c"] - pairs["observed_c"]
        rmse = float(np.sqrt((err**2).mean()))
        bias = float(err.mean())
        prov.counts["sensor_pairs"] = len(pairs)
        prov.counts["sensors_outside_grid"] = len(pairs.attrs.get("outside", []))
        prov.step(f"compared with {len(errs)} air-temperature sensors (nearest cell)")
        if params.bias_correction:
            result = correct_bias(result, bias_offset(pairs))
            prov.derived["air_temperature"] = (
                f"bias-corrected: the sensors' mean bias {bias:+.2f} K subtracted everywhere"
            )
        pts = series.points
        rows, cols = station_cells(series, result["air_temperature"])
        stations = gpd.GeoDataFrame(
            errs.reindex([str(i) for i in pts.index]).assign(
                row=rows.to_numpy(), col=cols.to_numpy()
            ),
            geometry=pts.geometry.to_numpy(),
            crs=pts.crs,
            index=pd.Index([str(i) for i in pts.index], name="sensor"),
        )
        return result, rmse, bias, stations

    @staticmethod
    def _summaries(
        result: xr.Dataset, surface: xr.Dataset, forcing: pd.DataFrame, params: HeatParams
    ) -> tuple[xr.Dataset, dict[str, float], np.ndarray]:
        dt_h = ex.step_hours(result)
        ta = result["air_temperature"]
        utci = result["utci"]
        uhi = ex.uhi_intensity(result)
        times = pd.DatetimeIndex(result["time"].to_numpy())
        sun = forcing["shortwave_down"].reindex(times).to_numpy() > 0
        g = xr.Dataset(coords={"y": surface["y"], "x": surface["x"]})
        roof = np.nan_to_num(surface["roof"].to_numpy().astype(float), nan=1.0)
        street = xr.DataArray(roof < params.outdoor_roof_max, dims=("y", "x"))

        def put(name: str, da: xr.DataArray, units: str, long: str, mask: bool = True) -> None:
            da = da.drop_vars([c for c in da.coords if c not in ("y", "x")])
            g[name] = (da.where(street) if mask else da).astype(np.float32)
            g[name].attrs = {"units": units, "long_name": long}
            if mask:
                g[name].attrs["mask"] = (
                    f"street level: cells with roof < {params.outdoor_roof_max:g}"
                )

        put("air_temperature_max", ta.max("time"), "degC", "daily maximum air temperature")
        snap = [k for k, t in enumerate(times) if t.hour == params.report_hour and t.minute == 0]
        if snap:
            put(f"air_temperature_{params.report_hour:02d}h", ta.isel(time=snap[-1]), "degC",
                f"air temperature at {times[snap[-1]]}")  # fmt: skip
        if sun.any():
            put("air_temperature_day_mean", ta.isel(time=np.flatnonzero(sun)).mean("time"),
                "degC", "mean air temperature while the sun is up")  # fmt: skip
        put("uhi_max", uhi.max("time"), "K", "largest UHI intensity (air − rural reference)")
        put("uhi_mean", uhi.mean("time"), "K", "mean UHI intensity over the period")
        put("utci_max", utci.max("time"), "degC", "largest UTCI")
        put("hours_air_above", ex.hours_above(ta, params.air_threshold_c, dt_h), "h",
            f"hours with air temperature ≥ {params.air_threshold_c:g} °C")  # fmt: skip
        put("hours_utci_strong", ex.hours_above(utci, params.utci_strong_c, dt_h), "h",
            f"hours with UTCI ≥ {params.utci_strong_c:g} °C (strong heat stress)")  # fmt: skip
        put("hours_utci_very_strong", ex.hours_above(utci, params.utci_very_strong_c, dt_h),
            "h", f"hours with UTCI ≥ {params.utci_very_strong_c:g} °C (very strong)")  # fmt: skip
        put("surface_temperature_max", result["surface_temperature"].max("time"), "degC",
            "largest plan-area weighted surface temperature, roofs included",
            mask=False)  # fmt: skip
        put("mean_radiant_temperature_max", result["mean_radiant_temperature"].max("time"),
            "degC", "largest mean radiant temperature")  # fmt: skip
        if "sky_view_factor" in surface:
            put("sky_view_factor", surface["sky_view_factor"], "1", "ground-level sky view "
                "factor (ray casting)", mask=False)  # fmt: skip
        g.attrs = {
            "period": f"{times[0]} – {times[-1]}",
            "time_step_h": dt_h,
            "resolution_m": float(surface.attrs.get("resolution_m", 10.0)),
        }
        if surface.rio.crs is not None:
            g = g.rio.write_crs(surface.rio.crs)
        weights = np.where(roof < params.outdoor_roof_max, 1.0 - roof, 0.0)
        uhi_v = uhi.to_numpy()
        outdoor = np.broadcast_to(weights > 0, uhi_v.shape)
        day = ta.isel(time=np.flatnonzero(sun)).mean("time") if sun.any() else ta.mean("time")
        summary: dict[str, float] = {
            "uhi_mean": _wmean(uhi.mean("time"), weights),
            "uhi_max": float(np.nanmax(np.where(outdoor, uhi_v, np.nan)))
            if outdoor.any()
            else float(np.nanmax(uhi_v)),
            "day_mean": _wmean(day, weights),
        }
        return g, summary, weights

    def _exposure(
        self,
        twin: Twin,
        params: HeatParams,
        grid: xr.Dataset,
        surface: xr.Dataset,
        prov: Provenance,
    ) -> tuple[gpd.GeoDataFrame, list[KPI]]:
        roof = surface["roof"].to_numpy()
        fields = {
            "air_temperature_max_c": grid["air_temperature_max"].to_numpy(),
            "utci_max_c": grid["utci_max"].to_numpy(),
            "uhi_max_c": grid["uhi_max"].to_numpy(),
            "hours_air_above_h": grid["hours_air_above"].to_numpy(),
            "hours_utci_strong_h": grid["hours_utci_strong"].to_numpy(),
            "hours_utci_very_strong_h": grid["hours_utci_very_strong"].to_numpy(),
        }
        fields = {
            k: ex.outdoor(v.astype(float), roof, params.outdoor_roof_max) for k, v in fields.items()
        }
        hot = fields["hours_utci_very_strong_h"] >= max(params.exposure_min_hours, 1e-9)
        n_bld = area = float("nan")
        if params.buildings_layer and params.buildings_layer in twin:
            b = twin[params.buildings_layer]
            b = b[b.geom_type.isin(["Polygon", "MultiPolygon"])]
            vals = ex.sample(b, {"hot": hot.astype(float)}, grid)["hot"].to_numpy()
            exposed = vals == 1.0
            n_bld = float(exposed.sum())
            area = float(floor_area_m2(b).to_numpy()[exposed].sum())
            prov.counts["buildings_assessed"] = int(np.isfinite(vals).sum())
        pop = float("nan")
        if params.population_layer:
            player = _population_layer(twin, params, grid)
            per_cell = ex.population_per_cell(player.data, grid)
            pop = float(per_cell[hot].sum())
            prov.step(f"exposed population from the aggregate layer '{params.population_layer}'")
        frames = [
            (n, twin[n])
            for n in (params.amenities_layer, params.buildings_layer)
            if n and n in twin and twin.layer(n).kind == "vector"
        ]
        sites = ex.sensitive_sites(frames)
        if len(sites):
            vals = ex.sample(sites, fields, grid)
            for c in vals.columns:
                sites[c] = vals[c].to_numpy()
            sites["exposed"] = (
                sites["hours_utci_very_strong_h"].fillna(0) >= params.exposure_min_hours
            ) & (sites["hours_utci_very_strong_h"].fillna(0) > 0)
        else:
            for c in fields:
                sites[c] = pd.Series(dtype=float)
            sites["exposed"] = pd.Series(dtype=bool)
        prov.counts["sensitive_sites"] = len(sites)
        fmt = params.model_dump()
        n_sites = float(sites["exposed"].sum()) if len(sites) else 0.0
        kpis = [
            self.kpi("buildings_exposed", n_bld, **fmt),
            self.kpi("floor_area_exposed_m2", area),
            self.kpi("sensitive_sites_exposed", n_sites, **fmt),
        ]
        if params.population_layer:  # without population data there is no such figure
            kpis.insert(2, self.kpi("population_exposed", pop))
        return sites, kpis


def _population_layer(twin: Twin, params: HeatParams, grid: xr.Dataset | xr.DataArray) -> Layer:
    """The aggregate population layer, checked (a grid on the land-cover grid with a
    ``population`` variable, or features with a ``population`` column)."""
    name = str(params.population_layer)
    player = twin.layer(name)
    if player.kind == "grid":
        if "population" not in player.data:
            msg = message(
                f"no 'population' variable (has {list(player.data.data_vars)})",
                where=f"layer '{name}'",
                fix="name the residents-per-cell variable 'population'",
            )
            raise InputError(msg)
        check_same_grid(grid, player.data, f"layer '{name}'")
    elif player.kind != "vector" or "population" not in player.data:
        msg = message(
            "no 'population' column",
            where=f"layer '{name}'",
            fix="give aggregate resident counts in a 'population' column (vector layer) or "
            "variable (grid layer)",
        )
        raise InputError(msg)
    return player


def _wmean(da: xr.DataArray | np.ndarray, w: np.ndarray | float | None) -> float:
    """Weighted mean of a 2-D field, ignoring NaN."""
    v = np.asarray(da, dtype=float)
    ww = np.broadcast_to(np.asarray(w, dtype=float), v.shape)
    ok = np.isfinite(v) & (ww > 0)
    return float((v[ok] * ww[ok]).sum() / ww[ok].sum()) if ok.any() else float("nan")
