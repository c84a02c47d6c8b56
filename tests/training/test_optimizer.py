"""The loop's optimizer: AdamW with torch's fused kernel on CPU, the same update as the default."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from tsforecast.training import TrainingConfig, train
from tsforecast.training import loop as loop_module


class _Head(nn.Module):
    """A small LSTM -> linear network: matrices (decayed) and biases (not decayed)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 8, num_layers=2, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x [B, L, 2] -> [B, 3]
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def _train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
    x = torch.randn(16, 12, 2, generator=generator)  # -> (B, L, 2)
    y = x[:, -3:, 0]  # -> (B, 3): the last three values of the first channel
    return nn.functional.l1_loss(module(x), y)


def test_the_optimizer_uses_the_fused_adamw_kernel_on_cpu() -> None:
    torch.manual_seed(0)
    optimizer = loop_module._optimizer(_Head(), TrainingConfig(), torch.device("cpu"))
    assert isinstance(optimizer, torch.optim.AdamW)
    assert optimizer.defaults["fused"] is True


def test_the_fused_optimizer_keeps_decay_off_the_biases() -> None:
    torch.manual_seed(0)
    module = _Head()
    config = TrainingConfig(weight_decay=0.5)
    decayed, not_decayed = loop_module._optimizer(module, config, torch.device("cpu")).param_groups
    assert decayed["weight_decay"] == 0.5 and not_decayed["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"])
    assert all(p.dim() == 1 for p in not_decayed["params"])
    n_params = len(list(module.parameters()))
    assert len(decayed["params"]) + len(not_decayed["params"]) == n_params


@pytest.mark.parametrize("grad_clip_norm", [None, 0.05])
def test_training_with_the_fused_optimizer_matches_the_foreach_one(
    monkeypatch: pytest.MonkeyPatch, grad_clip_norm: float | None
) -> None:
    # The same run twice: once as the loop builds it (fused), once with the optimizer forced to
    # torch's multi-tensor (foreach) implementation; the weights agree up to float rounding.
    config = TrainingConfig(
        max_steps=30,
        learning_rate=1e-2,
        eval_every=10,
        warmup_steps=5,
        weight_decay=0.1,
        grad_clip_norm=grad_clip_norm,
        progress=False,
    )
    torch.manual_seed(0)
    start = _Head()
    fused_net, foreach_net = copy.deepcopy(start), copy.deepcopy(start)
    fused = train(fused_net, _train_loss, val_loss=None, config=config, device=torch.device("cpu"))

    build = loop_module._optimizer

    def foreach_optimizer(
        module: nn.Module, config: TrainingConfig, device: torch.device
    ) -> torch.optim.AdamW:
        # the loop's groups (decay on matrices only), without the loop's per-group `fused`
        groups = [
            {"params": g["params"], "weight_decay": g["weight_decay"]}
            for g in build(module, config, device).param_groups
        ]
        optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, foreach=True)
        assert not optimizer.param_groups[0]["fused"]
        return optimizer

    monkeypatch.setattr(loop_module, "_optimizer", foreach_optimizer)
    foreach = train(
        foreach_net, _train_loss, val_loss=None, config=config, device=torch.device("cpu")
    )

    # both runs saw the same losses and ended with the same weights, which training moved
    losses = [entry["train_loss"] for entry in foreach.history]
    assert [entry["train_loss"] for entry in fused.history] == pytest.approx(losses, rel=1e-4)
    moved = False
    for (name, a), b in zip(fused_net.named_parameters(), foreach_net.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
        moved = moved or not torch.equal(a, dict(start.named_parameters())[name])
    assert moved
