"""Mixed precision (tsforecast/training/precision.py): the LSTMs compute in fp32 under the
training precision context, the rest may use bf16, and bf16 falls back to fp32 where the
hardware has none.

CPU autocast with bf16 runs the same code path as CUDA autocast with bf16 here: the networks
only ask whether autocast is on for the device their tensors live on.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from tsforecast.errors import TsforecastWarning
from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.nn.lstm import LSTMNet, LSTMNetConfig
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig
from tsforecast.training import TrainingConfig, train
from tsforecast.training import precision as precision_module
from tsforecast.training.precision import precision_context, resolve_precision

CPU = torch.device("cpu")
SIZES = {
    "n_targets": 1,
    "n_past_features": 2,
    "n_future_features": 2,
    "input_size": 24,
    "horizon": 6,
    "hidden_size": 8,
    "head_hidden_size": 16,
    "patch_size": 4,
    "norm_window": 6,
}


def _record_dtypes(net: nn.Module) -> dict[str, list[torch.dtype]]:
    """Output dtypes of every LSTM and input dtypes of every Linear, filled in as `net` runs."""
    seen: dict[str, list[torch.dtype]] = {"lstm": [], "linear_in": [], "linear_out": []}

    def on_lstm(module: nn.Module, args: object, output: tuple) -> None:
        out, (h_n, c_n) = output
        data = out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out
        seen["lstm"] += [data.dtype, h_n.dtype, c_n.dtype]

    def on_linear(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
        seen["linear_in"].append(args[0].dtype)
        seen["linear_out"].append(output.dtype)

    for module in net.modules():
        if isinstance(module, nn.LSTM):
            module.register_forward_hook(on_lstm)
        elif isinstance(module, nn.Linear):
            module.register_forward_hook(on_linear)
    return seen


def _forecaster_batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "past_target": torch.randn(5, 24, 1, generator=g),
        "past_mask": torch.ones(5, 24, dtype=torch.bool),
        "past_features": torch.randn(5, 24, 2, generator=g),
        "future_features": torch.randn(5, 6, 2, generator=g),
    }


def _run_lstm_net() -> dict[str, list[torch.dtype]]:
    net = LSTMNet(LSTMNetConfig(**SIZES))
    seen = _record_dtypes(net)
    with precision_context(CPU, "bf16"):
        net(**_forecaster_batch())
    return seen


def _run_seq2seq(bidirectional: bool, ratio: float) -> Callable[[], dict[str, list[torch.dtype]]]:
    def run() -> dict[str, list[torch.dtype]]:
        net = Seq2SeqNet(Seq2SeqNetConfig(**SIZES, bidirectional=bidirectional)).train()
        seen = _record_dtypes(net)
        future_target = torch.randn(5, 6, 1)
        with precision_context(CPU, "bf16"):
            net(**_forecaster_batch(), future_target=future_target, teacher_forcing_ratio=ratio)
        return seen

    return run


def _run_classifier() -> dict[str, list[torch.dtype]]:
    net = LSTMClassifierNet(ClassifierConfig(n_channels=2, n_outputs=3, num_layers=2))
    seen = _record_dtypes(net)
    lengths = torch.tensor([9, 7, 4])  # packed: the sequences differ in length
    with precision_context(CPU, "bf16"):
        net(torch.randn(3, 9, 2), lengths)
    return seen


@pytest.mark.parametrize(
    "run",
    [
        pytest.param(_run_lstm_net, id="lstm"),
        pytest.param(_run_seq2seq(False, 0.5), id="seq2seq stepping"),
        pytest.param(_run_seq2seq(True, 1.0), id="seq2seq teacher-forced, bidirectional"),
        pytest.param(_run_classifier, id="classifier, packed"),
    ],
)
def test_every_lstm_runs_in_fp32_under_the_bf16_training_context(
    run: Callable[[], dict[str, list[torch.dtype]]],
) -> None:
    seen = run()
    assert seen["lstm"] and set(seen["lstm"]) == {torch.float32}
    assert torch.bfloat16 in seen["linear_out"]  # the context is on: other layers use bf16


def test_the_stepping_seq2seq_decoder_and_its_head_run_in_fp32() -> None:
    # The decoder steps on its LSTM's weights outside nn.LSTM, so no LSTM hook sees it: its
    # states reach the per-step head, whose input is the decoder's top hidden state.
    net = Seq2SeqNet(Seq2SeqNetConfig(**SIZES)).eval()
    seen = _record_dtypes(net.output)
    with torch.no_grad(), precision_context(CPU, "bf16"):
        y_hat = net(**_forecaster_batch())
    assert len(seen["linear_in"]) == 2 * SIZES["horizon"]  # two linear layers, every step
    assert set(seen["linear_in"]) == {torch.float32}
    assert y_hat.dtype == torch.float32


def test_fp32_lstm_gives_the_same_numbers_under_autocast_and_takes_bf16_inputs() -> None:
    net = LSTMClassifierNet(ClassifierConfig(n_channels=2, n_outputs=1, num_layers=2))
    x = torch.randn(4, 6, 2)
    plain, (h_plain, _) = net.lstm(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        under, (h_under, _) = net.lstm(x)
        from_bf16, _ = net.lstm(x.bfloat16())  # e.g. the output of a bf16 projection
    assert torch.equal(under, plain) and torch.equal(h_under, h_plain)
    assert from_bf16.dtype == torch.float32


def test_auto_is_fp32_on_a_cpu_and_fp32_is_always_fp32() -> None:
    assert resolve_precision(CPU, "auto") == "fp32"
    assert resolve_precision(CPU, "fp32") == "fp32"


def test_bf16_is_used_on_a_cpu_that_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision_module, "has_native_bf16", lambda device: True)
    assert resolve_precision(CPU, "bf16") == "bf16"


def test_bf16_falls_back_to_fp32_with_a_warning_on_a_cpu_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(precision_module, "has_native_bf16", lambda device: False)
    with pytest.warns(TsforecastWarning, match=r"no native bf16 support; training runs in fp32"):
        assert resolve_precision(CPU, "bf16") == "fp32"

    # ... and the training loop then runs its steps without autocast.
    autocast_seen = []

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        autocast_seen.append(torch.is_autocast_enabled("cpu"))
        return module(torch.ones(4, 1)).square().mean()

    config = TrainingConfig(max_steps=3, eval_every=3, precision="bf16", progress=False)
    with pytest.warns(TsforecastWarning, match="runs in fp32 instead"):
        train(nn.Linear(1, 1), train_loss, val_loss=None, config=config, device=CPU)
    assert autocast_seen == [False, False, False]


def test_the_training_loop_steps_under_bf16_autocast_where_it_is_supported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(precision_module, "has_native_bf16", lambda device: True)
    net = LSTMNet(LSTMNetConfig(**SIZES))
    seen = _record_dtypes(net)
    batch = _forecaster_batch()

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        return module(**batch).float().abs().mean()

    config = TrainingConfig(max_steps=2, eval_every=2, precision="bf16", progress=False)
    train(net, train_loss, val_loss=None, config=config, device=CPU)
    assert set(seen["lstm"]) == {torch.float32}
    assert set(seen["linear_out"]) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in net.parameters())  # fp32 master weights
