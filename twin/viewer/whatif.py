"""The what-if editor's server side: turn validated form values into a scenario.

The browser sends plain values only: a parent run id (looked up in the run store), road link
ids (checked against the roads network) or road indices picked on the map (mapped to ids
here), polygon vertices in longitude/latitude with the intervention the area carries (one of
:func:`area_interventions`) and its main parameter, a lamp group and schedule times. The scenario
is assembled here and validated by :class:`twin.scenario.schema.Scenario`; its errors are
shown in the page. No file-system path ever comes from the browser.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.scenario.schema import Scenario
from twin.viewer.i18n import tr


def area_interventions() -> dict[str, Any]:
    """The interventions the area drawn in the editor can carry: type → model, those whose
    target is an area and that declare a title and a main parameter (``amount``) in their
    domain package. Ranges and defaults are the models' (:func:`area_parameter`)."""
    from twin.sims.interventions import AreaTarget, intervention_registry

    return {
        kind: spec.model
        for kind, spec in intervention_registry().items()
        if spec.model.amount is not None
        and spec.model.title
        and spec.model.model_fields.get("target") is not None
        and spec.model.model_fields["target"].annotation is AreaTarget
    }


#: Simulations the editor adds, in this order of preference, when the parent runs none that
#: reads an intervention (the quickest that report its effect); which simulations read an
#: intervention is their own declaration (``Simulation.consumes``).
QUICK_SIMULATIONS = ("accessibility", "landcover", "lighting")


def readers(kind: str) -> list[str]:
    """The simulations that read intervention ``kind``, the quickest first."""
    from twin.sims.registry import registry

    found = [n for n, c in registry().items() if kind in c.consumes]
    return sorted(
        found,
        key=lambda n: (
            n not in QUICK_SIMULATIONS,
            QUICK_SIMULATIONS.index(n) if n in QUICK_SIMULATIONS else 0,
            n,
        ),
    )


#: Most closed links or area corners one form may send.
MAX_ITEMS = 2000
#: Lamp columns offered as groups (zones, cabinets, circuits), first ones first.
LAMP_GROUPS = ("zone", "lighting_zone", "cabinet", "circuit")


def roads_layer(t: Twin) -> str | None:
    """Name of the road network the viewer draws (the one closures apply to)."""
    return next((n for n in ("roads", "streets") if n in t and t.layer(n).kind == "network"), None)


def lamps_layer(t: Twin) -> str | None:
    """Name of the street lamp layer, if any."""
    return next((n for n in ("street_lamps", "street_lights") if n in t), None)


def lamp_groups(t: Twin) -> list[tuple[str, str, str]]:
    """Lamp groups to pick from: (value, column, group value); ``all`` first."""
    name = lamps_layer(t)
    if name is None:
        return []
    lamps = t[name]
    out = [("all", "", "")]
    for col in LAMP_GROUPS:
        if col in lamps:
            for v in sorted(lamps[col].dropna().astype(str).unique())[:200]:
                out.append((f"{col}={v}", col, v))
    return out


#: Value prefix of a whole-street option (every directed link of the street by that name).
STREET = "street:"
#: Value of the (disabled) line saying how many matching links are not listed.
MORE = "more:"
#: Whole streets offered first for a search.
MAX_STREETS = 5


def link_options(
    t: Twin, search: str = "", limit: int = 50, lang: str = "en"
) -> list[dict[str, Any]]:
    """Dropdown options for a search on name or id: the whole streets whose name matches
    (all their directed links, however many); when more than ``limit`` links match, a
    disabled line saying how many are not listed; then single links up to ``limit``."""
    name = roads_layer(t)
    if name is None:
        return []
    links = t[name].links
    label = _link_labels(links)
    if search:
        hit = label.str.contains(re.escape(search), case=False, regex=True)
        label = label[hit.to_numpy()]
    out: list[dict[str, Any]] = []
    if search and "name" in links:
        names = links.loc[label.index, "name"].dropna().astype(str)
        for street, n in names.value_counts().head(MAX_STREETS).items():
            text = tr(lang, "wi.street").format(name=street, n=n)
            out.append({"label": text, "value": f"{STREET}{street}"})
    if len(label) > limit:  # said before the list, where it is seen
        # the dropdown filters its options by the search text too: the line repeats it
        more = tr(lang, "wi.more").format(n=len(label) - limit, search=search)
        out.append({"label": more, "value": MORE, "disabled": True})
    return out + [{"label": lab, "value": str(i)} for i, lab in label.head(limit).items()]


def expand_streets(t: Twin, values: list[str]) -> list[str]:
    """The link ids of a selection, whole streets (``street:<name>``) replaced by all their
    directed links; order kept, duplicates and empty values dropped."""
    name = roads_layer(t)
    links = t[name].links if name is not None else None
    out: list[str] = []
    for v in values:
        if v.startswith(STREET) and links is not None and "name" in links:
            out += links.index[links["name"].astype(str) == v[len(STREET) :]].astype(str).tolist()
        elif v and v != MORE:
            out.append(v)
    return list(dict.fromkeys(out))


def link_options_for(t: Twin, ids: list[str]) -> list[dict[str, str]]:
    """Dropdown options of the given link ids (unknown ids are dropped)."""
    name = roads_layer(t)
    if name is None or not ids:
        return []
    links = t[name].links
    known = [i for i in ids if i in links.index]
    label = _link_labels(links.loc[known])
    return [{"label": lab, "value": str(i)} for i, lab in label.items()]


def _link_labels(links: Any) -> Any:
    names = links["name"].fillna("") if "name" in links else None
    ids = links.index.astype(str).to_series(index=links.index)
    return ids if names is None else (names.astype(str) + " · " + ids).str.lstrip(" ·")


def link_ids_from_indices(t: Twin, indices: list[int]) -> list[str]:
    """Road link ids for indices into the drawn road layer (the viewer's payload order)."""
    name = roads_layer(t)
    if name is None:
        return []
    links = t[name].links
    out = []
    for i in indices:
        if isinstance(i, (int, np.integer)) and 0 <= int(i) < len(links):
            out.append(str(links.index[int(i)]))
    return out


def link_indices(t: Twin, ids: list[str]) -> list[int]:
    """Positions of link ids in the drawn road layer (to highlight them on the map)."""
    name = roads_layer(t)
    if name is None or not ids:
        return []
    pos = t[name].links.index.astype(str).get_indexer([str(i) for i in ids])
    return [int(p) for p in pos if p >= 0]


@dataclass(frozen=True)
class AreaParameter:
    """The main parameter of an area intervention, as the scenario schema defines it.

    Attributes
    ----------
    name : str
        The parameter's name in the schema (``canopy_fraction``, ``albedo``, ``fraction``).
    default : float
        The schema's default [-].
    low, high : float
        The valid range, bounds included [-].
    """

    name: str
    default: float
    low: float
    high: float


def area_parameter(kind: str) -> AreaParameter:
    """The main parameter of the area intervention ``kind`` (a key of
    :func:`area_interventions`), read from the scenario schema's field."""
    model = area_interventions()[kind]
    name = model.amount.field
    f = model.model_fields[name]
    low = next((float(m.ge) for m in f.metadata if getattr(m, "ge", None) is not None), -math.inf)
    high = next((float(m.le) for m in f.metadata if getattr(m, "le", None) is not None), math.inf)
    return AreaParameter(name, float(f.default), low, high)


def _area_label(kind: str, v: float) -> str:
    """The free-text label of an area intervention (shown in reports), from its declared
    main parameter."""
    what = area_interventions()[kind].amount.describe.format(v=v)
    return f"{what} in the area drawn in the editor"


@dataclass
class Form:
    """The editor's form values, as received from the browser.

    Attributes
    ----------
    parent : str
        Parent run id.
    name : str
        Scenario name (letters, digits, ``_ . -``).
    links : list of str
        Road link ids to close.
    polygon : list of [lon, lat]
        Vertices of the area drawn (WGS 84), at least 3.
    area_type : str
        The intervention the area carries, a key of :func:`area_interventions`.
    area_value : float or None
        Its main parameter (see :func:`area_parameter`): canopy share of the open ground,
        roof albedo, share of the roofs, of the paved and grass ground, or of the paving
        [0–1]; ``None`` for the schema's default.
    lamp_group : str or None
        ``all``, ``<column>=<value>``, or ``None`` for no dimming.
    dim_start, dim_end : str
        Dimming window (HH:MM).
    dim_level : float
        Power level during the window [0–1].
    """

    parent: str | None
    name: str = ""
    links: list[str] = field(default_factory=list)
    polygon: list[list[float]] = field(default_factory=list)
    area_type: str = "plant_trees"
    area_value: float | None = None
    lamp_group: str | None = None
    dim_start: str = "22:00"
    dim_end: str = "05:30"
    dim_level: float = 0.5


def interventions(t: Twin, f: Form) -> list[dict[str, Any]]:
    """The interventions the form describes (plain dicts, validated later by the schema)."""
    out: list[dict[str, Any]] = []
    roads = roads_layer(t)
    if f.links and roads is not None:
        n = len(f.links)
        out.append(
            {
                "type": "close_links",
                "label": f"{n} street link(s) closed in the editor",
                "target": {"layer": roads, "ids": [str(i) for i in f.links]},
            }
        )
    if f.polygon and f.area_type in area_interventions():
        ring = [[float(x), float(y)] for x, y in f.polygon]
        if ring and ring[0] != ring[-1]:
            ring.append(ring[0])
        layer = "landcover" if "landcover" in t else next(iter(t.layers), "landcover")
        par = area_parameter(f.area_type)
        value = par.default if f.area_value is None else float(f.area_value)
        out.append(
            {
                "type": f.area_type,
                "label": _area_label(f.area_type, value),
                "target": {"layer": layer, "geometry": {"type": "Polygon", "coordinates": [ring]}},
                par.name: value,
            }
        )
    lamps = lamps_layer(t)
    if f.lamp_group and lamps is not None:
        target: dict[str, Any] = {"layer": lamps}
        if f.lamp_group != "all":
            col, _, val = f.lamp_group.partition("=")
            target["where"] = {col: val}
        out.append(
            {
                "type": "dimming_schedule",
                "label": f"{f.dim_level:.0%} from {f.dim_start} to {f.dim_end} ({f.lamp_group})",
                "target": target,
                "schedule": [
                    {"start": f.dim_start, "level": f.dim_level},
                    {"start": f.dim_end, "level": 1.0},
                ],
            }
        )
    return out


def build_scenario(
    t: Twin, parent: Scenario, chain: dict[str, Scenario], f: Form
) -> tuple[Scenario, dict[str, Scenario]]:
    """Validate the form into a child scenario of ``parent``; return it and its library.

    The child keeps the parent's simulations, parameters and seed (so the parent run is
    reused from the cache) and adds the simulations its interventions need.

    Raises
    ------
    SchemaError
        One message listing every problem (schema paths, unknown link ids, empty form).
    """
    ivs = interventions(t, f)
    problems = []
    if not ivs:
        problems.append(
            "  - interventions: add at least one (close a street, draw an area, or dim lamps)"
        )
    name = f.name.strip() or "whatif"
    if name in chain:
        problems.append(f"  - name: '{name}' is already used by the parent chain; choose another")
    roads = roads_layer(t)
    if f.links and roads is not None:
        have = set(t[roads].links.index.astype(str))
        bad = [i for i in f.links if str(i) not in have]
        if bad:
            problems.append(f"  - interventions.close_links.target.ids: unknown links {bad[:5]}")
    if len(f.links) > MAX_ITEMS or len(f.polygon) > MAX_ITEMS:
        problems.append(f"  - at most {MAX_ITEMS} closed links and {MAX_ITEMS} area corners")
    # the area's intervention and its parameter, checked here to name them as the form does
    # (the schema's own message on the same field is then left out)
    area_field = ""
    if f.polygon and f.area_type not in area_interventions():
        problems.append(
            f"  - area: unknown intervention {f.area_type!r}; use one of "
            f"{list(area_interventions())}"
        )
    elif f.polygon:
        par = area_parameter(f.area_type)
        if len(f.polygon) < 3:
            problems.append(
                f"  - {f.area_type}: the area needs at least 3 points (click on the map)"
            )
        v = par.default if f.area_value is None else float(f.area_value)
        if not par.low <= v <= par.high:
            problems.append(
                f"  - {f.area_type}.{par.name}: must be between {par.low:g} and {par.high:g}"
                f" (got {v:g})"
            )
            k = next(i for i, iv in enumerate(ivs) if iv["type"] == f.area_type)
            area_field = f"  - interventions[{k}].{par.name}:"
    sims = list(parent.simulations)
    for iv in ivs:
        family = readers(iv["type"])
        if not any(s in sims for s in family):
            sims.append(family[0])
    data = {
        "name": name,
        "title": name,
        "parent": parent.name,
        "description": "Built in the viewer's what-if editor.",
        "seed": parent.seed,
        "interventions": ivs,
        "simulations": sims,
        "parameters": json.loads(json.dumps(parent.parameters)),
        "kpis": [],
    }
    try:
        sc = Scenario.from_dict(data, where="what-if editor")
    except SchemaError as exc:
        problems += [
            ln
            for ln in str(exc).splitlines()
            if ln.startswith("  - ") and not (area_field and ln.startswith(area_field))
        ]
    if problems:
        msg = (
            f"what-if editor: {len(problems)} problem(s):\n"
            + "\n".join(problems)
            + "\nFix: correct the form and launch again."
        )
        raise SchemaError(msg)
    return sc, {**chain, sc.name: sc}


def parent_chain(manifests: dict[str, dict[str, Any]], parent_id: str) -> dict[str, Scenario]:
    """The scenarios of a parent run and of its ancestors, by name, from run manifests."""
    if parent_id not in manifests:
        msg = message(f"unknown parent run '{parent_id}'", where="what-if editor", fix="pick one")
        raise SchemaError(msg)
    by_name: dict[str, dict[str, Any]] = {}
    for m in manifests.values():
        by_name.setdefault(m["scenario"]["name"], m["scenario"])
    out: dict[str, Scenario] = {}
    cur: dict[str, Any] | None = manifests[parent_id]["scenario"]
    while cur is not None and cur["name"] not in out:
        out[cur["name"]] = Scenario.from_dict(cur, where=f"run of '{cur['name']}'")
        cur = by_name.get(cur.get("parent") or "")
    return out
