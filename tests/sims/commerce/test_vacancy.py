"""Vacancy-risk model: IRLS against statsmodels, AUC, defaults, observed vacancy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.metrics import roc_auc_score

from twin.sims.commerce.vacancy import (
    DEFAULT_COEF,
    auc,
    calibrate,
    features,
    fit_logit,
    given_model,
    observed_vacancy,
    vacancy_risk,
)


def _synthetic(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    foot = np.exp(rng.normal(np.log(1500), 1.0, n))
    share = np.exp(rng.normal(0, 0.7, n))
    area = np.exp(rng.normal(np.log(120), 0.5, n))
    rent = np.exp(rng.normal(np.log(25), 0.3, n))
    f = features(foot, share, area, rent)
    eta = -2.0 - 0.8 * f["log_footfall"] - 0.6 * f["log_share"] + 0.3 * f["log_floor_area"]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return f, y


@pytest.mark.parametrize("seed", [0, 1])
def test_irls_matches_statsmodels(seed: int) -> None:
    f, y = _synthetic(800, seed)
    x = np.column_stack([np.ones(len(f)), f.to_numpy()])
    b, se, ll, it, ok = fit_logit(x, y)
    peer = sm.Logit(y, x).fit(disp=0, tol=1e-14, maxiter=100)
    assert ok and it < 20
    np.testing.assert_allclose(b, peer.params, atol=1e-6)
    np.testing.assert_allclose(se, peer.bse, atol=1e-6)
    assert ll == pytest.approx(peer.llf, abs=1e-6)
    # the true footfall effect (−0.8) is recovered within 3 standard errors
    assert abs(b[1] + 0.8) < 3 * se[1]


def test_calibrate_fits_and_reports() -> None:
    f, y = _synthetic(600, 3)
    fit = calibrate(f, y, min_events=10)
    assert not fit.assumed and fit.n == 600 and fit.n_events == int(y.sum())
    assert fit.names == ["const", "log_footfall", "log_share", "log_floor_area", "log_rent"]
    score = fit.linear(f)
    assert fit.auc == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert 0.6 < fit.auc < 0.95
    assert np.all(np.isfinite(fit.se))


def test_too_few_vacancies_fall_back_to_assumed_defaults() -> None:
    f, _ = _synthetic(200, 4)
    y = np.zeros(200)
    y[:3] = 1
    fit = calibrate(f, y, min_events=10)
    assert fit.assumed and "ASSUMED" in fit.note and "only 3 vacant" in fit.note
    assert fit.coef[0] == DEFAULT_COEF["const"]
    # an average unit (all logs 0) has the default 10 % risk
    zero = pd.DataFrame(0.0, index=[0], columns=f.columns)
    assert vacancy_risk(fit, zero)[0] == pytest.approx(0.10)
    # more footfall, lower risk; a vacancy tax lowers it too (ASSUMED effect)
    hi = zero.assign(log_footfall=np.log(4.0))
    assert vacancy_risk(fit, hi)[0] < 0.10
    assert vacancy_risk(fit, zero, tax_rate=np.array([0.2]))[0] < 0.10


def test_separation_falls_back() -> None:
    f = features(np.r_[np.full(20, 100.0), np.full(20, 5000.0)], np.ones(40), np.full(40, 80.0))
    y = np.r_[np.ones(20), np.zeros(20)]  # vacant exactly where footfall is low
    fit = calibrate(f, y, min_events=10)
    assert fit.assumed and "separable" in fit.note


def test_auc_ties_and_one_class() -> None:
    y = np.array([1, 0, 1, 0, 0], bool)
    s = np.array([0.9, 0.9, 0.5, 0.1, 0.2])
    assert auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert np.isnan(auc(np.zeros(3, bool), np.arange(3.0)))


def test_observed_vacancy_from_status_and_osm() -> None:
    units = pd.DataFrame(
        {"vacant": [True, False, None, False], "status": ["occupied", None, "vacant", ""]}
    )
    np.testing.assert_array_equal(observed_vacancy(units), [0.0, 0.0, 1.0, 0.0])
    assert np.isnan(observed_vacancy(pd.DataFrame({"x": [1, 2]}))).all()


def test_given_coefficients_reproduce_a_fit() -> None:
    f, y = _synthetic(500, 5)
    fit = calibrate(f, y)
    given = given_model(dict(zip(fit.names, fit.coef, strict=True)), f, y)
    assert not given.assumed and "given" in given.note
    np.testing.assert_allclose(vacancy_risk(given, f), vacancy_risk(fit, f), rtol=1e-12)
    assert given.auc == pytest.approx(fit.auc)
    # a variable left out counts 0
    only = given_model({"const": -1.0}, f, y)
    np.testing.assert_allclose(vacancy_risk(only, f), 1 / (1 + np.exp(1.0)))
