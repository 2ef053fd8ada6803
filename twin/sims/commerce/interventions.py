"""Retail interventions, read by the commerce (and shop-access) simulations."""

from __future__ import annotations

from typing import Literal

import geopandas as gpd
import pandas as pd
from pydantic import Field

from twin.errors import SchemaError, message
from twin.model.layer import Layer
from twin.model.provenance import Provenance
from twin.model.twin import Twin
from twin.sims.interventions import Done, Intervention, InterventionSpec, Target
from twin.sims.targets import area_of, select


class ShoppingCentre(Intervention):
    """A new shopping centre."""

    type: Literal["shopping_centre"]
    location: Target
    floor_area_m2: float = Field(gt=0, le=1e6)
    parking_spaces: int = Field(0, ge=0, le=100_000)


class NewParking(Intervention):
    """A new car park (added to a car-park point layer, created when missing)."""

    type: Literal["new_parking"]
    location: Target = Field(description="Layer of car parks (e.g. car_parks) and a geometry.")
    spaces: int = Field(gt=0, le=100_000, description="Parking spaces.")


class VacancyTax(Intervention):
    """A tax on vacant retail units in an area (rate = share of the rental value per year).

    Its effect on vacancy risk is an ASSUMED elasticity (``commerce.tax_effect``).
    """

    type: Literal["vacancy_tax"]
    target: Target = Field(description="Retail-unit layer and (optionally) an area or filter.")
    rate: float = Field(gt=0, le=1, description="Tax rate, share of the annual rental value.")


def _location_point(twin: Twin, location: Target, where: str, what: str) -> object:
    if location.geometry is None:
        msg = message(
            f"a {what} needs a location geometry",
            where=f"{where}.location",
            fix="give location.geometry as a GeoJSON point or polygon",
        )
        raise SchemaError(msg)
    pt = area_of(twin, location, f"{where}.location").representative_point()
    if location.layer in twin and twin.layer(location.layer).count:
        x0, y0, x1, y1 = twin.layer(location.layer).bounds
        if not (x0 - MARGIN_M <= pt.x <= x1 + MARGIN_M and y0 - MARGIN_M <= pt.y <= y1 + MARGIN_M):
            msg = message(
                f"the {what} lies {_km_from((x0, y0, x1, y1), pt):,.0f} km outside the layer "
                f"'{location.layer}' it is added to: it would change nothing",
                where=f"{where}.location.geometry",
                fix="check the coordinates (longitude first, then latitude) and location.crs",
            )
            raise SchemaError(msg)
    return pt


#: How far outside its layer's extent a new facility may be placed [m].
MARGIN_M = 5000.0


def _km_from(bounds: tuple[float, float, float, float], pt: object) -> float:
    """Distance from a point to a box [km]."""
    x0, y0, x1, y1 = bounds
    dx = max(x0 - pt.x, 0.0, pt.x - x1)  # type: ignore[attr-defined]
    dy = max(y0 - pt.y, 0.0, pt.y - y1)  # type: ignore[attr-defined]
    return float((dx * dx + dy * dy) ** 0.5) / 1000.0


def shopping_centre(twin: Twin, iv: ShoppingCentre, where: str) -> Done:
    """Add the centre as a shop (``shop=mall``) with its floor area and parking."""
    pt = _location_point(twin, iv.location, where, "shopping centre")
    shops_name = iv.location.layer
    shops = twin[shops_name]
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


def new_parking(twin: Twin, iv: NewParking, where: str) -> Done:
    """Add the car park to its point layer (created when the twin has none)."""
    pt = _location_point(twin, iv.location, where, "new car park")
    name = iv.location.layer
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
        prov = Provenance(source=f"scenario intervention {where}", producer="twin (scenario)")
        twin.add(Layer(name, "vector", row, prov))
    return Done(
        f"new car park of {iv.spaces} spaces in '{name}'",
        f"nouveau parc de stationnement de {iv.spaces} places dans « {name} »",
    )


def vacancy_tax(twin: Twin, iv: VacancyTax, where: str) -> Done:
    """Write the tax rate into the target units' ``vacancy_tax_rate``."""
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


INTERVENTIONS = (
    InterventionSpec(ShoppingCentre, shopping_centre),
    InterventionSpec(NewParking, new_parking),
    InterventionSpec(VacancyTax, vacancy_tax),
)

#: The intervention types of this module, read by the commerce simulation.
RETAIL_INTERVENTIONS = tuple(spec.type for spec in INTERVENTIONS)
