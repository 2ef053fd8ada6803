"""Interface texts in French and English."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "scenario": {"fr": "Scénario", "en": "Scenario"},
    "view": {"fr": "Vue", "en": "View"},
    "mode.single": {"fr": "Scénario", "en": "Scenario"},
    "mode.side": {
        "fr": "Côte à côte (parent | scénario)",
        "en": "Side by side (parent | scenario)",
    },
    "mode.swipe": {
        "fr": "Balayage (parent | scénario sur une carte)",
        "en": "Swipe (parent | scenario on one map)",
    },
    "swipe.handle": {
        "fr": "Ligne de partage : parent à gauche, scénario à droite",
        "en": "Split line: parent on the left, scenario on the right",
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
    "layer.basemap": {"fr": "Fond de carte", "en": "Basemap"},
    # why the basemap named in the twin's manifest is not drawn ({file}: its file name)
    "basemap.missing": {
        "fr": "Fond de carte non affiché : le fichier {file} est introuvable. Remettez-le en "
        "place, ou reconstruisez le jumeau (twin build).",
        "en": "Basemap not shown: the file {file} is missing. Put it back, or rebuild the "
        "twin (twin build).",
    },
    "basemap.changed": {
        "fr": "Fond de carte non affiché : le fichier {file} a changé depuis la construction "
        "du jumeau. Reconstruisez le jumeau (twin build) pour l'utiliser.",
        "en": "Basemap not shown: the file {file} has changed since the twin was built. "
        "Rebuild the twin (twin build) to use it.",
    },
    "basemap.unreadable": {
        "fr": "Fond de carte non affiché : le fichier {file} ne peut pas être lu (le journal "
        "du serveur dit pourquoi).",
        "en": "Basemap not shown: the file {file} cannot be read (the server's log says why).",
    },
    "notice": {"fr": "Notice algorithmique", "en": "Algorithm notice"},
    "present": {"fr": "Présentation", "en": "Present"},
    "against": {"fr": "Comparer avec", "en": "Compare with"},
    "against.parent": {"fr": "Son parent", "en": "Its parent"},
    # what each map shows, written on it (and on its PNG)
    "caption.parent": {"fr": "Référence", "en": "Reference"},
    "caption.scenario": {"fr": "Scénario", "en": "Scenario"},
    "caption.diff": {"fr": "Écart", "en": "Difference"},
    # the camera tools on the map
    "camera.home": {"fr": "Tout le territoire", "en": "Whole territory"},
    "camera.focus": {"fr": "Cadrer l'intervention", "en": "Zoom to the intervention"},
    "camera.north": {"fr": "Nord en haut", "en": "North up"},
    "export.html": {"fr": "Comparaison hors ligne (HTML)", "en": "Offline comparison (HTML)"},
    "colour.buildings": {"fr": "Couleur des bâtiments", "en": "Colour buildings by"},
    "colour.roads": {"fr": "Couleur de la voirie", "en": "Colour roads by"},
    "export.report": {"fr": "Rapport imprimable (A4)", "en": "Printable report (A4)"},
    "result.pick": {"fr": "Résultat affiché", "en": "Result shown"},
    "unit.points": {"fr": "pts", "en": "pts"},
    "legend.flat": {"fr": "partout", "en": "everywhere"},
    "kpi.indicator": {"fr": "Indicateur", "en": "Indicator"},
    "kpi.parent": {"fr": "Parent", "en": "Parent"},
    "kpi.scenario": {"fr": "Scénario", "en": "Scenario"},
    "kpi.change": {"fr": "Écart", "en": "Change"},
    "kpi.verdict": {"fr": "Appréciation", "en": "Better or worse"},
    "kpi.good": {"fr": "mieux", "en": "better"},
    "kpi.bad": {"fr": "moins bien", "en": "worse"},
    "kpi.neutral": {"fr": "", "en": ""},
    "kpi.diagnostics": {
        "fr": "Diagnostics des calculs (convergence, ajustements)",
        "en": "Diagnostics of the methods (convergence, fits)",
    },
    "result.auto": {"fr": "Le premier de chaque type", "en": "The first of each kind"},
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
    "tip.grid": {"fr": "Maille de la grille", "en": "Grid cell"},
    "tip.yes": {"fr": "oui", "en": "yes"},
    "tip.no": {"fr": "non", "en": "no"},
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
    "wi.street": {
        "fr": "▸ Toute la rue : {name} ({n} tronçons)",
        "en": "▸ Whole street: {name} ({n} links)",
    },
    "wi.more": {
        "fr": "… {n} tronçons de plus pour « {search} » : précisez, ou prenez toute la rue",
        "en": "… {n} more links for “{search}”: refine the search, or take the whole street",
    },
    "wi.area": {"fr": "Zone dessinée", "en": "Drawn area"},
    "wi.points": {"fr": "{n} point(s) sur la carte", "en": "{n} point(s) on the map"},
    "wi.clear": {"fr": "Effacer la zone", "en": "Clear the area"},
    "wi.kind": {"fr": "Intervention dans la zone", "en": "Intervention in the area"},
    "wi.lamps": {"fr": "Abaissement : lampadaires", "en": "Dimming: street lamps"},
    "wi.lamps.all": {"fr": "Tous les lampadaires", "en": "All street lamps"},
    "wi.schedule": {
        "fr": "de (HH:MM) · à (HH:MM) · niveau (0–1)",
        "en": "from (HH:MM) · to (HH:MM) · level (0–1)",
    },
    "wi.launch": {"fr": "Lancer le calcul", "en": "Launch the run"},
    "wi.noparent": {"fr": "Choisissez un scénario de départ.", "en": "Pick a run to start from."},
    "report.title": {"fr": "Rapport de comparaison", "en": "Comparison report"},
    "report.kpis": {"fr": "Indicateurs", "en": "Indicators"},
    "report.maps": {"fr": "Cartes", "en": "Maps"},
    "report.notice": {"fr": "Notice algorithmique", "en": "Algorithm notice"},
    "report.parent": {"fr": "Parent", "en": "Parent"},
    "report.scenario": {"fr": "Scénario", "en": "Scenario"},
    "report.diff": {"fr": "Différence (scénario − parent)", "en": "Difference (scenario − parent)"},
    "report.noparent": {
        "fr": "Ce calcul n'a pas de parent dans le magasin : pas de comparaison.",
        "en": "This run has no parent in the store: no comparison.",
    },
    "report.made": {"fr": "Produit le", "en": "Made on"},
    "report.print": {"fr": "Imprimer", "en": "Print"},
    "report.support": {
        "fr": "Aide à la décision : aucun résultat ne décide automatiquement.",
        "en": "Decision support: no result decides anything automatically.",
    },
    # the changes the form will launch, listed before the launch
    "wi.pending": {"fr": "Modifications à lancer", "en": "Changes to launch"},
    "wi.pending.none": {"fr": "Aucune modification pour l'instant", "en": "No change yet"},
    "wi.undo": {"fr": "Retirer cette modification", "en": "Remove this change"},
    "wi.chg.close": {"fr": "Fermer {streets} ({links})", "en": "Close {streets} ({links})"},
    "wi.chg.close_unnamed": {"fr": "Fermer {links}", "en": "Close {links}"},
    "wi.chg.more_streets.one": {"fr": " et {k} autre rue", "en": " and {k} other street"},
    "wi.chg.more_streets.other": {"fr": " et {k} autres rues", "en": " and {k} other streets"},
    "wi.n_links.one": {"fr": "{n} tronçon", "en": "{n} link"},
    "wi.n_links.other": {"fr": "{n} tronçons", "en": "{n} links"},
    "wi.chg.area": {"fr": "Zone dessinée : {what}, {amount}", "en": "Drawn area: {what}, {amount}"},
    "wi.chg.dim": {
        "fr": "Gradation de l'éclairage à {level} de {start} à {end}",
        "en": "Street lamps dimmed to {level} from {start} to {end}",
    },
    # problems of the form, each shown under its field
    "wi.f.dim_start": {"fr": "Début", "en": "From"},
    "wi.f.dim_end": {"fr": "Fin", "en": "To"},
    "wi.f.dim_level": {"fr": "Niveau", "en": "Level"},
    "wi.err.empty": {
        "fr": "Ajoutez au moins une modification : fermer une rue, dessiner une zone ou "
        "graduer l'éclairage",
        "en": "Nothing to launch yet: add at least one change (close a street, draw an area "
        "or dim the street lamps)",
    },
    "wi.err.name_chars": {
        "fr": "Le nom ne peut contenir que des lettres sans accent, des chiffres, « - », « _ » "
        "et « . » (pas d'espace)",
        "en": "The name may only hold letters without accents, digits, “-”, “_” and “.” "
        "(no spaces)",
    },
    "wi.err.name_taken": {
        "fr": "« {name} » est déjà le nom du scénario de départ ou d'un de ses parents : "
        "choisissez-en un autre",
        "en": "“{name}” is already the name of the run started from or of one of its "
        "parents: choose another",
    },
    "wi.err.unknown_links": {
        "fr": "{n} tronçon(s) choisi(s) ne sont pas dans le réseau de voirie : retirez-les et "
        "choisissez dans la liste",
        "en": "{n} link(s) picked are not in the road network: remove them and pick from the list",
    },
    "wi.err.too_many_links": {
        "fr": "Au plus {n} tronçons fermés par scénario",
        "en": "At most {n} closed links per scenario",
    },
    "wi.err.too_many_points": {
        "fr": "Au plus {n} points par zone",
        "en": "At most {n} points per area",
    },
    "wi.err.unknown_kind": {
        "fr": "Intervention inconnue : choisissez-en une dans la liste",
        "en": "Unknown intervention: pick one from the list",
    },
    "wi.err.few_points": {
        "fr": "La zone a besoin d'au moins {n} points : cliquez sur la carte avec l'outil "
        "« Dessiner une zone »",
        "en": "The area needs at least {n} points: click on the map with the “Draw an area” tool",
    },
    "wi.err.between": {"fr": "Entre {low} et {high}", "en": "Between {low} and {high}"},
    "wi.err.time": {
        "fr": "Une heure au format HH:MM, par exemple 22:00",
        "en": "A time as HH:MM, e.g. 22:00",
    },
    "wi.err.same_times": {
        "fr": "L'heure de fin doit différer de l'heure de début",
        "en": "The end time must differ from the start time",
    },
    "wi.err.other": {"fr": "Problème : {text}", "en": "Problem: {text}"},
    "wi.err.wait": {
        "fr": "Un calcul vient d'être lancé depuis ce poste : attendez {s} secondes avant le "
        "suivant",
        "en": "A what-if was launched from here a moment ago: wait {s} seconds before the next",
    },
    "wi.err.busy": {
        "fr": "{n} calculs sont déjà en attente ou en cours : attendez qu'un se termine",
        "en": "{n} what-if runs are already waiting or running: wait for one to finish",
    },
    "job.queued": {"fr": "en attente", "en": "queued"},
    "job.running": {"fr": "en cours", "en": "running"},
    "job.done": {"fr": "terminé", "en": "done"},
    "job.failed": {"fr": "échec", "en": "failed"},
    "job.fail.input": {
        "fr": "Le calcul a échoué : une donnée dont il a besoin manque ou est illisible.",
        "en": "The run failed: a datum it needs is missing or unreadable.",
    },
    "job.fail.schema": {
        "fr": "Le calcul a échoué : le scénario n'est pas valide.",
        "en": "The run failed: the scenario is not valid.",
    },
    "job.fail.store": {
        "fr": "Le calcul a échoué : ses résultats n'ont pas pu être enregistrés.",
        "en": "The run failed: its results could not be written.",
    },
    "job.fail.crash": {
        "fr": "Le calcul s'est arrêté sur une erreur inattendue.",
        "en": "The run stopped on an unexpected error.",
    },
    "job.detail": {
        "fr": "Détail technique (en anglais)",
        "en": "Technical detail",
    },
}


def tr(lang: str, key: str, default: str | None = None) -> str:
    """The text for ``key`` in ``lang`` (``fr`` or ``en``), else ``default`` or the key."""
    t = TEXTS.get(key)
    if t is None:
        return default if default is not None else key
    return t.get(lang, t["en"])


#: The words of Dash's dropdowns (their ``labels`` property), which default to English.
DROPDOWN_WORDS = {
    "select_all": {"fr": "Tout sélectionner", "en": "Select all"},
    "deselect_all": {"fr": "Tout désélectionner", "en": "Deselect all"},
    "selected_count": {"fr": "{num_selected} sélectionné(s)", "en": "{num_selected} selected"},
    "search": {"fr": "Rechercher", "en": "Search"},
    "clear_search": {"fr": "Effacer la recherche", "en": "Clear search"},
    "clear_selection": {"fr": "Effacer la sélection", "en": "Clear selection"},
    "no_options_found": {"fr": "Aucun résultat", "en": "No options found"},
}


def dropdown_labels(lang: str) -> dict[str, str]:
    """The ``labels`` of a Dash dropdown in ``lang`` (search box, select all, no result)."""
    return {k: v.get(lang, v["en"]) for k, v in DROPDOWN_WORDS.items()}


def tooltip_labels(lang: str) -> dict[str, Any]:
    """The words of the map's tooltips and tools in ``lang``, for the renderer (sent with each
    scenario payload): ``lang`` (for the browser's plural rules), the ``tip.*`` texts by their
    name after ``tip.`` (``obs.one``/``obs.other`` the singular and plural), ``mean`` (a
    sensor's time mean), the ``camera.*`` and ``swipe.*`` tools' names, and ``units`` (the
    units the language writes differently, e.g. ``veh/h`` → ``véh/h``). Data values and ids
    are not translated."""
    out: dict[str, Any] = {
        "lang": lang if lang in ("fr", "en") else "en",
        "mean": tr(lang, "sensors.mean"),
    }
    out.update({k.removeprefix("tip."): tr(lang, k) for k in TEXTS if k.startswith("tip.")})
    # the map's tools
    out.update({k: tr(lang, k) for k in TEXTS if k.startswith(("camera.", "swipe."))})
    out["units"] = dict(UNITS_FR) if lang == "fr" else {}  # units the language writes apart
    return out


def kpi_label(lang: str, name: str, row: Any) -> str:
    """Short label of a KPI in ``lang``, capitalised: the label its simulation declared (in
    the run's KPI table, or for runs written before labels were recorded, in the
    simulation's declaration), else its description."""
    label = row.get(f"label_{lang}") if hasattr(row, "get") else None
    if not isinstance(label, str) or not label:
        label = _declared_label(lang, name) or str(row.get("description", name))
    return _capital(label)


def _declared_label(lang: str, name: str) -> str | None:
    from twin.sims.registry import registry

    zone = name.partition("[")[2].rstrip("]")
    for sim in registry().values():
        spec = sim.kpi_spec(name)
        if spec is not None:
            return spec.label[lang] + (f" — {zone}" if zone else "")
    return None


def is_headline(row: Any) -> bool:
    """Whether a KPI row is a headline result (else a diagnostic of the method)."""
    v = row.get("headline", True) if hasattr(row, "get") else True
    return bool(v) if not isinstance(v, str) else v.lower() != "false"


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
    "veh/h": "véh/h",
    "ped/day": "piétons/j",
    "km/day": "km/j",
    "building·h": "bâtiment·h",
    "buses": "nœuds",
    "cabinets": "armoires",
    "elements": "éléments",
    "features": "objets",
    "junctions": "nœuds",
    "lines": "lignes",
    "pipes": "conduites",
    "sites": "sites",
}


def unit_label(lang: str, unit: str) -> str:
    """A KPI's unit in ``lang`` (units are stored in English)."""
    return UNITS_FR.get(unit, unit) if lang == "fr" else unit
