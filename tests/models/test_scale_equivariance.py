"""A neural forecast is in the data's units: scaling a series scales its forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf


def _frame(factor: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(40)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"s{s}",
                "ds": pd.date_range("2020-01-01", periods=40, freq="D"),
                "y": factor * (10 + np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, 40)),
            }
        )
        for s in range(3)
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("factor", [1e-9, 1e20])
@pytest.mark.parametrize("model", ["lstm", "seq2seq"])
def test_forecast_of_a_rescaled_series_is_the_rescaled_forecast(model, factor) -> None:
    # per-series scaling makes the network see the same inputs whatever the units; before, a
    # series of 1e-9s was forecast at ~1e-4 (an absolute "constant" floor) and one of 1e20s
    # at +-inf (its variance overflowed float32)
    params = {"max_steps": 3, "hidden_size": 8, "levels": (80,), "progress": False}
    base = tsf.forecast(_frame(1.0), 4, model=model, **params)
    scaled = tsf.forecast(_frame(factor), 4, model=model, **params)
    for column in ("y", "y_lo_80", "y_hi_80"):
        np.testing.assert_allclose(scaled[column] / factor, base[column], rtol=1e-4)
