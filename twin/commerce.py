"""Commercial vacancy, the public facade: Huff / MCI market shares and their fitting.

>>> import numpy as np
>>> from twin import commerce
>>> p = commerce.huff(["a"], ["s1", "s2"], attractiveness=[1.0, 4.0], cost=[[1.0, 2.0]])
>>> p.round(3).to_dict("records")
[{'s1': 0.5, 's2': 0.5}]

Functions
---------
huff
    Huff probabilities origins × stores (numba; power or exponential distance decay).
huff_demand
    Expected demand per store ``Σ_i w_i·P_ij`` without materialising the matrix.
market_shares
    Aggregate shares (or demand) of each store from a probability matrix.
fit_huff, HuffFit
    MCI (log-centring + OLS) and maximum-likelihood fits on observed local shares.
shares_from_flows
    Observed flows → local shares and origin totals.
read_survey
    Field-survey CSV of retail units (format in ``docs/survey-format.md``).
units_from_osm, merge_units, add_survey
    Retail units with their survey history (matching by id, address, position).
vacancy_timeseries, vacancy_rates, vacancy_report
    Vacancy rate per survey date, by street and zone; the observatory's tidy table.
export_for_field
    GeoPackage + CSV for field teams (the CSV is itself a survey sheet).
import_surveys, export_units, units_report
    The same workflow on a twin directory (``twin observatory``).
footfall, calibrate_on_counters
    Pedestrian footfall on the walk network (gravity trips loaded on shortest paths), scaled
    to pedestrian counters.
fit_logit, calibrate, vacancy_risk
    The vacancy-risk logistic model (IRLS), its calibration on observed vacancy, its use.
"""

from __future__ import annotations

from twin.io.retail import read_survey
from twin.sims.commerce.footfall import calibrate_on_counters, footfall
from twin.sims.commerce.huff import (
    DECAYS,
    HuffFit,
    fit_huff,
    huff,
    huff_demand,
    market_shares,
    shares_from_flows,
)
from twin.sims.commerce.observatory import export_for_field, vacancy_report
from twin.sims.commerce.twin_units import export_units, import_surveys, units_report
from twin.sims.commerce.units import (
    add_survey,
    merge_units,
    units_from_osm,
    vacancy_rates,
    vacancy_timeseries,
)
from twin.sims.commerce.vacancy import calibrate, fit_logit, vacancy_risk

__all__ = [
    "DECAYS",
    "HuffFit",
    "add_survey",
    "calibrate",
    "calibrate_on_counters",
    "export_for_field",
    "export_units",
    "fit_huff",
    "fit_logit",
    "footfall",
    "huff",
    "huff_demand",
    "import_surveys",
    "market_shares",
    "merge_units",
    "read_survey",
    "shares_from_flows",
    "units_from_osm",
    "units_report",
    "vacancy_rates",
    "vacancy_report",
    "vacancy_risk",
    "vacancy_timeseries",
]
