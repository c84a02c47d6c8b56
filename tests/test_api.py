"""`tsf.forecast()`: the input's type and schema out, every model name, auto selection, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame
from tsforecast.errors import InputError


@pytest.fixture(scope="module")
def air() -> pd.DataFrame:
    data = tsf.datasets.load("air_passengers")
    return data.train


def test_pandas_in_pandas_out_with_the_input_schema_and_intervals(air) -> None:
    fc = tsf.forecast(air, horizon=12, model="seasonal_naive", levels=(80, 95))
    assert isinstance(fc, pd.DataFrame)
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]
    assert list(fc.ds) == list(pd.date_range("1960-01-01", periods=12, freq="MS"))
    # seasonal naive repeats the last season
    np.testing.assert_allclose(fc.y.to_numpy(), air.y.to_numpy()[-12:])
    assert (fc.y_lo_95 <= fc.y_lo_80).all() and (fc.y_lo_80 <= fc.y).all()
    assert (fc.y <= fc.y_hi_80).all() and (fc.y_hi_80 <= fc.y_hi_95).all()


def test_polars_in_polars_out_with_the_same_numbers(air) -> None:
    from_pandas = tsf.forecast(air, horizon=6, model="theta")
    from_polars = tsf.forecast(pl.from_pandas(air), horizon=6, model="theta")
    assert isinstance(from_polars, pl.DataFrame)
    np.testing.assert_allclose(from_polars["y"].to_numpy(), from_pandas.y.to_numpy())


def test_integer_time_and_several_series_and_custom_names() -> None:
    frame = make_long_frame({"a": 60, "b": 50}, datetime=False).rename(
        columns={"unique_id": "store", "ds": "t", "y": "sales"}
    )
    fc = tsf.forecast(
        frame, horizon=5, model="naive", id_col="store", time_col="t", target_col="sales"
    )
    assert list(fc.columns) == ["store", "t", "sales"]
    assert fc.groupby("store").t.apply(list).to_dict() == {
        "a": [61, 62, 63, 64, 65],
        "b": [51, 52, 53, 54, 55],
    }
    last = frame.groupby("store").sales.last()
    assert (fc.groupby("store").sales.first() == last).all()


def test_multivariate_targets_each_get_their_columns() -> None:
    frame = make_long_frame({"a": 40})
    frame["z"] = frame["y"] * 3 + 1
    fc = tsf.forecast(frame, horizon=4, model="drift", target_col=["y", "z"], levels=(80,))
    assert {"y", "z", "y_lo_80", "z_hi_80"} <= set(fc.columns)


def test_auto_measures_the_candidates_and_records_its_choice(air) -> None:
    fc = tsf.forecast(
        air, horizon=12, candidates=["naive", "seasonal_naive", "drift"], levels=(80,)
    )
    selection = fc.attrs["auto_selection"]
    assert set(selection.inner_mase) >= {"naive", "seasonal_naive", "drift"}
    assert selection.chosen  # one model or a median of the best few
    best_single = min(("naive", "seasonal_naive", "drift"), key=selection.inner_mase.get)
    assert selection.chosen[0] == best_single
    assert list(fc.columns) == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80"]
    assert np.isfinite(fc.y).all()


def test_auto_on_series_too_short_to_measure_falls_back_to_a_simple_model() -> None:
    frame = make_long_frame({"a": 8})
    fc = tsf.forecast(frame, horizon=6)
    assert fc.attrs["auto_selection"].chosen == ["seasonal_naive"]


def test_a_forecast_with_its_attrs_writes_to_parquet_and_reads_back(tmp_path) -> None:
    # pandas writes `attrs` into the file with a bare json.dumps: an auto selection and a
    # fallback's time stamp made `fc.to_parquet` raise TypeError after the forecast was made
    frame = make_long_frame({"a": 80, "b": 80})
    frame.loc[frame["unique_id"] == "b", "y"] = 2.0  # constant: falls back
    with pytest.warns(UserWarning, match="fell back"):
        fc = tsf.forecast(frame, horizon=3, candidates=["ets", "naive"], season_length=4)
    assert fc.attrs["auto_selection"].chosen == fc.attrs["auto_selection"]["chosen"]
    fc.to_parquet(tmp_path / "fc.parquet")
    back = pd.read_parquet(tmp_path / "fc.parquet")
    pd.testing.assert_frame_equal(back, fc, check_dtype=False)
    assert back.attrs == fc.attrs
    assert back.attrs["auto_selection"]["chosen"] == fc.attrs["auto_selection"].chosen
    assert all(isinstance(f["cutoff"], str) for f in back.attrs["failures"])


def test_an_auto_selection_in_attrs_names_its_keys_when_one_is_missing(air) -> None:
    fc = tsf.forecast(air, horizon=3, candidates=["naive", "drift"])
    with pytest.raises(AttributeError, match="'chosen'"):
        fc.attrs["auto_selection"].chosn  # noqa: B018


def test_neural_model_by_name(air) -> None:
    fc = tsf.forecast(air, horizon=6, model="lstm", max_steps=5, progress=False, device="cpu")
    assert list(fc.columns) == ["unique_id", "ds", "y"]
    assert len(fc) == 6 and np.isfinite(fc.y).all()


def test_an_estimator_object_is_fitted_and_used(air) -> None:
    class LastValue:
        def fit(self, df):
            self.df_ = df
            return self

        def predict(self):
            last = self.df_.iloc[-1]
            ds = pd.date_range(last.ds, periods=3, freq="MS")[1:]
            return pd.DataFrame({"unique_id": last.unique_id, "ds": ds, "y": last.y})

    fc = tsf.forecast(air, horizon=2, model=LastValue())
    assert fc.y.tolist() == [air.y.iloc[-1]] * 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, r"`horizon` must be a positive integer, got 0"),
        ({"horizon": 3, "model": "prophet"}, r"unknown model 'prophet'; choose one of"),
        ({"horizon": 3, "levels": (80, 120)}, r"every level must lie strictly between 0 and 100"),
        ({"horizon": 3, "levels": (80, 80.0)}, r"`levels` has duplicates"),
        ({"horizon": 3, "model": "ets", "hidden_size": 3}, r"'ets' has no parameter 'hidden_size'"),
        ({"horizon": 3, "candidates": ["nope"]}, r"`candidates` must name models of"),
        ({"horizon": 3, "time_budget_s": -1}, r"`time_budget_s` must be a positive number"),
        ({"horizon": 3, "model": object()}, r"an object with `fit\(df\)` and `predict\(\)`"),
    ],
)
def test_bad_arguments_are_refused_before_any_work(air, kwargs, match) -> None:
    with pytest.raises(InputError, match=match):
        tsf.forecast(air, **kwargs)


def test_bad_frame_is_refused_at_the_boundary(air) -> None:
    with pytest.raises(InputError, match=r"column 'ds' is missing"):
        tsf.forecast(air.rename(columns={"ds": "month"}), horizon=3, model="naive")


def test_fill_reaches_every_model(air) -> None:
    gap = air.drop(index=[100])  # one missing month
    for model in ("naive", "lstm"):
        fc = (
            tsf.forecast(gap, 3, model=model, fill="ffill", max_steps=3, progress=False)
            if (model == "lstm")
            else tsf.forecast(gap, 3, model=model, fill="ffill")
        )
        assert len(fc) == 3 and np.isfinite(fc.y).all()


def test_unknown_neural_parameter_is_an_input_error(air) -> None:
    with pytest.raises(InputError, match=r"model 'lstm' has no parameter 'foo'"):
        tsf.forecast(air, 3, model="lstm", foo=1)


def test_numpy_levels_are_accepted(air) -> None:
    fc = tsf.forecast(air, 2, model="naive", levels=np.array([80]))
    assert {"y_lo_80", "y_hi_80"} <= set(fc.columns)


def _two_targets() -> pd.DataFrame:
    t = np.arange(60)
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": t,
            "y": 100 + 10 * np.sin(2 * np.pi * t / 5),
            "z": 1e-3 + 1e-5 * t,
        }
    )


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("target_col", ["y", "z"]),  # was: y alone forecast, z taken as a covariate
        ("season_length", 7),  # was: the object's season (None -> naive) used
        ("seed", 5),
        ("id_col", "series"),
        ("fill", "ffill"),
        ("time_budget_s", 10.0),
    ],
)
def test_a_call_setting_the_estimator_object_does_not_hold_is_refused(setting, value) -> None:
    estimator = tsf.models.build("seasonal_naive", {}, horizon=3)
    with pytest.raises(InputError, match=rf"`{setting}=.*estimator object.*set_params"):
        tsf.forecast(_two_targets(), 3, model=estimator, **{setting: value})


def test_a_call_setting_the_estimator_object_holds_is_accepted() -> None:
    df = _two_targets()[["unique_id", "ds", "z"]]
    estimator = tsf.models.build("naive", {}, horizon=3, target_col="z", season_length=5)
    fc = tsf.forecast(df, 3, model=estimator, target_col="z", season_length=5, progress=False)
    np.testing.assert_allclose(fc["z"], df["z"].iloc[-1])


def test_n_windows_is_refused_for_a_model_other_than_auto() -> None:
    with pytest.raises(InputError, match=r"`n_windows`.*model='auto'"):
        tsf.forecast(_two_targets()[["unique_id", "ds", "y"]], 3, model="theta", n_windows=5)


def test_call_settings_are_checked_against_the_model_inside_a_conformal_wrapper() -> None:
    df = _two_targets()[["unique_id", "ds", "z"]]
    estimator = tsf.models.build("naive", {}, horizon=3, target_col="z")
    fc = tsf.forecast(df, 3, model=estimator, target_col="z", intervals="conformal", levels=(80,))
    assert {"z", "z_lo_80", "z_hi_80"} <= set(fc.columns)
    with pytest.raises(InputError, match="`season_length=3`"):
        tsf.forecast(df, 3, model=estimator, season_length=3, intervals="conformal", levels=(80,))


@pytest.mark.parametrize("model", ["theta", "auto"])
def test_attrs_record_the_season_the_model_used(model: str, air) -> None:
    inferred = tsf.forecast(air, 3, model=model, progress=False)
    assert inferred.attrs["settings"]["season_length"] == 12  # monthly: inferred
    given = tsf.forecast(air, 3, model=model, season_length=4, progress=False)
    assert given.attrs["settings"]["season_length"] == 4


def test_a_metric_named_twice_is_refused() -> None:
    with pytest.raises(InputError, match=r"names \['mae'\] more than once"):
        tsf.backtest(make_long_frame({"a": 40}), ["naive"], horizon=3, metrics=["mae", "mae"])


def test_a_target_named_twice_is_refused_as_the_argument_not_the_frame() -> None:
    frame = make_long_frame({"a": 30})
    with pytest.raises(InputError) as info:
        tsf.forecast(frame, 3, model="naive", target_col=["y", "y"])
    message = str(info.value)
    assert "`target_col` names column 'y' twice; name each column once." in message
    assert "duplicated column names" not in message
