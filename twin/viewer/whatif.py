"""The what-if editor's server side: turn validated form values into a scenario.

The browser sends plain values only: a parent run id (looked up in the run store), road link
ids (checked against the roads network) or road indices picked on the map (mapped to ids
here), polygon vertices in longitude/latitude with the intervention the area carries (one of
:func:`area_interventions`) and its main parameter, a lamp group and schedule times. The scenario
is assembled here and validated by :class:`twin.scenario.schema.Scenario`; its problems are
tied to the fields of the form (:mod:`twin.viewer.problems`) and shown under them. The
changes the form will launch are listed in plain words (:func:`pending`) from the same
interventions. No file-system path ever comes from the browser.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from twin.errors import FormError, SchemaError, message, validation_problems
from twin.model.twin import Twin
from twin.scenario.schema import Scenario, field_path, scenario_model
from twin.sims.interventions import intervention_registry
from twin.sims.lighting.interventions import ScheduleStep
from twin.viewer.i18n import tr
from twin.viewer.problems import Problem, english, value_text


def area_interventions() -> dict[str, Any]:
    """The interventions the area drawn in the editor can carry: type → model, those whose
    target is an area and that declare a title and a main parameter (``amount``) in their
    domain package. Ranges and defaults are the models' (:func:`area_parameter`)."""
    from twin.sims.interventions import AreaTarget

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
    low, high = field_bounds(model, name)
    return AreaParameter(name, float(model.model_fields[name].default), low, high)


def field_bounds(model: type[BaseModel], name: str) -> tuple[float, float]:
    """The bounds (``ge``, ``le``) a model declares for a field, infinite when it has none."""
    f = model.model_fields[name]
    low = next((float(m.ge) for m in f.metadata if getattr(m, "ge", None) is not None), -math.inf)
    high = next((float(m.le) for m in f.metadata if getattr(m, "le", None) is not None), math.inf)
    return low, high


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


#: The parts of the form an intervention comes from (what its undo clears): the closed
#: streets, the drawn area, the dimming of the lamps.
PARTS = ("links", "area", "lamps")


def form_changes(t: Twin, f: Form) -> list[tuple[str, dict[str, Any]]]:
    """The interventions the form describes (plain dicts, validated later by the schema),
    each with the part of the form it comes from (one of :data:`PARTS`)."""
    built = (("links", _closure(t, f)), ("area", _area(t, f)), ("lamps", _dimming(t, f)))
    return [(part, iv) for part, iv in built if iv is not None]


def interventions(t: Twin, f: Form) -> list[dict[str, Any]]:
    """The interventions the form describes (plain dicts, validated later by the schema)."""
    return [iv for _, iv in form_changes(t, f)]


def _closure(t: Twin, f: Form) -> dict[str, Any] | None:
    roads = roads_layer(t)
    if not f.links or roads is None:
        return None
    return {
        "type": "close_links",
        "label": f"{len(f.links)} street link(s) closed in the editor",
        "target": {"layer": roads, "ids": [str(i) for i in f.links]},
    }


def _area(t: Twin, f: Form) -> dict[str, Any] | None:
    if not f.polygon or f.area_type not in area_interventions():
        return None
    ring = [[float(x), float(y)] for x, y in f.polygon]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    layer = "landcover" if "landcover" in t else next(iter(t.layers), "landcover")
    par = area_parameter(f.area_type)
    value = par.default if f.area_value is None else float(f.area_value)
    return {
        "type": f.area_type,
        "label": _area_label(f.area_type, value),
        "target": {"layer": layer, "geometry": {"type": "Polygon", "coordinates": [ring]}},
        par.name: value,
    }


def _dimming(t: Twin, f: Form) -> dict[str, Any] | None:
    lamps = lamps_layer(t)
    if not f.lamp_group or lamps is None:
        return None
    target: dict[str, Any] = {"layer": lamps}
    if f.lamp_group != "all":
        col, _, val = f.lamp_group.partition("=")
        target["where"] = {col: val}
    return {
        "type": "dimming_schedule",
        "label": f"{f.dim_level:.0%} from {f.dim_start} to {f.dim_end} ({f.lamp_group})",
        "target": target,
        "schedule": [
            {"start": f.dim_start, "level": f.dim_level},
            {"start": f.dim_end, "level": 1.0},
        ],
    }


@dataclass(frozen=True)
class Change:
    """A change the form will launch, as the editor lists it before the launch.

    Attributes
    ----------
    part : str
        The part of the form it comes from (one of :data:`PARTS`): what its undo clears.
    text : str
        The change in plain words in the interface language.
    """

    part: str
    text: str


def pending(t: Twin, f: Form, lang: str) -> list[Change]:
    """The changes the form will launch, in ``lang``: the interventions of
    :func:`form_changes` in plain words (the street names and how many links are closed,
    the area's intervention and its parameter, the dimming level and hours)."""
    return [Change(part, describe(t, iv, lang)) for part, iv in form_changes(t, f)]


def describe(t: Twin, iv: dict[str, Any], lang: str) -> str:
    """One intervention of :func:`interventions` in plain words in ``lang``."""
    kind = iv["type"]
    if kind == "close_links":
        return _describe_closure(t, list(iv["target"]["ids"]), lang)
    if kind == "dimming_schedule":
        first = iv["schedule"][0]
        text = tr(lang, "wi.chg.dim").format(
            level=value_text(float(first["level"]), ".0%", lang),
            start=first["start"],
            end=iv["schedule"][1]["start"],
        )
        where = iv["target"].get("where") or {}
        return text + "".join(f" ({col} = {val})" for col, val in where.items())
    model = area_interventions()[kind]
    par = area_parameter(kind)
    title = model.title.get(lang, model.title.get("en", kind))
    return tr(lang, "wi.chg.area").format(
        what=title[:1].lower() + title[1:],
        amount=value_text(float(iv[par.name]), amount_spec(kind), lang),
    )


#: Street names a closure lists before saying how many more.
MAX_NAMES = 3


def _describe_closure(t: Twin, ids: list[str], lang: str) -> str:
    """The closure of the links ``ids`` in words: the names of their streets (those with the
    most links first) and how many links."""
    name = roads_layer(t)
    links = t[name].links if name is not None else None
    n = len(ids)
    count = tr(lang, "wi.n_links.one" if n == 1 else "wi.n_links.other").format(n=n)
    names: list[str] = []
    if links is not None and "name" in links:
        known = links.loc[links.index.astype(str).isin(ids), "name"].dropna().astype(str)
        names = [str(s) for s in known[known != ""].value_counts().index]
    if not names:
        return tr(lang, "wi.chg.close_unnamed").format(links=count)
    streets = ", ".join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        k = len(names) - MAX_NAMES
        streets += tr(lang, f"wi.chg.more_streets.{'one' if k == 1 else 'other'}").format(k=k)
    return tr(lang, "wi.chg.close").format(streets=streets, links=count)


def amount_spec(kind: str) -> str:
    """The number format of an area intervention's main parameter, as its domain declares it
    (``.0%``: a share written as a percentage; ``g``: a plain number)."""
    found = re.search(r"\{v:([^}]*)\}", area_interventions()[kind].amount.describe)
    return found.group(1) if found else "g"


#: Fewest corners of the drawn area.
MIN_POINTS = 3


def build_scenario(
    t: Twin, parent: Scenario, chain: dict[str, Scenario], f: Form
) -> tuple[Scenario, dict[str, Scenario]]:
    """Validate the form into a child scenario of ``parent``; return it and its library.

    The child keeps the parent's simulations, parameters and seed (so the parent run is
    reused from the cache) and adds the simulations its interventions need.

    Raises
    ------
    FormError
        A :class:`~twin.errors.SchemaError` listing every problem in English (schema paths,
        unknown link ids, empty form), with the problems one by one in ``problems``
        (:class:`~twin.viewer.problems.Problem`: the field of the form, the message).
    """
    changes = form_changes(t, f)
    name = f.name.strip() or "whatif"
    problems = form_problems(t, f, name, chain, empty=not changes)
    sims = list(parent.simulations)
    for _, iv in changes:
        family = readers(iv["type"])
        if not any(s in sims for s in family):
            sims.append(family[0])
    data = {
        "name": name,
        "title": name,
        "parent": parent.name,
        "description": "Built in the viewer's what-if editor.",
        "seed": parent.seed,
        "interventions": [iv for _, iv in changes],
        "simulations": sims,
        "parameters": json.loads(json.dumps(parent.parameters)),
        "kpis": [],
    }
    try:
        sc: Scenario = scenario_model().model_validate(data)
    except ValidationError as exc:
        # a field already reported by the form's own checks is not reported twice
        have = {p.field for p in problems}
        parts = [part for part, _ in changes]
        for e in exc.errors():
            p = schema_problem(e, parts, f.area_type)
            if p.field not in have and not (not e["loc"] and "name" in have):
                problems.append(p)
    if problems:
        raise FormError(english(problems), problems)
    return sc, {**chain, sc.name: sc}


def form_problems(
    t: Twin, f: Form, name: str, chain: dict[str, Scenario], *, empty: bool
) -> list[Problem]:
    """The form's own checks, before the scenario schema's: something to launch, a name not
    taken, known links, not too many items, a known area intervention with enough corners
    and its parameter within the declared bounds."""
    out: list[Problem] = []
    if empty:
        text = "interventions: add at least one (close a street, draw an area, or dim lamps)"
        out.append(Problem("changes", "wi.err.empty", {}, text))
    if name in chain:
        text = f"name: '{name}' is already used by the parent chain; choose another"
        out.append(Problem("name", "wi.err.name_taken", {"name": name}, text))
    roads = roads_layer(t)
    if f.links and roads is not None:
        have = set(t[roads].links.index.astype(str))
        bad = [i for i in f.links if str(i) not in have]
        if bad:
            text = f"interventions.close_links.target.ids: unknown links {bad[:5]}"
            out.append(Problem("links", "wi.err.unknown_links", {"n": len(bad)}, text))
    if len(f.links) > MAX_ITEMS:
        text = f"at most {MAX_ITEMS} closed links"
        out.append(Problem("links", "wi.err.too_many_links", {"n": MAX_ITEMS}, text))
    if len(f.polygon) > MAX_ITEMS:
        text = f"at most {MAX_ITEMS} area corners"
        out.append(Problem("area", "wi.err.too_many_points", {"n": MAX_ITEMS}, text))
    if f.polygon and f.area_type not in area_interventions():
        text = (
            f"area: unknown intervention {f.area_type!r}; use one of {list(area_interventions())}"
        )
        out.append(Problem("kind", "wi.err.unknown_kind", {}, text))
    elif f.polygon:
        out += _area_problems(f)
    return out


def _area_problems(f: Form) -> list[Problem]:
    """The drawn area's corners and its parameter against the declared bounds."""
    out: list[Problem] = []
    par = area_parameter(f.area_type)
    if len(f.polygon) < MIN_POINTS:
        text = f"{f.area_type}: the area needs at least {MIN_POINTS} points (click on the map)"
        out.append(Problem("area", "wi.err.few_points", {"n": MIN_POINTS}, text))
    v = par.default if f.area_value is None else float(f.area_value)
    if not par.low <= v <= par.high:
        text = f"{f.area_type}.{par.name}: must be between {par.low:g} and {par.high:g} (got {v:g})"
        bounds = {"low": par.low, "high": par.high, "spec": amount_spec(f.area_type)}
        out.append(Problem("amount", "wi.err.between", bounds, text))
    return out


def schema_problem(e: Mapping[str, Any], parts: list[str], area_type: str) -> Problem:
    """A problem of the scenario schema (one error of pydantic's validation) under the field
    of the form it comes from; ``parts``: the part of the form of each intervention
    (:func:`form_changes`). An error no field of the form explains goes to the general area
    with the schema's words, so that nothing is lost."""
    loc = tuple(e["loc"])
    text = validation_problems([e], loc=field_path, tag="intervention type")[0]
    if loc == ("name",) and e["type"] == "string_pattern_mismatch":
        return Problem("name", "wi.err.name_chars", {}, text)
    k = loc[1] if len(loc) > 1 and loc[0] == "interventions" else None
    part = parts[k] if isinstance(k, int) and 0 <= k < len(parts) else None
    rest = [x for x in loc[2:] if x not in intervention_registry()]  # the tag pydantic adds
    if part == "lamps" and rest[:1] == ["schedule"]:
        if len(rest) == 3 and rest[2] == "start":
            return Problem("dim_start" if rest[1] == 0 else "dim_end", "wi.err.time", {}, text)
        if len(rest) == 3 and rest[2] == "level":
            low, high = field_bounds(ScheduleStep, "level")
            return Problem("dim_level", "wi.err.between", {"low": low, "high": high}, text)
        if len(rest) == 1:  # the two times are the same
            return Problem("dim_end", "wi.err.same_times", {}, text)
    if part == "area" and area_type in area_interventions():
        par = area_parameter(area_type)
        if rest == [par.name]:
            bounds = {"low": par.low, "high": par.high, "spec": amount_spec(area_type)}
            return Problem("amount", "wi.err.between", bounds, text)
    return Problem("form", "wi.err.other", {"text": text}, text)


def parent_chain(manifests: dict[str, dict[str, Any]], parent_id: str) -> dict[str, Scenario]:
    """The scenarios of a parent run and of its ancestors, by name, from run manifests."""
    if parent_id not in manifests:
        msg = message(f"unknown parent run '{parent_id}'", where="what-if editor", fix="pick one")
        raise SchemaError(msg)
    by_name: dict[str, dict[str, Any]] = {}
    # an ancestor is the scenario as written, rather than a run of it again with more
    # simulations to compare a what-if with (same interventions and parent, another title)
    for m in sorted(manifests.values(), key=lambda m: "rerun" in m):
        by_name.setdefault(m["scenario"]["name"], m["scenario"])
    out: dict[str, Scenario] = {}
    cur: dict[str, Any] | None = manifests[parent_id]["scenario"]
    while cur is not None and cur["name"] not in out:
        out[cur["name"]] = Scenario.from_dict(cur, where=f"run of '{cur['name']}'")
        cur = by_name.get(cur.get("parent") or "")
    return out
