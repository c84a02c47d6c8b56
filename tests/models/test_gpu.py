"""CPU and GPU agree, and the GPU paths keep fp32 numerics (run where CUDA is; skipped elsewhere).

`python -m pytest -m gpu tests/models/test_gpu.py`. Imports only what the GPU image has (torch,
numpy, pandas, pytest and the package's own dependencies; no polars, plotly or hypothesis).

TF32: on CUDA, cuDNN runs fp32 LSTMs in TF32 by default (10 mantissa bits, about 1e-3 of the
scale after a few layers). The strict comparisons turn TF32 off (`strict_fp32`) and allow 1e-4 of
the forecasts' scale; the comparison under the default settings allows 5e-3.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import tsforecast.models as tm
from tests.conftest import make_long_frame
from tests.nn.reference import per_step_seq2seq
from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.nn.lstm import LSTMNet, LSTMNetConfig
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig
from tsforecast.sequences import epoch_batches
from tsforecast.training.losses import classification_loss, pinball_loss
from tsforecast.training.precision import precision_context

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

CUDA = torch.device("cuda")
NEURAL = [name for name in tm.names() if tm.spec(name).kind == "neural"]
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
COLS = ["y", "y_lo_80", "y_hi_80"]


@pytest.fixture
def strict_fp32() -> Iterator[None]:
    """fp32 matmuls and LSTMs in full fp32 (no TF32) for the duration of a test."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def _frame() -> pd.DataFrame:
    return make_long_frame({"a": 120, "b": 90, "c": 150}, n_covariates=1)


def _assert_forecasts_close(got: pd.DataFrame, expected: pd.DataFrame, of_scale: float) -> None:
    pd.testing.assert_frame_equal(got[["unique_id", "ds"]], expected[["unique_id", "ds"]])
    scale = float(np.abs(expected[COLS].to_numpy()).max())
    np.testing.assert_allclose(
        got[COLS].to_numpy(), expected[COLS].to_numpy(), rtol=0, atol=of_scale * scale
    )


@pytest.mark.parametrize("name", NEURAL)
def test_the_same_weights_forecast_the_same_on_cpu_and_gpu(
    name: str, tmp_path: Path, strict_fp32: None
) -> None:
    cpu_model = tm.build(name, horizon=6, device="cpu", **PARAMS).fit(_frame())
    cpu_model.save(tmp_path / "m")
    gpu_model = tm.load(tmp_path / "m", device="cuda")
    assert gpu_model.device_.type == "cuda"
    _assert_forecasts_close(gpu_model.predict(), cpu_model.predict(), of_scale=1e-4)
    # Under the default settings (TF32 in cuDNN) the agreement is that of TF32.
    torch.backends.cudnn.allow_tf32 = True
    _assert_forecasts_close(gpu_model.predict(), cpu_model.predict(), of_scale=5e-3)


@pytest.mark.parametrize("name", NEURAL)
def test_a_model_trained_on_the_gpu_forecasts_the_same_on_the_cpu(
    name: str, tmp_path: Path, strict_fp32: None
) -> None:
    trained = tm.build(name, horizon=6, device="cuda", **PARAMS).fit(_frame())  # bf16 autocast
    fc = trained.predict()
    assert np.isfinite(fc[COLS].to_numpy()).all()
    trained.save(tmp_path / "g")
    _assert_forecasts_close(tm.load(tmp_path / "g", device="cpu").predict(), fc, of_scale=1e-4)


def _lstm_gradients(net: nn.Module, precision: str) -> dict[str, torch.Tensor]:
    g = torch.Generator(device=CUDA).manual_seed(0)
    past = torch.randn(1024, 96, 1, device=CUDA, generator=g).cumsum(1) * 0.1  # -> (B, L, 1)
    future = past[:, -48:] + 0.1 * torch.randn(1024, 48, 1, device=CUDA, generator=g)
    mask = torch.ones(1024, 96, dtype=torch.bool, device=CUDA)
    quantiles = torch.tensor([0.025, 0.1, 0.5, 0.9, 0.975], device=CUDA)
    net.zero_grad()
    with precision_context(CUDA, precision):  # type: ignore[arg-type]
        y_hat = net(past, mask)
    pinball_loss(y_hat.float(), future, quantiles).backward()
    return {n: p.grad.clone() for n, p in net.named_parameters() if n.startswith("encoder.lstm")}


def test_lstm_gradients_under_mixed_precision_follow_strict_fp32(strict_fp32: None) -> None:
    # The M4 Hourly W1 model's encoder with quantile outputs at batch 1024: an fp16 LSTM (what
    # cuDNN's autocast wrapper runs) loses most gate gradients here; the fp32 LSTM keeps them.
    torch.manual_seed(0)
    config = LSTMNetConfig(
        n_targets=1,
        n_past_features=0,
        n_future_features=0,
        input_size=96,
        horizon=48,
        hidden_size=128,
        num_layers=2,
        n_quantiles=5,
        head_layers=0,
        window_norm=False,
        highway=False,
    )
    net = LSTMNet(config).to(CUDA)
    strict = _lstm_gradients(net, "fp32")
    torch.backends.cudnn.allow_tf32 = True  # what training runs with
    mixed = _lstm_gradients(net, "bf16")
    for name, reference in strict.items():
        cosine = torch.cosine_similarity(mixed[name].flatten(), reference.flatten(), dim=0)
        assert cosine > 0.999, name
        zeros = float((mixed[name] == 0).float().mean())
        assert zeros <= float((reference == 0).float().mean()) + 0.01, name


def _seq2seq(dropout: float) -> Seq2SeqNet:
    torch.manual_seed(0)
    config = Seq2SeqNetConfig(
        n_targets=1,
        n_past_features=3,
        n_future_features=3,
        input_size=48,
        horizon=24,
        hidden_size=32,
        num_layers=2,
        dropout=dropout,
        n_quantiles=3,
        median_index=1,
        patch_size=8,
        norm_window=24,
    )
    return Seq2SeqNet(config)


def _decoder_run(
    net: Seq2SeqNet, device: torch.device, reference: bool, ratio: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """y_hat and the gradients of one training forward/backward of `net` on `device`, by the
    stepwise decoder or (`reference`) by one nn.LSTM (cuDNN) call per step."""
    g = torch.Generator().manual_seed(1)
    inputs = {
        "past_target": torch.randn(64, 48, 1, generator=g).cumsum(1),
        "past_mask": torch.ones(64, 48, dtype=torch.bool),
        "past_features": torch.randn(64, 48, 3, generator=g),
        "future_features": torch.randn(64, 24, 3, generator=g),
        "future_target": torch.randn(64, 24, 1, generator=g),
    }
    net.to(device).train()
    inputs = {k: v.to(device) for k, v in inputs.items()}
    generator = torch.Generator(device=device).manual_seed(3)
    forward = (lambda **kw: per_step_seq2seq(net, **kw)) if reference else net.forward
    y_hat = forward(**inputs, teacher_forcing_ratio=ratio, generator=generator)
    net.zero_grad()
    y_hat.abs().mean().backward()
    grads = {n: p.grad.cpu() for n, p in net.named_parameters() if p.grad is not None}
    return y_hat.detach().cpu(), grads


@pytest.mark.parametrize(("other", "ratio"), [("cudnn", 0.5), ("cpu", 0.0)])
def test_the_fused_stepwise_decoder_matches_per_step_cudnn_and_the_cpu(
    other: str, ratio: float, strict_fp32: None
) -> None:
    # Dropout off: cuDNN draws its masks its own way. Teacher forcing where both runs draw the
    # same coins (one device); against the CPU, whose generator draws others, none.
    net = _seq2seq(dropout=0.0)
    y_hat, grads = _decoder_run(net, CUDA, reference=False, ratio=ratio)
    device = CUDA if other == "cudnn" else torch.device("cpu")
    expected, expected_grads = _decoder_run(net, device, reference=other == "cudnn", ratio=ratio)
    torch.testing.assert_close(y_hat, expected, rtol=1e-5, atol=1e-5)
    assert grads.keys() == expected_grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], rtol=1e-4, atol=1e-5, msg=name)


def test_classifier_training_steps_never_wait_for_the_device() -> None:
    rng = np.random.default_rng(0)
    lengths = torch.from_numpy(rng.integers(5, 40, 200))  # (N,) on the host
    values = torch.randn(200, 40, 3, device=CUDA)  # (N, L_max, C), right-padded
    targets = torch.from_numpy(rng.integers(0, 4, 200)).to(CUDA)
    net = LSTMClassifierNet(ClassifierConfig(3, 4, hidden_size=16, patch_size=2)).to(CUDA)
    loss_of = classification_loss("multiclass", None)
    train_loss = epoch_batches(torch.arange(200), values, lengths, targets, 64, loss_of)
    generator = torch.Generator(device=CUDA).manual_seed(0)
    for _ in range(4):  # one epoch outside the check: CUDA, cuDNN and pinned-memory set-up
        train_loss(net, generator).backward()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any synchronising call raises
    try:
        for _ in range(8):  # two more epochs, each starting with its pinned index copy
            train_loss(net, generator).backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")
