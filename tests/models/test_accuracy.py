"""Accuracy floors on real data (slow: run with `-m slow`)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsforecast.models as tm
from tsforecast import datasets


@pytest.mark.slow
def test_lstm_beats_seasonal_naive_on_m4_hourly_subset() -> None:
    torch.set_num_threads(1)
    data = datasets.load("m4_hourly")
    ids = sorted(data.train["unique_id"].unique(), key=lambda s: int(s[1:]))[:60]
    train = data.train[data.train["unique_id"].isin(ids)]
    test = data.test[data.test["unique_id"].isin(ids)]
    model = tm.LSTMForecaster(horizon=48, max_steps=300, progress=False).fit(train)
    fc = model.predict().merge(test, on=["unique_id", "ds"], suffixes=("_hat", ""))
    assert len(fc) == 48 * len(ids)
    model_err, snaive_err = [], []
    for uid, g in fc.groupby("unique_id"):
        y_train = train.loc[train["unique_id"] == uid, "y"].to_numpy()
        scale = np.mean(np.abs(y_train[24:] - y_train[:-24]))
        snaive = np.tile(y_train[-24:], 2)
        model_err.append(np.mean(np.abs(g["y"].to_numpy() - g["y_hat"].to_numpy())) / scale)
        snaive_err.append(np.mean(np.abs(g["y"].to_numpy() - snaive)) / scale)
    assert np.mean(model_err) < np.mean(snaive_err)
