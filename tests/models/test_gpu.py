"""CPU and GPU agree (run wherever CUDA is available; skipped elsewhere)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import tsforecast.models as tm
from tests.conftest import make_long_frame

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

PARAMS = {
    "input_size": 24,
    "hidden_size": 16,
    "num_layers": 2,
    "max_steps": 40,
    "batch_size": 32,
    "levels": (80,),
    "calendar": True,
    "progress": False,
}


@pytest.mark.parametrize("name", tm.names())
def test_cpu_and_gpu_forecasts_agree(name: str, tmp_path: Path) -> None:
    df = make_long_frame({"a": 120, "b": 90, "c": 150}, n_covariates=1)
    # The same weights predict the same on both devices (fp32 inference).
    cpu_model = tm.build(name, horizon=6, device="cpu", **PARAMS).fit(df)
    cpu_model.save(tmp_path / "m")
    gpu_model = tm.load(tmp_path / "m", device="cuda")
    assert gpu_model.device_.type == "cuda"
    cols = ["y", "y_lo_80", "y_hi_80"]
    np.testing.assert_allclose(
        gpu_model.predict()[cols].to_numpy(),
        cpu_model.predict()[cols].to_numpy(),
        rtol=1e-4,
        atol=1e-4,
    )
    # Training on the GPU (bf16 autocast) gives finite forecasts that the CPU reproduces.
    trained = tm.build(name, horizon=6, device="cuda", **PARAMS).fit(df)
    fc = trained.predict()
    assert np.isfinite(fc[cols].to_numpy()).all()
    trained.save(tmp_path / "g")
    on_cpu = tm.load(tmp_path / "g", device="cpu").predict()
    np.testing.assert_allclose(on_cpu[cols].to_numpy(), fc[cols].to_numpy(), rtol=1e-4, atol=1e-4)
    pd.testing.assert_frame_equal(on_cpu[["unique_id", "ds"]], fc[["unique_id", "ds"]])
