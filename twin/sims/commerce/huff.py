"""Huff / MCI market shares: probabilities, store demand, and fitting on observed shares.

Origin ``i`` (a residential zone) chooses store ``j`` with probability

    P_ij = A_j^α · f(c_ij) / Σ_k A_k^α · f(c_ik),   f(c) = c^(−β)  or  exp(−β·c)

(Huff 1963, 1964). With several store variables ``A_1j … A_Hj`` the attractiveness is the
product ``Π_h A_hj^γ_h`` (the MCI model of Nakanishi & Cooper 1974); ``α`` is then the
exponent of the first one.

Two estimators of ``(γ, β)`` from observed local market shares ``p_ij``:

- ``method="mci"``: the log-centring transformation (Nakanishi & Cooper 1974)
  ``ln(p_ij / p̃_i) = Σ_h γ_h ln(A_hj / Ã_hi) − β ln(c_ij / c̃_i) + ε`` (``~`` = geometric mean
  over the stores of origin ``i``) then OLS through the origin (Wieland 2017, R package MCI).
  Shares must be > 0.
- ``method="ml"``: maximum likelihood of the multinomial model of observed flows
  ``F_ij = w_i·p_ij`` (``Σ F_ij ln P_ij``), likelihood and gradient in numba, L-BFGS-B from
  scipy; standard errors from the inverse Fisher information (valid when ``weights`` are the
  numbers of observed choices per origin). Zero shares are fine.

References
----------
Huff, D. L. (1963). A probabilistic analysis of shopping center trade areas. *Land Economics*
39(1), 81–90.
Huff, D. L. (1964). Defining and estimating a trading area. *Journal of Marketing* 28(3), 34–38.
Nakanishi, M., Cooper, L. G. (1974). Parameter estimation for a multiplicative competitive
interaction model: least squares approach. *Journal of Marketing Research* 11(3), 303–311.
Nakanishi, M., Cooper, L. G. (1982). Simplified estimation procedures for MCI models.
*Marketing Science* 1(3), 314–322.
Wieland, T. (2017). Market area analysis for retail and service locations with MCI.
*The R Journal* 9(1), 298–323.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from twin.errors import InputError, message
from twin.kernels.huff import huff_demand as _huff_demand_kernel
from twin.kernels.huff import huff_loglik, huff_probabilities

Decay = Literal["power", "exponential"]
DECAYS = ("power", "exponential")
_MAX_LISTED = 10


# ----------------------------------------------------------------------------- input checks


def _fmt_rows(labels: Sequence[Any]) -> str:
    """The first offending labels, with a count of the rest."""
    shown = ", ".join(repr(x) if isinstance(x, str) else str(x) for x in labels[:_MAX_LISTED])
    more = len(labels) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _labels(obj: Any, what: str) -> pd.Index | None:
    """Labels of origins/stores: a (Geo)DataFrame's or Series' index, a sequence of ids, or None."""
    if obj is None:
        return None
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.index
    if isinstance(obj, pd.Index):
        return obj
    if isinstance(obj, (int, np.integer)):
        return pd.RangeIndex(int(obj))
    try:
        return pd.Index(list(obj))
    except TypeError:
        msg = message(
            f"{what} must be a sequence of ids or a DataFrame, got {type(obj).__name__}",
            where=what,
            fix="pass a list of ids or a (Geo)DataFrame indexed by id",
        )
        raise InputError(msg) from None


def _check_decay(decay: str) -> bool:
    """True for exponential decay; InputError for an unknown name."""
    if decay not in DECAYS:
        msg = message(
            f"unknown distance decay {decay!r}", where="decay", fix=f"use one of {DECAYS}"
        )
        raise InputError(msg)
    return decay == "exponential"


def _matrix(
    m: Any, o_idx: pd.Index | None, s_idx: pd.Index | None, what: str, dtype: Any = None
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """An (n_o, n_s) matrix from an array or a DataFrame aligned on the labels."""
    if isinstance(m, pd.DataFrame):
        rows, cols = m.index, m.columns
        if o_idx is not None:
            missing = o_idx.difference(rows)
            if len(missing):
                msg = message(
                    f"{len(missing)} origin(s) have no row: {_fmt_rows(list(missing))}",
                    where=f"{what} (rows)",
                    fix="give one row per origin, indexed by the origin id",
                )
                raise InputError(msg)
            rows = o_idx
        if s_idx is not None:
            missing = s_idx.difference(cols)
            if len(missing):
                msg = message(
                    f"{len(missing)} store(s) have no column: {_fmt_rows(list(missing))}",
                    where=f"{what} (columns)",
                    fix="give one column per store, named by the store id",
                )
                raise InputError(msg)
            cols = s_idx
        arr = m.loc[rows, cols].to_numpy(dtype=dtype)
        return arr, pd.Index(rows), pd.Index(cols)
    arr = np.asarray(m, dtype=dtype)
    if arr.ndim != 2:
        msg = message(
            f"expected a 2-D (origins × stores) matrix, got shape {arr.shape}",
            where=what,
            fix="pass an (n_origins, n_stores) array or DataFrame",
        )
        raise InputError(msg)
    n_o = len(o_idx) if o_idx is not None else arr.shape[0]
    n_s = len(s_idx) if s_idx is not None else arr.shape[1]
    if arr.shape != (n_o, n_s):
        msg = message(
            f"shape {arr.shape} does not match {n_o} origins × {n_s} stores",
            where=what,
            fix="give one row per origin and one column per store, in the same order",
        )
        raise InputError(msg)
    rows = o_idx if o_idx is not None else pd.RangeIndex(n_o)
    cols = s_idx if s_idx is not None else pd.RangeIndex(n_s)
    return arr, pd.Index(rows), pd.Index(cols)


def _check_cost(c: np.ndarray, rows: pd.Index, exponential: bool) -> None:
    """Costs must be numbers, > 0 (power) or ≥ 0 (exponential); ``inf`` = unreachable."""
    if not np.issubdtype(c.dtype, np.floating):
        msg = message("travel costs must be numbers", where="cost", fix="pass a numeric matrix")
        raise InputError(msg)
    nan_rows = np.isnan(c).any(axis=1)
    if nan_rows.any():
        msg = message(
            f"travel costs contain NaN in origin row(s) {_fmt_rows(list(rows[nan_rows]))}",
            where="cost",
            fix="use np.inf for a store that cannot be reached, or fill the missing costs",
        )
        raise InputError(msg)
    bad = (c < 0) | ((c == 0) if not exponential else False) | (c == -np.inf)
    bad_rows = bad.any(axis=1)
    if bad_rows.any():
        limit = "negative" if exponential else "zero or negative"
        fix = (
            "travel costs must be ≥ 0; use np.inf for unreachable stores"
            if exponential
            else "power decay needs costs > 0: add a small intra-zonal cost (e.g. half the "
            "zone's radius / speed), or use decay='exponential'"
        )
        msg = message(
            f"{limit} travel costs in origin row(s) {_fmt_rows(list(rows[bad_rows]))}",
            where="cost",
            fix=fix,
        )
        raise InputError(msg)


def _attr_matrix(
    stores: Any, attractiveness: Any, s_idx: pd.Index | None
) -> tuple[np.ndarray, list[str]]:
    """Store variables as an (n_s, H) float64 array and their names."""
    if isinstance(attractiveness, str) or (
        isinstance(attractiveness, Sequence)
        and len(attractiveness) > 0
        and all(isinstance(a, str) for a in attractiveness)
        and not isinstance(attractiveness, np.ndarray)
    ):
        names = [attractiveness] if isinstance(attractiveness, str) else list(attractiveness)
        if not isinstance(stores, pd.DataFrame):
            msg = message(
                f"attractiveness names column(s) {names} but stores is not a DataFrame",
                where="attractiveness",
                fix="pass the stores as a (Geo)DataFrame, or attractiveness as an array",
            )
            raise InputError(msg)
        missing = [n for n in names if n not in stores.columns]
        if missing:
            msg = message(
                f"column(s) {missing} not found in stores",
                where="attractiveness",
                fix=f"use one of the stores' columns: {list(stores.columns)[:20]}",
            )
            raise InputError(msg)
        arr = stores[names].to_numpy(dtype=np.float64)
    elif isinstance(attractiveness, pd.DataFrame):
        frame = _align(attractiveness, s_idx)
        names = [str(c) for c in frame.columns]
        arr = frame.to_numpy(dtype=np.float64)
    elif isinstance(attractiveness, Mapping):
        names = [str(k) for k in attractiveness]
        arr = np.column_stack([np.asarray(v, dtype=np.float64) for v in attractiveness.values()])
    elif isinstance(attractiveness, pd.Series):
        s = _align(attractiveness, s_idx)
        names = [str(s.name) if s.name is not None else "attractiveness"]
        arr = s.to_numpy(dtype=np.float64)[:, None]
    else:
        arr = np.asarray(attractiveness, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            msg = message(
                f"attractiveness must be 1-D (n_stores,) or 2-D (n_stores, H), got {arr.shape}",
                where="attractiveness",
                fix="pass one value (or one row of values) per store",
            )
            raise InputError(msg)
        names = (
            ["attractiveness"]
            if arr.shape[1] == 1
            else [f"attractiveness_{h + 1}" for h in range(arr.shape[1])]
        )
    if s_idx is not None and arr.shape[0] != len(s_idx):
        msg = message(
            f"{arr.shape[0]} attractiveness values for {len(s_idx)} stores",
            where="attractiveness",
            fix="give one value per store, in the stores' order",
        )
        raise InputError(msg)
    labels = s_idx if s_idx is not None else pd.RangeIndex(arr.shape[0])
    bad = ~np.isfinite(arr).all(axis=1) | (arr < 0).any(axis=1)
    if bad.any():
        msg = message(
            f"attractiveness is NaN, infinite or negative for store(s) "
            f"{_fmt_rows(list(labels[bad]))}",
            where="attractiveness",
            fix="attractiveness must be a finite number ≥ 0 (e.g. sales area [m²])",
        )
        raise InputError(msg)
    return arr, names


def _align(obj: Any, s_idx: pd.Index | None) -> Any:
    """Rows of a store table in the stores' order (by label, else by position)."""
    if s_idx is None or obj.index.equals(s_idx):
        return obj
    if s_idx.isin(obj.index).all():
        return obj.loc[s_idx]
    if isinstance(s_idx, pd.RangeIndex) and len(obj) == len(s_idx):
        return obj
    missing = list(s_idx.difference(obj.index))
    msg = message(
        f"no attractiveness for store(s) {_fmt_rows(missing)}",
        where="attractiveness",
        fix="index the attractiveness table by store id, one row per store",
    )
    raise InputError(msg)


def _log(a: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(a)


# ------------------------------------------------------------------------------ probabilities


def huff(
    origins: Any,
    stores: Any,
    *,
    attractiveness: Any,
    cost: Any,
    alpha: float = 1.0,
    beta: float = 2.0,
    decay: Decay = "power",
    as_frame: bool = True,
) -> pd.DataFrame | np.ndarray:
    """Huff probabilities that each origin's customers choose each store.

    Parameters
    ----------
    origins : sequence of ids, int, (Geo)DataFrame or None
        The origins (rows); a DataFrame's index gives the labels. ``None``: from ``cost``.
    stores : sequence of ids, int, (Geo)DataFrame or None
        The stores (columns); a DataFrame's index gives the labels.
    attractiveness : str, sequence of str, array, Series or DataFrame
        Attractiveness ``A_j`` [any unit, e.g. sales area m²], a column of ``stores``, or
        several variables (then their product with ``alpha`` as the exponent of each — use
        :meth:`HuffFit.log_attractiveness` for fitted exponents).
    cost : array or DataFrame, shape (n_origins, n_stores)
        Travel cost ``c_ij`` [s, min, m…], > 0 for power decay; ``np.inf`` = unreachable.
        float32 is kept as is (half the memory). A DataFrame is aligned on the labels.
    alpha : float, default 1.0
        Attractiveness exponent α [-].
    beta : float, default 2.0
        Distance decay β [-] (power) or [1/cost unit] (exponential).
    decay : {"power", "exponential"}, default "power"
        ``c^(−β)`` (Huff 1963) or ``exp(−β·c)``.
    as_frame : bool, default True
        Return a labelled DataFrame (origins × stores); ``False`` returns the raw float64
        array without any copy (fast for large matrices).

    Returns
    -------
    DataFrame or ndarray, shape (n_origins, n_stores)
        ``P_ij`` [-]; rows sum to 1 (0 for an origin that reaches no store).
    """
    exponential = _check_decay(decay)
    o_idx = _labels(origins, "origins")
    s_idx = _labels(stores, "stores")
    c, rows, cols = _matrix(cost, o_idx, s_idx, "cost")
    if c.dtype not in (np.float32, np.float64):
        c = c.astype(np.float64)
    _check_cost(c, rows, exponential)
    a, _ = _attr_matrix(stores, attractiveness, cols)
    la = np.ascontiguousarray(_log(a).sum(axis=1))
    p = huff_probabilities(la, np.ascontiguousarray(c), float(alpha), float(beta), exponential)
    if not as_frame:
        return p
    return pd.DataFrame(p, index=rows, columns=cols)


def huff_demand(
    origins: Any,
    stores: Any,
    *,
    attractiveness: Any,
    cost: Any,
    weights: Any,
    alpha: float = 1.0,
    beta: float = 2.0,
    decay: Decay = "power",
) -> pd.Series:
    """Expected demand of each store, ``Σ_i w_i·P_ij``, without materialising ``P``.

    Parameters
    ----------
    origins, stores, attractiveness, cost, alpha, beta, decay
        As in :func:`huff`.
    weights : array or Series, shape (n_origins,)
        Demand of each origin [residents, households, € of spending…]; a Series is aligned
        on the origin labels.

    Returns
    -------
    Series
        Expected demand per store [unit of ``weights``], indexed by store.
    """
    exponential = _check_decay(decay)
    o_idx = _labels(origins, "origins")
    s_idx = _labels(stores, "stores")
    c, rows, cols = _matrix(cost, o_idx, s_idx, "cost")
    if c.dtype not in (np.float32, np.float64):
        c = c.astype(np.float64)
    _check_cost(c, rows, exponential)
    a, _ = _attr_matrix(stores, attractiveness, cols)
    w = _weights(weights, rows)
    la = np.ascontiguousarray(_log(a).sum(axis=1))
    d = _huff_demand_kernel(la, np.ascontiguousarray(c), float(alpha), float(beta), w, exponential)
    return pd.Series(d, index=cols, name="demand")


def _weights(weights: Any, rows: pd.Index) -> np.ndarray:
    """Origin weights as float64, aligned and checked (finite, ≥ 0)."""
    if isinstance(weights, pd.Series):
        missing = rows.difference(weights.index)
        if len(missing):
            msg = message(
                f"no weight for origin(s) {_fmt_rows(list(missing))}",
                where="weights",
                fix="give one weight per origin, indexed by the origin id",
            )
            raise InputError(msg)
        w = weights.loc[rows].to_numpy(dtype=np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != len(rows):
        msg = message(
            f"{w.shape[0]} weights for {len(rows)} origins",
            where="weights",
            fix="give one weight per origin, in the origins' order",
        )
        raise InputError(msg)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        msg = message(
            f"weights are NaN, infinite or negative for origin(s) {_fmt_rows(list(rows[bad]))}",
            where="weights",
            fix="weights must be finite numbers ≥ 0",
        )
        raise InputError(msg)
    return np.ascontiguousarray(w)


def market_shares(
    p: pd.DataFrame | np.ndarray, weights: Any, *, normalize: bool = True
) -> pd.Series | np.ndarray:
    """Aggregate market shares (or demand) of each store from Huff probabilities.

    Parameters
    ----------
    p : DataFrame or ndarray, shape (n_origins, n_stores)
        Probabilities from :func:`huff`.
    weights : array or Series, shape (n_origins,)
        Demand of each origin [any unit]; a Series is aligned on ``p``'s index.
    normalize : bool, default True
        Divide by the total demand so that the shares sum to 1 (when every origin reaches a
        store); ``False`` returns the expected demand ``Σ_i w_i·P_ij`` [unit of ``weights``].

    Returns
    -------
    Series (for a DataFrame ``p``) or ndarray, shape (n_stores,)
    """
    arr = p.to_numpy(dtype=np.float64) if isinstance(p, pd.DataFrame) else np.asarray(p)
    rows = p.index if isinstance(p, pd.DataFrame) else pd.RangeIndex(arr.shape[0])
    w = _weights(weights, rows)
    d = w @ arr
    if normalize:
        tot = w.sum()
        if tot <= 0:
            msg = message("the weights sum to 0", where="weights", fix="give some demand")
            raise InputError(msg)
        d = d / tot
    if isinstance(p, pd.DataFrame):
        return pd.Series(d, index=p.columns, name="share" if normalize else "demand")
    return d


# --------------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class HuffFit:
    """Estimated Huff / MCI model.

    Attributes
    ----------
    alpha : float
        Exponent of the first attractiveness variable [-].
    beta : float
        Distance decay [-] (power) or [1/cost unit] (exponential); the coefficient of the cost
        term is ``−beta``.
    gammas : dict of str to float
        Exponents of the further attractiveness variables (empty with one variable).
    names : list of str
        Names of the attractiveness variables (``alpha`` belongs to ``names[0]``).
    se : dict of str to float or None
        Standard errors keyed by variable name and ``"beta"``: OLS (MCI; ``lm`` convention,
        n − k degrees of freedom) or inverse Fisher information (ML). ``None`` if singular.
    r2 : float or None
        R² of the log-centred regression (MCI only).
    pseudo_r2 : float
        McFadden's ρ² = 1 − ll / ll₀ against equal shares among reachable stores.
    share_r2 : float
        R² of fitted against observed local shares ``p_ij``.
    loglik : float
        Multinomial log-likelihood ``Σ w_i p_ij ln P̂_ij`` at the estimates.
    n : int
        Number of origin × store observations used.
    n_origins, n_stores : int
        Sizes of the observed matrix.
    method : str
        ``"mci"`` or ``"ml"``.
    decay : str
        ``"power"`` or ``"exponential"``.
    converged : bool
        Optimiser status (always True for MCI).
    """

    alpha: float
    beta: float
    gammas: dict[str, float]
    names: list[str]
    se: dict[str, float] | None
    r2: float | None
    pseudo_r2: float
    share_r2: float
    loglik: float
    n: int
    n_origins: int
    n_stores: int
    method: str
    decay: str
    converged: bool = True
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def coefficients(self) -> dict[str, float]:
        """All exponents: each attractiveness variable, then ``"beta"``."""
        out = {self.names[0]: self.alpha, **self.gammas}
        out["beta"] = self.beta
        return out

    def log_attractiveness(self, attractiveness: Any, stores: Any = None) -> np.ndarray:
        """``Σ_h γ_h ln A_hj`` — pass it to :func:`huff` style kernels with ``alpha=1``.

        Parameters
        ----------
        attractiveness : array, DataFrame, mapping or column name(s)
            The same variables as in the fit, in the same order.
        stores : DataFrame, optional
            Needed when ``attractiveness`` names columns.
        """
        a, _ = _attr_matrix(stores, attractiveness, _labels(stores, "stores"))
        if a.shape[1] != len(self.names):
            msg = message(
                f"{a.shape[1]} attractiveness variable(s) for a model fitted on "
                f"{len(self.names)} ({self.names})",
                where="attractiveness",
                fix="pass the same variables as in the fit",
            )
            raise InputError(msg)
        g = np.array([self.alpha, *self.gammas.values()])
        return _log(a) @ g

    def predict(
        self, attractiveness: Any, cost: Any, *, stores: Any = None, origins: Any = None
    ) -> pd.DataFrame:
        """Fitted probabilities for (possibly new) stores and costs, labelled like :func:`huff`.

        Parameters
        ----------
        attractiveness : array, DataFrame, mapping or column name(s) of ``stores``
            The same variables as in the fit, in the same order.
        cost : array or DataFrame, shape (n_origins, n_stores)
            Travel cost [unit of the fit].
        stores, origins : DataFrame or sequence of ids, optional
            Labels (and the columns ``attractiveness`` names).
        """
        exponential = _check_decay(self.decay)
        o_idx = _labels(origins, "origins")
        s_idx = _labels(stores, "stores")
        c, rows, cols = _matrix(cost, o_idx, s_idx, "cost")
        if c.dtype not in (np.float32, np.float64):
            c = c.astype(np.float64)
        _check_cost(c, rows, exponential)
        la = self.log_attractiveness(attractiveness, stores)
        if la.shape[0] != len(cols):
            msg = message(
                f"{la.shape[0]} stores in attractiveness, {len(cols)} in cost",
                where="attractiveness",
                fix="give one row of attractiveness per cost column",
            )
            raise InputError(msg)
        p = huff_probabilities(
            np.ascontiguousarray(la, dtype=np.float64),
            np.ascontiguousarray(c),
            1.0,
            self.beta,
            exponential,
        )
        return pd.DataFrame(p, index=rows, columns=cols)


def shares_from_flows(flows: pd.DataFrame | np.ndarray) -> tuple[Any, Any]:
    """Split observed flows ``F_ij`` [trips, respondents, €] into local shares and origin totals.

    Returns
    -------
    shares : same type as ``flows``
        ``F_ij / Σ_j F_ij``.
    weights : Series or ndarray
        ``Σ_j F_ij`` per origin (origins with no flow are dropped).
    """
    if isinstance(flows, pd.DataFrame):
        tot = flows.sum(axis=1)
        keep = tot > 0
        return flows[keep].div(tot[keep], axis=0), tot[keep]
    f = np.asarray(flows, dtype=np.float64)
    tot = f.sum(axis=1)
    keep = tot > 0
    return f[keep] / tot[keep, None], tot[keep]


def _check_shares(s: np.ndarray, rows: pd.Index, tol: float, positive: bool) -> None:
    nan_rows = ~np.isfinite(s).all(axis=1)
    if nan_rows.any():
        msg = message(
            f"observed shares are NaN or infinite in origin row(s) "
            f"{_fmt_rows(list(rows[nan_rows]))}",
            where="observed_shares",
            fix="fill or drop these origins",
        )
        raise InputError(msg)
    neg = (s < 0).any(axis=1)
    if neg.any():
        msg = message(
            f"negative observed shares in origin row(s) {_fmt_rows(list(rows[neg]))}",
            where="observed_shares",
            fix="shares must lie in [0, 1]",
        )
        raise InputError(msg)
    sums = s.sum(axis=1)
    off = np.abs(sums - 1.0) > tol
    if off.any():
        detail = ", ".join(
            f"{r!r}: {v:.6g}" for r, v in list(zip(rows[off], sums[off], strict=True))[:_MAX_LISTED]
        )
        msg = message(
            f"observed shares do not sum to 1 (± {tol:g}) in {int(off.sum())} origin row(s) "
            f"({detail})",
            where="observed_shares",
            fix="normalise each origin's row (see twin.commerce.shares_from_flows), or raise tol",
        )
        raise InputError(msg)
    if positive:
        zero = (s == 0).any(axis=1)
        if zero.any():
            msg = message(
                f"the MCI log-centring needs shares > 0; zero shares in origin row(s) "
                f"{_fmt_rows(list(rows[zero]))}",
                where="observed_shares",
                fix="use method='ml', or add a small count to every flow before computing the "
                "shares (Wieland 2015 adds 1 customer per origin × store)",
            )
            raise InputError(msg)


def _centre(v: np.ndarray) -> np.ndarray:
    """Log-centring: subtract each origin row's mean (the log of the geometric mean)."""
    return v - v.mean(axis=1, keepdims=True)


def _null_loglik(flows: np.ndarray, reach: np.ndarray) -> float:
    n_reach = reach.sum(axis=1)
    ok = n_reach > 0
    return float(-(flows[ok].sum(axis=1) * np.log(n_reach[ok])).sum())


def fit_huff(
    observed_shares: Any,
    *,
    attractiveness: Any,
    cost: Any,
    method: Literal["mci", "ml"] = "mci",
    weights: Any = None,
    decay: Decay = "power",
    stores: Any = None,
    origins: Any = None,
    tol: float = 1e-6,
    start: Sequence[float] | None = None,
) -> HuffFit:
    """Estimate the Huff / MCI exponents from observed local market shares.

    Parameters
    ----------
    observed_shares : array or DataFrame, shape (n_origins, n_stores)
        Observed share ``p_ij`` of each store in each origin (rows sum to 1). A DataFrame is
        labelled origins × stores.
    attractiveness : array, Series, DataFrame, mapping or column name(s) of ``stores``
        One or several store variables ``A_hj`` (> 0), e.g. sales area [m²], an agglomeration
        index. The first gets ``alpha``, the others ``gammas``.
    cost : array or DataFrame, shape (n_origins, n_stores)
        Travel cost ``c_ij`` [any unit] (> 0 for power decay; ``np.inf`` = unreachable, ML
        only).
    method : {"mci", "ml"}, default "mci"
        Log-centring + OLS, or multinomial maximum likelihood.
    weights : array or Series, optional
        Per-origin weights ``w_i`` (e.g. respondents): WLS weights for MCI, flow totals for ML
        (``F_ij = w_i·p_ij``). Default 1 for every origin.
    decay : {"power", "exponential"}, default "power"
        ``c^(−β)`` or ``exp(−β·c)``.
    stores, origins : DataFrame or sequence of ids, optional
        Labels (and the columns ``attractiveness`` names).
    tol : float, default 1e-6
        Tolerance on each origin's sum of shares.
    start : sequence of float, optional
        ML starting values ``(γ_1 … γ_H, β)``; default the MCI estimate when it exists, else
        ``(1, …, 1, 1)``.

    Returns
    -------
    HuffFit
    """
    exponential = _check_decay(decay)
    if method not in ("mci", "ml"):
        msg = message(f"unknown method {method!r}", where="method", fix="use 'mci' or 'ml'")
        raise InputError(msg)
    o_idx = _labels(origins, "origins")
    s_idx = _labels(stores, "stores")
    if o_idx is None and isinstance(observed_shares, pd.DataFrame):
        o_idx = observed_shares.index
    if s_idx is None and isinstance(observed_shares, pd.DataFrame):
        s_idx = observed_shares.columns
    s, rows, cols = _matrix(observed_shares, o_idx, s_idx, "observed_shares", np.float64)
    c, _, _ = _matrix(cost, rows, cols, "cost", np.float64)
    _check_cost(c, rows, exponential)
    a, names = _attr_matrix(stores, attractiveness, cols)
    if (a <= 0).any():
        bad = (a <= 0).any(axis=1)
        msg = message(
            f"attractiveness must be > 0 to fit (its log is taken); store(s) "
            f"{_fmt_rows(list(cols[bad]))}",
            where="attractiveness",
            fix="drop these stores or give them a positive attractiveness",
        )
        raise InputError(msg)
    _check_shares(s, rows, tol, positive=(method == "mci"))
    w = np.ones(len(rows)) if weights is None else _weights(weights, rows)
    n_o, n_s = s.shape
    h = a.shape[1]
    x = np.log(a)
    d = c if exponential else np.log(c)
    reach = np.isfinite(d)
    flows = w[:, None] * s

    extra: dict[str, Any] = {}
    se_vec: np.ndarray | None
    r2: float | None = None
    converged = True
    if method == "mci":
        if not reach.all():
            msg = message(
                f"the MCI log-centring needs every store reachable; unreachable stores in "
                f"origin row(s) {_fmt_rows(list(rows[~reach.all(axis=1)]))}",
                where="cost",
                fix="use method='ml', which handles unreachable stores",
            )
            raise InputError(msg)
        y = _centre(np.log(s)).ravel()
        cols_x = [_centre(np.broadcast_to(x[:, q], (n_o, n_s))).ravel() for q in range(h)]
        cols_x.append(_centre(d).ravel())
        xm = np.column_stack(cols_x)
        sw = np.sqrt(np.repeat(w, n_s))
        xw, yw = xm * sw[:, None], y * sw
        theta, *_ = np.linalg.lstsq(xw, yw, rcond=None)
        resid = yw - xw @ theta
        dof = xm.shape[0] - xm.shape[1]
        rss = float(resid @ resid)
        tss = float(yw @ yw)
        r2 = 1.0 - rss / tss if tss > 0 else float("nan")
        try:
            cov = rss / dof * np.linalg.inv(xw.T @ xw)
            se_vec = np.sqrt(np.diag(cov))
        except np.linalg.LinAlgError:
            se_vec = None
        extra["dof"] = dof
    else:
        from scipy.optimize import minimize

        if start is not None:
            theta0 = np.asarray(start, dtype=np.float64).copy()
            if theta0.shape != (h + 1,):
                msg = message(
                    f"start has {theta0.shape} values, expected {h + 1} (γ_1…γ_H, β)",
                    where="start",
                    fix="give one value per attractiveness variable, then β",
                )
                raise InputError(msg)
            theta0[h] = -theta0[h]
        else:
            theta0 = np.ones(h + 1)
            theta0[h] = -1.0
            if reach.all() and (s > 0).all():
                yc = _centre(np.log(s)).ravel()
                xs = [_centre(np.broadcast_to(x[:, q], (n_o, n_s))).ravel() for q in range(h)]
                xs.append(_centre(d).ravel())
                theta0 = np.linalg.lstsq(np.column_stack(xs), yc, rcond=None)[0]
        # Scale the objective so the optimiser's tolerances are relative.
        scale = 1.0 / max(float(flows.sum()), 1e-300)
        xc = np.ascontiguousarray(x)
        dc = np.ascontiguousarray(d)
        fc = np.ascontiguousarray(flows)

        def fun(t: np.ndarray) -> tuple[float, np.ndarray]:
            ll, g, _ = huff_loglik(xc, dc, np.ascontiguousarray(t), fc, False)
            if not np.isfinite(ll):
                return 1e300, np.zeros_like(t)
            return -ll * scale, -g * scale

        res = minimize(
            fun, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 500, "gtol": 1e-10}
        )
        theta = res.x
        converged = bool(res.success)
        # Newton polish: the log-likelihood is concave and its Hessian is exactly −info
        # (multinomial logit, linear utilities), so a few steps from the L-BFGS-B point reach
        # the optimum to machine precision (L-BFGS-B alone stops near 1e-8 relative).
        ll_t, g_t, info = huff_loglik(xc, dc, np.ascontiguousarray(theta), fc, True)
        for _ in range(4):
            try:
                step = np.linalg.solve(info, g_t)
            except np.linalg.LinAlgError:
                break
            t_new = theta + step
            ll_n, g_n, info_n = huff_loglik(xc, dc, np.ascontiguousarray(t_new), fc, True)
            if not np.isfinite(ll_n) or ll_n < ll_t - 1e-12 * abs(ll_t):
                break
            theta, ll_t, g_t, info = t_new, ll_n, g_n, info_n
            if np.abs(step).max() <= 1e-13 * (1.0 + np.abs(theta).max()):
                break
        try:
            se_vec = np.sqrt(np.diag(np.linalg.inv(info)))
        except np.linalg.LinAlgError:
            se_vec = None
        extra["optimizer"] = {"nit": int(res.nit), "message": str(res.message)}

    ll, _, _ = huff_loglik(
        np.ascontiguousarray(x), np.ascontiguousarray(d), np.ascontiguousarray(theta), flows, False
    )
    ll0 = _null_loglik(flows, reach)
    pseudo = 1.0 - ll / ll0 if ll0 != 0 else float("nan")
    la = x @ theta[:h]
    p_hat = huff_probabilities(
        np.ascontiguousarray(la), np.ascontiguousarray(c), 1.0, float(-theta[h]), exponential
    )
    ss_res = float(((s - p_hat) ** 2).sum())
    ss_tot = float(((s - s.mean()) ** 2).sum())
    share_r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    keys = [*names, "beta"]
    se = None if se_vec is None else dict(zip(keys, map(float, se_vec), strict=True))
    return HuffFit(
        alpha=float(theta[0]),
        beta=float(-theta[h]),
        gammas={names[q]: float(theta[q]) for q in range(1, h)},
        names=names,
        se=se,
        r2=r2,
        pseudo_r2=float(pseudo),
        share_r2=share_r2,
        loglik=float(ll),
        n=int(n_o * n_s) if method == "mci" else int(reach.sum()),
        n_origins=n_o,
        n_stores=n_s,
        method=method,
        decay=decay,
        converged=converged,
        extra=extra,
    )
