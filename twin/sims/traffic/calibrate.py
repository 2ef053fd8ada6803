"""Calibration report of modelled link flows against traffic counts.

For each count site the GEH statistic (Geoffrey E. Havers)

    GEH = √(2·(M − C)² / (M + C))

compares the modelled hourly flow ``M`` with the count ``C`` [veh/h]; the usual guideline
(UK DMRB TAG M3.1) asks GEH < 5 on at least 85 % of sites. The report also gives R² (the
squared Pearson correlation of model and counts), the slope of the regression of counts on
the model through the origin (1 = no bias), and the least-squares demand scaling factor

    k = Σ M·C / Σ M²

that minimises ``Σ (k·M − C)²`` — exact if flows were proportional to demand; with congestion
they are not, so :func:`calibrate_demand` re-assigns the scaled demand and reports again.

Counts at several directions of the same site (street arc) are summed: the model's flows on
the arc's links (both directions) are summed the same way.

References
----------
Highways England (2020). *Design Manual for Roads and Bridges* / UK DfT *TAG unit M3.1*
Highway assignment modelling, §3.3 (GEH and validation criteria).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.model.layer import SensorSeries
from twin.sims.traffic.assign import AssignmentResult, assign


def geh(model: np.ndarray | pd.Series, count: np.ndarray | pd.Series) -> np.ndarray:
    """GEH statistic of hourly flows [veh/h] (0 where both are 0)."""
    m = np.asarray(model, dtype=float)
    c = np.asarray(count, dtype=float)
    s = m + c
    return np.sqrt(np.divide(2.0 * (m - c) ** 2, s, out=np.zeros_like(s), where=s > 0))


@dataclass
class CountReport:
    """Model against counts.

    Attributes
    ----------
    sites : DataFrame
        Per site: ``count``, ``model`` [veh/h], ``geh``.
    n : int
        Sites compared.
    share_geh_below_5 : float
        Share of sites with GEH < 5 [-].
    r2 : float
        Squared correlation of model and counts [-].
    slope : float
        Regression of counts on model through the origin, ``Σ M·C / Σ M²`` [-]; this is also
        the least-squares demand scaling factor.
    mean_geh : float
        Mean GEH [-].
    """

    sites: pd.DataFrame
    n: int
    share_geh_below_5: float
    r2: float
    slope: float
    mean_geh: float

    @property
    def scale(self) -> float:
        """Least-squares demand scaling factor ``Σ M·C / Σ M²`` [-]."""
        return self.slope

    def summary(self) -> str:
        """One line: n, share GEH < 5, R², slope."""
        return (
            f"{self.n} sites, GEH<5 on {100 * self.share_geh_below_5:.1f} %, mean GEH "
            f"{self.mean_geh:.1f}, R² {self.r2:.3f}, slope {self.slope:.3f}"
        )


def compare_counts(model: pd.Series, counts: pd.Series) -> CountReport:
    """Compare modelled flows with counts, both indexed by site id [veh/h].

    Sites missing from either side, or with a missing count, are left out.

    Raises
    ------
    InputError
        If no site is common to both.
    """
    df = pd.DataFrame({"count": counts.astype(float)}).join(
        model.astype(float).rename("model"), how="inner"
    )
    df = df.dropna()
    if df.empty:
        msg = message(
            "no count site matches a modelled link",
            where="compare_counts(model, counts)",
            fix="index both by the same site ids (e.g. the street arc id)",
        )
        raise InputError(msg)
    m, c = df["model"].to_numpy(), df["count"].to_numpy()
    df["geh"] = geh(m, c)
    mm = float(m @ m)
    slope = float(m @ c) / mm if mm > 0 else float("nan")
    r2 = float(np.corrcoef(m, c)[0, 1] ** 2) if len(df) > 1 and m.std() > 0 else float("nan")
    return CountReport(
        sites=df,
        n=len(df),
        share_geh_below_5=float((df["geh"] < 5).mean()),
        r2=r2,
        slope=slope,
        mean_geh=float(df["geh"].mean()),
    )


def site_flows(flow: pd.Series, link_site: pd.Series) -> pd.Series:
    """Sum link flows per count site (``link_site``: site id of each link, NaN if none)."""
    s = link_site.reindex(flow.index)
    return flow[s.notna()].groupby(s[s.notna()]).sum()


def site_counts(
    sensors: SensorSeries,
    variable: str,
    *,
    since: str | None = None,
    per_site: str = "site",
    valid_max: float | None = None,
) -> pd.Series:
    """Mean count per sensor over time (optionally ``since`` a date), summed per site.

    Parameters
    ----------
    sensors : SensorSeries
        Counts (dims sensor, time).
    variable : str
        Data variable, e.g. ``am_peak_veh_h``.
    since : str, optional
        First date kept (ISO).
    per_site : str
        Column of ``sensors.points`` giving the site (e.g. the street arc) of each sensor.
    valid_max : float, optional
        Observations above it are treated as missing (sentinels such as 9999).
    """
    if variable not in sensors.data:
        msg = message(
            f"the counts have no variable '{variable}'",
            where="site_counts",
            fix=f"use one of {list(sensors.data.data_vars)}",
        )
        raise InputError(msg)
    da = sensors.data[variable]
    if since is not None:
        da = da.sel(time=slice(np.datetime64(since), None))
    if valid_max is not None:
        da = da.where(da <= valid_max)
    mean = da.mean("time", skipna=True).to_series().dropna()
    site = sensors.points[per_site].reindex(mean.index)
    return mean.groupby(site).sum()


@dataclass
class Calibration:
    """Before/after report of :func:`calibrate_demand`."""

    before: CountReport
    after: CountReport
    scale: float
    result_before: AssignmentResult
    result_after: AssignmentResult

    def summary(self) -> str:
        """Two lines: before and after scaling."""
        return (
            f"before: {self.before.summary()}\n"
            f"after scaling demand ×{self.scale:.3f}: {self.after.summary()}"
        )


def calibrate_demand(
    links: pd.DataFrame,
    demand: pd.DataFrame,
    counts: pd.Series,
    link_site: pd.Series,
    *,
    rgap: float = 1e-4,
    algorithm: str = "gp",
    max_iter: int = 200,
) -> Calibration:
    """Assign, compare with counts, scale the demand by the least-squares factor, re-assign.

    Parameters
    ----------
    links, demand
        As for :func:`twin.traffic.assign` (demand an OD table) [veh/h].
    counts : Series
        Hourly counts per site [veh/h].
    link_site : Series
        Site id of each link (NaN: not counted).
    rgap, algorithm, max_iter
        Passed to :func:`twin.traffic.assign`.
    """
    first = assign(links, demand, rgap=rgap, algorithm=algorithm, max_iter=max_iter)
    before = compare_counts(site_flows(first.flow, link_site), counts)
    k = before.scale
    scaled = demand.assign(trips=demand["trips"] * k)
    second = assign(links, scaled, rgap=rgap, algorithm=algorithm, max_iter=max_iter)
    after = compare_counts(site_flows(second.flow, link_site), counts)
    return Calibration(before, after, k, first, second)
