"""Calculation points on road surfaces: EN 13201-3 grids and a city-wide metric grid.

EN 13201-3:2015 (*Road lighting — Part 3: Calculation of performance*, §7.2.8 "Position of
calculation points" for illuminance) places the points of a field between two consecutive
luminaires of a row:

* along the road, at spacing ``D = S / N`` where ``S`` is the luminaire spacing [m] and
  ``N = 10`` when ``S ≤ 30 m``, else the smallest integer giving ``D ≤ 3 m``; the first row
  of points is ``D / 2`` past the first luminaire;
* across the road, at spacing ``d = W / n`` where ``W`` is the width of the area [m] and
  ``n ≥ 3`` is the smallest integer giving ``d ≤ 1.5 m``; the outer points are ``d / 2``
  from the edges.

(The luminance field of the same section uses three points per lane instead.) The standard's
text is not freely available; the rule above is the one of EN 13201-3:2003 §7.3 and 2015
§7.2.8 as reproduced in the CIE 140-2000 calculation method it derives from, and the caps
(3 m, 1.5 m) are parameters. twin applies it to every street segment: ``S`` is the segment
length divided by the number of luminaires attached to it (the segment length when none),
and the field covers the whole segment, not a single luminaire interval.

:func:`road_grid` builds the regular ``step × step`` grid used for city-wide maps and the
benchmark (1 m by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from twin.errors import InputError, message


@dataclass
class RoadPoints:
    """Calculation points on street segments.

    Attributes
    ----------
    x, y : ndarray of float64
        Coordinates [m, working CRS].
    seg : ndarray of int64
        Position of each point's segment in :attr:`segment_ids`.
    segment_ids : pandas.Index
        Ids of the segments (the street layer's index).
    """

    x: np.ndarray
    y: np.ndarray
    seg: np.ndarray
    segment_ids: pd.Index

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _lines(streets: gpd.GeoDataFrame) -> tuple[np.ndarray, pd.Index]:
    """Single-part line geometries and, per part, the id of its street."""
    bad = ~streets.geom_type.isin(["LineString", "MultiLineString"])
    if bad.any():
        msg = message(
            f"street segments must be lines, found {sorted(set(streets.geom_type[bad]))} "
            f"(e.g. ids {streets.index[bad][:5].tolist()})",
            where="street layer",
            fix="give the street centre-lines (LineString) layer",
        )
        raise InputError(msg)
    parts, idx = shapely.get_parts(streets.geometry.to_numpy(), return_index=True)
    return parts, streets.index[idx]


class _Polylines:
    """Arc-length interpolation along many polylines at once (numpy)."""

    def __init__(self, lines: np.ndarray) -> None:
        xy, which = shapely.get_coordinates(lines, return_index=True)
        self.xy = xy
        n = len(lines)
        self.vstart = np.searchsorted(which, np.arange(n))
        self.vend = np.searchsorted(which, np.arange(n), side="right")
        seg = np.hypot(*np.diff(xy, axis=0).T)
        same = which[1:] == which[:-1]
        seg = np.where(same, seg, 0.0)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        self.cum = cum - cum[self.vstart][which]
        self.length = self.cum[np.maximum(self.vend - 1, 0)]
        self.key = which * 1e7 + self.cum

    def at(
        self, line: np.ndarray, dist: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Points and unit tangents at distances [m] along lines."""
        j = np.searchsorted(self.key, line * 1e7 + dist, side="right") - 1
        j = np.clip(j, self.vstart[line], np.maximum(self.vend[line] - 2, self.vstart[line]))
        p0, p1 = self.xy[j], self.xy[np.minimum(j + 1, len(self.xy) - 1)]
        v = p1 - p0
        ln = np.hypot(v[:, 0], v[:, 1])
        ok = ln > 0
        t = np.where(ok, (dist - self.cum[j]) / np.where(ok, ln, 1.0), 0.0)
        x = p0[:, 0] + t * v[:, 0]
        y = p0[:, 1] + t * v[:, 1]
        tx = np.where(ok, v[:, 0] / np.where(ok, ln, 1.0), 1.0)
        ty = np.where(ok, v[:, 1] / np.where(ok, ln, 1.0), 0.0)
        return x, y, tx, ty


def _widths(streets: gpd.GeoDataFrame, width_m: float | str) -> np.ndarray:
    if isinstance(width_m, str):
        if width_m not in streets:
            msg = message(
                f"no width column '{width_m}'",
                where="street layer",
                fix=f"use one of {list(streets.columns)} or a number [m]",
            )
            raise InputError(msg)
        w = pd.to_numeric(streets[width_m], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isfinite(w) & (w > 0), w, np.nan)
    if not width_m > 0:
        msg = message(f"street width {width_m} m", where="width_m", fix="give a width > 0 [m]")
        raise InputError(msg)
    return np.full(len(streets), float(width_m))


def _build(
    streets: gpd.GeoDataFrame,
    width: np.ndarray,
    counts: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    spacing: np.ndarray | None = None,
) -> RoadPoints:
    """Points at ``(k + 0.5) L / n_along`` along and ``(j + 0.5) W / n_across`` across.

    ``counts(part_length, width, spacing)`` gives ``n_along`` and ``n_across`` per line part.
    """
    parts, ids = _lines(streets)
    pos = streets.index.get_indexer(ids)
    poly = _Polylines(parts)
    L = poly.length
    w = width[pos]
    s = np.full(len(parts), np.nan) if spacing is None else np.asarray(spacing, float)[pos]
    nl_f, na_f = counts(L, np.nan_to_num(w), s)
    nl = nl_f.astype(np.int64)
    na = na_f.astype(np.int64)
    keep = (L > 0) & np.isfinite(w)
    nl = np.where(keep, nl, 0)
    line_of = np.repeat(np.arange(len(parts)), nl)
    first = np.repeat(np.cumsum(nl) - nl, nl)
    k = np.arange(line_of.shape[0]) - first
    dist = (k + 0.5) * L[line_of] / nl[line_of]
    x, y, tx, ty = poly.at(line_of, dist)
    reps = na[line_of]
    xa, ya = np.repeat(x, reps), np.repeat(y, reps)
    nx_, ny_ = np.repeat(-ty, reps), np.repeat(tx, reps)
    lo = np.repeat(line_of, reps)
    first_a = np.repeat(np.cumsum(reps) - reps, reps)
    j = np.arange(lo.shape[0]) - first_a
    off = -w[lo] / 2 + (j + 0.5) * w[lo] / na[lo]
    return RoadPoints(
        x=xa + off * nx_,
        y=ya + off * ny_,
        seg=pos[lo].astype(np.int64),
        segment_ids=streets.index,
    )


def en13201_grid(
    streets: gpd.GeoDataFrame,
    *,
    width_m: float | str = 7.0,
    spacing_m: np.ndarray | None = None,
    max_step_m: float = 3.0,
    max_across_m: float = 1.5,
) -> RoadPoints:
    """EN 13201-3 illuminance calculation points on every street segment.

    Parameters
    ----------
    streets : GeoDataFrame
        Street centre-lines (LineString / MultiLineString), in a metric CRS.
    width_m : float or str
        Width of the lit area [m], or the name of a width column (missing or non-positive
        widths drop the segment).
    spacing_m : ndarray, optional
        Luminaire spacing ``S`` per segment [m] (NaN: unknown → the segment length).
    max_step_m : float
        Longest spacing along the road when ``S > 30 m`` [m] (3 m in the standard).
    max_across_m : float
        Longest spacing across the road [m] (1.5 m in the standard).

    Returns
    -------
    RoadPoints
    """
    width = _widths(streets, width_m)

    def counts(length: np.ndarray, w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = np.where(np.isfinite(s) & (s > 0), s, length)
        n = np.where(s <= 30.0, 10, np.ceil(s / max_step_m - 1e-9))
        d = s / np.maximum(n, 1)
        n_along = np.maximum(1, np.ceil(length / np.maximum(d, 1e-6) - 1e-9))
        n_across = np.maximum(3, np.ceil(w / max_across_m - 1e-9))
        return n_along, n_across

    return _build(streets, width, counts, spacing_m)


def road_grid(
    streets: gpd.GeoDataFrame, *, step_m: float = 1.0, width_m: float | str = 7.0
) -> RoadPoints:
    """A regular grid of points every ``step_m`` along and across each street.

    Parameters
    ----------
    streets : GeoDataFrame
        Street centre-lines in a metric CRS.
    step_m : float
        Point spacing [m] along and across.
    width_m : float or str
        Road width [m] or a width column.

    Returns
    -------
    RoadPoints
        ``ceil(L / step)`` × ``max(1, round(W / step))`` points per segment.
    """
    if not step_m > 0:
        msg = message(f"grid step {step_m} m", where="step_m", fix="give a step > 0 [m]")
        raise InputError(msg)
    width = _widths(streets, width_m)

    def counts(length: np.ndarray, w: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.maximum(1, np.ceil(length / step_m)), np.maximum(1, np.round(w / step_m))

    return _build(streets, width, counts)
