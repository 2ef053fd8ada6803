"""Retail units with their history, for commerce observatories.

Two tables, both vector layers of a twin:

* **units** — the current state of each retail unit (one row per unit), a GeoDataFrame
  indexed by a stable string ``unit_id`` with the columns of :data:`UNIT_COLUMNS`:
  ``status`` (``'occupied'``, ``'vacant'`` or ``'unknown'``), ``vacant`` (bool),
  ``activity``, ``floor_area_m2`` [m²], ``since`` (date the status began), ``last_surveyed``
  (date of the latest observation), ``address`` and ``source`` (where the unit was first
  known from: ``"osm"``, ``"survey:<file>"``…), and a point geometry.
* **history** — every observation, long format (one row per unit and date), a GeoDataFrame
  indexed ``"<unit_id>@<YYYY-MM-DD>"`` with the columns of :data:`HISTORY_COLUMNS` and the
  unit's point (so the history is a map layer too, and round-trips through
  :meth:`twin.Twin.save` / :meth:`twin.Twin.open` as GeoParquet).

Surveys are matched to units by id, else by normalised address, else by the nearest
position within a tolerance (:func:`merge_units`, :func:`add_survey`). The current state of a
unit is recomputed from its history after each import, so importing the same survey twice
changes nothing.

Vacancy rate = vacant / (occupied + vacant): units of unknown status are left out of the
denominator (they are counted separately).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from twin.errors import InputError, SchemaError, message
from twin.io.retail_units import UNIT_COLUMNS
from twin.model.layer import Layer
from twin.model.provenance import Provenance

STATUSES = ("occupied", "vacant", "unknown")
#: Columns of the history table (besides the geometry), in order.
HISTORY_COLUMNS = (
    "unit_id",
    "date",
    "status",
    "vacant",
    "activity",
    "floor_area_m2",
    "since",
    "source",
    "surveyed_id",
)
MATCH_KINDS = ("id", "address", "position")
_DATE = "datetime64[ns]"

#: Abbreviations of French street types, expanded when addresses are normalised.
STREET_ABBREVIATIONS: dict[str, str] = {
    "r": "rue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "av": "avenue",
    "ave": "avenue",
    "pl": "place",
    "fbg": "faubourg",
    "fg": "faubourg",
    "imp": "impasse",
    "ch": "chemin",
    "che": "chemin",
    "rte": "route",
    "all": "allee",
    "crs": "cours",
    "pass": "passage",
    "qu": "quai",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
    "gde": "grande",
    "gd": "grand",
    "prom": "promenade",
    "espl": "esplanade",
}
_NUMBER = re.compile(r"^(\d+)\s*(bis|ter|quater|[a-d])?\b\s*")


# -- schema --
def empty_units(crs: object) -> gpd.GeoDataFrame:
    """An empty units table in ``crs``."""
    return _units_frame(pd.DataFrame(index=pd.Index([], dtype=str, name="unit_id")), [], crs)


def empty_history(crs: object) -> gpd.GeoDataFrame:
    """An empty history table in ``crs``."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in HISTORY_COLUMNS})
    df.index = pd.Index([], dtype=str, name="id")
    return _history_frame(df, [], crs)


def _units_frame(df: pd.DataFrame, geoms: object, crs: object) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=pd.Index(df.index.astype(str), name="unit_id"))
    for c in UNIT_COLUMNS:
        out[c] = df[c].to_numpy() if c in df else None
    out["vacant"] = out["status"].eq("vacant").astype(bool)
    out["floor_area_m2"] = pd.to_numeric(out["floor_area_m2"], errors="coerce").astype("float64")
    for c in ("since", "last_surveyed"):
        out[c] = pd.to_datetime(out[c]).astype(_DATE)
    for c in ("status", "activity", "address", "source"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs=crs)


def _history_frame(df: pd.DataFrame, geoms: object, crs: object) -> gpd.GeoDataFrame:
    out = pd.DataFrame(index=pd.Index(df.index.astype(str), name="id"))
    for c in HISTORY_COLUMNS:
        out[c] = df[c].to_numpy() if c in df else None
    out["vacant"] = out["status"].eq("vacant").astype(bool)
    out["floor_area_m2"] = pd.to_numeric(out["floor_area_m2"], errors="coerce").astype("float64")
    for c in ("date", "since"):
        out[c] = pd.to_datetime(out[c]).astype(_DATE)
    for c in ("unit_id", "status", "activity", "source", "surveyed_id"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs=crs)


def check_units(units: gpd.GeoDataFrame, where: str = "units") -> None:
    """Check a units table against the schema.

    Raises
    ------
    SchemaError
        Naming the missing columns, the bad statuses (with unit ids) or duplicated ids.
    """
    missing = [c for c in UNIT_COLUMNS if c not in units.columns]
    if missing or units.crs is None:
        msg = message(
            f"not a retail-units table: missing columns {missing}"
            + ("" if units.crs is not None else ", no CRS"),
            where=where,
            fix="build it with units_from_osm() or add_survey()",
        )
        raise SchemaError(msg)
    bad = ~units["status"].isin(STATUSES)
    if bad.any():
        ids = units.index[bad][:10].tolist()
        msg = message(
            f"{int(bad.sum())} units have a status outside {STATUSES} (units {ids})",
            where=f"{where}: status",
            fix="use 'occupied', 'vacant' or 'unknown'",
        )
        raise SchemaError(msg)
    if units.index.duplicated().any():
        ids = units.index[units.index.duplicated()][:10].tolist()
        msg = message(f"duplicated unit ids {ids}", where=where, fix="make unit ids unique")
        raise SchemaError(msg)


# -- addresses --
def _ascii(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^0-9a-z]+", " ", s.lower()).strip()


def normalise_address(address: object) -> str | None:
    """Normalise an address for matching.

    Lower case, no accents or punctuation, street-type abbreviations expanded
    (:data:`STREET_ABBREVIATIONS`), postcode and town dropped (from a 5-digit postcode or the
    first comma on): ``"12 Bd. Sarrail, 34000 Montpellier"`` → ``"12 boulevard sarrail"``.

    Returns None for a missing or empty address.
    """
    if address is None or (isinstance(address, float) and np.isnan(address)):
        return None
    text = re.sub(r"^(\s*\d+\s*(?:bis|ter|quater|[a-dA-D])?)\s*,", r"\1 ", str(address))
    text = re.split(r",|\b\d{5}\b", text)[0] if re.search(r"[a-zA-Z]", text) else text
    words = _ascii(text).split()
    words = [STREET_ABBREVIATIONS.get(w, w) for w in words]
    out = " ".join(words)
    return out or None


def street_name(address: object) -> str | None:
    """Street of an address: the normalised address without its house number.

    ``"12 bis rue de la Loge, 34000 Montpellier"`` → ``"rue de la loge"``.
    """
    a = normalise_address(address)
    if a is None:
        return None
    return _NUMBER.sub("", a).strip() or None


def _has_number(a: object) -> bool:
    return isinstance(a, str) and _NUMBER.match(a) is not None


# -- OSM -------------------------------------------------------------------------------------------
def _osm_address(shops: pd.DataFrame) -> pd.Series:
    def col(k: str) -> pd.Series:
        if k not in shops:
            return pd.Series("", index=shops.index)
        return shops[k].astype(object).where(shops[k].notna(), "").astype(str).str.strip()

    street = (col("addr:housenumber") + " " + col("addr:street")).str.strip()
    town = (col("addr:postcode") + " " + col("addr:city")).str.strip()
    full = street.where(town == "", street + ", " + town)
    return full.where(street != "", None)


def units_from_osm(
    shops: gpd.GeoDataFrame | Layer,
    *,
    retrieved: str | None = None,
    id_column: str | None = None,
    prov: Provenance | None = None,
) -> gpd.GeoDataFrame:
    """Turn OpenStreetMap shops into retail units.

    Parameters
    ----------
    shops : GeoDataFrame or Layer
        Shops as read by :func:`twin.io.osm.read_osm_shops` (with a ``vacant`` column), or any
        OSM shop file read with the vector loader (``shop``, ``disused:shop``, ``addr:*``
        tags). A :class:`Layer` brings its provenance (for the retrieval date).
    retrieved : str, optional
        ISO date of the extract; by default the layer's ``provenance.retrieved``.
    id_column : str, optional
        Column holding the unit id (e.g. ``"osm_id"``); the shops' index by default.
    prov : Provenance, optional
        Updated in place with the steps, rules and counts.

    Returns
    -------
    GeoDataFrame
        Units (see :data:`UNIT_COLUMNS`): ``status`` is ``'vacant'`` for ``shop=vacant`` or a
        ``disused:shop`` tag, else ``'occupied'``; ``last_surveyed`` is the retrieval date;
        ``since`` is unknown (NaT); ``activity`` is the ``shop`` value (the former activity
        for a disused shop, none for ``shop=vacant``); ``source`` is ``"osm"``.
    """
    layer_prov = None
    if isinstance(shops, Layer):
        layer_prov = shops.provenance
        shops = shops.data
    if retrieved is None:
        if layer_prov is None:
            msg = message(
                "the retrieval date of the OSM extract is unknown",
                where="units_from_osm",
                fix="pass the shops Layer (its provenance has it) or retrieved='YYYY-MM-DD'",
            )
            raise InputError(msg)
        retrieved = layer_prov.retrieved
    date = pd.Timestamp(retrieved).normalize()
    shop = shops["shop"].astype(object) if "shop" in shops else pd.Series(None, index=shops.index)
    shop = shop.where(shop.notna() & (shop.astype(str).str.strip() != ""), None)
    disused = (
        shops["disused:shop"].astype(object)
        if "disused:shop" in shops
        else pd.Series(None, index=shops.index)
    )
    disused = disused.where(disused.notna() & (disused.astype(str).str.strip() != ""), None)
    if "vacant" in shops:
        vacant = shops["vacant"].fillna(False).astype(bool)
    else:
        vacant = (shop.astype(str) == "vacant") | disused.notna()
    activity = shop.where(shop.astype(str) != "vacant", None)
    activity = activity.where(activity.notna(), disused)
    ids = shops[id_column].astype(str) if id_column else shops.index.astype(str)
    df = pd.DataFrame(
        {
            "status": np.where(vacant, "vacant", "occupied"),
            "activity": activity.to_numpy(),
            "floor_area_m2": np.nan,
            "since": pd.NaT,
            "last_surveyed": date,
            "address": _osm_address(shops).to_numpy(),
            "source": "osm",
        },
        index=pd.Index(np.asarray(ids), name="unit_id"),
    )
    if df.index.duplicated().any():
        dup = df.index[df.index.duplicated()][:10].tolist()
        msg = message(
            f"duplicated shop ids {dup}",
            where=f"units_from_osm: {id_column or 'index'}",
            fix="give an id_column with unique values",
        )
        raise InputError(msg)
    geoms = shops.geometry.to_numpy()
    if not (shops.geom_type == "Point").all():
        geoms = shops.geometry.representative_point().to_numpy()
    units = _units_frame(df, geoms, shops.crs)
    if prov is not None:
        prov.step(f"{len(units)} retail units from OSM shops (extract of {date.date()})")
        prov.derived["status"] = "'vacant' for shop=vacant or disused:shop, else 'occupied'"
        prov.derived["last_surveyed"] = "retrieval date of the OSM extract"
        prov.counts["units_osm"] = len(units)
        prov.counts["units_osm_vacant"] = int(units["vacant"].sum())
    return units


def history_from_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One history record per unit with a ``last_surveyed`` date: a snapshot of the units.

    Use it to count an OSM extract as the first observation of the time series.
    """
    u = units[units["last_surveyed"].notna()]
    df = pd.DataFrame(
        {
            "unit_id": u.index.to_numpy(),
            "date": u["last_surveyed"].to_numpy(),
            "status": u["status"].to_numpy(),
            "activity": u["activity"].to_numpy(),
            "floor_area_m2": u["floor_area_m2"].to_numpy(),
            "since": u["since"].to_numpy(),
            "source": u["source"].to_numpy(),
            "surveyed_id": u.index.to_numpy(),
        },
        index=_record_ids(u.index.to_series(), u["last_surveyed"]),
    )
    return _history_frame(df, u.geometry.to_numpy(), units.crs)


def _record_ids(unit_ids: pd.Series, dates: pd.Series) -> pd.Index:
    d = pd.to_datetime(pd.Series(dates.to_numpy())).dt.strftime("%Y-%m-%d")
    return pd.Index(
        [f"{u}@{x}" for u, x in zip(unit_ids.astype(str).to_numpy(), d, strict=True)], name="id"
    )


# -- matching --
@dataclass
class MergeReport:
    """How incoming units were matched to existing ones.

    Attributes
    ----------
    matches : DataFrame
        Indexed by incoming id: ``unit_id`` (the matched or new unit), ``how`` (``'id'``,
        ``'address'``, ``'position'`` or ``'new'``) and ``distance_m`` [m] for position matches.
    """

    matches: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["unit_id", "how", "distance_m"])
    )

    @property
    def counts(self) -> dict[str, int]:
        """``{"matched_id", "matched_address", "matched_position", "new"}`` counts."""
        vc = self.matches["how"].value_counts()
        out = {f"matched_{k}": int(vc.get(k, 0)) for k in MATCH_KINDS}
        out["new"] = int(vc.get("new", 0))
        return out

    def record(self, prov: Provenance, prefix: str = "") -> None:
        """Add the counts and a step to ``prov``."""
        c = self.counts
        prov.counts.update({f"{prefix}{k}": v for k, v in c.items()})
        prov.step(
            f"matched {c['matched_id']} units by id, {c['matched_address']} by address, "
            f"{c['matched_position']} by position; {c['new']} new"
        )


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is not None and gdf.crs.is_geographic:
        return gdf.to_crs(gdf.estimate_utm_crs())
    return gdf


def _match(
    existing: gpd.GeoDataFrame,
    incoming: gpd.GeoDataFrame,
    by: Sequence[str],
    max_distance_m: float,
) -> pd.DataFrame:
    """Match incoming units (indexed by their ids) to existing unit ids."""
    bad = [b for b in by if b not in MATCH_KINDS]
    if bad:
        msg = message(f"unknown match keys {bad}", where="by", fix=f"use a subset of {MATCH_KINDS}")
        raise SchemaError(msg)
    out = pd.DataFrame(
        {"unit_id": None, "how": "new", "distance_m": np.nan}, index=incoming.index.astype(str)
    ).astype({"unit_id": object})
    taken: set[str] = set()
    ex_ids = pd.Index(existing.index.astype(str))
    for key in by:
        todo = out.index[out["how"] == "new"]
        if len(todo) == 0:
            break
        if key == "id":
            hit = todo[todo.isin(ex_ids)]
            out.loc[hit, ["unit_id", "how"]] = np.column_stack([hit, ["id"] * len(hit)])
            taken.update(hit)
        elif key == "address":
            ex_addr = existing["address"].map(normalise_address)
            ex_addr = ex_addr[ex_addr.map(_has_number) & ~ex_addr.index.isin(list(taken))]
            unique = ex_addr[~ex_addr.duplicated(keep=False)]
            lookup = pd.Series(unique.index.astype(str), index=unique.to_numpy())
            inc_addr = incoming.loc[todo, "address"].map(normalise_address)
            inc_addr = inc_addr[inc_addr.map(_has_number) & ~inc_addr.duplicated(keep=False)]
            inc_addr = inc_addr[inc_addr.isin(lookup.index)]
            for i, a in inc_addr.items():
                uid = lookup[a]
                if uid not in taken:
                    out.loc[str(i), ["unit_id", "how"]] = [uid, "address"]
                    taken.add(uid)
        elif key == "position":
            free = existing[~ex_ids.isin(list(taken))]
            inc = incoming.loc[todo]
            inc = inc[inc.geometry.notna() & ~inc.geometry.is_empty]
            if len(free) == 0 or len(inc) == 0:
                continue
            ex_m = _metric(free[[free.geometry.name]].set_axis(free.index.astype(str)))
            inc_m = inc[[inc.geometry.name]].to_crs(ex_m.crs)
            pairs = gpd.sjoin_nearest(
                inc_m.set_axis(inc_m.index.astype(str)).rename_axis("inc").reset_index(),
                ex_m.rename_axis("ex").reset_index(),
                how="inner",
                max_distance=max_distance_m,
                distance_col="distance_m",
            ).sort_values(["distance_m", "inc", "ex"])
            used_inc: set[str] = set()
            for row in pairs.itertuples():
                if row.inc in used_inc or row.ex in taken:
                    continue
                out.loc[row.inc, ["unit_id", "how", "distance_m"]] = [
                    row.ex,
                    "position",
                    float(row.distance_m),
                ]
                used_inc.add(row.inc)
                taken.add(row.ex)
    new = out["how"] == "new"
    out.loc[new, "unit_id"] = out.index[new]
    return out


def merge_units(
    existing: gpd.GeoDataFrame,
    incoming: gpd.GeoDataFrame,
    *,
    by: Sequence[str] = MATCH_KINDS,
    max_distance_m: float = 15.0,
    prov: Provenance | None = None,
) -> tuple[gpd.GeoDataFrame, MergeReport]:
    """Merge two units tables (e.g. OSM units into the cadastre's or a previous census).

    Each incoming unit is matched, in the order of ``by``, to an existing unit with the same
    id, else the same normalised address (:func:`normalise_address`; only addresses with a
    house number held by one unit on each side), else the nearest existing unit within
    ``max_distance_m`` (one to one, closest pairs first). Unmatched incoming units are added.

    A matched unit keeps its id and position; its missing attributes (address, activity,
    floor area) are filled from the incoming unit, and its status, ``since`` and
    ``last_surveyed`` are replaced when the incoming unit was observed later.

    Parameters
    ----------
    existing, incoming : GeoDataFrame
        Units tables (:data:`UNIT_COLUMNS`); ``incoming`` is reprojected to ``existing``'s CRS.
    by : sequence of {"id", "address", "position"}
        Match keys, tried in order.
    max_distance_m : float
        Position tolerance [m]. In dense shopping streets neighbouring units are a few metres
        apart: keep it small, and prefer ids or addresses.
    prov : Provenance, optional
        Updated in place with the match counts.

    Returns
    -------
    units : GeoDataFrame
    report : MergeReport
    """
    check_units(existing, "existing units")
    check_units(incoming, "incoming units")
    incoming = incoming.to_crs(existing.crs)
    m = _match(existing, incoming, by, max_distance_m)
    report = MergeReport(m)
    out = existing.copy()
    matched = m[m["how"] != "new"]
    if len(matched):
        inc = incoming.set_axis(incoming.index.astype(str)).loc[matched.index]
        inc.index = pd.Index(matched["unit_id"].to_numpy(), name="unit_id")
        cur = out.loc[inc.index]
        for c in ("address", "activity", "floor_area_m2"):
            fill = cur[c].isna() & inc[c].notna()
            out.loc[fill[fill].index, c] = inc.loc[fill, c].to_numpy()
        newer = inc["last_surveyed"].notna() & (
            cur["last_surveyed"].isna() | (inc["last_surveyed"] > cur["last_surveyed"])
        )
        ids = newer[newer].index
        for c in ("status", "vacant", "since", "last_surveyed"):
            out.loc[ids, c] = inc.loc[ids, c].to_numpy()
    new = m[m["how"] == "new"]
    if len(new):
        add = incoming.set_axis(incoming.index.astype(str)).loc[new.index]
        out = pd.concat([out, add[out.columns]])
    out = _units_frame(out, out.geometry.to_numpy(), existing.crs)
    if prov is not None:
        report.record(prov)
    return out, report


# -- surveys --
def add_survey(
    units: gpd.GeoDataFrame,
    history: gpd.GeoDataFrame | None,
    survey: gpd.GeoDataFrame | Layer,
    *,
    by: Sequence[str] = MATCH_KINDS,
    max_distance_m: float = 15.0,
    prov: Provenance | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, MergeReport]:
    """Append a field survey: history records added, current statuses updated.

    Survey units are matched to existing units as in :func:`merge_units` (by id, address,
    then position); unmatched ones become new units. Each survey row becomes one history
    record keyed by ``(unit, survey date)``; a record already present for that unit and date
    is replaced, so importing the same survey twice is idempotent.

    The current state of every surveyed unit is then recomputed from its history, unless the
    unit holds a later observation from elsewhere (e.g. a newer OSM extract):

    * ``status``, ``vacant``, ``last_surveyed`` from the latest record;
    * ``activity`` and ``floor_area_m2`` from the latest record that has them;
    * ``since`` from the latest record's own ``since`` column, else the date of the first
      record of the current run of the same status (the status may be older).

    Parameters
    ----------
    units : GeoDataFrame
        Units table (:data:`UNIT_COLUMNS`).
    history : GeoDataFrame or None
        History table (:data:`HISTORY_COLUMNS`); None or empty to start one.
    survey : GeoDataFrame or Layer
        As read by :func:`twin.io.retail.read_survey`; reprojected to the units' CRS.
    by, max_distance_m
        Matching, as in :func:`merge_units`.
    prov : Provenance, optional
        Updated in place (steps, counts, derived rules).

    Returns
    -------
    units, history : GeoDataFrame
    report : MergeReport
        How the survey's unit ids were matched.
    """
    if isinstance(survey, Layer):
        survey = survey.data
    check_units(units)
    need = ["unit_id", "status", "survey_date"]
    missing = [c for c in need if c not in survey.columns]
    if missing:
        msg = message(
            f"not a survey table: missing columns {missing}",
            where="survey",
            fix="read it with twin.io.retail.read_survey()",
        )
        raise SchemaError(msg)
    if history is None or len(history) == 0:
        history = empty_history(units.crs)
    survey = survey.to_crs(units.crs)
    # one candidate per surveyed unit: its latest record
    latest = survey.sort_values("survey_date").groupby("unit_id", sort=False).tail(1)
    cand = _units_frame(
        pd.DataFrame(
            {
                "status": latest["status"].to_numpy(),
                "activity": _values(latest, "activity"),
                "floor_area_m2": _values(latest, "floor_area_m2"),
                "since": _values(latest, "since"),
                "last_surveyed": latest["survey_date"].to_numpy(),
                "address": _values(latest, "address"),
                "source": _values(latest, "source", "survey"),
            },
            index=pd.Index(latest["unit_id"].astype(str).to_numpy()),
        ),
        latest.geometry.to_numpy(),
        units.crs,
    )
    m = _match(units, cand, by, max_distance_m)
    report = MergeReport(m)
    new = m[m["how"] == "new"]
    if len(new):
        add = cand.loc[new.index].copy()
        add["status"] = None  # state comes from the history below
        units = pd.concat([units, add[units.columns]])
    uid = survey["unit_id"].astype(str).map(m["unit_id"])
    geoms = units.geometry.reindex(uid.to_numpy()).to_numpy()
    rec = pd.DataFrame(
        {
            "unit_id": uid.to_numpy(),
            "date": survey["survey_date"].to_numpy(),
            "status": survey["status"].to_numpy(),
            "activity": _values(survey, "activity"),
            "floor_area_m2": _values(survey, "floor_area_m2"),
            "since": _values(survey, "since"),
            "source": _values(survey, "source", "survey"),
            "surveyed_id": survey["unit_id"].astype(str).to_numpy(),
        },
        index=_record_ids(uid, survey["survey_date"]),
    )
    rec = _history_frame(rec, geoms, units.crs)
    hist = history.to_crs(units.crs)
    replaced = int(hist.index.isin(rec.index).sum())
    hist = pd.concat([hist[~hist.index.isin(rec.index)], rec])
    hist = hist.sort_values(["date", "unit_id"], kind="stable")
    hist = _history_frame(hist, hist.geometry.to_numpy(), units.crs)
    units = _refresh(units, hist, set(uid))
    if prov is not None:
        report.record(prov, prefix="survey_")
        prov.counts["survey_records"] = len(rec)
        prov.counts["survey_records_replaced"] = replaced
        prov.step(
            f"added {len(rec)} survey records ({replaced} replaced records of the same unit "
            f"and date); statuses recomputed from the history"
        )
        prov.derived["since"] = (
            "the survey's 'since' when given, else the first survey date of the current "
            "run of the same status"
        )
    return units, hist, report


def _values(df: pd.DataFrame, column: str, default: object = None) -> object:
    """A column's values by position (a Series would align on the survey's own index)."""
    return df[column].to_numpy() if column in df else default


def _refresh(units: gpd.GeoDataFrame, hist: gpd.GeoDataFrame, ids: set[str]) -> gpd.GeoDataFrame:
    """Recompute the current state of ``ids`` from their history records (vectorised)."""
    out = units.copy()
    h = pd.DataFrame(hist[hist["unit_id"].isin(ids)].drop(columns=hist.geometry.name))
    h = h.sort_values(["unit_id", "date"], kind="stable").reset_index(drop=True)
    if len(h) == 0:
        return out
    g = h.groupby("unit_id", sort=False)
    changed = (h["status"] != g["status"].shift()) | (h["unit_id"] != h["unit_id"].shift())
    h["run"] = changed.astype(int).groupby(h["unit_id"]).cumsum()
    last = g.tail(1).set_index("unit_id")
    in_last_run = h["run"] == h["unit_id"].map(last["run"])
    run = h[in_last_run].groupby("unit_id")
    since = run["since"].last().combine_first(run["date"].min())
    act = g["activity"].last()
    area = g["floor_area_m2"].last()
    cur = out.loc[last.index]
    later_elsewhere = (
        cur["last_surveyed"].notna() & (cur["last_surveyed"] > last["date"]) & cur["status"].notna()
    )
    upd = last.index[~later_elsewhere.to_numpy()]
    out.loc[upd, "status"] = last.loc[upd, "status"].to_numpy()
    out.loc[upd, "last_surveyed"] = last.loc[upd, "date"].to_numpy()
    out.loc[upd, "since"] = since.reindex(upd).to_numpy()
    a = act.reindex(upd)
    a = a[a.notna()]
    out.loc[a.index, "activity"] = a.to_numpy()
    f = area.reindex(upd)
    f = f[f.notna()]
    out.loc[f.index, "floor_area_m2"] = f.to_numpy()
    out["status"] = out["status"].where(out["status"].notna(), "unknown")
    return _units_frame(out, out.geometry.to_numpy(), units.crs)


# -- grouping --
def zone_of(
    points: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, column: str | None = None
) -> pd.Series:
    """Name of the zone holding each point (None outside every zone).

    Parameters
    ----------
    points : GeoDataFrame
        Units or history records.
    zones : GeoDataFrame
        Polygons (districts, the "Action Cœur de Ville" perimeter…), reprojected as needed.
    column : str, optional
        Zone name column; the zones' index by default.

    Returns
    -------
    Series
        Aligned to ``points``' index.
    """
    if column is not None and column not in zones.columns:
        msg = message(
            f"zone column '{column}' not found; the zones have {list(zones.columns)}",
            where="zones",
            fix="give zone_column: one of those",
        )
        raise SchemaError(msg)
    names = zones[column] if column else zones.index.to_series()
    z = gpd.GeoDataFrame(
        {"zone": names.to_numpy()}, geometry=zones.geometry.to_numpy(), crs=zones.crs
    )
    pts = gpd.GeoDataFrame(geometry=points.geometry.to_numpy(), crs=points.crs).to_crs(z.crs)
    j = gpd.sjoin(pts, z, how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    out = pd.Series(j["zone"].to_numpy(), index=points.index, name="zone").astype(object)
    return out.where(out.notna(), None)


def street_of(
    points: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame | None = None,
    *,
    column: str | None = None,
    max_distance_m: float = 50.0,
) -> pd.Series:
    """Street of each unit: from the nearest street segment, else from its address.

    Parameters
    ----------
    points : GeoDataFrame
        Units (with ``address``) or history records.
    streets : GeoDataFrame, optional
        Street centre-lines with a name column. Without it the street is taken from the
        address (:func:`street_name`).
    column : str, optional
        Street name column of ``streets`` [default: the first of ``name``, ``nom``,
        ``NOMVOI``, ``nom_voie`` present].
    max_distance_m : float
        Units farther from any segment get no street [m].

    Returns
    -------
    Series
        Aligned to ``points``' index.
    """
    if streets is None:
        if "address" not in points:
            return pd.Series(None, index=points.index, name="street", dtype=object)
        return points["address"].map(street_name).rename("street").astype(object)
    if column is None:
        column = next(
            (c for c in ("name", "nom", "NOMVOI", "nom_voie", "street") if c in streets), None
        )
    if column is None or column not in streets:
        msg = message(
            f"street name column {column!r} not found; the streets have {list(streets.columns)}",
            where="streets",
            fix="give street_column: the column holding street names",
        )
        raise SchemaError(msg)
    pts = _metric(gpd.GeoDataFrame(geometry=points.geometry.to_numpy(), crs=points.crs))
    st = gpd.GeoDataFrame(
        {"street": streets[column].to_numpy()},
        geometry=streets.geometry.to_numpy(),
        crs=streets.crs,
    ).to_crs(pts.crs)
    j = gpd.sjoin_nearest(pts, st, how="left", max_distance=max_distance_m)
    j = j[~j.index.duplicated(keep="first")]
    out = pd.Series(j["street"].to_numpy(), index=points.index, name="street").astype(object)
    return out.where(out.notna(), None)


# -- vacancy --
def _counts(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    st = df["status"]
    g = pd.DataFrame(
        {
            **{k: df[k].to_numpy() for k in keys},
            "occupied": (st == "occupied").to_numpy(int),
            "vacant": (st == "vacant").to_numpy(int),
            "unknown": (st == "unknown").to_numpy(int),
            "vacant_floor_area_m2": np.where(
                st == "vacant", df.get("floor_area_m2", pd.Series(0.0, index=df.index)), 0.0
            ),
        }
    )
    out = g.groupby(keys, sort=True, dropna=True).sum(min_count=0).reset_index()
    out.insert(len(keys), "units", out[["occupied", "vacant", "unknown"]].sum(axis=1))
    known = out["occupied"] + out["vacant"]
    out["vacancy_rate"] = np.where(known > 0, out["vacant"] / known.where(known > 0, 1), np.nan)
    out["vacant_floor_area_m2"] = out["vacant_floor_area_m2"].fillna(0.0)
    return out


def vacancy_timeseries(
    history: gpd.GeoDataFrame,
    *,
    freq: str | None = None,
    by: str | pd.Series | None = None,
) -> pd.DataFrame:
    """Vacancy rate and counts per survey date (or period), optionally per group.

    Each date counts the units observed on that date (a survey's sample). With ``freq``,
    records are binned into periods and each unit counts once per period, with its latest
    status in it.

    Parameters
    ----------
    history : GeoDataFrame
        History table (:data:`HISTORY_COLUMNS`).
    freq : str, optional
        Pandas period alias (``"Q"``, ``"Y"``, ``"M"``…); periods are labelled by their
        start date.
    by : str or Series, optional
        A history column (e.g. ``"source"``), or a Series mapping unit ids to groups (from
        :func:`zone_of` or :func:`street_of` on the units).

    Returns
    -------
    DataFrame
        Columns ``date``, [``group``], ``units``, ``occupied``, ``vacant``, ``unknown``,
        ``vacant_floor_area_m2`` [m²] and ``vacancy_rate`` = vacant / (occupied + vacant).
    """
    h = pd.DataFrame(history.drop(columns=history.geometry.name))
    if freq is not None:
        try:
            h["date"] = h["date"].dt.to_period(freq).dt.start_time
        except ValueError as exc:
            msg = message(
                f"invalid frequency {freq!r} ({exc})", where="freq", fix="use e.g. 'Q', 'Y', 'M'"
            )
            raise SchemaError(msg) from None
        h = h.sort_values("date", kind="stable").groupby(["unit_id", "date"]).tail(1)
    keys = ["date"]
    if by is not None:
        if isinstance(by, str):
            if by not in h:
                msg = message(
                    f"column '{by}' not in the history {list(h.columns)}",
                    where="by",
                    fix="group by a history column or a Series unit_id → group",
                )
                raise SchemaError(msg)
            h["group"] = h[by]
        else:
            h["group"] = h["unit_id"].map(by)
        keys.append("group")
    if len(h) == 0:
        return pd.DataFrame(
            columns=[
                *keys,
                *("units", "occupied", "vacant", "unknown", "vacant_floor_area_m2"),
                "vacancy_rate",
            ]
        )
    return _counts(h, keys)


def vacancy_rates(
    units: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    *,
    zone_column: str | None = None,
    street_column: str | None = None,
    max_street_distance_m: float = 50.0,
) -> pd.DataFrame:
    """Current vacancy rates: overall, by street and by zone.

    Parameters
    ----------
    units : GeoDataFrame
        Units table.
    zones : GeoDataFrame, optional
        Zone polygons; with ``zone_column`` naming them (index otherwise).
    streets : GeoDataFrame, optional
        Street segments (see :func:`street_of`); streets come from addresses without them.
    zone_column, street_column : str, optional
        Name columns.
    max_street_distance_m : float
        See :func:`street_of` [m].

    Returns
    -------
    DataFrame
        Tidy: ``level`` (``'all'``, ``'zone'`` or ``'street'``), ``name``, ``units``,
        ``occupied``, ``vacant``, ``unknown``, ``vacant_floor_area_m2`` [m²],
        ``vacancy_rate``. Units outside every zone or without a street are left out of those
        levels.
    """
    check_units(units)
    u = pd.DataFrame(units.drop(columns=units.geometry.name))
    u["all"] = "all"
    parts = [_counts(u, ["all"]).rename(columns={"all": "name"}).assign(level="all")]
    if zones is not None:
        u["zone"] = zone_of(units, zones, column=zone_column)
        parts.append(_counts(u, ["zone"]).rename(columns={"zone": "name"}).assign(level="zone"))
    u["street"] = street_of(
        units, streets, column=street_column, max_distance_m=max_street_distance_m
    )
    parts.append(_counts(u, ["street"]).rename(columns={"street": "name"}).assign(level="street"))
    out = pd.concat(parts, ignore_index=True)
    cols = ["level", "name", "units", "occupied", "vacant", "unknown"]
    return out[[*cols, "vacant_floor_area_m2", "vacancy_rate"]]


# -- twin layers --
def to_layers(
    units: gpd.GeoDataFrame,
    history: gpd.GeoDataFrame,
    prov: Provenance,
    *,
    names: tuple[str, str] = ("retail_units", "retail_history"),
) -> tuple[Layer, Layer]:
    """Wrap units and history as two vector layers sharing a copy of ``prov``."""
    import copy

    check_units(units)
    return (
        Layer(names[0], "vector", units, copy.deepcopy(prov)),
        Layer(names[1], "vector", history, copy.deepcopy(prov)),
    )


def from_layers(
    units: Layer, history: Layer | None = None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Units and history tables back from twin layers (schema restored after a round trip)."""
    u = units.data
    u = _units_frame(u, u.geometry.to_numpy(), u.crs)
    check_units(u, units.name)
    if history is None or len(history.data) == 0:
        return u, empty_history(u.crs)
    h = history.data
    return u, _history_frame(h, h.geometry.to_numpy(), h.crs)
