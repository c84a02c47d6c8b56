"""The seq2seq decoder steps on its `nn.LSTM`'s weights (`tsforecast.nn.stepwise`) and computes
what one `nn.LSTM` call per step computes, in training and at inference."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.nn.reference import per_step_seq2seq
from tsforecast.nn.seq2seq import Seq2SeqNet, Seq2SeqNetConfig
from tsforecast.nn.stepwise import StepwiseLSTM

BATCH, INPUT, HORIZON = 6, 20, 7


def _net(n_targets: int, n_future: int, bidirectional: bool, dropout: float) -> Seq2SeqNet:
    torch.manual_seed(0)
    config = Seq2SeqNetConfig(
        n_targets=n_targets,
        n_past_features=n_future,
        n_future_features=n_future,
        input_size=INPUT,
        horizon=HORIZON,
        hidden_size=16,
        num_layers=2,
        bidirectional=bidirectional,
        dropout=dropout,
        n_quantiles=3,
        median_index=1,
        patch_size=4,
        norm_window=5,
    )
    return Seq2SeqNet(config)


def _inputs(n_targets: int, n_future: int) -> dict[str, torch.Tensor | None]:
    g = torch.Generator().manual_seed(1)
    past_mask = torch.ones(BATCH, INPUT, dtype=torch.bool)
    past_mask[0, :5] = False  # a window with left padding
    return {
        "past_target": torch.randn(BATCH, INPUT, n_targets, generator=g).cumsum(1),
        "past_mask": past_mask,
        "past_features": torch.randn(BATCH, INPUT, n_future, generator=g) if n_future else None,
        "future_features": torch.randn(BATCH, HORIZON, n_future, generator=g) if n_future else None,
    }


CASES = [
    pytest.param(1, 0, False, id="one target, no future features"),
    pytest.param(2, 3, False, id="two targets, known-future features"),
    pytest.param(1, 2, True, id="bidirectional encoder"),
]


@pytest.mark.parametrize(("n_targets", "n_future", "bidirectional"), CASES)
def test_at_inference_the_decoder_computes_one_lstm_call_per_step(
    n_targets: int, n_future: int, bidirectional: bool
) -> None:
    net = _net(n_targets, n_future, bidirectional, dropout=0.2).eval()
    inputs = _inputs(n_targets, n_future)
    with torch.no_grad():
        fast = net(**inputs)  # type: ignore[arg-type]
        reference = per_step_seq2seq(net, **inputs)  # type: ignore[arg-type]
    assert fast.shape == (BATCH, HORIZON, n_targets, 3)
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("n_targets", "n_future", "bidirectional"), CASES)
@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_in_training_with_teacher_forcing_outputs_and_gradients_match(
    n_targets: int, n_future: int, bidirectional: bool, ratio: float
) -> None:
    # Dropout on where the decoder steps: it draws its masks in the order nn.LSTM does. Fully
    # teacher-forced, one nn.LSTM call does the whole horizon and draws them all at once.
    dropout = 0.2 if ratio < 1.0 else 0.0
    net = _net(n_targets, n_future, bidirectional, dropout=dropout).train()
    inputs = _inputs(n_targets, n_future)
    future_target = torch.randn(BATCH, HORIZON, n_targets, generator=torch.Generator())
    results = []
    for forward in (net.forward, lambda **kw: per_step_seq2seq(net, **kw)):
        torch.manual_seed(5)
        y_hat = forward(
            **inputs,
            future_target=future_target,
            teacher_forcing_ratio=ratio,
            generator=torch.Generator().manual_seed(3),
        )
        net.zero_grad()
        (y_hat - future_target[..., None]).abs().mean().backward()
        grads = {name: p.grad.clone() for name, p in net.named_parameters() if p.grad is not None}
        results.append((y_hat.detach(), grads))
    (fast, fast_grads), (reference, reference_grads) = results
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)
    assert fast_grads.keys() == reference_grads.keys()
    for name, grad in fast_grads.items():
        torch.testing.assert_close(grad, reference_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_the_decoder_keeps_the_weights_of_an_nn_lstm_so_saved_models_load() -> None:
    net = _net(1, 2, False, dropout=0.0)
    plain = nn.LSTM(1 + 2, 16, num_layers=2, batch_first=True)
    assert net.decoder.state_dict().keys() == plain.state_dict().keys()
    net.decoder.load_state_dict(plain.state_dict())  # a model saved before loads unchanged


def test_stepwise_runs_only_what_it_can_compute() -> None:
    with pytest.raises(ValueError, match="unidirectional, batch-first"):
        StepwiseLSTM(nn.LSTM(3, 4, bidirectional=True, batch_first=True), 1, torch.zeros(2, 5, 2))
