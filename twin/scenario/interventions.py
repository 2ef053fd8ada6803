"""Apply interventions to a copy of a twin. Interventions are data; this module gives them effect.

Every function takes the scenario's own copy of the twin (the parent is never touched),
changes the targeted layer(s), and returns a one-line description for the run's notice.

Road links: ``closed`` (bool), ``capacity_veh_h``, ``lanes``, ``speed_kph`` and
``free_flow_time_s`` columns. Land cover: the fractions of the grid are moved between classes
in proportion to how much of each cell the area covers, so fractions still sum to 1; cool and
green roofs add ``roof_albedo`` and ``green_roof_fraction`` grids. Lamps: ``schedule`` holds a
JSON list of ``[HH:MM, level]`` steps, ``switch_off`` a JSON ``[start, end]`` window.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from twin.errors import SchemaError, message
from twin.model.twin import Twin
from twin.scenario import schema as s
from twin.scenario.targets import area_of, grid_coverage, select
from twin.sims.landcover import DEFAULT_ROOF_ALBEDO

Apply = Callable[[Twin, Any, str], "Done"]
_APPLY: dict[str, Apply] = {}


def _register(kind: str) -> Callable[[Apply], Apply]:
    def deco(fn: Apply) -> Apply:
        _APPLY[kind] = fn
        return fn

    return deco


class Done(str):
    """What an intervention did, in English (the string itself) and in French (``.fr``), for
    the run's manifest and its algorithm notice in either language."""

    fr: str

    def __new__(cls, en: str, fr: str) -> Done:
        out = super().__new__(cls, en)
        out.fr = fr
        return out


def apply_interventions(
    twin: Twin, interventions: list[Any], where: str = "interventions"
) -> list[Done]:
    """Apply interventions in order to ``twin`` (a copy); return what each did (English, with
    the French text in ``.fr``)."""
    done = []
    for i, iv in enumerate(interventions):
        done.append(_APPLY[iv.type](twin, iv, f"{where}[{i}]"))
    return done


# -- roads -----------------------------------------------------------------------------------
def _links(twin: Twin, target: s.Target, where: str) -> tuple[Any, Any]:
    lay = twin.layer(target.layer) if target.layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{target.layer}' is not a network layer",
            where=f"{where}.target.layer",
            fix=f"use one of {[n for n, v in twin.layers.items() if v.kind == 'network']}",
        )
        raise SchemaError(msg)
    links = lay.data.links
    if "closed" not in links:
        links["closed"] = False
    return links, select(twin, target, f"{where}.target")


@_register("close_links")
def _close(twin: Twin, iv: s.CloseLinks, where: str) -> Done:
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = True
    layer = iv.target.layer
    return Done(
        f"closed {len(ids)} links of '{layer}'", f"{len(ids)} tronçons de « {layer} » fermés"
    )


@_register("pedestrianise")
def _pedestrianise(twin: Twin, iv: s.Pedestrianise, where: str) -> Done:
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = True
    if "pedestrian" not in links:
        links["pedestrian"] = False
    links.loc[ids, "pedestrian"] = True
    layer = iv.target.layer
    return Done(
        f"pedestrianised {len(ids)} links of '{layer}' (closed to motor traffic)",
        f"{len(ids)} tronçons de « {layer} » rendus piétons (fermés à la circulation motorisée)",
    )


@_register("open_links")
def _open(twin: Twin, iv: s.OpenLinks, where: str) -> Done:
    links, ids = _links(twin, iv.target, where)
    links.loc[ids, "closed"] = False
    layer = iv.target.layer
    return Done(
        f"reopened {len(ids)} links of '{layer}'", f"{len(ids)} tronçons de « {layer} » rouverts"
    )


@_register("change_links")
def _change(twin: Twin, iv: s.ChangeLinks, where: str) -> Done:
    links, ids = _links(twin, iv.target, where)
    what: list[tuple[str, str]] = []  # (English, French)
    if iv.lanes is not None:
        if "lanes" in links and "capacity_veh_h" in links:
            per_lane = links.loc[ids, "capacity_veh_h"] / links.loc[ids, "lanes"].clip(lower=1)
            links.loc[ids, "capacity_veh_h"] = per_lane * iv.lanes
        links.loc[ids, "lanes"] = float(iv.lanes)
        what.append((f"{iv.lanes} lanes", f"{iv.lanes} voies"))
    if iv.capacity_factor is not None:
        links.loc[ids, "capacity_veh_h"] = links.loc[ids, "capacity_veh_h"] * iv.capacity_factor
        what.append((f"capacity × {iv.capacity_factor:g}", f"capacité × {iv.capacity_factor:g}"))
    if iv.speed_kph is not None:
        links.loc[ids, "speed_kph"] = iv.speed_kph
        links.loc[ids, "free_flow_time_s"] = links.loc[ids, "length_m"] / (iv.speed_kph / 3.6)
        what.append((f"{iv.speed_kph:g} km/h", f"{iv.speed_kph:g} km/h"))
    layer = iv.target.layer
    return Done(
        f"changed {len(ids)} links of '{layer}': {', '.join(w for w, _ in what)}",
        f"{len(ids)} tronçons de « {layer} » modifiés : {', '.join(f for _, f in what)}",
    )


@_register("roadworks")
def _roadworks(twin: Twin, iv: s.Roadworks, where: str) -> Done:
    links, ids = _links(twin, iv.target, where)
    if iv.capacity_factor == 0:
        links.loc[ids, "closed"] = True
    else:
        links.loc[ids, "capacity_veh_h"] = links.loc[ids, "capacity_veh_h"] * iv.capacity_factor
    for col, v in (("works_start", iv.start.isoformat()), ("works_end", iv.end.isoformat())):
        if col not in links:
            links[col] = None
        links.loc[ids, col] = v
    closed = iv.capacity_factor == 0
    effect = "closed" if closed else f"capacity × {iv.capacity_factor:g}"
    effect_fr = "fermés" if closed else f"capacité × {iv.capacity_factor:g}"
    layer = iv.target.layer
    return Done(
        f"roadworks on {len(ids)} links of '{layer}' from {iv.start} to {iv.end} ({effect})",
        f"travaux sur {len(ids)} tronçons de « {layer} » du {iv.start} au {iv.end} ({effect_fr})",
    )


# -- land cover ------------------------------------------------------------------------------
def _grid_and_cover(twin: Twin, target: s.Target, where: str) -> tuple[xr.Dataset, np.ndarray]:
    grids = [n for n, v in twin.layers.items() if v.kind == "grid" and "roof" in v.data]
    if not grids:
        msg = message(
            "the twin has no land-cover grid",
            where=where,
            fix="declare a derived landcover grid in the layer manifest",
        )
        raise SchemaError(msg)
    grid = twin[grids[0]]
    cover = grid_coverage(grid, area_of(twin, target, f"{where}.target"))
    if not cover.any():
        msg = message(
            "the area does not overlap the land-cover grid",
            where=f"{where}.target",
            fix="check the coordinates and their crs",
        )
        raise SchemaError(msg)
    return grid, cover


def _move(grid: xr.Dataset, cover: np.ndarray, share: float, src: list[str], dst: str) -> float:
    """Move ``share × cover`` of the ``src`` classes of each cell to ``dst``; return m² moved."""
    pool = sum(grid[c].to_numpy().astype(np.float64) for c in src)
    moved = pool * cover * share
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(pool > 0, moved / pool, 0.0)
    for c in src:
        grid[c] = grid[c] - (grid[c].to_numpy() * ratio).astype(np.float32)
    grid[dst] = grid[dst] + moved.astype(np.float32)
    res = float(abs(grid.x[1] - grid.x[0]))
    return float(moved.sum() * res * res)


@_register("plant_trees")
def _trees(twin: Twin, iv: s.PlantTrees, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.canopy_fraction, ["concrete", "grass", "irrigated_grass"], "trees")
    return Done(
        f"planted trees: {m2:,.0f} m² of canopy over open ground",
        f"arbres plantés : {m2:,.0f} m² de canopée sur le sol libre",
    )


@_register("green_area")
def _green(twin: Twin, iv: s.GreenArea, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    dst = "irrigated_grass" if iv.irrigated else "grass"
    m2 = _move(grid, cover, iv.fraction, ["concrete"], dst)
    kind_fr = {"irrigated_grass": "pelouse arrosée", "grass": "pelouse"}.get(dst, dst)
    return Done(
        f"green area: {m2:,.0f} m² of paving turned to {dst.replace('_', ' ')}",
        f"espace vert : {m2:,.0f} m² de revêtement transformés en {kind_fr}",
    )


@_register("desealing")
def _deseal(twin: Twin, iv: s.Desealing, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.fraction, ["concrete"], "grass")
    return Done(
        f"de-sealing: {m2:,.0f} m² of paving removed",
        f"désimperméabilisation : {m2:,.0f} m² de revêtement retirés",
    )


@_register("water_surface")
def _water(twin: Twin, iv: s.WaterSurface, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    m2 = _move(grid, cover, iv.fraction, ["concrete", "grass"], "water")
    return Done(f"water surface: {m2:,.0f} m² created", f"plan d'eau : {m2:,.0f} m² créés")


@_register("cool_roofs")
def _cool(twin: Twin, iv: s.CoolRoofs, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    if "roof_albedo" not in grid:
        grid["roof_albedo"] = xr.full_like(grid["roof"], DEFAULT_ROOF_ALBEDO)
        grid["roof_albedo"].attrs["note"] = f"ASSUMED {DEFAULT_ROOF_ALBEDO} before cool roofs"
    grid["roof_albedo"] = grid["roof_albedo"] + ((iv.albedo - grid["roof_albedo"]) * cover).astype(
        np.float32
    )
    res = float(abs(grid.x[1] - grid.x[0]))
    m2 = float((grid["roof"].to_numpy() * cover).sum() * res * res)
    return Done(
        f"cool roofs: albedo {iv.albedo:g} on {m2:,.0f} m² of roofs",
        f"toitures fraîches : albédo {iv.albedo:g} sur {m2:,.0f} m² de toits",
    )


@_register("green_roofs")
def _green_roofs(twin: Twin, iv: s.GreenRoofs, where: str) -> Done:
    grid, cover = _grid_and_cover(twin, iv.target, where)
    if "green_roof_fraction" not in grid:
        grid["green_roof_fraction"] = xr.zeros_like(grid["roof"])
    add = grid["roof"].to_numpy() * cover * iv.fraction
    grid["green_roof_fraction"] = grid["green_roof_fraction"] + add.astype(np.float32)
    res = float(abs(grid.x[1] - grid.x[0]))
    m2 = add.sum() * res * res
    return Done(
        f"green roofs: {m2:,.0f} m² of roofs vegetated",
        f"toitures végétalisées : {m2:,.0f} m² de toits végétalisés",
    )


# -- lighting --------------------------------------------------------------------------------
def _lamps(twin: Twin, target: s.Target, where: str) -> tuple[Any, Any]:
    frame = twin.layer(target.layer).data if target.layer in twin else None
    ids = select(twin, target, f"{where}.target")
    if frame is None or "power_w" not in frame:
        msg = message(
            f"'{target.layer}' is not a street-lighting inventory",
            where=f"{where}.target.layer",
            fix="target a layer loaded with lighting.inventory or osm.street_lamps",
        )
        raise SchemaError(msg)
    return frame, ids


@_register("dimming_schedule")
def _dim(twin: Twin, iv: s.DimmingSchedule, where: str) -> Done:
    lamps, ids = _lamps(twin, iv.target, where)
    steps = [[st.start.strftime("%H:%M"), st.level] for st in iv.schedule]
    lamps.loc[ids, "schedule"] = json.dumps(steps)
    return Done(
        f"dimming schedule {steps} on {len(ids)} lamps",
        f"programme de gradation {steps} sur {len(ids)} points lumineux",
    )


@_register("switch_off")
def _off(twin: Twin, iv: s.SwitchOff, where: str) -> Done:
    lamps, ids = _lamps(twin, iv.target, where)
    if "switch_off" not in lamps:
        lamps["switch_off"] = None
    window = [iv.start.strftime("%H:%M"), iv.end.strftime("%H:%M")]
    lamps.loc[ids, "switch_off"] = json.dumps(window)
    return Done(
        f"switched off {len(ids)} lamps from {window[0]} to {window[1]}",
        f"{len(ids)} points lumineux éteints de {window[0]} à {window[1]}",
    )


@_register("led_retrofit")
def _led(twin: Twin, iv: s.LedRetrofit, where: str) -> Done:
    lamps, ids = _lamps(twin, iv.target, where)
    old = lamps.loc[ids, "power_w"].astype(float)
    new = (
        old * iv.power_factor
        if iv.power_factor is not None
        else (iv.power_w if iv.power_w is not None else old * 0.4)
    )
    if "power_w_before" not in lamps:
        lamps["power_w_before"] = lamps["power_w"].astype(float)
    lamps.loc[ids, "power_w"] = new
    lamps.loc[ids, "lamp_technology"] = "led"
    if "retrofit_cost_eur" not in lamps:
        lamps["retrofit_cost_eur"] = 0.0
    lamps.loc[ids, "retrofit_cost_eur"] = iv.cost_eur_per_lamp
    given = bool(iv.power_factor or iv.power_w)
    rule = "" if given else " (ASSUMED 40 % of old power)"
    rule_fr = "" if given else " (HYPOTHÈSE : 40 % de l'ancienne puissance)"
    kw = f"{old.sum() / 1e3:,.1f} kW → {float(np.sum(new)) / 1e3:,.1f} kW"
    return Done(
        f"LED retrofit of {len(ids)} lamps: {kw}{rule}",
        f"passage en LED de {len(ids)} points lumineux : {kw}{rule_fr}",
    )


# -- commerce and networks -------------------------------------------------------------------
@_register("shopping_centre")
def _mall(twin: Twin, iv: s.ShoppingCentre, where: str) -> Done:
    import geopandas as gpd
    import pandas as pd

    if iv.location.geometry is None:
        msg = message(
            "a shopping centre needs a location geometry",
            where=f"{where}.location",
            fix="give location.geometry as a GeoJSON point",
        )
        raise SchemaError(msg)
    shops_name = iv.location.layer
    shops = twin[shops_name]
    area = area_of(twin, iv.location, f"{where}.location")
    pt = area.representative_point()
    row = gpd.GeoDataFrame(
        {
            "shop": ["mall"],
            "name": [iv.label or "new shopping centre"],
            "floor_area_m2": [iv.floor_area_m2],
            "parking_spaces": [iv.parking_spaces],
            "vacant": [False],
        },
        geometry=[pt],
        crs=shops.crs,
        index=pd.Index([f"scenario/{where}"], name=shops.index.name),
    )
    twin.layer(shops_name).data = pd.concat([shops, row])
    return Done(
        f"new shopping centre of {iv.floor_area_m2:,.0f} m² in '{shops_name}'",
        f"nouveau centre commercial de {iv.floor_area_m2:,.0f} m² dans « {shops_name} »",
    )


@_register("new_parking")
def _parking(twin: Twin, iv: s.NewParking, where: str) -> Done:
    import geopandas as gpd
    import pandas as pd

    if iv.location.geometry is None:
        msg = message(
            "a new car park needs a location geometry",
            where=f"{where}.location",
            fix="give location.geometry as a GeoJSON point or polygon",
        )
        raise SchemaError(msg)
    name = iv.location.layer
    pt = area_of(twin, iv.location, f"{where}.location").representative_point()
    row = gpd.GeoDataFrame(
        {"name": [iv.label or "new car park"], "spaces": [float(iv.spaces)]},
        geometry=[pt],
        crs=twin.crs,
        index=pd.Index([f"scenario/{where}"], name="id"),
    )
    if name in twin:
        lay = twin.layer(name)
        if lay.kind != "vector":
            msg = message(
                f"'{name}' is a {lay.kind} layer, not a car-park point layer",
                where=f"{where}.location.layer",
                fix="name a point layer of car parks (created if missing), e.g. car_parks",
            )
            raise SchemaError(msg)
        lay.data = pd.concat([lay.data, row.to_crs(lay.data.crs)])
    else:
        from twin.model.layer import Layer
        from twin.model.provenance import Provenance

        prov = Provenance(source=f"scenario intervention {where}", producer="twin (scenario)")
        twin.add(Layer(name, "vector", row, prov))
    return Done(
        f"new car park of {iv.spaces} spaces in '{name}'",
        f"nouveau parc de stationnement de {iv.spaces} places dans « {name} »",
    )


@_register("vacancy_tax")
def _vacancy_tax(twin: Twin, iv: s.VacancyTax, where: str) -> Done:
    ids = select(twin, iv.target, f"{where}.target")
    units = twin[iv.target.layer]
    if "vacancy_tax_rate" not in units:
        units["vacancy_tax_rate"] = 0.0
    units.loc[ids, "vacancy_tax_rate"] = iv.rate
    layer = iv.target.layer
    return Done(
        f"vacancy tax of {iv.rate:.0%} of the rental value on {len(ids)} units of "
        f"'{layer}' (effect on vacancy risk ASSUMED)",
        f"taxe sur les locaux vacants de {iv.rate:.0%} de la valeur locative sur {len(ids)} "
        f"locaux de « {layer} » (effet sur le risque de vacance : HYPOTHÈSE)",
    )


def _network_status(
    twin: Twin, target: s.Target, where: str, table: str, col: str, value: Any
) -> int:
    lay = twin.layer(target.layer) if target.layer in twin else None
    if lay is None or lay.kind != "network":
        msg = message(
            f"'{target.layer}' is not a network layer",
            where=f"{where}.target",
            fix="target a water or energy network layer",
        )
        raise SchemaError(msg)
    frame = getattr(lay.data, table)
    if table == "nodes":
        wanted = [str(i) for i in (target.ids or [])]
        ids = frame.index[frame.index.astype(str).isin(wanted)]
        if not wanted or len(ids) != len(wanted):
            msg = message(
                "give existing node ids under target.ids",
                where=f"{where}.target",
                fix=f"use ids such as {frame.index[:3].astype(str).tolist()}",
            )
            raise SchemaError(msg)
    else:
        ids = select(twin, target, f"{where}.target")
    frame[col] = frame[col] if col in frame else (True if value is False else "Open")
    frame.loc[ids, col] = value
    return len(ids)


@_register("pipe_break")
def _pipe(twin: Twin, iv: s.PipeBreak, where: str) -> Done:
    n = _network_status(twin, iv.target, where, "links", "status", "Closed")
    layer = iv.target.layer
    return Done(
        f"pipe break: {n} pipes closed in '{layer}'",
        f"casse de canalisation : {n} conduites fermées dans « {layer} »",
    )


@_register("substation_outage")
def _substation(twin: Twin, iv: s.SubstationOutage, where: str) -> Done:
    n = _network_status(twin, iv.target, where, "nodes", "in_service", False)
    layer = iv.target.layer
    return Done(
        f"substation outage: {n} nodes out of service in '{layer}'",
        f"panne de poste : {n} nœuds hors service dans « {layer} »",
    )
