"""Vacancy risk of retail units: a transparent logistic regression.

The probability that a unit is (or becomes) vacant is

    logit p = b0 + b1·ln(F / 1000) + b2·ln(S) + b3·ln(A / 100) + b4·ln(R / R̄) + τ·rate

with ``F`` the footfall of the unit's street [pedestrians/day], ``S`` the unit's Huff market
share relative to the average unit (1 = average: a weak share means strong competition),
``A`` its floor area [m²], ``R`` its rent where known (``R̄`` the median rent) and ``rate`` a
vacancy-tax rate in force at the unit. The references (1000 pedestrians/day, the average
share, 100 m²) make ``b0`` the log-odds of vacancy of an average unit.

The coefficients are fitted by maximum likelihood (iteratively reweighted least squares,
written in numpy) on the observed vacancy of the units (OSM ``vacant`` / survey ``status``)
when at least ``min_events`` vacant and ``min_events`` occupied units are observed.
Otherwise the :data:`DEFAULT_COEF` are used: orders of magnitude, ASSUMED and not calibrated
(more footfall and a larger market share lower the risk; larger units are harder to let).
``τ`` (the vacancy-tax effect) is always ASSUMED: no calibration data exist for it.

References
----------
McCullagh, P. & Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed., §4.4 (IRLS).
Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver
operating characteristic (ROC) curve. *Radiology* 143(1), 29–36.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata

#: Default coefficients (ASSUMED orders of magnitude, used when too few vacancies are
#: observed to fit): an average unit has a 10 % risk; halving footfall or market share
#: raises the odds by about 40 % (2^0.5); doubling floor area raises them by 15 %.
DEFAULT_COEF: dict[str, float] = {
    "const": float(np.log(0.10 / 0.90)),
    "log_footfall": -0.5,
    "log_share": -0.5,
    "log_floor_area": 0.2,
    "log_rent": 0.4,
}

#: Effect of a vacancy tax on the log-odds of vacancy per unit of tax rate (ASSUMED: a tax of
#: 20 % of the rental value lowers the odds by 1 − exp(−0.4) ≈ 33 %). Order of magnitude
#: only; the French *taxe sur les friches commerciales* (CGI art. 1530) has rates of 10, 15
#: and 20 % of the rental value in the first, second and later years of vacancy.
TAX_EFFECT_PER_RATE = -2.0

FOOTFALL_REF = 1000.0  # [pedestrians/day]
FLOOR_AREA_REF = 100.0  # [m²]


@dataclass
class LogitFit:
    """A fitted (or default) logistic model.

    Attributes
    ----------
    names : list of str
        Variable names (``const`` first).
    coef, se : ndarray
        Coefficients and standard errors (NaN for default coefficients).
    n, n_events : int
        Units used and vacant units among them.
    auc : float
        Area under the ROC curve on the units used (NaN without both classes).
    loglik : float
        Log-likelihood at the coefficients.
    assumed : bool
        True when the default coefficients are used.
    note : str
        Why the defaults were used, or how the fit went.
    """

    names: list[str]
    coef: np.ndarray
    se: np.ndarray
    n: int
    n_events: int
    auc: float
    loglik: float
    iterations: int = 0
    converged: bool = True
    assumed: bool = False
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)

    def linear(self, frame: pd.DataFrame) -> np.ndarray:
        """Log-odds of each row of ``frame`` (columns named as the variables; const implied)."""
        eta = np.full(len(frame), self.coef[0])
        for name, b in zip(self.names[1:], self.coef[1:], strict=True):
            eta = eta + b * frame[name].to_numpy(float)
        return eta

    def table(self) -> pd.DataFrame:
        """Coefficients and standard errors."""
        return pd.DataFrame({"coef": self.coef, "se": self.se}, index=self.names)


def sigmoid(eta: np.ndarray) -> np.ndarray:
    """Logistic function, stable for large |η|."""
    return np.exp(-np.logaddexp(0.0, -eta))


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U / n₁n₀, ties counted half)."""
    y = np.asarray(y, bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def fit_logit(
    x: np.ndarray, y: np.ndarray, *, max_iter: int = 100, tol: float = 1e-12
) -> tuple[np.ndarray, np.ndarray, float, int, bool]:
    """Maximum-likelihood logistic regression by IRLS (Newton–Raphson).

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Design matrix (include a column of ones for the intercept).
    y : ndarray, shape (n,)
        Outcomes (0/1).
    max_iter : int
        Iteration cap.
    tol : float
        Stop when the log-likelihood changes by less than ``tol`` (relative).

    Returns
    -------
    coef, se, loglik, iterations, converged
        ``se`` from the inverse Fisher information ``(XᵀWX)⁻¹``.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    b = np.zeros(x.shape[1])
    ll_old = -np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        eta = x @ b
        p = sigmoid(eta)
        w = np.clip(p * (1 - p), 1e-12, None)
        z = eta + (y - p) / w
        xtw = x.T * w
        b = np.linalg.solve(xtw @ x, xtw @ z)
        eta = x @ b
        ll = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
        if abs(ll - ll_old) <= tol * (abs(ll) + tol):
            converged = True
            break
        ll_old = ll
    p = sigmoid(x @ b)
    info = (x.T * (p * (1 - p))) @ x
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    if np.max(np.abs(b)) > 25:  # (quasi-)separation: the MLE does not exist
        converged = False
    return b, se, ll, it, converged


def features(
    footfall: np.ndarray,
    share_index: np.ndarray,
    floor_area_m2: np.ndarray,
    rent: np.ndarray | None = None,
) -> pd.DataFrame:
    """The model's explanatory variables (logs relative to the references).

    Footfall below 1 pedestrian/day and share indices below 1e-6 are clipped there.
    """
    out = {
        "log_footfall": np.log(np.maximum(footfall, 1.0) / FOOTFALL_REF),
        "log_share": np.log(np.maximum(share_index, 1e-6)),
        "log_floor_area": np.log(np.maximum(floor_area_m2, 1.0) / FLOOR_AREA_REF),
    }
    if rent is not None:
        r = np.asarray(rent, float)
        med = np.nanmedian(r[r > 0]) if (r > 0).any() else 1.0
        r = np.where(np.isfinite(r) & (r > 0), r, med)
        out["log_rent"] = np.log(r / med)
    return pd.DataFrame(out)


def calibrate(
    feats: pd.DataFrame,
    vacant: np.ndarray,
    *,
    min_events: int = 10,
) -> LogitFit:
    """Fit the vacancy model on observed units, or fall back to the ASSUMED defaults.

    Parameters
    ----------
    feats : DataFrame
        From :func:`features`, one row per unit.
    vacant : ndarray of bool or float
        Observed vacancy (NaN = unknown: the unit is left out of the fit).
    min_events : int
        Fewest vacant and fewest occupied units needed to fit.
    """
    v = np.asarray(vacant, float)
    known = np.isfinite(v)
    y = v[known]
    n, n1 = int(known.sum()), int(y.sum())
    # variables that vary among the observed units (a constant column cannot be fitted)
    names = (
        [c for c in feats.columns if np.ptp(feats[c].to_numpy(float)[known]) > 1e-12] if n else []
    )
    if n1 >= min_events and n - n1 >= min_events:
        x = np.column_stack([np.ones(n), feats.loc[known, names].to_numpy(float)])
        try:
            b, se, ll, it, ok = fit_logit(x, y)
        except np.linalg.LinAlgError:
            ok, it = False, 0
        if ok:
            score = x @ b
            return LogitFit(
                ["const", *names], b, se, n, n1, auc(y.astype(bool), score), ll, it, True,
                False, f"fitted by IRLS on {n} units ({n1} vacant), {it} iterations",
            )  # fmt: skip
        why = "the fit did not converge (vacant and occupied units are separable)"
    else:
        why = (
            f"only {n1} vacant and {n - n1} occupied units observed "
            f"(at least {min_events} of each are needed to fit)"
        )
    names = [c for c in feats.columns if c in DEFAULT_COEF]
    coef = np.array([DEFAULT_COEF["const"], *(DEFAULT_COEF[c] for c in names)])
    fit = LogitFit(
        ["const", *names], coef, np.full(len(coef), np.nan), n, n1, float("nan"),
        float("nan"), 0, True, True, f"ASSUMED default coefficients: {why}",
    )  # fmt: skip
    if n:
        eta = fit.linear(feats.loc[known])
        fit.auc = auc(y.astype(bool), eta)
        fit.loglik = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    return fit


def given_model(coef: dict[str, float], feats: pd.DataFrame, vacant: np.ndarray) -> LogitFit:
    """A model with given coefficients (e.g. fitted on the baseline), scored on the observed units.

    Variables missing from ``coef`` count 0; ``log_rent`` is used only when ``feats`` has it.
    """
    names = [c for c in feats.columns if c in coef]
    b = np.array([coef["const"], *(coef[c] for c in names)])
    v = np.asarray(vacant, float)
    known = np.isfinite(v)
    y = v[known]
    fit = LogitFit(
        ["const", *names], b, np.full(len(b), np.nan), int(known.sum()), int(y.sum()),
        float("nan"), float("nan"), 0, True, False, "coefficients given in the parameters",
    )  # fmt: skip
    if known.any():
        eta = fit.linear(feats.loc[known])
        fit.auc = auc(y.astype(bool), eta)
        fit.loglik = float(np.sum(y * eta - np.logaddexp(0.0, eta)))
    return fit


def vacancy_risk(
    fit: LogitFit, feats: pd.DataFrame, tax_rate: np.ndarray | None = None,
    tax_effect: float = TAX_EFFECT_PER_RATE,
) -> np.ndarray:  # fmt: skip
    """Probability of vacancy of each unit, with the (ASSUMED) effect of a vacancy tax."""
    eta = fit.linear(feats)
    if tax_rate is not None:
        eta = eta + tax_effect * np.nan_to_num(np.asarray(tax_rate, float))
    return sigmoid(eta)


def observed_vacancy(units: pd.DataFrame) -> np.ndarray:
    """Observed vacancy of each unit: 1, 0 or NaN (unknown) from ``status`` or ``vacant``.

    ``status`` wins when both exist: ``vacant`` → 1, ``unknown`` or empty → no information,
    any other status → 0. Without
    either column every unit is unknown.
    """
    out = np.full(len(units), np.nan)
    if "vacant" in units:
        v = units["vacant"]
        if v.dtype == object:
            v = v.map(
                lambda s: {"true": 1.0, "yes": 1.0, "1": 1.0, "false": 0.0, "no": 0.0, "0": 0.0}
                .get(str(s).strip().lower(), np.nan) if s is not None else np.nan
            )  # fmt: skip
        out = pd.to_numeric(v, errors="coerce").to_numpy(float)
    if "status" in units:
        st = units["status"].astype(object)
        s = st.astype(str).str.strip().str.lower()
        known = st.notna() & ~s.isin(["", "unknown", "none", "nan"])
        out = np.where(known, (s == "vacant").astype(float), out)
    return out
