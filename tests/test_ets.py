"""ETS in numpy: statsmodels' ETSModel as the reference, AICc selection, batching, intervals
(the combination rules: test_ets_combine.py)."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

import tsforecast as tsf
from tsforecast import datasets, stats
from tsforecast.stats import ets, ets_fit
from tsforecast.stats.nelder_mead import BatchedNelderMead, minimise_all

# Every form the candidates can take, positive data (multiplicative forms allowed).
FORMS = [
    ets.Candidate(error, trend, damped, season)
    for error in ("add", "mul")
    for trend, damped in ((None, False), ("add", False), ("add", True))
    for season in (None, "add", "mul")
    if not (error == "add" and season == "mul")
]


@pytest.fixture(scope="module")
def air() -> np.ndarray:
    ds = datasets.load("air_passengers")
    assert isinstance(ds, datasets.ForecastingDataset)
    return ds.df.sort_values("ds")["y"].to_numpy(dtype=np.float64)


def _statsmodels(y: np.ndarray, cand: ets.Candidate, m: int, indexed: bool = False) -> ETSModel:
    return ETSModel(
        pd.Series(y) if indexed else y,
        error=cand.error,
        trend=cand.trend,
        damped_trend=cand.damped,
        seasonal=cand.season,
        seasonal_periods=m if cand.season else None,
        initialization_method="heuristic",
    )


def _fit(y: np.ndarray, cand: ets.Candidate, m: int):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _statsmodels(y, cand, m).fit(disp=False)


def _spec(cand: ets.Candidate, params) -> dict:  # type: ignore[no-untyped-def]
    return {"config": cand.as_config(), "params": list(params)}


@pytest.mark.parametrize("cand", FORMS, ids=lambda c: c.name)
def test_likelihood_and_forecast_equal_statsmodels_for_the_same_parameters(
    air: np.ndarray, cand: ets.Candidate
) -> None:
    reference = _fit(air, cand, 12)
    assert ets.ets_loglike(air, 12, cand, reference.params) == pytest.approx(
        reference.llf, rel=1e-10
    )
    out = ets.ets_many([air], 12, 12, (), [_spec(cand, reference.params)])[0]
    assert isinstance(out, stats.SeriesForecast)
    np.testing.assert_allclose(out.mean, reference.forecast(12), rtol=1e-10)


def test_the_same_on_data_with_negative_values_and_a_weekly_length_series() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(150)
    crossing = 5.0 * np.sin(2 * np.pi * t / 7) + 0.05 * t - 3 + rng.normal(0, 1, 150)
    for cand in ets.ets_candidates(crossing, 7):
        assert cand.error == "add" and cand.season != "mul"  # no multiplicative part
        reference = _fit(crossing, cand, 7)
        assert ets.ets_loglike(crossing, 7, cand, reference.params) == pytest.approx(
            reference.llf, rel=1e-10
        )
    long = 1000 + np.cumsum(rng.normal(0.5, 10, 2000))
    cand = ets.Candidate("mul", "add", True, None)
    reference = _fit(long, cand, 1)
    assert ets.ets_loglike(long, 1, cand, reference.params) == pytest.approx(
        reference.llf, rel=1e-10
    )


@pytest.mark.parametrize("cand", FORMS, ids=lambda c: c.name)
def test_the_fit_is_at_least_as_likely_as_statsmodels_fit(
    air: np.ndarray, cand: ets.Candidate
) -> None:
    tables, index = ets_fit._tables([air], 12, [[cand]])
    key = index[0][0]
    params, _ = ets_fit._fit(tables, [[key]])
    ours = ets_fit._evaluate(tables, {key: cand}, params)[key]
    # both are local searches from the same start; ours may find a better optimum
    assert ours.loglike >= _fit(air, cand, 12).llf - 1e-3


def test_select_chooses_the_aicc_best_admissible_candidate(air: np.ndarray) -> None:
    out = ets.ets_many([air], 12, 12, (), combine="select")[0]
    assert isinstance(out, stats.SeriesForecast)
    aiccs = {}
    for cand in ets.ets_candidates(air, 12):
        tables, index = ets_fit._tables([air], 12, [[cand]])
        key = index[0][0]
        fitted = ets_fit._evaluate(tables, {key: cand}, ets_fit._fit(tables, [[key]])[0])[key]
        aiccs[cand] = fitted.aicc
    best = min(aiccs, key=aiccs.__getitem__)
    assert out.spec["config"] == best.as_config()
    # and its AICc is within statsmodels' best over the same candidates (or below it), each
    # statsmodels fit's AICc counted as ours is: its initial states are parameters too
    reference = min(
        _hyndman_aicc(res.llf, int(res.nobs), cand, 12)
        for cand in ets.ets_candidates(air, 12)
        for res in [_fit(air, cand, 12)]
    )
    assert aiccs[best] <= reference + 1e-3


def _hyndman_aicc(loglike: float, n: int, cand: ets.Candidate, m: int) -> float:
    """AICc with Hyndman et al.'s count: smoothing parameters, initial states (level, trend,
    m - 1 season indices) and the variance."""
    states = 1 + (cand.trend is not None) + (m - 1 if cand.season else 0)
    k = int(cand.free.sum()) + states + 1
    return float(-2.0 * loglike + 2.0 * k * n / (n - k - 1))


def test_the_aicc_counts_the_initial_states_as_parameters(air: np.ndarray) -> None:
    # R's `ets` and Hyndman et al. (2008) count them; an uncounted seasonal form's 11 monthly
    # indices would cost nothing against a non-seasonal one
    for cand in ets.ets_candidates(air, 12):
        fitted = ets_fit.fit_candidates([air], 12, [[cand]], [None])[0][0]
        assert fitted.aicc == pytest.approx(_hyndman_aicc(fitted.loglike, len(air), cand, 12))


def test_never_forecasts_a_positive_series_below_zero() -> None:
    # monthly-like: rises for five years to ~2,800, then falls 100 a month for a year
    t = np.arange(72)
    rise_then_fall = np.r_[1000 + 30 * t[:60], 2770 - 100 * np.arange(1, 13)]
    y = rise_then_fall + np.random.default_rng(3).normal(0, 15, 72)
    cands = ets.ets_candidates(y, 12)
    tables, index = ets_fit._tables([y], 12, [cands])
    keys = index[0]
    fitted = ets_fit._evaluate(
        tables, dict(zip(keys, cands, strict=True)), ets_fit._fit(tables, [keys])[0]
    )
    by_aicc = sorted(fitted.values(), key=lambda f: f.aicc)
    assert by_aicc[0].mean(18).min() < 0  # what AICc alone would pick goes negative
    out = ets.ets_many([y], 18, 12, (), combine="select")[0]
    assert isinstance(out, stats.SeriesForecast) and out.mean.min() > 0
    # the chosen form is the AICc-best among the candidates whose forecasts stay positive
    positive = [f for f in by_aicc if f.mean(18).min() > 0]
    assert out.spec["config"] == positive[0].cand.as_config()


def test_many_series_at_once_give_what_each_gives_alone(air: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    series = [
        air,
        air[:60],  # shorter than the others: its rows end early inside the batch
        1000 + np.cumsum(rng.normal(1, 20, 300)),
        rng.normal(0, 1, 80),  # crosses zero: additive forms only
    ]
    together = ets.ets_many(series, 12, 12, (80,))
    for y, joint in zip(series, together, strict=True):
        alone = ets.ets_many([y], 12, 12, (80,))[0]
        assert isinstance(joint, stats.SeriesForecast) and isinstance(alone, stats.SeriesForecast)
        assert joint.spec["config"] == alone.spec["config"]
        np.testing.assert_allclose(joint.mean, alone.mean, rtol=1e-9)
        np.testing.assert_allclose(joint.hi, alone.hi, rtol=1e-9)


def test_the_forecast_uses_only_the_past(air: np.ndarray) -> None:
    # what lies after the cutoff never reaches the fit: the same history gives the same forecast
    # whatever follows it, and changing one past value changes it
    cut = 120
    history = air[:cut]
    base = stats.forecast_many("ets", [history, air], 12, 12, n_jobs=1)[0]
    altered = air.copy()
    altered[cut:] = 0.0
    again = stats.forecast_many("ets", [altered[:cut], altered], 12, 12, n_jobs=1)[0]
    np.testing.assert_array_equal(base.mean, again.mean)
    changed = history.copy()
    changed[-1] *= 1.2
    assert not np.allclose(stats.fit_forecast("ets", changed, 12, 12).mean, base.mean)


@pytest.mark.parametrize("cand", [f for f in FORMS if f.error == "add"], ids=lambda c: c.name)
def test_intervals_of_additive_error_forms_are_statsmodels_analytic_ones(
    air: np.ndarray, cand: ets.Candidate
) -> None:
    reference = _fit(air, cand, 12)
    indexed = _statsmodels(air, cand, 12, indexed=True).smooth(reference.params)
    frame = indexed.get_prediction(start=len(air), end=len(air) + 11).summary_frame(alpha=0.2)
    out = ets.ets_many([air], 12, 12, (80,), [_spec(cand, reference.params)])[0]
    assert isinstance(out, stats.SeriesForecast)
    np.testing.assert_allclose(out.lo[0], frame["pi_lower"], rtol=1e-9)
    np.testing.assert_allclose(out.hi[0], frame["pi_upper"], rtol=1e-9)


@pytest.mark.parametrize(
    "cand",
    [ets.Candidate("mul", "add", False, "mul"), ets.Candidate("mul", "add", True, None)],
    ids=lambda c: c.name,
)
def test_intervals_of_multiplicative_error_forms_are_statsmodels_simulated_ones(
    air: np.ndarray, cand: ets.Candidate
) -> None:
    reference = _fit(air, cand, 12)
    indexed = _statsmodels(air, cand, 12, indexed=True).smooth(reference.params)
    frame = indexed.get_prediction(
        start=len(air), end=len(air) + 11, rng=np.random.default_rng(0)
    ).summary_frame(alpha=0.2)
    out = ets.ets_many([air], 12, 12, (80,), [_spec(cand, reference.params)])[0]
    assert isinstance(out, stats.SeriesForecast)
    # the same 1,000 normal draws from the same seed as statsmodels' simulation: the same bounds
    np.testing.assert_allclose(out.lo[0], frame["pi_lower"], rtol=1e-9)
    np.testing.assert_allclose(out.hi[0], frame["pi_upper"], rtol=1e-9)
    assert np.all(out.lo[0] < out.mean) and np.all(out.mean < out.hi[0])
    # a fixed seed: the same intervals every time
    again = ets.ets_many([air], 12, 12, (80,), [_spec(cand, reference.params)])[0]
    assert isinstance(again, stats.SeriesForecast)
    np.testing.assert_array_equal(again.lo, out.lo)


def test_a_spec_reapplies_the_fitted_form_and_parameters_without_refitting(
    air: np.ndarray,
) -> None:
    first = ets.ets_many([air[:120]], 12, 12, (), combine="select")[0]
    assert isinstance(first, stats.SeriesForecast)
    later = stats.fit_forecast("ets", air, 12, 12, spec=first.spec)
    assert later.spec["config"] == first.spec["config"]
    np.testing.assert_allclose(later.spec["params"], first.spec["params"], rtol=1e-12)
    cand = ets.Candidate(*first.spec["config"])
    reference = _statsmodels(air, cand, 12).smooth(np.asarray(first.spec["params"]))
    np.testing.assert_allclose(later.mean, reference.forecast(12), rtol=1e-10)


def test_chunks_across_processes_equal_one_process(air: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    series = [air[: 60 + 10 * k] * rng.uniform(0.5, 2) for k in range(6)] + [np.full(40, 3.0)]
    one = stats.forecast_many("ets", series, 12, 12, levels=(90,), n_jobs=1)
    two = stats.forecast_many("ets", series, 12, 12, levels=(90,), n_jobs=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9)
        np.testing.assert_allclose(a.hi, b.hi, rtol=1e-9)
        assert a.fallback == b.fallback
    assert two[-1].fallback == "constant series"


def test_a_chunk_not_started_by_the_deadline_gets_the_fallback(air: np.ndarray) -> None:
    series = [air[:100], air[:120]]
    late = stats.forecast_many("ets", series, 12, 12, n_jobs=1, deadline=time.time())
    assert [f.fallback for f in late] == [stats.TIME_BUDGET_REASON] * 2
    np.testing.assert_array_equal(late[0].mean, air[88:100])  # seasonal naive


def test_batched_nelder_mead_minimises_each_problem_inside_its_box() -> None:
    # shifted quadratics, one with its minimum outside the box (it ends on the bound)
    centres = np.array([[0.3, 0.7], [0.5, 0.2], [1.5, 0.5]])
    opt = BatchedNelderMead(
        np.full((3, 2), 0.1), np.array([0.2, 0.2]), np.zeros(2), np.ones(2), ftol=1e-12, xtol=1e-8
    )

    def evaluate(requests):  # type: ignore[no-untyped-def]
        return [((x - centres[idx]) ** 2).sum(axis=1) for idx, x in requests]

    minimise_all([opt], evaluate)
    np.testing.assert_allclose(opt.x, [[0.3, 0.7], [0.5, 0.2], [1.0, 0.5]], atol=1e-5)
    assert opt.converged.all()


def test_ets_with_a_far_deadline_gives_the_forecasts_it_gives_without_one() -> None:
    # a deadline that the optimisers never reach changes nothing, and no series falls back
    import time

    from tsforecast.stats import forecast_many

    rng = np.random.default_rng(4)
    series = [50 + np.cumsum(rng.normal(0, 1, int(n))) for n in rng.integers(30, 60, size=40)]
    at_once = forecast_many("ets", series, 6, n_jobs=1)
    bounded = forecast_many("ets", series, 6, n_jobs=1, deadline=time.time() + 1e6)
    for a, b in zip(at_once, bounded, strict=True):
        assert not b.fallback
        np.testing.assert_allclose(a.mean, b.mean, rtol=1e-9)


def test_ets_stopped_by_its_deadline_keeps_the_best_parameters_found_not_a_fallback() -> None:
    # the optimisers end at the deadline (here: before their first round) and every series
    # still gets an ETS fit: the forecasts differ from the converged ones, none is a fallback
    from tsforecast.stats.ets import ets_many

    rng = np.random.default_rng(6)
    series = [50 + np.cumsum(rng.normal(0.3, 1, 60)) for _ in range(8)]
    converged = ets_many(series, 6, 1, ())
    stopped = ets_many(series, 6, 1, (), stop_at=time.time() - 1.0)
    for _, b in zip(converged, stopped, strict=True):
        assert not isinstance(b, Exception) and not b.fallback
        assert np.isfinite(b.mean).all() and b.spec
    assert any(not np.allclose(a.mean, b.mean) for a, b in zip(converged, stopped, strict=True))


def test_the_optimiser_stops_at_its_deadline_with_the_best_point_evaluated() -> None:
    centres = np.array([[0.3, 0.7]])
    calls = []

    def evaluate(requests):  # type: ignore[no-untyped-def]
        calls.append(1)
        return [((x - centres[idx]) ** 2).sum(axis=1) for idx, x in requests]

    opt = BatchedNelderMead(np.full((1, 2), 0.1), np.array([0.2, 0.2]), np.zeros(2), np.ones(2))
    minimise_all([opt], evaluate, stop_at=time.time() - 1.0)
    assert calls == [] and not opt.done
    np.testing.assert_allclose(opt.x, [[0.1, 0.1]])  # its start: nothing evaluated
    minimise_all([opt], evaluate)  # resumed without a deadline, it converges
    np.testing.assert_allclose(opt.x, centres, atol=1e-3)


def test_ets_past_its_deadline_gives_every_series_the_time_budget_fallback() -> None:
    import time

    from tsforecast.stats import TIME_BUDGET_REASON, forecast_many

    rng = np.random.default_rng(5)
    series = [50 + np.cumsum(rng.normal(0, 1, 40)) for _ in range(40)]
    out = forecast_many("ets", series, 6, n_jobs=1, deadline=time.time() - 1.0)
    assert {f.fallback for f in out} == {TIME_BUDGET_REASON}
    assert all(np.isfinite(f.mean).all() for f in out)


def test_ets_fits_the_series_its_deadline_leaves_time_for_and_the_rest_fall_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # on a clock where a fit at the start parameters costs 20 s a series, priced at 25 s
    # (x 1.25), a deadline 1,000 s away: the pilot's 32 series keep its answers, then 40 more
    # are fitted (800 s), then 8 (160 s), then 1 (20 s); the last 19 of the others, in the
    # order given, get the time-budget reason. Every fit is at the start parameters.
    class Clock:
        now = time.time() - 1e4  # in the past: the real optimisers stop before their first round

        def time(self) -> float:
            return self.now

        def perf_counter(self) -> float:
            return self.now

    clock = Clock()
    real = ets._fit_and_combine

    def costly(request, arrs, specs, stop_at, deadline):  # type: ignore[no-untyped-def]
        out = real(request, arrs, specs, stop_at, deadline)
        clock.now += 20.0 * len(arrs)
        return out

    def priced(request, arrs, specs, deadline):  # type: ignore[no-untyped-def]
        return ets._Price(10.0, 0.0, 10.0), real(request, arrs, specs, clock.now, deadline)

    monkeypatch.setattr(ets, "time", clock)
    monkeypatch.setattr(ets, "_fit_and_combine", costly)
    monkeypatch.setattr(ets, "_pilot", priced)
    rng = np.random.default_rng(7)
    series = [50 + np.cumsum(rng.normal(0.3, 1, 40)) for _ in range(100)]
    out = ets.ets_many(series, 6, 1, (80,), deadline=clock.now + 1000.0)
    sample = {int(i) for i in np.unique(np.linspace(0, 99, 32).round())}
    others = [i for i in range(100) if i not in sample]
    cut = others[-19:]
    assert [str(out[i]) for i in cut] == [stats.TIME_BUDGET_REASON] * 19
    fitted = [out[i] for i in range(100) if i not in cut]
    assert all(isinstance(o, stats.SeriesForecast) for o in fitted)
    assert all(o.spec["stopped_by_budget"] and np.isfinite(o.hi).all() for o in fitted)


def test_ets_with_time_for_all_series_stops_its_optimisers_early_enough_for_what_follows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # priced at 2 s a batch and 1 s a series after the optimiser: for 20 series the optimisers
    # stop 1.25 x 22 = 27.5 s before the deadline, and every series gets a fit
    stops: list[float | None] = []
    real = ets.fit_candidates

    def spy(arrs, m, cand_lists, fixed, stop_at=None, horizon=None, clock=None):  # type: ignore[no-untyped-def]
        stops.append(stop_at)
        return real(arrs, m, cand_lists, fixed, stop_at, horizon, clock)

    def priced(request, arrs, specs, deadline):  # type: ignore[no-untyped-def]
        return ets._Price(0.01, 2.0, 1.0), []

    monkeypatch.setattr(ets, "_pilot", priced)
    monkeypatch.setattr(ets, "fit_candidates", spy)
    rng = np.random.default_rng(8)
    series = [50 + np.cumsum(rng.normal(0.3, 1, 40)) for _ in range(20)]
    deadline = time.time() + 1000.0
    out = ets.ets_many(series, 6, 1, (), deadline=deadline)
    assert stops == [pytest.approx(deadline - 27.5)]
    assert all(isinstance(o, stats.SeriesForecast) and not o.fallback for o in out)
    later = ets.ets_many(series, 6, 1, (), stop_at=deadline - 500.0, deadline=deadline)
    assert stops[-1] == deadline - 500.0  # an earlier stop of the caller's is kept
    assert len(later) == 20


def test_the_pilot_prices_a_batch_and_a_series_apart() -> None:
    # its two runs (8 and 32 series) separate the cost of a batch from that of a series; the
    # answers are those of all its series, at the start parameters
    rng = np.random.default_rng(10)
    series = [50 + np.cumsum(rng.normal(0.3, 1, 40)) for _ in range(32)]
    request = ets._Request(6, 1, (80,), "holdout")
    price, answers = ets._pilot(request, series, [None] * 32, time.time() + 1000.0)
    assert price.before > 0 and price.per_series > 0 and price.batch >= 0
    assert price.whole(32) > price.after(32) > 0
    assert len(answers) == 32
    assert all(isinstance(a, stats.SeriesForecast) and a.spec["stopped_by_budget"] for a in answers)


def test_ets_past_its_deadline_answers_every_series_with_the_time_budget_reason() -> None:
    rng = np.random.default_rng(9)
    series = [50 + np.cumsum(rng.normal(0, 1, 40)) for _ in range(80)]
    out = ets.ets_many(series, 6, 1, (80,), deadline=time.time() - 1.0)
    assert [str(o) for o in out] == [stats.TIME_BUDGET_REASON] * 80


def _trend_and_season(n: int, seed: int = 0) -> np.ndarray:
    """Monthly: a rise of 0.5 a month (36 over 6 years) through a cycle of swing 16."""
    t = np.arange(n)
    return (
        50
        + 0.5 * t
        + 8 * np.sin(2 * np.pi * t / 12)
        + np.random.default_rng(seed).normal(0, 1.5, n)
    )


def test_a_trend_does_not_hide_the_season_from_the_seasonal_forms() -> None:
    # the M4 test on the raw series called this "not seasonal" (the trend's autocorrelation
    # raises its limit): ets drew a damped line through the cycle, sMAPE 6.45 on the next
    # year, worse than seasonal naive (6.96 -> both far from AutoETS's 1.42)
    y = _trend_and_season(84)
    train, test = y[:72], y[72:]
    assert not stats.seasonality_test(train, 12)  # the blind spot this closes
    assert any(c.season is not None for c in ets.ets_candidates(train, 12))
    forecast = ets.ets_many([train], 12, 12, ())[0]
    assert isinstance(forecast, stats.SeriesForecast)
    smape = float(
        np.mean(200 * np.abs(test - forecast.mean) / (np.abs(test) + np.abs(forecast.mean)))
    )
    seasonal_naive = train[-12:]
    naive_smape = float(np.mean(200 * np.abs(test - seasonal_naive) / (test + seasonal_naive)))
    assert smape < 2.5 < naive_smape
    assert forecast.spec["form"][-1] in ("A", "M")  # the chosen form has a season


def test_the_old_gate_is_kept_for_the_benchmark_before_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train = _trend_and_season(72)
    monkeypatch.setattr(ets_fit, "SEASON_GATE", "acf")
    assert all(c.season is None for c in ets.ets_candidates(train, 12))


def test_a_trend_without_a_season_gets_no_seasonal_forms() -> None:
    t = np.arange(96)
    for seed in range(5):
        y = 50 + 0.5 * t + np.random.default_rng(seed).normal(0, 1.5, 96)
        assert all(c.season is None for c in ets.ets_candidates(y, 12)), seed


def test_a_search_the_budget_ended_is_said_in_the_spec() -> None:
    y = _trend_and_season(72)
    stopped = ets.ets_many([y], 6, 12, (), stop_at=time.time() - 1.0)[0]
    converged = ets.ets_many([y], 6, 12, ())[0]
    assert isinstance(stopped, stats.SeriesForecast) and stopped.spec["stopped_by_budget"]
    assert isinstance(converged, stats.SeriesForecast)
    assert "stopped_by_budget" not in converged.spec


def test_a_forecast_whose_ets_search_the_budget_ended_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the optimiser stopped at its share of the budget, each series with the best parameters
    # found by then: the forecast changed, and nothing said so (not a fallback: no failure)
    from tsforecast.stats import parallel

    monkeypatch.setattr(parallel, "_OPTIMISE_SHARE", 0.0)  # the stop comes before any round
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 72),
            "ds": np.tile(pd.date_range("2015-01-01", periods=72, freq="MS"), 2),
            "y": np.r_[_trend_and_season(72), _trend_and_season(72, seed=1)],
        }
    )
    with pytest.warns(UserWarning, match="ended the ets estimation of 2 series before it"):
        fc = tsf.forecast(df, 6, model="ets", time_budget_s=60, n_jobs=1)
    assert [r["unique_id"] for r in fc.attrs["stopped_by_budget"]] == ["a", "b"]
    assert fc.attrs["failures"] == []
    unbounded = tsf.forecast(df, 6, model="ets", n_jobs=1)
    assert "stopped_by_budget" not in unbounded.attrs


def test_a_large_batch_is_fitted_in_parts_of_bounded_size_with_the_same_forecasts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one vectorised batch held the values of all its series and forms at once: 3,000 hourly
    # series (4.6 M values) took 3.3 GB in one worker
    from tsforecast.stats import parallel

    assert parallel._value_groups([5, 5, 5, 20, 1], 10) == [[0, 1], [2], [3], [4]]
    rng = np.random.default_rng(0)
    series = [50 + rng.normal(0, 1, n).cumsum() for n in (40, 60, 30, 80, 50)]
    whole = parallel._ets_batch(series, 6, 1, (80,), [None] * 5, None)
    monkeypatch.setattr(parallel, "_MAX_BATCH_VALUES", 100)
    parts = parallel._ets_batch(series, 6, 1, (80,), [None] * 5, None)
    for a, b in zip(whole, parts, strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.lo, b.lo)
