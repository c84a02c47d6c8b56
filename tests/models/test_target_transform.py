"""`target_transform="log"`: the neural forecasters learn and forecast the log of the targets.

The forecast is the exp of what the same network forecasts from the logged frame (point and
every interval bound), positive, in the data's units through every entry point, with no
look-ahead; values the log cannot take are refused where the frame comes in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.errors import InputError

TINY = {
    "input_size": 12,
    "hidden_size": 8,
    "head_hidden_size": 8,
    "max_steps": 8,
    "batch_size": 16,
}
LOG_TINY = {**TINY, "target_transform": "log"}
SHARED = {"levels": (80, 95), "seed": 3, "progress": False}
COLUMNS = ["y", "y_lo_80", "y_hi_80", "y_lo_95", "y_hi_95"]


def _positive_frame(n_series: int = 3, length: int = 60, seed: int = 0) -> pd.DataFrame:
    """Multiplicative daily seasonality on levels from 5 to 5,000: strictly positive."""
    rng = np.random.default_rng(seed)
    seasonal = 0.4 * np.sin(2 * np.pi * np.arange(length) / 24)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{s}",
                "ds": pd.date_range("2024-01-01", periods=length, freq="h"),
                "y": 5 * 10.0**s * np.exp(seasonal + rng.normal(0, 0.05, length)),
            }
        )
        for s in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("name", ["lstm", "bilstm", "seq2seq"])
def test_log_forecast_is_the_exp_of_the_forecast_of_the_logged_frame(name: str) -> None:
    df = _positive_frame()
    logged = df.assign(y=np.log(df["y"]))
    on_log = tsf.models.build(name, LOG_TINY, horizon=6, **SHARED).fit(df)
    on_logged = tsf.models.build(name, TINY, horizon=6, **SHARED).fit(logged)
    fc, reference = on_log.predict(), on_logged.predict()
    for column in COLUMNS:
        np.testing.assert_allclose(fc[column], np.exp(reference[column]), rtol=1e-5)
    cutoffs = pd.to_datetime(["2024-01-02 12:00", "2024-01-03 00:00"])
    np.testing.assert_allclose(
        on_log.predict_cutoffs(df, cutoffs)["y_hi_95"],
        np.exp(on_logged.predict_cutoffs(logged, cutoffs)["y_hi_95"]),
        rtol=1e-5,
    )


def test_log_forecasts_are_positive_with_ordered_intervals() -> None:
    df = _positive_frame()
    # falling towards zero: on raw values the extrapolation would cross it
    df["y"] = df["y"] * np.exp(-0.08 * df.groupby("unique_id").cumcount())
    fc = tsf.forecast(df, 12, model="lstm", target_transform="log", **TINY, **SHARED)
    assert (fc[COLUMNS].to_numpy() > 0).all()
    assert (fc["y_lo_95"] <= fc["y_lo_80"]).all() and (fc["y_lo_80"] <= fc["y"]).all()
    assert (fc["y"] <= fc["y_hi_80"]).all() and (fc["y_hi_80"] <= fc["y_hi_95"]).all()


@pytest.mark.parametrize("factor", [1e-6, 1e9])
def test_log_forecast_of_a_rescaled_series_is_the_rescaled_forecast(factor: float) -> None:
    # log(c y) = log c + log y, which the per-series scaler takes out
    df = _positive_frame()
    base = tsf.forecast(df, 6, model="lstm", target_transform="log", **TINY, **SHARED)
    scaled = tsf.forecast(
        df.assign(y=df["y"] * factor), 6, model="lstm", target_transform="log", **TINY, **SHARED
    )
    for column in COLUMNS:
        np.testing.assert_allclose(scaled[column] / factor, base[column], rtol=1e-4)


def test_log_forecasts_ignore_everything_after_the_training_end_and_cutoffs() -> None:
    df = _positive_frame(length=80)
    train_end = pd.Timestamp("2024-01-03 08:00")
    cutoff = train_end + pd.Timedelta(hours=6)
    rng = np.random.default_rng(1)

    def scrambled_after(moment: pd.Timestamp) -> pd.DataFrame:
        out = df.copy()
        after = out["ds"] > moment
        out.loc[after, "y"] = rng.lognormal(8, 3, int(after.sum()))  # wild, still positive
        return out

    def run(frame: pd.DataFrame) -> list[pd.DataFrame]:
        model = tsf.models.build("lstm", LOG_TINY, horizon=4, **SHARED)
        model.fit(frame[frame["ds"] <= train_end])
        return [model.predict(), model.predict(frame[frame["ds"] <= cutoff])]

    base = run(df)
    for a, b in zip(base, run(scrambled_after(cutoff)), strict=True):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(base[0], run(scrambled_after(train_end))[0])


def test_a_saved_log_model_forecasts_the_same_after_load(tmp_path) -> None:
    df = _positive_frame()
    model = tsf.models.build("lstm", LOG_TINY, horizon=6, **SHARED).fit(df)
    model.save(tmp_path / "m")
    loaded = tsf.models.load(tmp_path / "m")
    assert loaded.get_params()["target_transform"] == "log"
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))


@pytest.mark.parametrize("bad", [0.0, -2.5])
def test_a_value_the_log_cannot_take_is_refused_with_where_it_is(bad: float) -> None:
    df = _positive_frame()
    broken = df.copy()
    broken.loc[(broken["unique_id"] == "s1") & (broken["ds"] == "2024-01-02 03:00"), "y"] = bad
    model = tsf.models.build("lstm", LOG_TINY, horizon=6, **SHARED)
    with pytest.raises(InputError, match=r"in `df`.*> 0.*'s1' at 2024-01-02 03:00"):
        model.fit(broken)
    model.fit(df)
    with pytest.raises(InputError, match=r"in `history_df`.*> 0.*'s1'"):
        model.predict(broken)
    with pytest.raises(InputError, match=r"in `df`.*> 0.*target_transform='none'"):
        model.predict_cutoffs(broken, pd.to_datetime(["2024-01-02 05:00"]))  # it reads 03:00
    # a cutoff before the value never reads it (in a backtest, it is the truth being scored)
    before = pd.to_datetime(["2024-01-02 00:00"])
    pd.testing.assert_frame_equal(
        model.predict_cutoffs(broken, before), model.predict_cutoffs(df, before)
    )


def test_an_unknown_transform_is_refused_before_any_data_is_read() -> None:
    with pytest.raises(InputError, match=r"`target_transform` must be one of \['none', 'log'\]"):
        tsf.models.build("lstm", {"target_transform": "sqrt"}, horizon=3)
