"""Conformal intervals: the order statistic, coverage, no look-ahead, refusals, every input kind."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.estimators import registry
from tsforecast.estimators.conformal import (
    ConformalForecaster,
    conformal_half_widths,
    conformal_rank,
    min_windows,
)


def iid_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Exchangeable data: i.i.d. normal values around a per-series level."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(np.arange(length), n_series),
            "y": rng.normal(size=n_series * length) + np.repeat(5.0 * np.arange(n_series), length),
        }
    )


def naive(horizon: int, **params: object) -> ConformalForecaster:
    return ConformalForecaster(registry.build("naive", {}, horizon=horizon), **params)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the order statistic
def test_rank_is_the_finite_sample_order_statistic() -> None:
    assert conformal_rank(19, 95) == 19  # ceil(20 * 0.95) = 19 exactly, no float round-up to 20
    assert conformal_rank(20, 95) == 20  # ceil(19.95)
    assert conformal_rank(4, 80) == 4  # ceil(4.0)
    assert conformal_rank(9, 80) == 8  # ceil(8.0)
    assert conformal_rank(10, 80) == 9  # ceil(8.8)
    assert min_windows(95) == 19
    assert min_windows(80) == 4


def test_half_width_is_a_score_not_an_interpolated_quantile() -> None:
    scores = np.array([7.0, 1.0, 3.0, 9.0, 5.0, 2.0, 8.0, 4.0, 6.0, 10.0])  # n = 10
    widths = conformal_half_widths(scores, [80, 50])
    # 80 %: the ceil(11 * 0.8) = 9th smallest = 9; 50 %: the ceil(5.5) = 6th smallest = 6
    assert widths.tolist() == [9.0, 6.0]
    assert widths[0] != np.quantile(scores, 0.8)  # numpy interpolates: 8.2


def test_too_few_scores_give_the_largest_score() -> None:
    scores = np.array([[3.0], [1.0], [2.0]])  # n = 3 < 19
    assert conformal_half_widths(scores, [95]).tolist() == [[3.0]]


def test_fitted_half_widths_are_the_hand_computed_order_statistics() -> None:
    df = iid_panel(2, 40, seed=3)
    horizon, n_windows = 3, 9
    model = naive(horizon, levels=(80,), n_windows=n_windows).fit(df)
    for s, (_, series) in enumerate(df.groupby("unique_id", sort=False)):
        y = series["y"].to_numpy()
        n = len(y)
        for h in range(horizon):
            # window k: cutoff n - horizon - (n_windows - 1 - k) - 1, forecast = y[cutoff]
            errors = sorted(
                abs(y[c + 1 + h] - y[c])
                for c in (n - horizon - (n_windows - 1 - k) - 1 for k in range(n_windows))
            )
            rank = math.ceil((n_windows + 1) * 0.8)  # = 8
            assert model.half_widths_[s, h, 0, 0] == pytest.approx(errors[rank - 1], abs=1e-12)
    out = model.predict()
    assert np.allclose(out["y_hi_80"] - out["y"], model.half_widths_[:, :, 0, 0].reshape(-1))
    assert np.allclose(out["y"] - out["y_lo_80"], model.half_widths_[:, :, 0, 0].reshape(-1))


# --------------------------------------------------------------------------- coverage
def test_coverage_is_nominal_on_exchangeable_data() -> None:
    df = iid_panel(300, 60, seed=1)
    res = tsf.backtest(
        df, ["naive"], horizon=4, levels=(80, 95), intervals="conformal", metrics=["mae"]
    )
    metrics = res.metrics.set_index("metric")["value"]
    # 1,200 test points from 300 independent series: sd about 0.023 at 80 %; rank 16 of 20
    # and 19 of 20 windows give 0.80 and 0.95 in expectation
    assert abs(metrics["coverage_80"] - 0.80) < 0.07
    assert abs(metrics["coverage_95"] - 0.95) < 0.04


# --------------------------------------------------------------------------- no look-ahead
@pytest.mark.parametrize("refit", [True, False])
def test_changing_values_after_a_cutoff_leaves_its_interval_unchanged(refit: bool) -> None:
    df = iid_panel(3, 80, seed=2)
    kwargs = dict(
        horizon=4, n_windows=2, step=4, levels=(80, 95), intervals="conformal", refit=refit
    )
    first = tsf.backtest(df, ["theta"], **kwargs).forecasts
    cutoff = first["cutoff"].min()
    changed = df.copy()
    later = changed["ds"] > cutoff
    changed.loc[later, "y"] = changed.loc[later, "y"] * 10 + 100
    second = tsf.backtest(changed, ["theta"], **kwargs).forecasts
    cols = ["y_hat", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]
    before = first[first["cutoff"] == cutoff][cols].to_numpy()
    after = second[second["cutoff"] == cutoff][cols].to_numpy()
    np.testing.assert_array_equal(before, after)
    # and the later fold did change: the test can see a change
    assert not np.allclose(
        first[first["cutoff"] > cutoff][cols].to_numpy(),
        second[second["cutoff"] > cutoff][cols].to_numpy(),
    )


def test_calibration_forecasts_come_from_fits_that_never_saw_their_window() -> None:
    df = iid_panel(1, 50, seed=4)
    model = naive(2, levels=(80,), n_windows=5, refit=True).fit(df)
    spoiled = df.copy()
    spoiled.loc[spoiled.index[-1], "y"] = 1e6  # only the last calibration window's actual
    widened = naive(2, levels=(80,), n_windows=5, refit=True).fit(spoiled)
    # the last value enters only as an actual of the newest window (step 2): a score grows there,
    # no forecast of the other steps changes
    assert widened.half_widths_[0, 1, 0, 0] > model.half_widths_[0, 1, 0, 0]
    assert widened.half_widths_[0, 0, 0, 0] == model.half_widths_[0, 0, 0, 0]


# --------------------------------------------------------------------------- refusals
def test_a_misspelt_mode_is_refused_with_a_suggestion() -> None:
    df = iid_panel(1, 40)
    with pytest.raises(InputError, match="did you mean 'conformal'"):
        tsf.forecast(df, 3, "naive", levels=(80,), intervals="conformall")
    with pytest.raises(InputError, match="did you mean 'conformal'"):
        tsf.backtest(df, ["naive"], horizon=3, levels=(80,), intervals="conformall")
    with pytest.raises(InputError, match="not in `models`"):
        tsf.backtest(df, ["naive"], horizon=3, levels=(80,), intervals={"ets": "conformal"})


@pytest.mark.parametrize("mode", ["conformal", "calibrated"])
def test_a_conformal_forecaster_asked_for_other_intervals_is_refused(mode: str) -> None:
    # its own settings (5 windows here) would silently win over the request
    df = iid_panel(4, 60)
    model = naive(3, levels=(80,), n_windows=5)
    expected = rf"intervals='{mode}' was asked for a ConformalForecaster.*intervals='model'"
    with pytest.raises(InputError, match=expected):
        tsf.forecast(df, 3, model, levels=(80,), intervals=mode)
    with pytest.raises(InputError, match=expected):
        tsf.backtest(df, [model], horizon=3, levels=(80,), intervals=mode)
    # as configured: its own intervals, also under "auto"
    for kept in ("model", "auto"):
        out = tsf.forecast(df, 3, model, levels=(80,), intervals=kept)
        assert {"y_lo_80", "y_hi_80"} <= set(out.columns)


def test_a_conformal_forecaster_is_labelled_by_its_intervals_in_a_backtest() -> None:
    df = iid_panel(4, 60)
    calibrated = ConformalForecaster(
        registry.build("naive", {}, horizon=3, levels=(80,)),
        levels=(80,),
        score="width",
        n_windows=5,
        step=3,
        pool_series=True,
    )
    res = tsf.backtest(
        df,
        ["naive", naive(3, levels=(80,), n_windows=5), calibrated],
        horizon=3,
        levels=(80,),
        n_windows=1,
    )
    assert res.settings["models"] == ["naive", "naive_conformal", "naive_calibrated"]
    assert set(res.leaderboard()["model"]) == {"naive", "naive_conformal", "naive_calibrated"}


def test_conformal_without_levels_is_refused() -> None:
    df = iid_panel(1, 40)
    with pytest.raises(InputError, match="needs `levels`"):
        tsf.forecast(df, 3, "naive", intervals="conformal")
    with pytest.raises(InputError, match="need `levels`"):
        tsf.backtest(df, ["naive"], horizon=3, intervals="conformal")


def test_too_few_windows_for_a_level_are_refused_at_fit() -> None:
    df = iid_panel(2, 50)
    with pytest.raises(InputError) as refused:
        naive(3, levels=(80, 95), n_windows=10).fit(df)
    msg = str(refused.value)
    assert "conformal intervals at level 95 need at least 19" in msg
    assert "the data give 10 (10 windows per series)" in msg and "larger `n_windows`" in msg
    with pytest.raises(InputError, match="level 99 need at least 99"):  # 20 windows per series
        tsf.forecast(df.iloc[:50], 3, "naive", levels=(99,), intervals="conformal")
    model = naive(3, levels=(80,), n_windows=10).fit(df)  # 80 % needs 4: honoured
    assert np.isfinite(model.predict()[["y_lo_80", "y_hi_80"]].to_numpy()).all()


def test_per_series_calibration_needs_a_first_window_that_sees_half_the_series() -> None:
    # 20 one-step windows of horizon 7 on 43 values: the first fit would see 17 values, and
    # its errors, far wider than the final fit's, would set the intervals
    with pytest.raises(
        InputError,
        match=r"fewer than the 52 values .*see half of the series.*intervals='calibrated'",
    ):
        tsf.forecast(iid_panel(3, 43), 7, "naive", levels=(80,), intervals="conformal")
    with pytest.raises(InputError, match=r"the longest of them 46; in a backtest, the values up"):
        tsf.backtest(
            iid_panel(3, 60), ["naive"], horizon=7, n_windows=2, levels=(80,), intervals="conformal"
        )
    out = tsf.forecast(iid_panel(3, 52), 7, "naive", levels=(80,), intervals="conformal")
    assert np.isfinite(out[["y_lo_80", "y_hi_80"]].to_numpy()).all()
    # pooled windows count one by one instead: the short series still calibrates
    pooled = ConformalForecaster(
        registry.build("naive", {}, horizon=7), levels=(80,), pool_series=True
    )
    assert np.isfinite(
        pooled.fit(iid_panel(3, 43)).predict()[["y_lo_80", "y_hi_80"]].to_numpy()
    ).all()


def test_a_calibration_fit_on_a_small_part_of_the_history_is_warned_of() -> None:
    # per series without refits, the one calibration fit of a 44-value series sees 22 values
    with pytest.warns(TsforecastWarning, match=r"calibration fit sees 22 of the 44 values"):
        tsf.forecast(iid_panel(3, 44), 3, "naive", levels=(80,), intervals="conformal")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tsf.forecast(iid_panel(3, 100), 3, "naive", levels=(80,), intervals="conformal")
        refitted = ConformalForecaster(
            registry.build("naive", {}, horizon=3), levels=(80,), refit=True
        )
        refitted.fit(iid_panel(3, 44))


def test_series_too_short_to_calibrate_are_named() -> None:
    df = pd.concat([iid_panel(1, 60), iid_panel(1, 10).assign(unique_id="tiny")])
    with pytest.raises(InputError, match="tiny"):
        naive(3, levels=(80,), n_windows=20).fit(df)


def test_pooled_scores_calibrate_short_series_too() -> None:
    df = pd.concat([iid_panel(4, 60), iid_panel(1, 6, seed=9).assign(unique_id="tiny")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = naive(3, levels=(80, 95), n_windows=5, pool_series=True).fit(df)
    assert model.n_scores_ == 20  # 4 calibrated series x 5 windows
    out = model.predict()
    tiny = out[out["unique_id"] == "tiny"]
    assert len(tiny) == 3 and (tiny["y_hi_95"] > tiny["y_hi_80"]).all()


@pytest.mark.parametrize("factor", [1e-3, 1.0, 1e3])
def test_pooled_intervals_scale_with_the_data_also_for_a_constant_series(factor: float) -> None:
    # a constant series took an absolute scale of 1: a half-width of 1.54 around 5, 5000, 0.005
    base = pd.concat([iid_panel(4, 60), iid_panel(1, 60).assign(unique_id="flat", y=5.0)])
    scaled = base.assign(y=base["y"] * factor)
    out = naive(3, levels=(80,), n_windows=5, pool_series=True).fit(scaled).predict()
    half = (out["y_hi_80"] - out["y"]).to_numpy() / factor
    flat = (out["unique_id"] == "flat").to_numpy()
    expected = naive(3, levels=(80,), n_windows=5, pool_series=True).fit(base).predict()
    np.testing.assert_allclose(half, (expected["y_hi_80"] - expected["y"]).to_numpy(), rtol=1e-6)
    assert (half[flat] < 1e-4).all() and (half[~flat] > 0.5).all()


# --------------------------------------------------------------------------- every input kind
def test_multivariate_targets_get_their_own_intervals() -> None:
    df = iid_panel(2, 50)
    df["z"] = df["y"] * 100.0
    fc = tsf.forecast(df, 3, "naive", target_col=["y", "z"], levels=(80,), intervals="conformal")
    width_y = (fc["y_hi_80"] - fc["y_lo_80"]).to_numpy()
    width_z = (fc["z_hi_80"] - fc["z_lo_80"]).to_numpy()
    np.testing.assert_allclose(width_z, 100.0 * width_y, rtol=1e-9)


def test_covariates_and_future_df_reach_the_base_model() -> None:
    rng = np.random.default_rng(5)
    n, horizon = 70, 3
    df = iid_panel(2, n)
    df["x"] = rng.normal(size=len(df))  # a past covariate
    df["f"] = rng.normal(size=len(df))  # a known-future covariate
    future = pd.DataFrame(
        {
            "unique_id": np.repeat(["s0", "s1"], horizon),
            "ds": np.tile(np.arange(n, n + horizon), 2),
            "f": rng.normal(size=2 * horizon),
        }
    )
    params = {"max_steps": 3, "input_size": 8, "hidden_size": 8, "device": "cpu"}
    fc = tsf.forecast(
        df,
        horizon,
        "lstm",
        levels=(80,),
        future_df=future,
        intervals="conformal",
        progress=False,
        **params,
    )
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80"]
    assert np.isfinite(fc[["y_lo_80", "y_hi_80"]].to_numpy()).all()
    assert (fc["y_hi_80"] >= fc["y_lo_80"]).all()


def test_save_and_load_keep_the_intervals(tmp_path) -> None:
    df = iid_panel(2, 50)
    model = ConformalForecaster(
        registry.build("theta", {}, horizon=4, season_length=1), levels=(80, 95), n_windows=19
    ).fit(df)
    model.save(tmp_path / "m")
    loaded = tsf.models.load(tmp_path / "m")
    assert isinstance(loaded, ConformalForecaster)
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(
        loaded.predict_cutoffs(df, [40, 45]), model.predict_cutoffs(df, [40, 45])
    )


def test_polars_in_polars_out() -> None:
    import polars as pl

    df = pl.from_pandas(iid_panel(2, 50))
    fc = tsf.forecast(df, 3, "naive", levels=(80,), intervals="conformal")
    assert isinstance(fc, pl.DataFrame)
    assert fc.columns == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80"]


def test_clone_gives_an_unfitted_copy_with_the_same_settings() -> None:
    model = naive(3, levels=(80,), n_windows=7).fit(iid_panel(1, 40))
    copy = model.clone()
    assert not copy.is_fitted and copy.n_windows == 7 and copy.base.horizon == 3


# --------------------------------------------------------------------------- config and CLI
CONFIG = """
[data]
dataset = "air_passengers"
[backtest]
horizon = 6
levels = [80]
intervals = {intervals}
[models.naive]
[models.theta]
"""


def test_a_config_sets_conformal_intervals_per_model(tmp_path) -> None:
    from tsforecast.cli.backtest import backtest_kwargs
    from tsforecast.cli.config import load_config
    from tsforecast.cli.data import load_data

    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(intervals='{ theta = "conformal" }'), encoding="utf-8")
    config = load_config(path)
    assert config.backtest.intervals == {"theta": "conformal"}
    res = tsf.backtest(load_data(config).frame, **backtest_kwargs(config, load_data(config)))
    assert res.settings["intervals"] == {"naive": "model", "theta": "conformal"}


@pytest.mark.parametrize(
    ("intervals", "expected"),
    [
        ('"conformall"', "did you mean 'conformal'"),
        ('{ ets = "conformal" }', "not in \\[models\\]"),
    ],
)
def test_a_config_with_bad_intervals_is_refused(tmp_path, intervals: str, expected: str) -> None:
    from tsforecast.cli.config import ConfigError, load_config

    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(intervals=intervals), encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_the_forecast_command_takes_intervals(tmp_path) -> None:
    from tsforecast.cli.main import main

    out = tmp_path / "fc.csv"
    args = ["forecast", "air_passengers", "-H", "3", "-m", "naive", "--levels", "80"]
    assert main([*args, "--intervals", "conformal", "--out", str(out)]) == 0
    fc = pd.read_csv(out)
    assert (fc["y_hi_80"] > fc["y"]).all()
    assert main([*args, "--intervals", "conformall"]) == 2


def test_auto_with_conformal_intervals_keeps_what_it_chose() -> None:
    data = tsf.datasets.load("air_passengers")
    fc = tsf.forecast(
        data.df, 6, levels=(80,), intervals="conformal", candidates=["naive", "seasonal_naive"]
    )
    assert set(fc.attrs["auto_selection"].chosen) <= {"naive", "seasonal_naive"}
    assert fc.attrs["settings"]["intervals"] == "conformal"
    assert (fc["y_hi_80"] > fc["y_lo_80"]).all()


def test_the_leaderboard_shows_coverage_at_every_level_and_msis() -> None:
    df = iid_panel(3, 60)
    res = tsf.backtest(
        df, ["naive", "theta"], horizon=4, levels=(80, 95), intervals={"theta": "conformal"}
    )
    board = res.leaderboard()
    assert {"coverage_80", "coverage_95", "msis_95"} <= set(board.columns)
    assert board[["coverage_80", "coverage_95", "msis_95"]].notna().all().all()
    assert set(board["model"]) == {"naive", "theta"}
