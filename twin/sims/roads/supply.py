"""Link capacities and free-flow speeds for street centre-lines without a road class.

French municipal centre-line databases (e.g. Montpellier's ``VilleMTP_MTP_FilaireVoies``) have
no usable hierarchy (Montpellier's ``HIERARCHIE`` is empty on all but one arc) but give the
street type ``TYPVOI`` (RUE, AV, BD, …) and the road owner ``DOMANIALIT``. This module maps
them to three ASSUMED classes, recorded in the returned ``derived`` rules:

========  =====================================================  ==========  ==============
class     rule                                                   speed       capacity
========  =====================================================  ==========  ==============
major     TYPVOI in BD, AV, RTE, QUAI, PONT, AUTO, TUN, or a     50 km/h     1,200 veh/h
          departmental / metropolitan road (DOMANIALIT)
minor     TYPVOI in IMP, ALL, PASS, SQUA, PARC, PARK, ESPA, or   20 km/h       300 veh/h
          a private road (DOMANIALIT Privée / Domaine Privé)
local     every other street (RUE, PL, CHEM, RDPT, …)            30 km/h       600 veh/h
========  =====================================================  ==========  ==============

Capacities are per direction (one link), orders of magnitude of one urban lane at signalised
junctions (HCM-like saturation flow 1,800 veh/h × green share ≈ 0.35–0.65); speeds are
average running speeds below the 50 km/h limit. All ASSUMED, to be replaced by local
knowledge; the calibration against counts (:mod:`twin.sims.traffic.calibrate`) shows how
far they go.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAJOR_TYPES = {"BD", "AV", "RTE", "QUAI", "PONT", "AUTO", "TUN"}
MINOR_TYPES = {"IMP", "ALL", "PASS", "SQUA", "PARC", "PARK", "ESPA"}
CLASSES = {  # class: (speed [km/h], capacity [veh/h per direction]) — ASSUMED
    "major": (50.0, 1200.0),
    "local": (30.0, 600.0),
    "minor": (20.0, 300.0),
}


def centreline_supply(
    links: pd.DataFrame, *, type_field: str = "TYPVOI", owner_field: str = "DOMANIALIT"
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Road class, capacity and free-flow time of each centre-line link.

    Parameters
    ----------
    links : DataFrame
        Network links with ``length_m`` and, if present, the street type and owner fields.
    type_field, owner_field : str
        Field names of the street type and of the road owner.

    Returns
    -------
    supply : DataFrame
        On the links' index: ``road_class``, ``speed_kmh``, ``capacity_veh_h``,
        ``free_flow_time_s``.
    derived : dict
        ``{field: rule}`` for provenance.
    """
    kind = links.get(type_field, pd.Series("", index=links.index)).fillna("").astype(str)
    owner = links.get(owner_field, pd.Series("", index=links.index)).fillna("").astype(str)
    owner = owner.str.lower()
    major = kind.str.upper().isin(MAJOR_TYPES) | owner.str.contains("départementale|communautaire")
    minor = kind.str.upper().isin(MINOR_TYPES) | owner.str.contains("privé")
    road_class = np.where(major, "major", np.where(minor, "minor", "local"))
    speed = np.array([CLASSES[c][0] for c in road_class])
    cap = np.array([CLASSES[c][1] for c in road_class])
    length = links["length_m"].to_numpy(float)
    out = pd.DataFrame(
        {
            "road_class": road_class,
            "speed_kmh": speed,
            "capacity_veh_h": cap,
            "free_flow_time_s": np.maximum(length, 1.0) / (speed / 3.6),
        },
        index=links.index,
    )
    rule = ", ".join(f"{k} {v[0]:g} km/h {v[1]:g} veh/h" for k, v in CLASSES.items())
    derived = {
        "road_class": f"ASSUMED from {type_field} and {owner_field} (twin.sims.roads.supply)",
        "capacity_veh_h": f"ASSUMED per class and direction: {rule}",
        "free_flow_time_s": "length_m / class speed (ASSUMED), at least 1 m",
    }
    return out, derived
