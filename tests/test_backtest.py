"""Backtest engine: folds, refit policy, no look-ahead, fallbacks, frame types, golden M4."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsforecast as tsf
from tsforecast import datasets, stats
from tsforecast.errors import InputError, TsforecastWarning

ALL_BASELINES = ["naive", "seasonal_naive", "drift", "naive2", "ets", "arima", "theta"]


def seasonal_frame(lengths: dict[str, int], m: int = 12, seed: int = 0) -> pd.DataFrame:
    """Positive seasonal series with a trend and noise, integer time stamps ending together."""
    rng = np.random.default_rng(seed)
    end = max(lengths.values())
    frames = []
    for k, (uid, n) in enumerate(lengths.items()):
        t = np.arange(end - n, end)
        y = 50 + 5 * k + 0.05 * t + 6 * np.sin(2 * np.pi * t / m) + rng.normal(size=n)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": t + 1, "y": y}))
    return pd.concat(frames, ignore_index=True)


class LastValue:
    """The smallest estimator of the contract: fit(df) / predict(history_df), last value."""

    model_name = "last_value"
    fits: ClassVar[list[pd.DataFrame]] = []

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon

    def fit(self, df: pd.DataFrame) -> LastValue:
        LastValue.fits.append(df.copy())
        self.is_fitted_ = True
        return self

    def predict(self, history_df: pd.DataFrame) -> pd.DataFrame:
        assert self.is_fitted_
        last = history_df.sort_values("ds").groupby("unique_id").tail(1)
        rows = [
            {"unique_id": r.unique_id, "ds": r.ds + h, "y": r.y}
            for r in last.itertuples()
            for h in range(1, self.horizon + 1)
        ]
        return pd.DataFrame(rows)


def test_cutoffs_training_parts_and_refit_policy() -> None:
    df = seasonal_frame({"a": 80, "b": 60, "c": 70})
    for refit, n_fits in ((True, 3), (False, 1), (2, 2)):
        LastValue.fits.clear()
        res = tsf.backtest(df, [LastValue(6)], horizon=6, n_windows=3, step=4, refit=refit)
        assert len(LastValue.fits) == n_fits
        fc = res.forecasts
        cutoffs = sorted(fc["cutoff"].unique())
        # the same cutoffs for all series here (they end together): end - 6 - (2, 1, 0) * 4
        assert cutoffs == [80 - 6 - 8, 80 - 6 - 4, 80 - 6]
        assert (fc["ds"] > fc["cutoff"]).all()
        assert (fc["ds"] <= fc["cutoff"] + 6).all()
        # the training part of a fold never reaches past its cutoff
        for fit, cutoff in zip(
            LastValue.fits, cutoffs[:: (3 if refit is False else refit)], strict=False
        ):
            assert fit.groupby("unique_id")["ds"].max().eq(cutoff).all()
        # last value of the history at each cutoff (refit or not: predict sees the new history)
        merged = fc.merge(df, left_on=["unique_id", "cutoff"], right_on=["unique_id", "ds"])
        np.testing.assert_allclose(merged["y_hat"], merged["y_y"])
    LastValue.fits.clear()
    tsf.backtest(df, LastValue(6), horizon=6, n_windows=2, train_size=20)
    assert all(len(f) == 3 * 20 for f in LastValue.fits)
    assert all(f.groupby("unique_id").size().eq(20).all() for f in LastValue.fits)


@settings(max_examples=15)
@given(
    horizon=st.integers(1, 6),
    n_windows=st.integers(1, 4),
    step=st.integers(1, 5),
    train_size=st.one_of(st.none(), st.integers(2, 10)),
)
def test_folds_are_in_time_order_and_train_ends_at_the_cutoff(
    horizon: int, n_windows: int, step: int, train_size: int | None
) -> None:
    df = seasonal_frame({"a": 40, "b": 35}, m=4)
    res = tsf.backtest(
        df, ["naive"], horizon=horizon, n_windows=n_windows, step=step, train_size=train_size
    )
    fc = res.forecasts
    assert len(fc) == 2 * n_windows * horizon
    for _uid, g in fc.groupby("unique_id"):
        cutoffs = np.sort(g["cutoff"].unique())
        assert len(cutoffs) == n_windows
        assert np.all(np.diff(cutoffs) == step)
        assert cutoffs[-1] + horizon == g["ds"].max() == 40
    # naive forecasts the value at the cutoff: nothing after it was used
    merged = fc.merge(df, left_on=["unique_id", "cutoff"], right_on=["unique_id", "ds"])
    np.testing.assert_allclose(merged["y_hat"], merged["y_y"])


def test_no_baseline_looks_past_its_cutoff() -> None:
    df = seasonal_frame({"a": 72, "b": 60}, m=12)
    kwargs: dict[str, Any] = {
        "horizon": 6,
        "n_windows": 2,
        "step": 6,
        "season_length": 12,
        "n_jobs": 1,
        "levels": (80,),
    }
    before = tsf.backtest(df, ALL_BASELINES, **kwargs).forecasts
    first_cutoff = before["cutoff"].min()
    changed = df.copy()
    after_cut = changed["ds"] > first_cutoff
    rng = np.random.default_rng(1)
    changed.loc[after_cut, "y"] = rng.uniform(1, 1000, size=int(after_cut.sum()))
    after = tsf.backtest(changed, ALL_BASELINES, **kwargs).forecasts
    cols = ["y_hat", "y_lo_80", "y_hi_80"]
    fold_before = before[before["cutoff"] == first_cutoff].reset_index(drop=True)
    fold_after = after[after["cutoff"] == first_cutoff].reset_index(drop=True)
    assert set(fold_before["model"]) == set(ALL_BASELINES)
    pd.testing.assert_frame_equal(fold_before[cols], fold_after[cols])
    assert not np.allclose(fold_before["y"], fold_after["y"])  # the actuals did change


def test_refit_false_reuses_the_fitted_ets_and_arima() -> None:
    df = seasonal_frame({"a": 66}, m=12)
    res = tsf.backtest(df, ["ets", "arima"], horizon=6, n_windows=2, season_length=12, refit=False)
    fc = res.forecasts
    y = df["y"].to_numpy()
    for model in ("ets", "arima"):
        first = stats.fit_forecast(model, y[:54], 6, 12)
        second = stats.fit_forecast(model, y[:60], 6, 12, spec=first.spec)
        got = fc[(fc["model"] == model) & (fc["cutoff"] == 60)]["y_hat"].to_numpy()
        np.testing.assert_allclose(got, second.mean)


def test_a_failing_series_falls_back_and_is_reported() -> None:
    df = seasonal_frame({"a": 60, "b": 60}, m=12)
    flat = pd.DataFrame({"unique_id": "flat", "ds": np.arange(1, 61), "y": 5.0})
    df = pd.concat([df, flat], ignore_index=True)
    with pytest.warns(TsforecastWarning, match="flat"):
        res = tsf.backtest(df, ["ets", "theta"], horizon=12, season_length=12, n_jobs=1)
    failures = res.failures
    assert set(failures["unique_id"]) == {"flat"}
    assert set(failures["model"]) == {"ets", "theta"}
    assert set(failures["reason"]) == {"constant series"}
    assert (failures["cutoff"] == 48).all()
    flat_fc = res.forecasts[res.forecasts["unique_id"] == "flat"]
    np.testing.assert_array_equal(flat_fc["y_hat"], 5.0)


@pytest.mark.parametrize("fill", ["zero", "ffill", "interpolate"])
def test_values_made_up_by_fill_are_no_actuals(fill: str) -> None:
    # 2021-01-28 was never observed and 2021-01-29 was NaN: the models see them filled, but a
    # forecast is scored against the one actual its fold has (129 on 2021-01-30); scored
    # against the fill, naive had MAE 85 with zeros and 1 with carried-forward values
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-01-01", periods=30, freq="D"),
            "y": 100.0 + np.arange(30),
        }
    )
    df = df.drop(index=[27])
    df.loc[28, "y"] = np.nan
    res = tsf.backtest(
        df, models=["naive"], horizon=3, n_windows=1, fill=fill, metrics=["mae", "mase"]
    )
    assert res.forecasts["y"].isna().tolist() == [True, True, False]
    assert res.forecasts["y_hat"].tolist() == [126.0, 126.0, 126.0]  # the model's input as before
    values = res.metrics.set_index("metric")["value"]
    assert values["mae"] == pytest.approx(3.0)
    # the scale: the weekly differences of the observed history (all 7 here)
    assert values["mase"] == pytest.approx(3.0 / 7.0)
    by_step = res.metrics_by("horizon")
    by_step = by_step[by_step["metric"] == "mae"]
    assert by_step["horizon"].tolist() == [3]  # the third step's error, under step 3
    assert by_step["value"].tolist() == pytest.approx([3.0])


def test_conformal_scores_skip_the_values_fill_made_up() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2021-01-01", periods=120, freq="D"),
            "y": 10 + np.sin(np.arange(120) / 3) + rng.normal(0, 0.2, 120),
        }
    )
    holed = df.drop(index=[110])  # a stamp inside the calibration windows, filled
    fc = tsf.forecast(holed, 3, model="naive", levels=(80, 95), intervals="conformal", fill="ffill")
    for level in ("80", "95"):  # 95 % took the 20th of 20 scores: a NaN before the fix
        assert np.all(fc[f"y_lo_{level}"] < fc["y"]) and np.all(fc["y"] < fc[f"y_hi_{level}"])
    from tsforecast.estimators.conformal_scores import conformal_half_widths

    # a NaN score is a window left out: the rank is taken among the finite ones
    scores = np.array([[1.0], [3.0], [np.nan], [2.0]])  # -> (n=4, 1 cell)
    assert conformal_half_widths(scores, [50.0]).tolist() == [[2.0]]  # ceil(4 * .5) = 2nd of 3
    assert conformal_half_widths(scores, [95.0]).tolist() == [[3.0]]  # rank 4 > 3: the largest


def test_pandas_and_polars_give_the_same_numbers() -> None:
    df = seasonal_frame({"a": 60, "b": 72}, m=12)
    df["ds"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["ds"], unit="h")
    kwargs: dict[str, Any] = {"horizon": 12, "n_windows": 2, "levels": (80,), "n_jobs": 1}
    res_pd = tsf.backtest(df, ["naive2", "theta"], **kwargs)
    res_pl = tsf.backtest(pl.from_pandas(df), ["naive2", "theta"], **kwargs)
    assert isinstance(res_pl.forecasts, pl.DataFrame)
    assert isinstance(res_pl.metrics, pl.DataFrame)
    assert isinstance(res_pl.leaderboard(), pl.DataFrame)
    assert res_pd.settings["season_length"] == 24  # inferred from the hourly frequency
    pd.testing.assert_frame_equal(res_pd.forecasts, res_pl.forecasts.to_pandas(), check_dtype=False)
    pd.testing.assert_frame_equal(res_pd.metrics, res_pl.metrics.to_pandas(), check_dtype=False)


def test_short_series_are_dropped_by_name_and_none_left_raises() -> None:
    df = seasonal_frame({"a": 60, "tiny": 10}, m=12)
    with pytest.warns(TsforecastWarning, match="tiny"):
        res = tsf.backtest(df, ["naive"], horizon=12, n_windows=2)
    assert set(res.forecasts["unique_id"]) == {"a"}
    with pytest.raises(InputError, match="no series can give a fold"):
        tsf.backtest(df, ["naive"], horizon=30, n_windows=2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, "`horizon` must be a positive integer"),
        ({"n_windows": -1}, "`n_windows`"),
        ({"step": 1.5}, "`step`"),
        ({"refit": "always"}, "`refit`"),
        ({"levels": (80, 120)}, "between 0 and 100"),
        ({"models": ["naive", "prophet"]}, "unknown model 'prophet'"),
        ({"models": [("ets", {"alpha": 0.3})]}, "model .ets. has no parameter .alpha."),
        ({"models": [42]}, "cannot use 42 as a model"),
        ({"n_jobs": 0}, "`n_jobs`"),
        ({"target_col": "value"}, "column 'value' is missing"),
        ({"metrics": ["mase", "r2"]}, "`metrics` must name"),
    ],
)
def test_bad_arguments_raise_input_errors(kwargs: dict[str, Any], match: str) -> None:
    df = seasonal_frame({"a": 40})
    args: dict[str, Any] = {"models": ["naive"], "horizon": 4, **kwargs}
    with pytest.raises(InputError, match=match):
        tsf.backtest(df, **args)


def test_metrics_views_and_leaderboard() -> None:
    df = seasonal_frame({"a": 72, "b": 84, "c": 96}, m=12)
    res = tsf.backtest(
        df, ["naive", "seasonal_naive"], horizon=12, n_windows=2, season_length=12, levels=(80, 95)
    )
    metrics = res.metrics
    assert set(metrics["metric"]) >= {"mae", "rmse", "smape", "mase", "rmsse", "owa", "pinball"}
    assert {"coverage_80", "coverage_95"} <= set(metrics["metric"])
    assert set(metrics["model"]) == {"naive", "seasonal_naive"}  # naive2 only as OWA reference
    board = res.leaderboard()
    assert list(board["model"]) == ["seasonal_naive", "naive"]
    assert board.columns[1] == "mase"
    by_id = res.metrics_by("unique_id")
    assert set(by_id["unique_id"]) == {"a", "b", "c"}
    by_cut = res.metrics_by("cutoff")
    assert by_cut["cutoff"].nunique() == 2  # the series end together: two shared cutoffs
    by_h = res.metrics_by("horizon")
    assert sorted(by_h["horizon"].unique()) == list(range(1, 13))
    with pytest.raises(InputError, match="`by`"):
        res.metrics_by("model")


def test_the_leaderboard_of_several_targets_averages_only_unit_free_metrics() -> None:
    # (the metrics in the targets' units get a column per target)
    # sales ~1e6 and a rate ~1e-3: an average of their MAE is the sales' alone
    t = np.arange(80)
    df = pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2020-01-01", periods=80, freq="D"),
            "sales": 1e6 + 1e4 * np.sin(t / 3),
            "rate": 1e-3 + 1e-4 * np.cos(t / 5),
        }
    )
    res = tsf.backtest(
        df, models=["naive", "theta"], horizon=7, n_windows=2, target_col=["sales", "rate"]
    )
    board = res.leaderboard()
    assert "mae" not in board.columns and "rmse" not in board.columns
    assert {"mae[sales]", "mae[rate]", "rmse[rate]"} <= set(board.columns)
    with pytest.raises(InputError, match=r"'mae\[sales\]', or pass `target=`"):
        res.leaderboard(metric="mae")
    m = res.metrics
    mase = m[m["metric"] == "mase"].groupby("model")["value"].mean()
    assert board.set_index("model")["mase"].to_dict() == pytest.approx(mase.to_dict())
    rate = res.leaderboard(target="rate").set_index("model")
    want = m[(m["metric"] == "mae") & (m["target"] == "rate")].set_index("model")["value"]
    assert rate["mae"].to_dict() == pytest.approx(want.to_dict())
    with pytest.raises(InputError, match="`target` must be one of"):
        res.leaderboard(target="price")


def test_m4_hourly_golden_through_the_backtest() -> None:
    ds = datasets.load("m4_hourly")
    assert isinstance(ds, datasets.ForecastingDataset)
    df = pd.concat([ds.train, ds.test], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TsforecastWarning)
        res = tsf.backtest(df, ["naive", "seasonal_naive", "naive2"], horizon=48, season_length=24)
    v = {(r.model, r.metric): r.value for r in res.metrics.itertuples()}
    assert round(v[("naive", "smape")], 3) == 43.003
    assert round(v[("naive", "mase")], 3) == 11.608
    assert round(v[("seasonal_naive", "smape")], 3) == 13.912
    assert round(v[("seasonal_naive", "mase")], 3) == 1.193
    assert abs(v[("naive2", "smape")] - 18.383) < 0.05
    assert abs(v[("naive2", "mase")] - 2.395) < 0.05
    # the published OWAs (sNaive 0.6275 and Naive 3.593 in the organisers' results file)
    assert v[("seasonal_naive", "owa")] == pytest.approx(0.6275, abs=5e-4)
    assert v[("naive", "owa")] == pytest.approx(3.593, abs=5e-4)
    assert res.failures.empty


def test_a_neural_model_by_name_goes_through_the_same_engine() -> None:
    df = seasonal_frame({"a": 80, "b": 90}, m=12)
    params = {"max_steps": 5, "input_size": 24, "hidden_size": 8, "device": "cpu"}
    res = tsf.backtest(
        df,
        ["seasonal_naive", ("lstm", params)],
        horizon=6,
        n_windows=2,
        season_length=12,
        levels=(80,),
        refit=False,
    )
    fc = res.forecasts
    lstm = fc[fc["model"] == "lstm"]
    assert len(lstm) == len(fc[fc["model"] == "seasonal_naive"]) == 2 * 2 * 6
    assert np.isfinite(lstm[["y_hat", "y_lo_80", "y_hi_80"]].to_numpy()).all()
    assert set(res.leaderboard()["model"]) == {"seasonal_naive", "lstm"}
    # refit=False: one fit, one loss history, kept for the dashboard's training curves
    assert list(res.training_curves) == [("lstm", "fold 1")]
    assert {"step", "train_loss"} <= set(res.training_curves[("lstm", "fold 1")][0])
    pd.testing.assert_frame_equal(res.history, df, check_dtype=False)


def test_a_model_without_intervals_gets_no_coverage_rather_than_zero() -> None:
    df = seasonal_frame({"a": 40, "b": 50}, m=4)
    res = tsf.backtest(df, ["naive", LastValue(4)], horizon=4, levels=(80,), season_length=4)
    fc = res.forecasts
    assert fc.loc[fc["model"] == "last_value", "y_lo_80"].isna().all()
    m = res.metrics
    assert set(m.loc[m["model"] == "naive", "metric"]) >= {"coverage_80", "pinball"}
    assert "coverage_80" not in set(m.loc[m["model"] == "last_value", "metric"])
    # same point forecasts, so the same point metrics
    naive = m[m["model"] == "naive"].set_index("metric")["value"]
    last = m[m["model"] == "last_value"].set_index("metric")["value"]
    assert last["mase"] == pytest.approx(naive["mase"])


def test_the_inferred_season_never_sees_a_fold_s_test_values() -> None:
    # integer time: the period comes from the autocorrelation of the first fold's training part
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unique_id": "s", "ds": np.arange(60), "y": rng.normal(10, 1, 60)})
    changed = df.copy()
    changed.loc[36:, "y"] = np.tile([0.0, 5.0, 10.0, 20.0], 6)  # strongly 4-periodic future
    runs = [tsf.backtest(d, ["seasonal_naive"], horizon=24, n_jobs=1) for d in (df, changed)]
    assert runs[0].settings["season_length"] == runs[1].settings["season_length"]
    np.testing.assert_array_equal(
        runs[0].forecasts["y_hat"].to_numpy(), runs[1].forecasts["y_hat"].to_numpy()
    )


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"hiden_size": 8},
            r"model 'lstm' has no parameter 'hiden_size'; did you mean 'hidden_size'",
        ),
        ({"horizon": 3}, r"`horizon` is set by the call"),
        ({"dropout": 2.0}, r"dropout"),
    ],
)
def test_bad_neural_params_are_refused_before_any_model_runs(params, match) -> None:
    df = seasonal_frame({"a": 80}, m=12)
    with pytest.raises(InputError, match=match):
        tsf.backtest(df, ["ets", ("lstm", params)], horizon=6, season_length=12)


@pytest.mark.parametrize(
    ("renames", "kwargs"),
    [
        ({"unique_id": "model"}, {"id_col": "model"}),
        ({"ds": "cutoff"}, {"time_col": "cutoff"}),
        ({"unique_id": "y", "y": "sales"}, {"id_col": "y", "target_col": "sales"}),
        ({"y": "y_hat"}, {"target_col": "y_hat"}),
    ],
)
def test_a_column_named_like_a_result_column_is_refused_up_front(
    renames: dict[str, str], kwargs: dict[str, str]
) -> None:
    # they failed inside pandas ("the column label 'unique_id' is not unique"), also in
    # forecast()'s default model="auto", or blamed the model
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], 30),
            "ds": np.tile(np.arange(30), 2),
            "y": rng.normal(size=60) + 10.0,
        }
    ).rename(columns=renames)
    name = next(iter(kwargs.values()))  # the first role given is the one refused
    with pytest.raises(InputError, match=rf"`\w+_col='{name}'`: a backtest"):
        tsf.backtest(df, ["naive"], horizon=3, **kwargs)
    with pytest.raises(InputError, match=rf"`\w+_col='{name}'`: a backtest"):
        tsf.forecast(df, 3, candidates=["naive", "theta"], progress=False, **kwargs)


def test_a_requested_metric_no_forecast_defines_is_named_in_a_warning() -> None:
    # a sliding training part of 5 values gives MASE no seasonal scale (season 7): the metric
    # was missing from the results without a word
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"unique_id": "a", "ds": np.arange(40), "y": rng.normal(size=40) + 10.0})
    with pytest.warns(TsforecastWarning, match=r"no value.*mase: \['naive'\]"):
        res = tsf.backtest(
            df, ["naive"], horizon=3, train_size=5, season_length=7, metrics=["mase", "smape"]
        )
    assert set(res.metrics["metric"]) == {"smape"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tsf.backtest(df, ["naive"], horizon=3, season_length=7, metrics=["mase", "smape"])


@pytest.mark.parametrize(
    ("own", "call"),
    [
        ({"season_length": 4}, {"season_length": 12}),
        ({"target_col": "y2"}, {}),
        ({"id_col": "store"}, {}),
        ({"fill": "zero"}, {"fill": "ffill"}),
    ],
    ids=["season_length", "target_col", "id_col", "fill"],
)
def test_an_estimator_whose_own_settings_differ_from_the_calls_is_refused(
    own: dict[str, Any], call: dict[str, Any]
) -> None:
    # the backtest reads the data with the call's columns and scores with its season: the
    # estimator's own were ignored (a season_length=4 model scored as if it had 12)
    import tsforecast.models as tm

    data = datasets.load("air_passengers")
    name = next(iter(own))
    df = data.df.assign(y2=data.df["y"] * 2.0) if name == "target_col" else data.df
    with pytest.raises(InputError, match=rf"has {name}=.*backtest was called with {name}="):
        tsf.backtest(df, [tm.build("seasonal_naive", horizon=12, **own)], horizon=12, **call)
    # the same setting in both, or only in the estimator's season, runs
    agreed = {**own, **call} if name == "season_length" else {}
    model = tm.build("seasonal_naive", horizon=12, **agreed)
    res = tsf.backtest(data.df, [model], horizon=12, n_windows=1, **agreed)
    assert not res.metrics.empty


def test_an_estimator_object_without_a_season_takes_the_calls_season() -> None:
    """season_length=1 in the call: an object built with no season forecasts as the named
    model does with that season (it inferred 12 from monthly dates, silently)."""
    rng = np.random.default_rng(0)
    n = 96
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], n),
            "ds": np.tile(pd.date_range("2015-01-01", periods=n, freq="MS"), 2),
            "y": np.tile(10 * np.sin(2 * np.pi * np.arange(n) / 12), 2) + rng.normal(size=2 * n),
        }
    )
    obj = tsf.models.build("seasonal_naive", horizon=12)
    by_object = tsf.backtest(df, [obj], horizon=12, n_windows=2, season_length=1)
    by_name = tsf.backtest(df, ["seasonal_naive"], horizon=12, n_windows=2, season_length=1)
    pd.testing.assert_frame_equal(by_object.forecasts_pd, by_name.forecasts_pd)
    assert obj.season_length is None  # the caller's object is left as it was


def test_owas_hidden_naive2_does_not_warn_of_a_season_the_user_never_gave() -> None:
    import warnings

    from tsforecast.errors import SeasonUnusedWarning

    rng = np.random.default_rng(0)
    n = 30  # 24 training months: under the 3 seasons naive2's season test needs
    df = pd.DataFrame(
        {
            "unique_id": np.repeat(["a", "b"], n),
            "ds": np.tile(pd.date_range("2020-01-01", periods=n, freq="MS"), 2),
            "y": 10 + rng.normal(size=2 * n),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeasonUnusedWarning)
        tsf.backtest(df, ["seasonal_naive", "naive"], horizon=6)
    with pytest.warns(SeasonUnusedWarning, match="naive2"):
        tsf.backtest(df, ["naive2"], horizon=6)
