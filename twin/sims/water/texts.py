"""What the water simulation declares, once: its KPIs, display hints and notice (EN/FR)."""

from __future__ import annotations

from twin.sims.base import Display, KPISpec, NoticeText

KPIS = (
    KPISpec(
        "volume_not_delivered_m3",
        "m³",
        "lower",
        {"en": "Water not delivered", "fr": "Eau non distribuée"},
        {
            "en": "volume of the expected demand the network could not deliver over the period",
            "fr": "volume de la demande attendue que le réseau n'a pas pu distribuer sur la "
            "période",
        },
    ),
    KPISpec(
        "volume_not_delivered_share",
        "1",
        "lower",
        {"en": "Share not delivered", "fr": "Part non distribuée"},
        {
            "en": "share of the expected demand not delivered over the period",
            "fr": "part de la demande attendue non distribuée sur la période",
        },
    ),
    KPISpec(
        "junctions_below_service",
        "junctions",
        "lower",
        {"en": "Junctions below service pressure", "fr": "Nœuds sous la pression de service"},
        {
            "en": "demand junctions below {service_pressure_m:g} m of pressure at some time",
            "fr": "nœuds de consommation sous {service_pressure_m:g} m de pression à un moment",
        },
    ),
    KPISpec(
        "junctions_without_water",
        "junctions",
        "lower",
        {"en": "Junctions without water", "fr": "Nœuds privés d'eau"},
        {
            "en": "demand junctions receiving under 1 % of their demand at some time",
            "fr": "nœuds de consommation recevant moins de 1 % de leur demande à un moment",
        },
    ),
    KPISpec(
        "buildings_without_water",
        "buildings",
        "lower",
        {"en": "Buildings without water", "fr": "Bâtiments privés d'eau"},
        {
            "en": "buildings whose junction (nearest within {max_join_m:g} m) is without "
            "water at some time",
            "fr": "bâtiments dont le nœud (le plus proche à moins de {max_join_m:g} m) est "
            "privé d'eau à un moment",
        },
    ),
    KPISpec(
        "building_hours_without_water",
        "building·h",
        "lower",
        {"en": "Building-hours without water", "fr": "Bâtiments-heures sans eau"},
        {
            "en": "sum over buildings of the hours without water",
            "fr": "somme sur les bâtiments des heures sans eau",
        },
    ),
    KPISpec(
        "worst_deficit_h",
        "h",
        "lower",
        {"en": "Longest outage", "fr": "Plus longue coupure"},
        {
            "en": "longest continuous time a demand junction is without water",
            "fr": "plus longue durée continue pendant laquelle un nœud de consommation est "
            "privé d'eau",
        },
    ),
    KPISpec(
        "leak_volume_m3",
        "m³",
        "lower",
        {"en": "Water lost in leaks", "fr": "Eau perdue en fuites"},
        {
            "en": "volume lost through the modelled leak orifices",
            "fr": "volume perdu par les orifices de fuite modélisés",
        },
        headline=False,
    ),
)

#: KPIs of the N-1 connectivity sweep (every pipe's break, its valve segment shut).
CRITICALITY_KPIS = (
    KPISpec(
        "pipes_cutting_supply",
        "pipes",
        "lower",
        {"en": "Breaks that cut junctions off", "fr": "Casses qui coupent des nœuds"},
        {
            "en": "pipes whose break (valve segment shut) leaves demand junctions with no path "
            "to a reservoir or tank",
            "fr": "canalisations dont la casse (segment de vannes fermé) laisse des nœuds de "
            "consommation sans chemin vers un réservoir",
        },
        headline=False,
    ),
    KPISpec(
        "worst_break_demand_l_s",
        "L/s",
        "lower",
        {"en": "Worst single break", "fr": "Pire casse simple"},
        {
            "en": "base demand cut off by the single pipe break that cuts off the most",
            "fr": "demande de base coupée par la casse simple la plus pénalisante",
        },
    ),
)

DISPLAYS = {
    "water_junctions": (
        Display("min_pressure_m", "m", {"en": "Lowest pressure", "fr": "Pression minimale"}),
        Display(
            "served_fraction",
            "1",
            {"en": "Share of demand served", "fr": "Part de la demande servie"},
        ),
        Display(
            "not_delivered_m3",
            "m³",
            {"en": "Water not delivered", "fr": "Eau non distribuée"},
        ),
        Display(
            "hours_below_service_h",
            "h",
            {"en": "Hours below service pressure", "fr": "Heures sous la pression de service"},
        ),
        Display("pressure_m", "m", {"en": "Pressure", "fr": "Pression"}),
    ),
    "water_pipes": (
        Display("max_abs_flow_m3s", "m³/s", {"en": "Largest flow", "fr": "Débit maximal"}),
        Display(
            "shut_by_event",
            "-",
            {"en": "Shut by an event", "fr": "Fermée par un événement"},
            "categorical",
        ),
    ),
    "water_criticality": (
        Display(
            "demand_cut_l_s",
            "L/s",
            {"en": "Demand cut off by its break", "fr": "Demande coupée par sa casse"},
        ),
        Display(
            "junctions_cut",
            "junctions",
            {"en": "Junctions cut off by its break", "fr": "Nœuds coupés par sa casse"},
        ),
    ),
    "water_buildings": (
        Display(
            "hours_without_water_h",
            "h",
            {"en": "Hours without water", "fr": "Heures sans eau"},
        ),
    ),
}

NOTICE = {
    "en": NoticeText(
        purpose="Estimate how well the drinking-water network serves its customers over "
        "{period} — pressures, water delivered, junctions and buildings without water and "
        "for how long — before and after pipe breaks, valve closures, pump or source "
        "outages and demand changes.",
        method="Extended-period hydraulics of the EPANET model with EPANET 2.2 (through "
        "WNTR) every {hydraulic_timestep_s} s, with pressure-dependent demand (Wagner et al. "
        "1988): a junction gets all its demand above {required_pressure_m:g} m of pressure, "
        "none below {minimum_pressure_m:g} m, and ((p − pmin)/(preq − pmin))^"
        "{pressure_exponent:g} of it in between. Events are EPANET time controls; a "
        "break that is isolated shuts its valve segment (Walski 1993), the valves being "
        "those of the valve layer or, failing it, placed by WNTR ({valve_strategy}, "
        "n = {valve_n}). Service pressure: {service_pressure_m:g} m. Each building is "
        "served by the nearest demand junction within {max_join_m:g} m.",
        limits="The pressures required for service, the valve positions when not given and "
        "the building-to-junction rule are assumptions (ASSUMED); leaks are orifices "
        "(discharge coefficient 0.75) at mid-pipe; tank and pump controls of the file are "
        "kept as they are; water quality, fire flows and customer storage are not modelled. "
        "The results support, and never replace, the utility's own hydraulic studies.",
    ),
    "fr": NoticeText(
        purpose="Estimer la qualité de service du réseau d'eau potable sur {period} — "
        "pressions, eau distribuée, nœuds et bâtiments privés d'eau et pour combien de "
        "temps — avant et après des casses de conduite, fermetures de vanne, pannes de "
        "pompe ou de ressource et variations de la demande.",
        method="Hydraulique en période étendue du modèle EPANET avec EPANET 2.2 (via WNTR) "
        "toutes les {hydraulic_timestep_s} s, avec une demande dépendant de la pression "
        "(Wagner et al. 1988) : un nœud reçoit toute sa demande au-dessus de "
        "{required_pressure_m:g} m de pression, rien sous {minimum_pressure_m:g} m, et "
        "((p − pmin)/(preq − pmin))^{pressure_exponent:g} de celle-ci entre les deux. Les "
        "événements sont des commandes horaires EPANET ; une casse isolée ferme son tronçon "
        "entre vannes (Walski 1993), les vannes étant celles de la couche de vannes ou, à "
        "défaut, placées par WNTR ({valve_strategy}, n = {valve_n}). Pression de service : "
        "{service_pressure_m:g} m. Chaque bâtiment est desservi par le nœud de consommation "
        "le plus proche à moins de {max_join_m:g} m.",
        limits="Les pressions requises pour le service, la position des vannes quand elle "
        "n'est pas fournie et la règle de rattachement des bâtiments sont des hypothèses "
        "(HYPOTHÈSES) ; les fuites sont des orifices (coefficient de débit 0,75) à "
        "mi-conduite ; les commandes de réservoirs et de pompes du fichier sont conservées ; "
        "qualité de l'eau, débits d'incendie et stockage chez l'abonné ne sont pas modélisés. "
        "Les résultats éclairent, sans les remplacer, les études hydrauliques de "
        "l'exploitant.",
    ),
}
