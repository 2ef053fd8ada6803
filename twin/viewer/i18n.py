"""Interface texts in French and English."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "scenario": {"fr": "Scénario", "en": "Scenario"},
    "view": {"fr": "Vue", "en": "View"},
    "mode.single": {"fr": "Scénario", "en": "Scenario"},
    "mode.side": {
        "fr": "Côte à côte (parent | scénario)",
        "en": "Side by side (parent | scenario)",
    },
    "mode.diff": {"fr": "Différence (scénario − parent)", "en": "Difference (scenario − parent)"},
    "layers": {"fr": "Couches", "en": "Layers"},
    "layer.buildings": {"fr": "Bâtiments (3D)", "en": "Buildings (3D)"},
    "layer.roads": {"fr": "Voirie", "en": "Roads"},
    "layer.lamps": {"fr": "Éclairage public", "en": "Street lamps"},
    "layer.sensors": {"fr": "Capteurs", "en": "Sensors"},
    "sensors.mean": {"fr": "moyenne dans le temps", "en": "time mean"},
    "layer.results": {"fr": "Résultats", "en": "Results"},
    "layer.grid": {"fr": "Grille", "en": "Grid"},
    "notice": {"fr": "Notice algorithmique", "en": "Algorithm notice"},
    "present": {"fr": "Présentation", "en": "Present"},
    "export.html": {"fr": "Comparaison hors ligne (HTML)", "en": "Offline comparison (HTML)"},
    "colour.buildings": {"fr": "Couleur des bâtiments", "en": "Colour buildings by"},
    "colour.roads": {"fr": "Couleur de la voirie", "en": "Colour roads by"},
    "export.report": {"fr": "Rapport imprimable (A4)", "en": "Printable report (A4)"},
    "chart.title": {
        "fr": "Variation par rapport au parent (%)",
        "en": "Change against the parent (%)",
    },
    "chart.from_zero": {"fr": "de 0 à {value}", "en": "from 0 to {value}"},
    "tip.buildings": {"fr": "Bâtiment", "en": "Building"},
    "tip.roads": {"fr": "Tronçon de voirie", "en": "Road section"},
    "tip.lamps": {"fr": "Lampadaire", "en": "Street lamp"},
    "tip.sensor": {"fr": "Capteur", "en": "Sensor"},
    "tip.results": {"fr": "Résultat", "en": "Result"},
    "tip.time": {"fr": "Pas de temps", "en": "Time step"},
    "tip.scale": {"fr": "Échelle de couleurs", "en": "Colour scale"},
    "tip.obs.one": {"fr": "observation", "en": "observation"},
    "tip.obs.other": {"fr": "observations", "en": "observations"},
    "tip.more.one": {"fr": "autre ici", "en": "more here"},
    "tip.more.other": {"fr": "autres ici", "en": "more here"},
    "tip.colon": {"fr": " : ", "en": ": "},  # French puts a space before a colon
    "wi.title": {"fr": "Éditeur de scénario (what-if)", "en": "What-if editor"},
    "wi.parent": {"fr": "Partir du scénario", "en": "Start from run"},
    "wi.name": {"fr": "Nom du nouveau scénario", "en": "New scenario name"},
    "wi.tool": {"fr": "Outil carte", "en": "Map tool"},
    "wi.tool.none": {"fr": "Naviguer", "en": "Navigate"},
    "wi.tool.close": {"fr": "Fermer une rue (clic)", "en": "Close a street (click)"},
    "wi.tool.draw": {"fr": "Dessiner une zone", "en": "Draw an area"},
    "wi.links": {"fr": "Rues fermées", "en": "Closed streets"},
    "wi.area": {"fr": "Zone dessinée", "en": "Drawn area"},
    "wi.points": {"fr": "{n} point(s) sur la carte", "en": "{n} point(s) on the map"},
    "wi.clear": {"fr": "Effacer la zone", "en": "Clear the area"},
    "wi.kind": {"fr": "Intervention dans la zone", "en": "Intervention in the area"},
    "wi.kind.plant_trees": {"fr": "Plantation d'arbres", "en": "Tree planting"},
    "wi.kind.cool_roofs": {"fr": "Toitures claires", "en": "Cool roofs"},
    "wi.kind.green_roofs": {"fr": "Toitures végétalisées", "en": "Green roofs"},
    "wi.kind.water_surface": {"fr": "Surface en eau", "en": "Water surface"},
    "wi.kind.desealing": {"fr": "Désimperméabilisation", "en": "De-sealing"},
    # the main parameter of each (its name, range and default are the scenario schema's)
    "wi.param.plant_trees": {
        "fr": "Canopée (part du sol libre)",
        "en": "Canopy (share of open ground)",
    },
    "wi.param.cool_roofs": {
        "fr": "Albédo des toits (part du soleil réfléchie)",
        "en": "Roof albedo (share of sunlight reflected)",
    },
    "wi.param.green_roofs": {"fr": "Part des toits végétalisée", "en": "Share of roofs greened"},
    "wi.param.water_surface": {
        "fr": "Part du sol revêtu ou enherbé mise en eau",
        "en": "Share of paved and grass ground turned to water",
    },
    "wi.param.desealing": {
        "fr": "Part du sol revêtu désimperméabilisée",
        "en": "Share of paving removed",
    },
    "wi.lamps": {"fr": "Abaissement : lampadaires", "en": "Dimming: street lamps"},
    "wi.schedule": {
        "fr": "de (HH:MM) · à (HH:MM) · niveau (0–1)",
        "en": "from (HH:MM) · to (HH:MM) · level (0–1)",
    },
    "wi.launch": {"fr": "Lancer le calcul", "en": "Launch the run"},
    "wi.noparent": {"fr": "Choisissez un scénario de départ.", "en": "Pick a run to start from."},
    "job.queued": {"fr": "en attente", "en": "queued"},
    "job.running": {"fr": "en cours", "en": "running"},
    "job.done": {"fr": "terminé", "en": "done"},
    "job.failed": {"fr": "échec", "en": "failed"},
    "kpi.mean_travel_time_s": {"fr": "Temps moyen de parcours", "en": "Mean travel time"},
    "kpi.unreachable_pair_share": {"fr": "Trajets impossibles", "en": "Unreachable trips"},
    "kpi.open_network_km": {"fr": "Réseau ouvert", "en": "Open network"},
    "kpi.shop_mean_access_time_s": {
        "fr": "Accès moyen aux commerces",
        "en": "Mean access to shops",
    },
    "kpi.shops_slow_share": {"fr": "Commerces difficiles d'accès", "en": "Hard-to-reach shops"},
    "kpi.canopy_area_m2": {"fr": "Canopée", "en": "Tree canopy"},
    "kpi.green_share": {"fr": "Part végétalisée", "en": "Green share"},
    "kpi.sealed_share": {"fr": "Part imperméabilisée", "en": "Sealed share"},
    "kpi.water_area_m2": {"fr": "Surface en eau", "en": "Water area"},
    "kpi.mean_roof_albedo": {"fr": "Albédo moyen des toits", "en": "Mean roof albedo"},
    "kpi.green_roof_area_m2": {"fr": "Toitures végétalisées", "en": "Green roofs"},
    "kpi.vehicle_km": {"fr": "Véhicules-km (pointe)", "en": "Vehicle-km (peak)"},
    "kpi.vehicle_hours": {"fr": "Véhicules-heures (pointe)", "en": "Vehicle-hours (peak)"},
    "kpi.delay_h": {"fr": "Retard cumulé", "en": "Total delay"},
    "kpi.co2_kg": {"fr": "CO₂ du trafic (pointe)", "en": "Traffic CO₂ (peak)"},
    "kpi.relative_gap": {"fr": "Écart à l'équilibre", "en": "Equilibrium gap"},
    "kpi.energy_kwh_year": {"fr": "Énergie de l'éclairage", "en": "Lighting energy"},
    "kpi.cost_eur_year": {"fr": "Coût annuel", "en": "Annual cost"},
    "kpi.co2_kg_year": {"fr": "Émissions de CO₂", "en": "CO₂ emissions"},
    "kpi.peak_kw": {"fr": "Puissance de pointe", "en": "Peak power"},
    "kpi.compliance_share": {"fr": "Rues conformes EN 13201", "en": "EN 13201 compliant streets"},
    "kpi.spill_index": {"fr": "Lumière sur la trame noire", "en": "Light on dark corridors"},
    "kpi.retrofit_payback_years": {
        "fr": "Retour sur investissement LED",
        "en": "LED retrofit payback",
    },
}


def tr(lang: str, key: str, default: str | None = None) -> str:
    """The text for ``key`` in ``lang`` (``fr`` or ``en``), else ``default`` or the key."""
    t = TEXTS.get(key)
    if t is None:
        return default if default is not None else key
    return t.get(lang, t["en"])


def tooltip_labels(lang: str) -> dict[str, str]:
    """The words of the map's tooltips in ``lang``, for the renderer (sent with each scenario
    payload): ``lang`` (for the browser's plural rules), the ``tip.*`` texts by their name
    after ``tip.`` (``obs.one``/``obs.other`` the singular and plural), and ``mean`` (a
    sensor's time mean). Data values, ids and units are not translated."""
    out = {"lang": lang if lang in ("fr", "en") else "en", "mean": tr(lang, "sensors.mean")}
    out.update({k.removeprefix("tip."): tr(lang, k) for k in TEXTS if k.startswith("tip.")})
    return out


def kpi_label(lang: str, name: str, description: str) -> str:
    """Short label of a KPI, capitalised: the viewer's own, else (in French) the simulation's
    ``kpi_fr`` description (per-zone KPIs ``name[zone]`` too), else the run's description."""
    return _capital(_kpi_label(lang, name, description))


def _kpi_label(lang: str, name: str, description: str) -> str:
    if f"kpi.{name}" in TEXTS:
        return tr(lang, f"kpi.{name}")
    if lang == "fr":
        from twin.sims.base import registry

        base, _, zone = name.partition("[")
        for sim in registry().values():
            fr = sim.kpi_fr.get(base)
            if fr:
                return f"{fr} — {zone.rstrip(']')}" if zone else fr
    return description


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


#: KPI units that are words, in French (symbols such as kWh, °C or € are the same in both).
UNITS_FR = {
    "buildings": "bâtiments",
    "people": "personnes",
    "units": "locaux",
    "years": "ans",
    "trips": "déplacements",
    "lamps": "points lumineux",
    "shops": "commerces",
    "veh·km": "véh·km",
    "veh·h": "véh·h",
}


def unit_label(lang: str, unit: str) -> str:
    """A KPI's unit in ``lang`` (units are stored in English)."""
    return UNITS_FR.get(unit, unit) if lang == "fr" else unit
