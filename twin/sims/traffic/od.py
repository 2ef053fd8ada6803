"""Origin–destination matrix files: ``read_od`` for CSV tables and OMX matrices.

* CSV: a header with ``origin``, ``destination``, ``trips`` (other columns are ignored),
  one OD pair per row; ``,`` or ``;`` separated; trips [veh/h or veh/period, as given].
* OMX (Open Matrix, HDF5): one square matrix; zone ids from a mapping (e.g. ``taz``) when the
  file has one, else 1…n.

Both return the OD table that :func:`twin.traffic.assign` takes (zero cells and
``origin == destination`` dropped, duplicate pairs summed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.io._common import check_file

COLUMNS = ("origin", "destination", "trips")


def read_od(
    path: str | Path, *, matrix: str | None = None, mapping: str | None = None
) -> pd.DataFrame:
    """Read an OD demand file (``.csv`` / ``.txt`` or ``.omx``).

    Parameters
    ----------
    path : str or Path
        The file.
    matrix : str, optional
        OMX only: the matrix to read (required when the file holds several).
    mapping : str, optional
        OMX only: the zone mapping giving the zone ids (default: the only one, if any).

    Returns
    -------
    DataFrame
        Columns ``origin``, ``destination``, ``trips`` [as in the file].

    Raises
    ------
    InputError
        Missing columns, bad rows (named by line number and field), unknown matrix or mapping.
    """
    p = check_file(path)
    if p.suffix.lower() == ".omx":
        od = _read_omx(p, matrix, mapping)
    else:
        od = _read_csv(p)
    od = od[(od["trips"] > 0) & (od["origin"] != od["destination"])]
    return od.groupby(["origin", "destination"], as_index=False, sort=True)["trips"].sum()


def _read_csv(p: Path) -> pd.DataFrame:
    try:
        raw = pd.read_csv(p, sep=None, engine="python", dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        msg = message(
            f"cannot parse the CSV ({e})", where=p, fix="save it as a comma-separated text file"
        )
        raise InputError(msg) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        msg = message(
            f"columns {missing} are missing (found {list(raw.columns)[:8]})",
            where=p,
            fix="give a header line 'origin,destination,trips'",
        )
        raise InputError(msg)
    raw = raw[list(COLUMNS)].apply(lambda s: s.str.strip())
    for col in ("origin", "destination"):
        bad = raw[col].isna() | (raw[col] == "")
        _row_error(p, bad, col, "is empty", "give the zone (node) id of every pair", raw)
    trips = pd.to_numeric(raw["trips"], errors="coerce")
    _row_error(
        p, trips.isna(), "trips", "is not a number", "write trips as a number, e.g. 12.5", raw
    )
    _row_error(p, ~np.isfinite(trips), "trips", "is infinite", "write a finite number", raw)
    _row_error(p, trips < 0, "trips", "is negative", "trips must be ≥ 0", raw)
    out = pd.DataFrame(
        {"origin": _ids(raw["origin"]), "destination": _ids(raw["destination"]), "trips": trips}
    )
    return out


def _ids(s: pd.Series) -> pd.Series:
    """Zone ids as integers when they all are, else strings."""
    num = pd.to_numeric(s, errors="coerce")
    if num.notna().all() and (num == num.round()).all():
        return num.astype(np.int64)
    return s


def _row_error(p: Path, bad: pd.Series, field: str, what: str, fix: str, raw: pd.DataFrame) -> None:
    if not bad.any():
        return
    rows = np.flatnonzero(bad.to_numpy())
    lines = [int(r) + 2 for r in rows[:5]]  # 1-based file lines, after the header
    value = raw[field].iloc[rows[0]]
    msg = message(
        f"{len(rows)} rows: {field} {what} (first: {value!r})",
        where=f"{p}, line{'s' if len(rows) > 1 else ''} {', '.join(map(str, lines))}, "
        f"field {field}",
        fix=fix,
    )
    raise InputError(msg)


def _read_omx(p: Path, matrix: str | None, mapping: str | None) -> pd.DataFrame:
    import openmatrix as omx

    try:
        f = omx.open_file(str(p), "r")
    except Exception as e:
        msg = message(
            f"not a readable OMX file ({type(e).__name__})",
            where=p,
            fix="export the matrix as OMX (HDF5)",
        )
        raise InputError(msg) from None
    try:
        names = list(f.list_matrices())
        if matrix is None:
            if len(names) != 1:
                msg = message(
                    f"the file holds {len(names)} matrices {names}",
                    where=p,
                    fix="choose one with read_od(path, matrix=...)",
                )
                raise InputError(msg)
            matrix = names[0]
        if matrix not in names:
            msg = message(
                f"no matrix '{matrix}' (the file has {names})",
                where=p,
                fix="use one of those names",
            )
            raise InputError(msg)
        m = np.array(f[matrix], dtype=float)
        maps = list(f.list_mappings())
        if mapping is not None and mapping not in maps:
            msg = message(
                f"no mapping '{mapping}' (the file has {maps})",
                where=p,
                fix="use one of those names, or none",
            )
            raise InputError(msg)
        if mapping is None and len(maps) > 1:
            msg = message(
                f"the file holds {len(maps)} zone mappings {maps}",
                where=p,
                fix="choose one with read_od(path, mapping=...)",
            )
            raise InputError(msg)
        name = mapping or (maps[0] if maps else None)
        if name is not None:
            zmap = f.mapping(name)
            zones = np.empty(len(zmap), dtype=object)
            for zone, i in zmap.items():
                zones[i] = zone.item() if hasattr(zone, "item") else zone
        else:
            zones = np.arange(1, m.shape[0] + 1)
    finally:
        f.close()
    if m.ndim != 2 or m.shape[0] != m.shape[1] or len(zones) != m.shape[0]:
        msg = message(
            f"matrix '{matrix}' is {m.shape}, with {len(zones)} zone ids",
            where=p,
            fix="give a square matrix with one zone id per row",
        )
        raise InputError(msg)
    bad = ~np.isfinite(m) | (m < 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        msg = message(
            f"{int(bad.sum())} cells are negative or not finite (first: zone {zones[i]} → "
            f"{zones[j]}: {m[i, j]})",
            where=f"{p}, matrix {matrix}",
            fix="trips must be finite numbers ≥ 0",
        )
        raise InputError(msg)
    i, j = np.nonzero(m)
    zones = pd.Series(zones).infer_objects().to_numpy()
    return pd.DataFrame({"origin": zones[i], "destination": zones[j], "trips": m[i, j]})
