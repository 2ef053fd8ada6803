"""Huff maximum likelihood against a reference spatial-interaction fit on published data.

The Huff model with observed flows is the production-constrained ("origin-constrained")
spatial interaction model of Wilson (1971): ``T_ij = O_i · A_j^α f(c_ij) / Σ_k A_k^α f(c_ik)``.
Its Poisson maximum-likelihood fit with one fixed effect per origin has the same estimates,
likelihood maximum and standard errors as the multinomial fit of :func:`twin.commerce.fit_huff`
(``method="ml"``, ``weights`` = origin totals): the multinomial–Poisson transformation (Baker
1994, *J. R. Stat. Soc. D* 43(4), 495–504).

Data: the Austrian inter-regional migration example of Dennett (2012, CASA Working Paper 181),
also the example of Oshan (2016, *REGION* 3(2), R11–R23), transcribed in
``tests/data/austria_migration_dennett2012.csv`` (see the README there). Reference values: the
production-constrained fits with exponential distance decay printed as test expectations in
the PySAL package ``spint`` (``spint/tests/test_gravity.py``, ``test_Production`` and
``test_Attraction``, spint 1.0.7 on PyPI; computed by spint's own Poisson IRLS). Whether the
REGION paper prints the same figures was not checked. statsmodels' Poisson GLM is run side by
side as an independent check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from twin.commerce import HuffFit, fit_huff, shares_from_flows

DATA = Path(__file__).resolve().parents[2] / "data" / "austria_migration_dennett2012.csv"

# spint 1.0.7, spint/tests/test_gravity.py, exponential decay exp(−β·d_ij), d in km.
# test_Production: Production(flows, origins, Dj, Dij, 'exp') — choice among destinations,
#   attractiveness Dj; params[-2:] = (ln Dj, Dij), std_err[-2:], llf (Poisson).
# test_Attraction: Production(flows, destinations, Oi, Dij, 'exp') — the same model with the
#   roles swapped: each destination's inflow is shared among origins, attractiveness Oi.
SPINT = {
    "production": {
        "alpha": 0.89278717,
        "beta": 0.00727113,  # printed as the coefficient −0.00727113 of Dij
        "se_alpha": 4.66889578e-03,
        "se_beta": 5.26601057e-05,
        "llf": -7930.3255090342445,
        "yhat": {  # origin → destination [migrants]
            ("AT11", "AT12"): 1.40705950e03,
            ("AT11", "AT13"): 1.69457663e03,
            ("AT11", "AT21"): 1.16508879e02,
            ("AT13", "AT12"): 1.83446566e04,
        },
    },
    "attraction": {
        "alpha": 0.89235874,
        "beta": 0.00693755,
        "se_alpha": 5.14257895e-03,
        "se_beta": 5.12438958e-05,
        "llf": -8126.9496609469106,
        "yhat": {
            ("AT11", "AT12"): 1.79502279e03,
            ("AT11", "AT13"): 2.77690999e03,
            ("AT11", "AT21"): 1.77376340e02,
            ("AT13", "AT12"): 1.52712766e04,
        },
    },
}


@pytest.fixture(scope="module")
def austria() -> pd.DataFrame:
    assert DATA.is_file(), DATA
    df = pd.read_csv(DATA)
    assert len(df) == 72 and df["migrants"].sum() == 89_575
    return df


def _matrices(df: pd.DataFrame, role: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Flows and costs (chooser × alternative; ``inf`` on the diagonal) and attractiveness."""
    if role == "production":
        row, col, attr = "origin", "destination", "dj"
    else:
        row, col, attr = "destination", "origin", "oi"
    flows = df.pivot(index=row, columns=col, values="migrants").fillna(0.0)
    cost = df.pivot(index=row, columns=col, values="distance_km").fillna(np.inf)
    a = df.groupby(col)[attr].first().rename(attr)
    return flows, cost.loc[flows.index, flows.columns], a.loc[flows.columns]


def _fit(flows: pd.DataFrame, cost: pd.DataFrame, a: pd.Series, decay: str) -> HuffFit:
    shares, w = shares_from_flows(flows)
    return fit_huff(shares, attractiveness=a, cost=cost, method="ml", weights=w, decay=decay)


def _poisson_llf(fit: HuffFit, flows: pd.DataFrame, cost: pd.DataFrame, a: pd.Series) -> float:
    """Poisson log-likelihood of the flows at the fitted ``μ_ij = O_i·P̂_ij``."""
    p = fit.predict(a, cost).to_numpy()
    f = flows.to_numpy()
    mu = f.sum(axis=1, keepdims=True) * p
    m = np.isfinite(cost.to_numpy())
    return float((f[m] * np.log(mu[m]) - mu[m] - gammaln(f[m] + 1.0)).sum())


@pytest.mark.parametrize("role", ["production", "attraction"])
def test_austria_migration_reproduces_spint_reference(austria: pd.DataFrame, role: str) -> None:
    flows, cost, a = _matrices(austria, role)
    fit = _fit(flows, cost, a, "exponential")
    ref = SPINT[role]
    assert fit.converged
    assert fit.n == 72 and fit.n_origins == 9 and fit.n_stores == 9
    # Estimates: equal to the 8 printed decimals.
    assert round(fit.alpha, 8) == ref["alpha"]
    assert round(fit.beta, 8) == ref["beta"]
    # The maximised Poisson log-likelihood: spint asserts it to 1e-4; we agree to 1e-6.
    assert _poisson_llf(fit, flows, cost, a) == pytest.approx(ref["llf"], abs=1e-6)
    # Fitted flows μ_ij = O_i·P̂_ij (spint's yhat, printed to 9 significant digits).
    mu = fit.predict(a, cost).mul(flows.sum(axis=1), axis=0)
    for (o, d), value in ref["yhat"].items():
        pair = (o, d) if role == "production" else (d, o)
        assert mu.loc[pair] == pytest.approx(value, rel=1e-7), (o, d)
    # Standard errors: spint's printed values are 1–3e-5 (relative) below the converged ones
    # (ours = statsmodels' GLM at tol 1e-14, see below), presumably its IRLS stopping point.
    assert fit.se is not None
    assert fit.se[a.name] == pytest.approx(ref["se_alpha"], rel=5e-5)
    assert fit.se["beta"] == pytest.approx(ref["se_beta"], rel=5e-5)


@pytest.mark.parametrize(
    ("role", "decay"),
    [("production", "exponential"), ("attraction", "exponential"), ("production", "power")],
)
def test_austria_migration_matches_statsmodels_poisson_glm(
    austria: pd.DataFrame, role: str, decay: str
) -> None:
    """Independent peer: Poisson GLM with one dummy per chooser, converged to 1e-14."""
    import statsmodels.api as sm

    flows, cost, a = _matrices(austria, role)
    fit = _fit(flows, cost, a, decay)
    long = flows.stack()
    c = cost.stack().loc[long.index].to_numpy()
    keep = np.isfinite(c)
    chooser = long.index.get_level_values(0)[keep]
    alt = long.index.get_level_values(1)[keep]
    dummies = pd.get_dummies(chooser).to_numpy(dtype=np.float64)
    cost_term = c[keep] if decay == "exponential" else np.log(c[keep])
    x = np.column_stack([dummies, np.log(a.loc[alt].to_numpy()), cost_term])
    glm = sm.GLM(long.to_numpy()[keep], x, family=sm.families.Poisson()).fit(tol=1e-14, maxiter=200)
    assert fit.alpha == pytest.approx(glm.params[-2], rel=1e-9)
    assert fit.beta == pytest.approx(-glm.params[-1], rel=1e-9)
    assert fit.se is not None
    assert fit.se[a.name] == pytest.approx(glm.bse[-2], rel=1e-6)
    assert fit.se["beta"] == pytest.approx(glm.bse[-1], rel=1e-6)
    assert _poisson_llf(fit, flows, cost, a) == pytest.approx(glm.llf, abs=1e-7)
