"""ARIMA: the CSS fit's exact derivatives, the order search on simulated processes, intervals,
no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.arima_process import ArmaProcess
from statsmodels.tsa.statespace.tools import constrain_stationary_univariate

import tsforecast as tsf
from tsforecast import stats
from tsforecast.stats import arima


def _arma(ar: list[float], ma: list[float], n: int, seed: int) -> np.ndarray:
    """n values of the ARMA 1 - sum ar_i B^i = 1 + sum ma_i B^i, unit-variance shocks."""
    rng = np.random.default_rng(seed)
    process = ArmaProcess(np.r_[1.0, -np.asarray(ar)], np.r_[1.0, np.asarray(ma)])
    return process.generate_sample(n, distrvs=rng.standard_normal, burnin=200)


def _airline(n: int, seed: int, theta: float = -0.4, big_theta: float = -0.6) -> np.ndarray:
    """(0,1,1)(0,1,1)_12: (1 - B)(1 - B^12) y = (1 + theta B)(1 + big_theta B^12) e."""
    shocks = np.random.default_rng(seed).standard_normal(n + 13)
    ma = np.convolve([1.0, theta], np.r_[1.0, np.zeros(11), big_theta])
    w = np.convolve(shocks, ma)[: len(shocks)][13:]  # -> (n,) the twice-differenced series
    z = np.cumsum(w)  # undo (1 - B)
    y = np.zeros(n + 12)
    for t in range(n):  # undo (1 - B^12)
        y[t + 12] = y[t] + z[t]
    return 100.0 + y[12:]


def _numeric_jacobian(fun, x: np.ndarray, step: float = 1e-6) -> np.ndarray:
    columns = [(fun(x + h) - fun(x - h)) / (2 * step) for h in np.eye(len(x)) * step]
    return np.column_stack(columns)


def test_the_stationarity_transform_is_statsmodels_and_its_jacobian_is_exact() -> None:
    rng = np.random.default_rng(0)
    for k in range(1, 6):
        x = rng.normal(size=k)
        coefs, jac = arima._constrain(x)
        np.testing.assert_allclose(coefs, constrain_stationary_univariate(x), rtol=1e-12)
        expected = _numeric_jacobian(lambda v: arima._constrain(v)[0], x)
        np.testing.assert_allclose(jac, expected, atol=1e-7)


@pytest.mark.parametrize(
    "order",
    [
        arima._Order(2, 1, 1, 1, True),
        arima._Order(0, 2, 0, 1, False),
        arima._Order(1, 0, 2, 0, True),
        arima._Order(3, 2, 0, 0, True),
    ],
)
def test_css_residual_jacobian_is_the_derivative_of_the_residuals(order: arima._Order) -> None:
    rng = np.random.default_rng(1)
    z = np.cumsum(rng.normal(size=200)) * 0.1 + rng.normal(size=200)
    free = rng.normal(size=order.n_coef + int(order.constant)) * 0.5
    resid, jac = arima._css_residuals(free, z, order, 12, 30)
    # the residuals are the model's own filter of z, after the same burn-in
    from scipy.signal import lfilter

    ar_poly, ma_poly, _, mean = arima._arima_polys(free, order, 12)
    np.testing.assert_allclose(resid, lfilter(ar_poly, ma_poly, z - mean)[30:])
    expected = _numeric_jacobian(lambda f: arima._css_residuals(f, z, order, 12, 30)[0], free)
    np.testing.assert_allclose(jac, expected, atol=1e-6 * np.abs(expected).max())


def _recovered(series: list[np.ndarray], m: int, order: list, d: int, big_d: int) -> int:
    hits = 0
    for y in series:
        spec = stats.fit_forecast("arima", y, 6, m).spec
        hits += spec["order"][:4] == order and spec["d"] == d and spec["D"] == big_d
    return hits


# AICc is not a consistent criterion and KPSS at 5% rejects now and then: on some seeds the
# search (as R's auto.arima) ends on a neighbouring order that fits as well (an extra AR or MA
# term). Each test asks for the true order on most of 7 seeded series.


@pytest.mark.parametrize(
    "order",
    [
        arima._Order(1, 1, 0, 0, True),
        arima._Order(2, 2, 1, 1, True),
        arima._Order(1, 2, 1, 2, False),
    ],
)
def test_the_css_start_has_a_jacobian_of_full_rank(order: arima._Order) -> None:
    """At all-zero coefficients the AR and MA columns are equal (both -z delayed), and the
    optimiser's first step from there depended on rounding (tour 14)."""
    z = _arma([0.5], [0.3], 200, seed=4)
    start = arima._zero_start(z, order)
    _, jac = arima._css_residuals(start, z, order, 7, 20)  # -> (T', n_free)
    assert np.linalg.matrix_rank(jac) == jac.shape[1]
    _, at_zero = arima._css_residuals(
        np.r_[np.zeros(order.n_coef), start[order.n_coef :]], z, order, 7, 20
    )
    assert np.linalg.matrix_rank(at_zero) < at_zero.shape[1]  # what the start steps away from


def test_the_same_series_gets_the_same_model_on_every_call() -> None:
    """The series of tour 14: 149 daily values with a weekly cycle got order (0,0,0,1) or
    (1,1,1,2) from call to call (14 / 6 of 20), depending on what the process had allocated."""
    rng = np.random.default_rng(11)
    for _ in range(6):
        n = int(rng.integers(90, 160))
        rng.normal(size=n)
        z = 5 + np.cos(2 * np.pi * np.arange(n) / 7) + 0.3 * rng.normal(size=n)
    seen = set()
    for _ in range(20):
        _ = [np.ones(int(size)) for size in rng.integers(1, 3000, 5)]  # allocations in between
        out = stats.fit_forecast("arima", z, horizon=7, season_length=7)
        seen.add((tuple(out.spec["order"]), tuple(np.round(out.mean, 12))))
    assert len(seen) == 1


def test_the_search_finds_an_ar1() -> None:
    series = [10.0 + _arma([0.5], [], 500, seed) for seed in range(7)]
    assert _recovered(series, 1, [1, 0, 0, 0], 0, 0) >= 4


def test_the_search_finds_an_ma1() -> None:
    series = [5.0 + _arma([], [0.7], 500, seed) for seed in range(7)]
    assert _recovered(series, 1, [0, 1, 0, 0], 0, 0) >= 5


def test_an_undifferenced_series_keeps_its_mean_even_with_an_outlier() -> None:
    # one reading of 1e4 in values around 120 inflated sigma^2 until AICc dropped the mean:
    # ARIMA(0,0,0) without a constant forecast 0 for a strictly positive series
    rng = np.random.default_rng(0)
    t = np.arange(60)
    y = 100 + 10 * np.sin(2 * np.pi * t / 7) + 0.3 * t + rng.normal(0, 1, 60)
    y[30] = 1e4
    out = stats.forecast_many("arima", [y], 3, 7, levels=(80,))[0]
    assert out.spec["d"] == 0 and out.spec["D"] == 0 and out.spec["order"][4] is True
    assert np.all(out.mean > 100)  # the sample mean, outlier included: no longer 0
    # a zero-mean series is forecast near 0 with the constant estimated, not imposed
    noise = _arma([0.5], [], 300, 1)
    near_zero = stats.forecast_many("arima", [noise], 3, 1, levels=())[0]
    assert np.all(np.abs(near_zero.mean) < 1.0)


def test_the_search_finds_a_random_walk_with_ar1_differences() -> None:
    # 4 of these 7 since the CSS start left zero (tour 14), 5 before; over 40 seeds the true
    # order is found 19 times from the new start and 21 from zero (AR(1): 21 vs 20, MA(1): 21
    # vs 20), so the start moved which seeds miss, not how many
    series = [np.cumsum(_arma([0.6], [], 400, seed)) for seed in range(7)]
    assert _recovered(series, 1, [1, 0, 0, 0], 1, 0) >= 4


def test_the_search_finds_both_differences_and_the_ma_terms_of_the_airline_model() -> None:
    n_exact = 0
    for seed in range(5):
        spec = stats.fit_forecast("arima", _airline(360, seed), 12, 12).spec
        assert (spec["d"], spec["D"], spec["m"]) == (1, 1, 12)  # both differences, always
        p, q, big_p, big_q, _ = spec["order"]
        assert p == 0 and q >= 1
        assert big_p + big_q >= 1  # the seasonal MA or its seasonal-AR approximation
        n_exact += q == 1
    assert n_exact >= 4


def test_intervals_contain_the_forecast_widen_with_the_horizon_and_nest() -> None:
    y = np.cumsum(_arma([0.5], [], 300, 3)) + 50.0
    out = stats.fit_forecast("arima", y, 12, 1, levels=(80, 95))
    assert out.fallback is None and out.spec["d"] == 1
    width_80, width_95 = out.hi[0] - out.lo[0], out.hi[1] - out.lo[1]
    assert np.all(np.diff(width_80) > 0)  # integrated: the spread grows without bound
    assert np.all(width_95 > width_80)
    assert np.all(out.lo[1] < out.lo[0]) and np.all(out.lo[0] < out.mean)
    assert np.all(out.mean < out.hi[0]) and np.all(out.hi[0] < out.hi[1])


def test_80_percent_intervals_cover_about_80_percent_of_simulated_futures() -> None:
    horizon, n_series, hits = 6, 60, 0
    for seed in range(n_series):
        y = 20.0 + _arma([0.7], [], 160 + horizon, seed)
        out = stats.fit_forecast("arima", y[:-horizon], horizon, 1, levels=(80,))
        future = y[-horizon:]
        hits += int(np.sum((out.lo[0] <= future) & (future <= out.hi[0])))
    coverage = hits / (horizon * n_series)
    # binomial sd at 360 draws is 2.1 points; the draws within a series are correlated
    assert 0.72 <= coverage <= 0.88


def test_arima_does_not_look_past_the_cutoff_when_it_fits_or_reuses_a_model() -> None:
    y = np.concatenate([_airline(150, seed) for seed in (7, 8)])
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 150), "ds": np.tile(np.arange(150), 2)})
    df["y"] = y
    for refit in (True, False):
        kwargs = {"horizon": 12, "n_windows": 2, "step": 12, "season_length": 12, "n_jobs": 1}
        before = tsf.backtest(df, ["arima"], levels=(80,), refit=refit, **kwargs)
        assert len(before.failures_pd) == 0  # a fitted ARIMA, not its fallback, is tested
        first = before.forecasts_pd["cutoff"].min()
        changed = df.copy()
        future = changed["ds"] > first
        changed.loc[future, "y"] = np.random.default_rng(0).uniform(0, 500, int(future.sum()))
        after = tsf.backtest(changed, ["arima"], levels=(80,), refit=refit, **kwargs)
        cols = ["unique_id", "ds", "y_hat", "y_lo_80", "y_hi_80"]
        fold = [r.forecasts_pd[r.forecasts_pd["cutoff"] == first][cols] for r in (before, after)]
        pd.testing.assert_frame_equal(
            fold[0].reset_index(drop=True), fold[1].reset_index(drop=True)
        )


def test_reapplying_fitted_specs_is_not_cut_by_a_deadline() -> None:
    # a backtest's later folds reapply the first fold's fits: a filter pass per series, which
    # a deadline the fit used up must not turn into fallbacks
    import time

    rng = np.random.default_rng(11)
    series = [np.cumsum(rng.normal(0.2, 1.0, 120)) for _ in range(3)]
    fits = stats.forecast_many("arima", series, 6, n_jobs=1)
    specs = [f.spec for f in fits]
    longer = [np.concatenate([y, rng.normal(y[-1], 1.0, 6)]) for y in series]
    free = stats.forecast_many("arima", longer, 6, specs=specs, n_jobs=1)
    late = stats.forecast_many("arima", longer, 6, specs=specs, n_jobs=1, deadline=time.time() - 1)
    for a, b in zip(free, late, strict=True):
        assert not b.fallback
        np.testing.assert_allclose(a.mean, b.mean)
    # a series still to be fitted keeps the deadline
    mixed = stats.forecast_many(
        "arima", longer, 6, specs=[specs[0], None, None], n_jobs=1, deadline=time.time() - 1
    )
    assert [bool(f.fallback) for f in mixed] == [False, True, True]
