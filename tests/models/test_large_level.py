"""A neural forecast keeps a series' movement at any level: shifting a series (and its
covariates) by a constant shifts the forecast by that constant.

Float32 resolves 64 at 1e9: a series of 1e9 + sin(t) stored and scaled in float32 was forecast
flat at 1e9 with a zero-width interval (tour finding 3). The scalers and the scaling run in
float64 from the exact inputs, so the network sees the same scaled values at any level.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast.models as tm

LEVEL = 1e9
TINY = {
    "input_size": 12,
    "hidden_size": 8,
    "max_steps": 3,
    "batch_size": 16,
    "levels": (80,),
    "progress": False,
}
HORIZON = 4


def _frame(level: float) -> pd.DataFrame:
    """Two daily series moving by about 1, with a past and a known-future covariate, all at
    `level`."""
    rng = np.random.default_rng(0)
    frames = []
    for s, n in (("a", 60), ("b", 48)):
        t = np.arange(n)
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": s,
                    "ds": pd.date_range("2020-01-01", periods=n, freq="D"),
                    "y": level + 10 + np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.1, n),
                    "past": level + rng.normal(0, 1, n),
                    "known": level + np.cos(t),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _future(df: pd.DataFrame, level: float) -> pd.DataFrame:
    last = df.groupby("unique_id")["ds"].max()
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": k,
                    "ds": pd.date_range(v + pd.Timedelta(days=1), periods=HORIZON, freq="D"),
                    "known": level + np.linspace(-1, 1, HORIZON),
                }
            )
            for k, v in last.items()
        ],
        ignore_index=True,
    )


def _columns(fc: pd.DataFrame) -> list[str]:
    return ["y", "y_lo_80", "y_hi_80"]


@pytest.mark.parametrize("name", ["lstm", "bilstm", "seq2seq"])
def test_a_forecast_at_a_level_of_1e9_is_the_forecast_at_0_shifted(name: str) -> None:
    fits = {}
    for level in (0.0, LEVEL):
        df = _frame(level)
        model = tm.build(name, horizon=HORIZON, seed=0, **TINY)
        fits[level] = model.fit(df, future_df=_future(df, level))
    base, high = (fits[level].predict() for level in (0.0, LEVEL))
    for column in _columns(base):
        # the movement is kept: the forecast at 1e9 is the one at 0 plus 1e9, to well under
        # float32's resolution of 64 there (float64 rounds 1e9 + x to about 1e-7)
        np.testing.assert_allclose(high[column] - LEVEL, base[column], atol=1e-4)
    assert (high["y_hi_80"] - high["y_lo_80"]).min() > 0.01  # the interval has a width


@pytest.mark.parametrize("name", ["lstm", "seq2seq"])
def test_forecasts_from_cutoffs_at_a_level_of_1e9_are_those_at_0_shifted(name: str) -> None:
    frames = {level: _frame(level) for level in (0.0, LEVEL)}
    cutoffs = sorted(frames[0.0]["ds"].unique())[-12::4]
    out = {}
    for level, df in frames.items():
        model = tm.build(name, horizon=HORIZON, seed=0, **TINY).fit(
            df, future_df=_future(df, level)
        )
        out[level] = model.predict_cutoffs(df, cutoffs, future_df=_future(df, level))
    base, high = out[0.0], out[LEVEL]
    assert len(base) == len(high) > 0
    for column in _columns(base):
        np.testing.assert_allclose(high[column] - LEVEL, base[column], atol=1e-4)
    assert (high["y_hi_80"] - high["y_lo_80"]).min() > 0.01


def test_a_saved_model_at_a_level_of_1e9_forecasts_the_same_after_loading(tmp_path) -> None:
    df = _frame(LEVEL)
    model = tm.build("lstm", horizon=HORIZON, seed=0, **TINY).fit(df)
    model.save(tmp_path / "m")
    loaded = tm.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())
    assert model.predict()["y"].std() > 0.01  # not flat
