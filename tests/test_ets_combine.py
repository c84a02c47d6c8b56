"""ETS combination rules: Akaike weights, the hold-out choice of the error family, mixture
intervals, specs of combinations, and the rules every rule keeps (no look-ahead, positivity)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from tsforecast import datasets, stats
from tsforecast.errors import InputError
from tsforecast.stats import ets, ets_fit, ets_intervals


@pytest.fixture(scope="module")
def air() -> np.ndarray:
    ds = datasets.load("air_passengers")
    assert isinstance(ds, datasets.ForecastingDataset)
    return ds.df.sort_values("ds")["y"].to_numpy(dtype=np.float64)


def _all_fits(y: np.ndarray, m: int) -> list[ets_fit._Fitted]:
    cands = ets.ets_candidates(y, m)
    return ets_fit.fit_candidates([y], m, [cands], [None])[0]


def _one(y: np.ndarray, horizon: int, m: int, combine: str, levels=()) -> stats.SeriesForecast:  # type: ignore[no-untyped-def]
    out = ets.ets_many([y], horizon, m, levels, combine=combine)[0]
    assert isinstance(out, stats.SeriesForecast)
    return out


def test_akaike_weights_are_exp_minus_half_delta_aicc_and_sum_to_one() -> None:
    w = ets.akaike_weights(np.array([10.0, 12.0, 20.0]))
    expected = np.exp(-0.5 * np.array([0.0, 2.0, 10.0]))
    np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-12)
    assert w.sum() == pytest.approx(1.0)


def test_tempered_akaike_weights_are_exp_minus_delta_over_two_t() -> None:
    w = ets.akaike_weights(np.array([10.0, 12.0, 20.0]), temperature=2.0)
    expected = np.exp(-0.25 * np.array([0.0, 2.0, 10.0]))
    np.testing.assert_allclose(w, expected / expected.sum(), rtol=1e-12)
    # flatter than Akaike's: the best form keeps less, the worst gets more
    plain = ets.akaike_weights(np.array([10.0, 12.0, 20.0]))
    assert w[0] < plain[0] and w[2] > plain[2]


@pytest.mark.parametrize("m", [1, 12])
def test_the_aicc_rule_is_the_tempered_akaike_weighted_mean_of_the_admissible_candidates(
    air: np.ndarray, m: int
) -> None:
    out = _one(air, 12, m, "aicc")
    fits = [f for f in _all_fits(air, m) if np.isfinite(f.aicc)]
    w = ets.akaike_weights(np.array([f.aicc for f in fits]), ets.WEIGHT_TEMPERATURE)
    kept = w >= ets._MIN_WEIGHT
    expected = {
        f.cand.name: wi
        for f, wi in zip(fits, w / w[kept].sum(), strict=True)
        if wi >= ets._MIN_WEIGHT
    }
    assert out.spec["weights"] == pytest.approx(expected, rel=1e-9)
    assert sum(out.spec["weights"].values()) == pytest.approx(1.0)
    mean = sum(wi * f.mean(12) for f, wi in zip(fits, w, strict=True) if wi >= ets._MIN_WEIGHT)
    np.testing.assert_allclose(out.mean, mean / w[kept].sum(), rtol=1e-9)
    # the form reported is the one with the largest weight
    assert out.spec["form"] == max(expected, key=expected.__getitem__)


def test_a_single_dominant_candidate_gives_exactly_the_selected_forecast_and_intervals() -> None:
    t = np.arange(300.0)
    y = 100.0 + 2.0 * t + np.random.default_rng(1).normal(0.0, 1.0, 300)  # a clean line
    combined = _one(y, 12, 1, "aicc", (80, 95))
    selected = _one(y, 12, 1, "select", (80, 95))
    assert list(combined.spec["weights"]) == [selected.spec["form"]]
    np.testing.assert_array_equal(combined.mean, selected.mean)
    np.testing.assert_array_equal(combined.lo, selected.lo)
    np.testing.assert_array_equal(combined.hi, selected.hi)


def test_holdout_keeps_the_error_family_with_the_best_hold_out_score(air: np.ndarray) -> None:
    series = [air, np.log(air), 50.0 + np.cumsum(np.random.default_rng(2).normal(0.5, 2.0, 200))]
    for y in series:
        out = _one(y, 12, 12, "holdout")
        scores = out.spec["holdout_score"]
        assert out.spec["family"] == max(scores, key=scores.__getitem__)
        assert all(form[0] == out.spec["family"] for form in out.spec["weights"])
        # within the family, tempered Akaike weights of the whole-history fits
        fits = [f for f in _all_fits(y, 12) if f.cand.name in out.spec["weights"]]
        w = ets.akaike_weights(np.array([f.aicc for f in fits]), ets.WEIGHT_TEMPERATURE)
        got = np.array([out.spec["weights"][f.cand.name] for f in fits])
        np.testing.assert_allclose(got / got.sum(), w / w.sum(), rtol=1e-6, atol=1e-6)


def test_the_hold_out_is_the_last_horizon_training_values(air: np.ndarray) -> None:
    # the family score reads the last 12 values: changing one of them changes it, and the
    # score is that of the inner fits on the history without them
    out = _one(air, 12, 12, "holdout")
    inner = _all_fits(air[:-12], 12)
    inner = [f for f in inner if np.isfinite(f.aicc)]
    scores = ets_intervals.log_score(inner, [air[-12:]] * len(inner))
    for family, score in out.spec["holdout_score"].items():
        own = scores[[f.cand.name[0] == family for f in inner]]
        assert score == pytest.approx(np.logaddexp.reduce(own) - np.log(len(own)), rel=1e-9)
    changed = air.copy()
    changed[-5] *= 1.3
    assert _one(changed, 12, 12, "holdout").spec["holdout_score"] != out.spec["holdout_score"]


def test_a_series_too_short_for_a_hold_out_gets_the_akaike_combination() -> None:
    y = 10.0 + np.random.default_rng(4).normal(0.0, 1.0, 20)  # 20 - 12 = 8 < 10 values
    out = _one(y, 12, 1, "holdout")
    assert out.spec["combine"] == "aicc" and "family" not in out.spec
    np.testing.assert_array_equal(out.mean, _one(y, 12, 1, "aicc").mean)


@pytest.mark.parametrize("combine", ets.COMBINE)
def test_the_forecast_uses_only_the_past_under_every_rule(air: np.ndarray, combine: str) -> None:
    cut = 120
    altered = air.copy()
    altered[cut:] = 1.0
    base = ets.ets_many([air[:cut], air], 12, 12, (80,), combine=combine)[0]
    again = ets.ets_many([altered[:cut], altered], 12, 12, (80,), combine=combine)[0]
    assert isinstance(base, stats.SeriesForecast) and isinstance(again, stats.SeriesForecast)
    np.testing.assert_array_equal(base.mean, again.mean)
    np.testing.assert_array_equal(base.hi, again.hi)


@pytest.mark.parametrize("combine", ets.COMBINE)
def test_a_positive_series_that_declines_at_its_end_stays_positive(combine: str) -> None:
    t = np.arange(72)
    y = np.r_[1000 + 30 * t[:60], 2770 - 100 * np.arange(1, 13)]
    y = y + np.random.default_rng(3).normal(0, 15, 72)
    out = _one(y, 18, 12, combine, (80, 95))
    assert out.mean.min() > 0


def test_combination_intervals_are_nested_and_hold_the_point(air: np.ndarray) -> None:
    rng = np.random.default_rng(5)
    series = [air, air[:100], np.log(air), 200 + np.cumsum(rng.normal(0, 3, 150))]
    for combine in ("aicc", "holdout"):
        for out in ets.ets_many(series, 12, 12, (50, 80, 95), combine=combine):
            assert isinstance(out, stats.SeriesForecast)
            assert np.all(out.lo[2] <= out.lo[1]) and np.all(out.lo[1] <= out.lo[0])
            assert np.all(out.lo[0] <= out.mean) and np.all(out.mean <= out.hi[0])
            assert np.all(out.hi[0] <= out.hi[1]) and np.all(out.hi[1] <= out.hi[2])


def test_the_mixture_of_two_additive_forms_has_the_quantiles_of_the_mixture_of_normals(
    air: np.ndarray,
) -> None:
    fits = {f.cand.name: f for f in _all_fits(np.log(air), 12)}
    a, b = fits["A,A,A"], fits["A,N,A"]
    mean = 0.7 * a.mean(12) + 0.3 * b.mean(12)
    ((lo, hi),) = ets_intervals.mixture_intervals([[(0.7, a), (0.3, b)]], [mean], (80,))
    normal = NormalDist()
    sd_a, sd_b = ets_intervals.analytic_sd(a, 12), ets_intervals.analytic_sd(b, 12)

    def cdf(x: float, h: int) -> float:
        fa = normal.cdf((x - a.mean(12)[h]) / sd_a[h])
        fb = normal.cdf((x - b.mean(12)[h]) / sd_b[h])
        return 0.7 * fa + 0.3 * fb

    for h in range(12):
        # within the resolution of 1,000 samples per form
        assert cdf(lo[0, h], h) == pytest.approx(0.1, abs=2e-3)
        assert cdf(hi[0, h], h) == pytest.approx(0.9, abs=2e-3)


def test_a_mixture_with_multiplicative_forms_is_the_weighted_quantile_of_the_pooled_sample(
    air: np.ndarray,
) -> None:
    # the bounds are exactly the weighted inverse ECDF of every form's sample pooled: each
    # multiplicative form's simulated paths, each additive one's normal grid (rounded values
    # make ties, whose order must not matter)
    fits = {f.cand.name: f for f in _all_fits(np.round(air / 10.0), 12)}
    combo = [(0.5, fits["M,A,M"]), (0.3, fits["A,N,A"]), (0.2, fits["M,Ad,M"])]
    mean = sum(w * f.mean(12) for w, f in combo)
    ((lo, hi),) = ets_intervals.mixture_intervals([combo], [mean], (80, 95))
    samples, weights = [], []
    for w, f in combo:
        if f.cand.error == "mul":
            samples.append(ets_intervals._paths([f], 12)[:, 0, :])  # (H, P)
        else:
            grid = ets_intervals._NORMAL_GRID
            samples.append(f.mean(12)[:, None] + ets_intervals.analytic_sd(f, 12)[:, None] * grid)
        weights.append(np.full(ets_intervals.N_PATHS, w / ets_intervals.N_PATHS))
    pooled, weight = np.concatenate(samples, axis=1), np.concatenate(weights)
    for h in range(12):
        order = np.argsort(pooled[h])
        values, cum = pooled[h][order], np.cumsum(weight[order])
        cum /= cum[-1]
        for k, (p_lo, p_hi) in enumerate([(0.1, 0.9), (0.025, 0.975)]):
            assert lo[k, h] == min(values[np.searchsorted(cum, p_lo)], mean[h])
            assert hi[k, h] == max(values[np.searchsorted(cum, p_hi)], mean[h])


def test_the_forecasts_of_a_batch_are_those_of_each_fit_computed_alone(air: np.ndarray) -> None:
    # fit_candidates(horizon=) computes every fit's forecast at once: the same numbers, to the
    # bit, as each fit's own computation, for every form
    rng = np.random.default_rng(11)
    series = [air, air[:90], np.log(air), 300 + np.cumsum(rng.normal(0, 4, 80))]
    cand_lists = [ets.ets_candidates(y, 12) for y in series]
    batch = ets_fit.fit_candidates(series, 12, cand_lists, [None] * 4, horizon=18)
    names = set()
    for fits in batch:
        for f in fits:
            np.testing.assert_array_equal(f.mean(18), f._mean(18))
            names.add(f.cand.name)
    assert len(names) >= 10


def test_a_spec_of_a_combination_reapplies_its_forms_and_weights(air: np.ndarray) -> None:
    first = _one(air[:120], 12, 12, "aicc")
    assert len(first.spec["components"]) > 1
    later = stats.fit_forecast("ets", air, 12, 12, spec=first.spec)
    assert later.spec["weights"] == pytest.approx(first.spec["weights"], rel=1e-12)
    expected = np.zeros(12)
    for comp in first.spec["components"]:
        cand = ets.Candidate(*comp["config"])
        model = ETSModel(
            air, error=cand.error, trend=cand.trend, damped_trend=cand.damped,
            seasonal=cand.season, seasonal_periods=12 if cand.season else None,
            initialization_method="heuristic",
        )  # fmt: skip
        expected += comp["weight"] * model.smooth(np.asarray(comp["params"])).forecast(12)
    np.testing.assert_allclose(later.mean, expected, rtol=1e-9)


def test_an_unknown_rule_is_refused(air: np.ndarray) -> None:
    with pytest.raises(InputError, match="`combine` must be one of"):
        ets.ets_many([air], 12, 12, (), combine="best")


@pytest.mark.parametrize("combine", ets.COMBINE)
def test_the_estimator_passes_its_rule_to_every_series_and_keeps_it(combine: str) -> None:
    import tsforecast as tsf

    data = datasets.load("air_passengers")
    assert isinstance(data, datasets.ForecastingDataset)
    model = tsf.models.build("ets", {"combine": combine}, horizon=12, levels=(80,))
    model.fit(data.train)
    assert model.get_params()["combine"] == combine
    y = data.train["y"].to_numpy(dtype=np.float64)
    direct = _one(y, 12, 12, combine, (80,))
    (spec,) = model.specs_.values()
    assert spec["weights"] == pytest.approx(direct.spec["weights"], rel=1e-12)


def test_the_estimator_and_forecast_many_refuse_a_bad_rule(air: np.ndarray) -> None:
    import tsforecast as tsf

    with pytest.raises(InputError, match="`combine` must be one of"):
        tsf.models.build("ets", {"combine": "best"}, horizon=12)
    with pytest.raises(InputError, match="applies to model 'ets' only"):
        stats.forecast_many("theta", [air], 12, 12, combine="aicc")
