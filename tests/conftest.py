"""Shared test set-up: hypothesis profiles and small frames."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
import torch

try:
    from hypothesis import HealthCheck, settings
except ModuleNotFoundError:
    # The GPU image has torch, pandas and statsmodels only: its tests (tests/models/test_gpu.py)
    # use no hypothesis, and the property tests are not collected there.
    pass
else:
    # "default" keeps the suite fast on two cores; "thorough" is for a deeper local run:
    # HYPOTHESIS_PROFILE=thorough python -m pytest
    settings.register_profile(
        "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile("thorough", max_examples=500, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The test models are tiny: one intra-op thread is as fast, and it never stalls waiting for a
# second thread that another process holds (a packed-LSTM step measured 1.08 s with two threads
# on a busy two-core machine against 0.024 s with one).
torch.set_num_threads(1)


def make_long_frame(
    lengths: dict[str, int], n_covariates: int = 0, datetime: bool = True, seed: int = 0
) -> pd.DataFrame:
    """A long frame with one series per entry of `lengths` (hourly or integer time)."""
    rng = np.random.default_rng(seed)
    frames = []
    for series_id, n in lengths.items():
        ds = (
            pd.date_range("2024-01-01", periods=n, freq="h")
            if datetime
            else np.arange(1, n + 1, dtype=np.int64)
        )
        frame = pd.DataFrame({"unique_id": series_id, "ds": ds, "y": rng.normal(size=n).cumsum()})
        for k in range(n_covariates):
            frame[f"x{k}"] = rng.normal(size=n)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def small_frame() -> pd.DataFrame:
    return make_long_frame({"a": 30, "b": 24, "c": 40}, n_covariates=1)
