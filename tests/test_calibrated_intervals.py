"""intervals="calibrated": the model's own intervals conformalised by a width factor per step."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsforecast as tsf
from tsforecast.errors import InputError
from tsforecast.estimators import registry
from tsforecast.estimators.conformal import (
    CALIBRATED_WINDOWS,
    ConformalForecaster,
    width_scores,
    with_intervals,
)


def iid_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """Exchangeable data: i.i.d. normal values around a per-series level and scale."""
    rng = np.random.default_rng(seed)
    scale = np.repeat(1.0 + np.arange(n_series) % 3, length)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(np.arange(length), n_series),
            "y": rng.normal(size=n_series * length) * scale
            + np.repeat(5.0 * np.arange(n_series), length),
        }
    )


def naive_width(
    horizon: int, levels: tuple[float, ...] = (80, 95), **params: object
) -> ConformalForecaster:
    base = registry.build("naive", {}, horizon=horizon, levels=levels)
    return ConformalForecaster(base, levels=levels, score="width", **params)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the score
def test_the_score_is_the_stretch_that_reaches_the_actual_on_its_side() -> None:
    point = np.array([10.0, 10.0, 10.0, 10.0, 10.0])
    lo = np.array([8.0, 8.0, 6.0, 10.0, 10.0])
    hi = np.array([14.0, 14.0, 12.0, 10.0, 10.0])
    actual = np.array([12.0, 7.0, 10.0, 10.0, 11.0])
    # above: 2 / 4; below: 3 / 2; at the point: 0; zero width at the point: 0; zero width off it:
    # no factor reaches it (left out)
    np.testing.assert_allclose(
        width_scores(actual, point, lo, hi), [0.5, 1.5, 0.0, 0.0, np.nan], equal_nan=True
    )


def test_the_factor_is_the_finite_sample_order_statistic_of_the_scores() -> None:
    """One series, refit at every window: the factor per step is the ceil((n + 1) L)-th
    smallest score computed by hand from fits on the data up to each cutoff."""
    df = iid_panel(1, 60, seed=3)
    horizon, n_windows, step = 3, 9, 2
    model = naive_width(horizon, (80,), n_windows=n_windows, step=step, refit=True).fit(df)
    y = df["y"].to_numpy()
    n = len(y)
    scores: list[list[float]] = [[] for _ in range(horizon)]
    for k in range(n_windows):
        cutoff = n - horizon - (n_windows - 1 - k) * step - 1  # position of the last value seen
        own = registry.build("naive", {}, horizon=horizon, levels=(80, 95))
        fc = own.fit(df.iloc[: cutoff + 1]).predict()
        for h in range(horizon):
            actual = np.array([y[cutoff + 1 + h]])
            point = fc["y"].to_numpy()[h : h + 1]
            lo, hi = fc["y_lo_80"].to_numpy()[h : h + 1], fc["y_hi_80"].to_numpy()[h : h + 1]
            scores[h].append(float(width_scores(actual, point, lo, hi)[0]))
    rank = math.ceil((n_windows + 1) * 0.8)  # = 8 of 9
    for h in range(horizon):
        assert model.half_widths_[0, h, 0, 0] == pytest.approx(sorted(scores[h])[rank - 1])
    # the interval is the model's own, each side stretched by that factor
    own = registry.build("naive", {}, horizon=horizon, levels=(80,)).fit(df).predict()
    out = model.predict()
    factor = model.half_widths_[0, :, 0, 0]
    np.testing.assert_allclose(out["y_hi_80"] - out["y"], factor * (own["y_hi_80"] - own["y"]))
    np.testing.assert_allclose(out["y"] - out["y_lo_80"], factor * (own["y"] - own["y_lo_80"]))


def test_explicit_calibration_with_too_few_scores_is_refused_at_fit() -> None:
    """One series gives 5 scores per step: enough for 80 % (needs 4), not for 95 % (needs 19).
    An explicit request is refused with the counts and the ways out; "auto" is not."""
    df = iid_panel(1, 60)
    explicit = with_intervals(registry.build("naive", {}, horizon=3), "calibrated", (80, 95))
    with pytest.raises(InputError) as refused:
        explicit.fit(df)
    msg = str(refused.value)
    assert "level 95 need at least 19 calibration scores" in msg
    assert "the data give 5 (pooled over 1 series of at least" in msg
    assert "more history" in msg and "intervals='auto'" in msg and "intervals='model'" in msg
    with pytest.raises(InputError, match="level 95 need at least 19"):
        tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="calibrated")
    with pytest.raises(InputError, match="level 95 need at least 19"):
        tsf.backtest(df, ["naive"], horizon=3, levels=(95,), intervals="calibrated")
    # the level the scores can honour is calibrated
    only_80 = with_intervals(registry.build("naive", {}, horizon=3), "calibrated", (80,)).fit(df)
    assert only_80.n_scores_ == CALIBRATED_WINDOWS  # one series x 5 windows
    assert only_80.calibrated_levels_ == [80.0]


def test_a_pooled_window_counts_only_if_its_cutoff_has_seen_half_its_series() -> None:
    """5 windows of horizon 4 one horizon apart: a series of 40 has seen 20, 24, 28, 32 and 36
    values at its cutoffs (all count), one of 30 has seen 10, 14, 18, 22 and 26 (the last 3
    count: 15 or more)."""
    df = pd.concat(
        [iid_panel(4, 40), iid_panel(1, 30, seed=5).assign(unique_id="short")], ignore_index=True
    )
    model = with_intervals(registry.build("naive", {}, horizon=4), "calibrated", (80,)).fit(df)
    assert model.n_scores_ == 4 * 5 + 3
    # the same factor as the pool of the 4 long series and the 3 windows of the short one
    scores = []
    for _, part in df.groupby("unique_id"):
        y = part["y"].to_numpy()
        for k in range(5):
            cutoff = len(y) - 4 - (4 - k) * 4  # values seen
            if 2 * cutoff < len(y):
                continue
            # naive has no parameters: its forecast and interval come from the values seen
            fc = registry.build("naive", {}, horizon=4, levels=(80,)).fit(part.iloc[:cutoff])
            own = fc.predict(part.iloc[:cutoff])
            actual = y[cutoff : cutoff + 4]
            scores.append(
                width_scores(
                    actual,
                    own["y"].to_numpy(),
                    own["y_lo_80"].to_numpy(),
                    own["y_hi_80"].to_numpy(),
                )
            )
    pooled = np.sort(np.array(scores), axis=0)  # -> (23, 4)
    rank = math.ceil(24 * 0.8)  # of 23
    np.testing.assert_allclose(model.half_widths_[0, :, 0, 0], pooled[rank - 1])
    np.testing.assert_array_equal(model.half_widths_[-1], model.half_widths_[0])


# --------------------------------------------------------------------------- calibration
def test_calibrated_coverage_is_nominal_where_the_own_intervals_are_too_wide() -> None:
    """On i.i.d. data the naive model's random-walk intervals widen with the step although
    its error does not: its own intervals over-cover; calibrated ones are nominal."""
    df = iid_panel(300, 60, seed=1)
    kwargs = dict(horizon=4, levels=(80, 95), metrics=["mae"])
    own = tsf.backtest(df, ["naive"], **kwargs)  # intervals="model", the default
    own = own.metrics.set_index("metric")["value"]
    res = tsf.backtest(df, ["naive"], intervals="calibrated", **kwargs)
    calibrated = res.metrics.set_index("metric")["value"]
    assert res.settings["intervals"] == {"naive": "calibrated"}
    assert own["coverage_80"] > 0.86  # the test can see the difference
    # 1,200 test points: sd about 0.012 at 80 %, 0.006 at 95 %; 1,500 pooled scores per step
    assert abs(calibrated["coverage_80"] - 0.80) < 0.04
    assert abs(calibrated["coverage_95"] - 0.95) < 0.025


@settings(max_examples=5, deadline=None)
@given(
    factor=st.floats(min_value=-50, max_value=50).filter(lambda v: abs(v - 1) > 0.1),
    shift=st.floats(min_value=-1e3, max_value=1e3),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_calibration_never_sees_the_values_after_a_cutoff(
    factor: float, shift: float, seed: int
) -> None:
    """Whatever the values after a backtest cutoff, that fold's calibrated intervals are the
    same: calibration uses the fold's training part only."""
    df = iid_panel(4, 80, seed=seed)  # 4 series x 5 windows: 20 scores, enough for 95 %
    kwargs = dict(horizon=4, n_windows=2, step=4, levels=(80, 95), intervals="calibrated")
    first = tsf.backtest(df, ["theta"], **kwargs).forecasts
    cutoff = first["cutoff"].min()
    changed = df.copy()
    later = changed["ds"] > cutoff
    changed.loc[later, "y"] = changed.loc[later, "y"] * factor + shift
    second = tsf.backtest(changed, ["theta"], **kwargs).forecasts
    cols = ["y_hat", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]
    before = first[first["cutoff"] == cutoff][cols].to_numpy()
    after = second[second["cutoff"] == cutoff][cols].to_numpy()
    np.testing.assert_array_equal(before, after)


def test_new_series_take_the_pooled_factor() -> None:
    df = iid_panel(4, 60)
    model = with_intervals(registry.build("naive", {}, horizon=3), "calibrated", (80,))
    model.fit(df)
    fresh = iid_panel(1, 30, seed=7).assign(unique_id="new")
    out = model.predict(fresh)
    own = registry.build("naive", {}, horizon=3, levels=(80,)).fit(fresh).predict()
    factor = model.half_widths_[0, :, 0, 0]
    np.testing.assert_allclose(out["y_hi_80"] - out["y"], factor * (own["y_hi_80"] - own["y"]))


# --------------------------------------------------------------------------- the API
def test_model_intervals_stay_the_models_own() -> None:
    data = tsf.datasets.load("air_passengers")
    own = registry.build("theta", {}, horizon=6, levels=(80,), season_length=12)
    expected = own.fit(data.train).predict()
    fc = tsf.forecast(data.train, 6, "theta", levels=(80,), intervals="model")
    np.testing.assert_allclose(fc["y_hi_80"], expected["y_hi_80"])
    assert fc.attrs["settings"]["intervals"] == "model"


def test_forecast_reports_calibrated_intervals_in_attrs() -> None:
    df = iid_panel(4, 60)
    fc = tsf.forecast(df, 3, "naive", levels=(80,), intervals="calibrated")
    assert fc.attrs["settings"]["intervals"] == "calibrated"
    assert (fc["y_hi_80"] > fc["y_lo_80"]).all()


def test_forecast_reports_the_season_a_wrapped_model_used() -> None:
    data = tsf.datasets.load("air_passengers")
    for intervals in ("model", "calibrated", "conformal"):
        fc = tsf.forecast(data.train, 6, "theta", levels=(80,), intervals=intervals)
        assert fc.attrs["settings"]["season_length"] == 12, intervals


def test_forecast_names_an_estimator_object_by_its_class_under_any_intervals() -> None:
    df = iid_panel(6, 60)
    model = registry.build("naive", {}, horizon=3, levels=(80,))
    for intervals in ("model", "auto", "calibrated", "conformal"):
        fc = tsf.forecast(df, 3, model, levels=(80,), intervals=intervals)
        assert fc.attrs["settings"]["model"] == "NaiveForecaster", intervals


def test_bad_settings_are_refused_at_the_boundary() -> None:
    df = iid_panel(1, 40)
    with pytest.raises(InputError, match="did you mean 'calibrated'"):
        tsf.forecast(df, 3, "naive", levels=(80,), intervals="calibrate")
    with pytest.raises(InputError, match="needs `levels`"):
        tsf.forecast(df, 3, "naive", intervals="calibrated")
    with pytest.raises(InputError, match="`score` must be one of"):
        naive_width(3, n_windows=4).set_params(score="widths").fit(df)


def test_a_config_and_the_cli_take_calibrated(tmp_path) -> None:
    from tsforecast.cli.config import load_config
    from tsforecast.cli.main import main

    path = tmp_path / "c.toml"
    path.write_text(
        '[data]\ndataset = "air_passengers"\n[backtest]\nhorizon = 6\nlevels = [80]\n'
        'intervals = { theta = "calibrated" }\n[models.naive]\n[models.theta]\n',
        encoding="utf-8",
    )
    assert load_config(path).backtest.intervals == {"theta": "calibrated"}
    out = tmp_path / "fc.csv"
    args = ["forecast", "air_passengers", "-H", "3", "-m", "naive", "--levels", "80"]
    assert main([*args, "--intervals", "calibrated", "--out", str(out)]) == 0
    fc = pd.read_csv(out)
    assert (fc["y_hi_80"] > fc["y"]).all() and (fc["y_lo_80"] < fc["y"]).all()


def test_save_and_load_keep_calibrated_intervals(tmp_path) -> None:
    df = iid_panel(4, 60)
    model = with_intervals(
        registry.build("theta", {}, horizon=4, season_length=1), "calibrated", (80,)
    ).fit(df)
    model.save(tmp_path / "m")
    loaded = tsf.models.load(tmp_path / "m")
    assert isinstance(loaded, ConformalForecaster) and loaded.score == "width"
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


# --------------------------------------------------------------------------- intervals="auto"
def test_auto_calibrates_the_measured_models_of_a_panel() -> None:
    df = iid_panel(6, 60)
    auto = tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="auto")
    calibrated = tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="calibrated")
    own = tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="model")
    assert auto.attrs["settings"]["intervals"] == "calibrated"
    pd.testing.assert_frame_equal(auto, calibrated, check_like=True)
    assert not np.allclose(auto["y_hi_80"], own["y_hi_80"])
    lstm = ("lstm", {"max_steps": 1, "input_size": 8, "hidden_size": 4})
    res = tsf.backtest(df, ["naive", lstm], horizon=3, levels=(80,), intervals="auto")
    assert res.settings["intervals"] == {"naive": "calibrated", "lstm": "model"}


def seasonal_hourly_panel(n_series: int, length: int, seed: int = 0) -> pd.DataFrame:
    """A daily cycle in hourly data plus normal noise."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(n_series)], length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="h"), n_series),
            "y": np.tile(10 * np.sin(2 * np.pi * np.arange(length) / 24), n_series)
            + rng.normal(size=n_series * length),
        }
    )


def test_a_calibrator_built_by_the_user_is_labelled_by_its_own_settings() -> None:
    """A ConformalForecaster given as a model keeps its settings under intervals="model" or
    "auto", and the backtest says what they make ("calibrated" for score="width")."""
    df = seasonal_hourly_panel(6, 400)
    base = registry.build("seasonal_naive", {}, horizon=24, levels=(80, 95))
    settings = {"levels": (80, 95), "n_windows": 5, "step": 24, "pool_series": True}
    calibrator = ConformalForecaster(base, score="width", fallback=True, **settings)
    assert calibrator.clone().fit(df).calibrated_levels_ == [80, 95]
    conformal = ConformalForecaster(base, **settings)
    for intervals in ("model", "auto"):
        res = tsf.backtest(
            df, [calibrator, conformal], horizon=24, levels=(80, 95), intervals=intervals
        )
        assert res.settings["intervals"] == {
            "seasonal_naive_calibrated": "calibrated",
            "seasonal_naive_conformal": "conformal",
        }


def test_a_backtest_reports_the_models_own_where_no_fold_could_calibrate() -> None:
    df = iid_panel(8, 40)  # fewer than 10 horizons of 12: no series calibrates
    res = tsf.backtest(df, ["naive"], horizon=12, levels=(80,), intervals="auto")
    own = tsf.backtest(df, ["naive"], horizon=12, levels=(80,), intervals="model")
    assert res.settings["intervals"] == {"naive": "model"}
    pd.testing.assert_frame_equal(res.forecasts_pd, own.forecasts_pd)
    res = tsf.backtest(iid_panel(8, 200), ["naive"], horizon=12, levels=(80,), intervals="auto")
    assert res.settings["intervals"] == {"naive": "calibrated"}


def test_auto_keeps_the_models_own_where_too_few_windows_exist() -> None:
    """One series gives 5 scores: enough for 80 % (needs 4), too few for 95 % (needs 19): 80 %
    is calibrated, 95 % keeps the model's own interval (stretched by the 80 % factor where it
    widens: see below), and no warning is raised."""
    import warnings

    df = iid_panel(1, 60)
    own = tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="model")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = tsf.forecast(df, 3, "naive", levels=(80, 95), intervals="auto")
    assert auto.attrs["settings"]["intervals"] == "calibrated"
    assert auto.attrs["settings"]["calibrated_levels"] == [80]  # 95 % keeps its own
    point = own["y"].to_numpy()
    factor_80 = (auto["y_hi_80"].to_numpy() - point) / (own["y_hi_80"].to_numpy() - point)
    own_95 = own["y_hi_95"].to_numpy() - point
    np.testing.assert_allclose(auto["y_hi_95"] - point, np.maximum(factor_80, 1.0) * own_95)
    assert not np.allclose(auto["y_hi_80"], own["y_hi_80"])
    short = iid_panel(1, 12)  # no calibration window at all: the model's own intervals
    fc = tsf.forecast(short, 3, "naive", levels=(80,), intervals="auto")
    assert fc.attrs["settings"]["intervals"] == "model"
    expected = tsf.forecast(short, 3, "naive", levels=(80,), intervals="model")
    np.testing.assert_allclose(fc["y_hi_80"], expected["y_hi_80"])


def test_a_level_too_high_to_calibrate_takes_the_widening_of_the_level_below() -> None:
    """theta's own intervals are too narrow on AirPassengers: its 80 % is calibrated wider,
    from 5 scores, past its own 95 %. The 95 % level (19 scores needed) keeps its own interval
    stretched by the 80 % factor, so it stays wider than the 80 % one instead of being
    widened onto it (an 80 % interval labelled 95 %)."""
    one = tsf.datasets.load("air_passengers").train
    auto = tsf.forecast(one, 12, "theta", levels=(80, 95), intervals="auto", progress=False)
    own = tsf.forecast(one, 12, "theta", levels=(80, 95), progress=False)
    point = own["y"].to_numpy()
    above = (auto["y_hi_80"].to_numpy() - point) / (own["y_hi_80"].to_numpy() - point)
    below = (point - auto["y_lo_80"].to_numpy()) / (point - own["y_lo_80"].to_numpy())
    assert (above > 1).any()  # the case: the own 80 % is widened
    expected_hi = point + np.maximum(above, 1.0) * (own["y_hi_95"].to_numpy() - point)
    expected_lo = point - np.maximum(below, 1.0) * (point - own["y_lo_95"].to_numpy())
    np.testing.assert_allclose(auto["y_hi_95"], expected_hi, rtol=1e-9)
    np.testing.assert_allclose(auto["y_lo_95"], expected_lo, rtol=1e-9)
    assert (auto["y_hi_95"] > auto["y_hi_80"]).all() and (auto["y_lo_95"] < auto["y_lo_80"]).all()


def test_auto_without_levels_gives_point_forecasts() -> None:
    fc = tsf.forecast(iid_panel(2, 40), 3, "theta", intervals="auto")
    assert list(fc.columns) == ["unique_id", "ds", "y"]


def test_a_higher_level_interval_contains_the_lower_ones() -> None:
    """80 % calibrated from 5 scores (the largest) and 95 % kept at the model's own could cross;
    the 95 % interval is widened to contain the 80 % one."""
    df = iid_panel(1, 60, seed=2)
    fc = tsf.forecast(df, 4, "naive", levels=(80, 95), intervals="auto")
    assert (fc["y_lo_95"] <= fc["y_lo_80"]).all() and (fc["y_hi_95"] >= fc["y_hi_80"]).all()
