"""Units of twin columns, read from their names (units are in column names: ``height_m``,
``power_w``, ``speed_kph``, ``flow_veh_h``, ``temp_c``…)."""

from __future__ import annotations

#: Column-name suffixes and their units, longest first where suffixes overlap.
SUFFIX_UNITS = (
    ("_veh_h", "veh/h"),
    ("_veh_day", "veh/day"),
    ("_ped_day", "ped/day"),
    ("_ug_m3", "µg/m³"),
    ("_mg_m3", "mg/m³"),
    ("_m3_h", "m³/h"),
    ("_w_m2", "W/m²"),
    ("_m_s", "m/s"),
    ("_l_s", "l/s"),
    ("_kph", "km/h"),
    ("_pct", "%"),
    ("_ppm", "ppm"),
    ("_ppb", "ppb"),
    ("_hpa", "hPa"),
    ("_dba", "dB(A)"),
    ("_db", "dB"),
    ("_lux", "lx"),
    ("_mm", "mm"),
    ("_kwh", "kWh"),
    ("_lx", "lx"),
    ("_kw", "kW"),
    ("_w", "W"),
    ("_m2", "m²"),
    ("_km", "km"),
    ("_m", "m"),
    ("_s", "s"),
    ("_h", "h"),
    ("_c", "°C"),
    ("_k", "K"),
    ("_eur", "€"),
)


def unit_of_column(name: str) -> str:
    """The unit a column name declares by its suffix (``""`` when it declares none).

    Examples
    --------
    >>> unit_of_column("height_m"), unit_of_column("flow_veh_h"), unit_of_column("name")
    ('m', 'veh/h', '')
    """
    return next((u for suf, u in SUFFIX_UNITS if name.endswith(suf)), "")


#: Names of the twin's own columns for people (French, English), for legends and tooltips of
#: its layers; a simulation's outputs carry their own labels (their display hints).
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "height_m": {"fr": "Hauteur", "en": "Height"},
    "levels": {"fr": "Niveaux", "en": "Storeys"},
    "floor_area_m2": {"fr": "Surface de plancher", "en": "Floor area"},
    "speed_kph": {"fr": "Vitesse à vide", "en": "Free-flow speed"},
    "free_flow_time_s": {"fr": "Temps de parcours à vide", "en": "Free-flow travel time"},
    "capacity_veh_h": {"fr": "Capacité", "en": "Capacity"},
    "lanes": {"fr": "Voies", "en": "Lanes"},
    "length_m": {"fr": "Longueur", "en": "Length"},
    "power_w": {"fr": "Puissance", "en": "Power"},
    "flux_lm": {"fr": "Flux lumineux", "en": "Luminous flux"},
    "mounting_height_m": {"fr": "Hauteur de feu", "en": "Mounting height"},
}


def column_labels(name: str) -> dict[str, str] | None:
    """The French and English names of a twin column (None for a column without one)."""
    return COLUMN_LABELS.get(name)
