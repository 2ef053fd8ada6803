"""Huff / MCI market shares: labelled API, fitting (synthetic recovery, Wieland 2015), bad input."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from twin.commerce import HuffFit, fit_huff, huff, huff_demand, market_shares, shares_from_flows
from twin.errors import InputError

# ------------------------------------------------------------------------- labelled API


@pytest.fixture
def small() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
    origins = gpd.GeoDataFrame(
        {"residents": [70.0, 130.0]},
        geometry=shapely.points([0, 1], [0, 0]),
        index=pd.Index(["o1", "o2"], name="zone_id"),
        crs="EPSG:2154",
    )
    stores = gpd.GeoDataFrame(
        {"sales_area_m2": [1.0, 2.0, 4.0]},
        geometry=shapely.points([0, 1, 2], [1, 1, 1]),
        index=pd.Index(["s1", "s2", "s3"], name="shop_id"),
        crs="EPSG:2154",
    )
    cost = pd.DataFrame(
        [[1.0, 2.0, 4.0], [2.0, 1.0, 2.0]], index=origins.index, columns=stores.index
    )
    return origins, stores, cost


def test_labelled_probabilities_and_demand(small: tuple) -> None:
    origins, stores, cost = small
    p = huff(origins, stores, attractiveness="sales_area_m2", cost=cost)
    assert list(p.index) == ["o1", "o2"] and list(p.columns) == ["s1", "s2", "s3"]
    # hand-computed in tests/kernels/test_huff.py: (4/7, 2/7, 1/7), (1/13, 8/13, 4/13)
    assert p.loc["o2", "s2"] == pytest.approx(8 / 13, abs=1e-12)
    # a cost frame with shuffled rows and columns is aligned on the labels
    p2 = huff(origins, stores, attractiveness="sales_area_m2", cost=cost.iloc[::-1, ::-1])
    pd.testing.assert_frame_equal(p, p2)
    raw = huff(origins, stores, attractiveness="sales_area_m2", cost=cost, as_frame=False)
    assert isinstance(raw, np.ndarray)
    np.testing.assert_array_equal(raw, p.to_numpy())
    d = huff_demand(
        origins, stores, attractiveness="sales_area_m2", cost=cost, weights=origins["residents"]
    )
    np.testing.assert_allclose(d.to_numpy(), [50.0, 100.0, 50.0], rtol=1e-13)
    assert list(d.index) == ["s1", "s2", "s3"]
    m = market_shares(p, origins["residents"], normalize=False)
    np.testing.assert_allclose(m.to_numpy(), d.to_numpy(), rtol=1e-13)
    sh = market_shares(p, origins["residents"])
    np.testing.assert_allclose(sh.to_numpy(), [0.25, 0.5, 0.25], rtol=1e-13)


def test_plain_sequences_and_exponential_decay() -> None:
    p = huff(
        ["a", "b"],
        ["x", "y", "z"],
        attractiveness=np.array([1.0, 2.0, 4.0]),
        cost=np.array([[1.0, 2.0, 4.0], [2.0, 1.0, 2.0]], dtype=np.float32),
        beta=np.log(2.0),
        decay="exponential",
    )
    np.testing.assert_allclose(p.to_numpy(), [[0.4, 0.4, 0.2], [1 / 9, 4 / 9, 4 / 9]], atol=1e-12)


def test_several_attractiveness_variables_multiply() -> None:
    a = pd.DataFrame({"area": [1.0, 2.0, 4.0], "parking": [2.0, 1.0, 1.0]}, index=["x", "y", "z"])
    c = np.array([[1.0, 2.0, 4.0]])
    p = huff(["o"], a, attractiveness=["area", "parking"], cost=c)
    u = np.array([2.0, 2.0, 4.0]) / np.array([1.0, 4.0, 16.0])
    np.testing.assert_allclose(p.to_numpy()[0], u / u.sum(), atol=1e-12)


# ------------------------------------------------------------------------------ fitting


def _synthetic(seed: int, noise: float) -> tuple[np.ndarray, pd.DataFrame, np.ndarray, np.ndarray]:
    """Shares from known α = 0.8, γ_parking = 0.4, β = 1.7 (+ multiplicative noise)."""
    rng = np.random.default_rng(seed)
    n_o, n_s = 60, 8
    attr = pd.DataFrame(
        {"area": rng.uniform(200, 5000, n_s), "parking": rng.uniform(10, 400, n_s)},
        index=[f"s{j}" for j in range(n_s)],
    )
    cost = rng.uniform(1.0, 40.0, (n_o, n_s))
    u = attr["area"].to_numpy() ** 0.8 * attr["parking"].to_numpy() ** 0.4 * cost**-1.7
    p = u / u.sum(axis=1, keepdims=True)
    s = p * np.exp(noise * rng.standard_normal(p.shape))
    s /= s.sum(axis=1, keepdims=True)
    return s, attr, cost, p


def test_mci_recovers_exact_parameters_without_noise() -> None:
    s, attr, cost, _ = _synthetic(1, 0.0)
    f = fit_huff(s, attractiveness=attr, cost=cost, method="mci")
    assert isinstance(f, HuffFit)
    assert f.alpha == pytest.approx(0.8, abs=1e-10)
    assert f.gammas["parking"] == pytest.approx(0.4, abs=1e-10)
    assert f.beta == pytest.approx(1.7, abs=1e-10)
    assert f.r2 == pytest.approx(1.0, abs=1e-12)
    assert f.n == 480 and f.method == "mci"


def test_mci_and_ml_recover_parameters_with_noise() -> None:
    s, attr, cost, _ = _synthetic(2, 0.05)
    f = fit_huff(s, attractiveness=attr, cost=cost, method="mci")
    assert f.alpha == pytest.approx(0.8, abs=0.02)
    assert f.gammas["parking"] == pytest.approx(0.4, abs=0.02)
    assert f.beta == pytest.approx(1.7, abs=0.02)
    assert f.se is not None and 0 < f.se["beta"] < 0.02
    g = fit_huff(s, attractiveness=attr, cost=cost, method="ml")
    assert g.converged
    assert g.alpha == pytest.approx(0.8, abs=0.03)
    assert g.gammas["parking"] == pytest.approx(0.4, abs=0.03)
    assert g.beta == pytest.approx(1.7, abs=0.03)


def test_ml_on_multinomial_counts_has_honest_standard_errors() -> None:
    _, attr, cost, p = _synthetic(3, 0.0)
    rng = np.random.default_rng(4)
    n_i = rng.integers(200, 2000, p.shape[0])
    counts = np.array([rng.multinomial(n, row) for n, row in zip(n_i, p, strict=True)], float)
    shares, w = shares_from_flows(counts)
    g = fit_huff(shares, attractiveness=attr, cost=cost, method="ml", weights=w)
    assert g.se is not None
    for name, true in (("area", 0.8), ("parking", 0.4), ("beta", 1.7)):
        est = g.coefficients[name]
        assert abs(est - true) < 4 * g.se[name], (name, est, g.se[name])
        assert g.se[name] < 0.05
    # zero counts are fine for ML but not for MCI
    assert (shares == 0).any()
    with pytest.raises(InputError, match="method='ml'"):
        fit_huff(shares, attractiveness=attr, cost=cost, method="mci")


def test_ml_handles_unreachable_stores() -> None:
    s, attr, cost, _ = _synthetic(5, 0.0)
    cost = cost.copy()
    cost[0, 0] = np.inf
    s = s.copy()
    s[0, 0] = 0.0
    s[0] /= s[0].sum()
    g = fit_huff(s, attractiveness=attr, cost=cost, method="ml")
    assert g.beta == pytest.approx(1.7, abs=1e-4)


def test_exponential_decay_fit() -> None:
    rng = np.random.default_rng(6)
    a = rng.uniform(100, 1000, 6)
    cost = rng.uniform(0.5, 20.0, (30, 6))
    u = a**1.1 * np.exp(-0.25 * cost)
    p = u / u.sum(axis=1, keepdims=True)
    for method in ("mci", "ml"):
        f = fit_huff(p, attractiveness=a, cost=cost, method=method, decay="exponential")
        assert f.alpha == pytest.approx(1.1, abs=1e-5)
        assert f.beta == pytest.approx(0.25, abs=1e-6)


# ---------------------------------------------------- published example: Wieland (2015)

WIELAND_XLSX = Path("huff") / "tests" / "data" / "Wieland2015.xlsx"

# Reference MCI estimates for the consumer-electronics example of Wieland (2015) (19 origins ×
# 5 stores; shares MA_Anb1, travel time Dist_Min2, sales area VF, agglomeration indices K and
# K_KKr), as printed by the author's own `huff` package (huff 1.9.14, `InteractionMatrix.
# mci_fit`, examples/Example_02_MCI_model_analysis.py in github.com/geowieland/huff_official),
# 3 decimals: coefficient, standard error. The dissertation's own table (Wieland 2015,
# Geographische Handelsforschung 23) could not be consulted; see docs/simulations/commerce.md.
WIELAND_MCI = {
    "VF": (0.951, 0.070),
    "beta": (1.632, 0.147),  # printed as −1.632 (coefficient of ln t_ij)
    "K": (0.336, 0.065),
    "K_KKr": (0.101, 0.026),
}


@pytest.fixture(scope="module")
def wieland() -> pd.DataFrame:
    import importlib.util

    spec = importlib.util.find_spec("huff")
    assert spec is not None and spec.origin is not None, "the huff package is a dev dependency"
    path = Path(spec.origin).parent.parent / WIELAND_XLSX
    assert path.is_file(), path
    return pd.read_excel(path, sheet_name="interactionmatrix")


def _wieland_inputs(
    x: pd.DataFrame, shares_col: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    s = x.pivot(index="Quellort", columns="Zielort", values=shares_col)
    c = x.pivot(index="Quellort", columns="Zielort", values="Dist_Min2")
    stores = x.groupby("Zielort")[["VF", "K", "K_KKr"]].first()
    return s, c, stores


def test_wieland2015_mci_reproduces_reference_estimates(wieland: pd.DataFrame) -> None:
    s, c, stores = _wieland_inputs(wieland, "MA_Anb1")
    # MA_Anb1 is a share of all respondents of the origin (other stores included), so rows sum
    # to < 1. The log-centring is invariant to scaling a row: normalise.
    with pytest.raises(InputError, match="do not sum to 1"):
        fit_huff(s, attractiveness=["VF", "K", "K_KKr"], stores=stores, cost=c)
    s = s.div(s.sum(axis=1), axis=0)
    f = fit_huff(s, attractiveness=["VF", "K", "K_KKr"], stores=stores, cost=c, method="mci")
    assert f.se is not None
    for name, (coef, se) in WIELAND_MCI.items():
        assert round(f.coefficients[name], 3) == coef, name
        assert round(f.se[name], 3) == se, name
    assert f.n == 95 and f.n_origins == 19 and f.n_stores == 5
    assert f.r2 == pytest.approx(0.7697, abs=1e-4)


def test_wieland2015_mci_matches_huff_package_side_by_side(wieland: pd.DataFrame) -> None:
    import contextlib
    import io
    import os

    from huff.data_management import load_interaction_matrix

    path = Path(__import__("huff").__file__).parent / "tests" / "data" / "Wieland2015.xlsx"
    cwd = os.getcwd()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            m = load_interaction_matrix(
                data=str(path),
                customer_origins_col="Quellort",
                supply_locations_col="Zielort",
                attraction_col=["VF", "K", "K_KKr"],
                market_size_col="Sum_Ek1",
                flows_col="Anb_Eink1",
                transport_costs_col="Dist_Min2",
                transport_costs_metrics="time",
                transport_costs_time_unit="minutes",
                probabilities_col="MA_Anb1",
                data_type="xlsx",
            )
            peer = m.mci_fit(cols=["A_j", "t_ij", "K", "K_KKr"]).get_coefs_dict()
        finally:
            os.chdir(cwd)
    s, c, stores = _wieland_inputs(wieland, "MA_Anb1")
    s = s.div(s.sum(axis=1), axis=0)
    f = fit_huff(s, attractiveness=["VF", "K", "K_KKr"], stores=stores, cost=c)
    ours = {"A_j": f.alpha, "t_ij": -f.beta, "K": f.gammas["K"], "K_KKr": f.gammas["K_KKr"]}
    ours_se = {"A_j": f.se["VF"], "t_ij": f.se["beta"], "K": f.se["K"], "K_KKr": f.se["K_KKr"]}
    rows = {row["Coefficient"]: row for row in peer.values()}
    assert set(rows) == set(ours)
    for k, v in ours.items():
        assert v == pytest.approx(rows[k]["Estimate"], rel=1e-9), k
        assert ours_se[k] == pytest.approx(rows[k]["SE"], rel=1e-9), k


def test_wieland2015_ml_on_flows(wieland: pd.DataFrame) -> None:
    """ML on the raw counts (zeros kept): converges, fits better than the MCI estimate."""
    flows, c, stores = _wieland_inputs(wieland, "Anb_Eink")
    s, w = shares_from_flows(flows)
    g = fit_huff(
        s,
        attractiveness=["VF", "K", "K_KKr"],
        stores=stores,
        cost=c.loc[s.index],
        method="ml",
        weights=w,
    )
    assert g.converged
    s1, _, _ = _wieland_inputs(wieland, "MA_Anb1")
    s1 = s1.div(s1.sum(axis=1), axis=0)
    f = fit_huff(s1, attractiveness=["VF", "K", "K_KKr"], stores=stores, cost=c)
    ll_mci_on_counts = _loglik_at(f, s, w, stores, c.loc[s.index])
    assert g.loglik >= ll_mci_on_counts
    assert 1.0 < g.beta < 3.0 and g.alpha > 0


def _loglik_at(
    f: HuffFit, s: pd.DataFrame, w: pd.Series, stores: pd.DataFrame, c: pd.DataFrame
) -> float:
    p = f.predict(["VF", "K", "K_KKr"], c, stores=stores, origins=s.index)
    with np.errstate(divide="ignore"):
        return float(np.nansum(w.to_numpy()[:, None] * s.to_numpy() * np.log(p.to_numpy())))


# ----------------------------------------------------------------------------- bad input


def test_bad_inputs_name_the_problem(small: tuple) -> None:
    origins, stores, cost = small
    kw = {"attractiveness": "sales_area_m2"}
    with pytest.raises(InputError, match=r"shape \(2, 2\) does not match 2 origins × 3 stores"):
        huff(origins, stores, cost=np.ones((2, 2)), **kw)
    bad = cost.copy()
    bad.loc["o2", "s1"] = np.nan
    with pytest.raises(InputError, match=r"NaN in origin row\(s\) 'o2'.*np\.inf"):
        huff(origins, stores, cost=bad, **kw)
    bad.loc["o2", "s1"] = 0.0
    with pytest.raises(InputError, match=r"zero or negative travel costs in origin row\(s\) 'o2'"):
        huff(origins, stores, cost=bad, **kw)
    huff(origins, stores, cost=bad, decay="exponential", **kw)  # 0 is fine for exp(−β·c)
    bad.loc["o1", "s3"] = -1.0
    with pytest.raises(InputError, match=r"negative travel costs in origin row\(s\) 'o1'"):
        huff(origins, stores, cost=bad, decay="exponential", **kw)
    with pytest.raises(InputError, match=r"store\(s\) have no column: 's3'"):
        huff(origins, stores, cost=cost.drop(columns="s3"), **kw)
    with pytest.raises(InputError, match=r"column\(s\) \['area'\] not found in stores"):
        huff(origins, stores, attractiveness="area", cost=cost)
    with pytest.raises(InputError, match="unknown distance decay 'gauss'"):
        huff(origins, stores, cost=cost, decay="gauss", **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"NaN, infinite or negative for store\(s\) 's2'"):
        huff(origins, stores, attractiveness=[1.0, -2.0, 1.0], cost=cost)
    with pytest.raises(InputError, match=r"2 weights for 3 origins|weights for 2 origins"):
        market_shares(np.ones((3, 2)) / 2, [1.0, 2.0])


def test_bad_shares_list_the_offending_rows() -> None:
    s, attr, cost, _ = _synthetic(1, 0.0)
    frame = pd.DataFrame(s.copy(), index=[f"zone{i}" for i in range(60)], columns=attr.index)
    frame.iloc[[4, 9]] *= 1.1
    with pytest.raises(InputError, match=r"2 origin row\(s\) \('zone4': 1\.1, 'zone9': 1\.1\)"):
        fit_huff(frame, attractiveness=attr, cost=cost)
    frame.iloc[[4, 9]] /= 1.1
    frame.iloc[7, 2] = np.nan
    with pytest.raises(InputError, match=r"NaN or infinite in origin row\(s\) 'zone7'"):
        fit_huff(frame, attractiveness=attr, cost=cost)
    with pytest.raises(InputError, match="unknown method 'ols'"):
        fit_huff(s, attractiveness=attr, cost=cost, method="ols")  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"> 0 to fit"):
        fit_huff(s, attractiveness=np.r_[0.0, np.ones(7)], cost=cost)
    c2 = cost.copy()
    c2[3, 3] = np.inf
    with pytest.raises(InputError, match=r"unreachable stores in origin row\(s\) 3"):
        fit_huff(s, attractiveness=attr, cost=c2, method="mci")
