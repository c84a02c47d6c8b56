"""The losses the neural models minimise: pure functions of tensors.

Forecasters: `point_loss` (mae / mse / huber) for a point forecast, `pinball_loss` over the
quantiles `quantiles_for_levels` gives for prediction intervals. The sequence classifier:
`classification_loss` (cross-entropy on logits, optionally class-weighted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import nn

__all__ = [
    "classification_loss",
    "pinball_loss",
    "point_loss",
    "quantiles_for_levels",
    "weighted_mean",
]


def quantiles_for_levels(levels: Sequence[float]) -> list[float]:
    """Ascending quantiles: the median plus (1 - l/100)/2 and 1 - (1 - l/100)/2 per level."""
    qs = {0.5}
    for level in levels:
        alpha = (1.0 - float(level) / 100.0) / 2.0
        qs.update((round(alpha, 10), round(1.0 - alpha, 10)))
    return sorted(qs)


def pinball_loss(y_hat: torch.Tensor, y: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Mean quantile loss. y_hat [B, H, C, Q], y [B, H, C], quantiles [Q]."""
    error = y[..., None] - y_hat  # -> (B, H, C, Q)
    return torch.maximum(quantiles * error, (quantiles - 1.0) * error).mean()


def point_loss(kind: str, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean point loss of `kind` "mae" (any other kind), "mse" or "huber" (delta 1)."""
    if kind == "mse":
        return nn.functional.mse_loss(y_hat, y)
    if kind == "huber":
        return nn.functional.huber_loss(y_hat, y, delta=1.0)
    return nn.functional.l1_loss(y_hat, y)


def weighted_mean(loss: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Mean of `loss` (B,) weighted by `weight` (B,) or None.

    Normalised by the weights, as torch's CrossEntropyLoss(weight=...) does, so the loss scale
    does not depend on the class mix of the batch.
    """
    if weight is None:
        return loss.mean()
    return (loss * weight).sum() / weight.sum()


def classification_loss(
    task: Literal["binary", "multiclass", "multilabel"], class_weight: torch.Tensor | None
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """`loss(logits, target)` for a classification task, on raw logits.

    binary: logits (B, 1), target (B,) float 0/1; `class_weight` (2,) per class.
    multiclass: logits (B, K), target (B,) int64 codes; `class_weight` (K,) per class.
    multilabel: logits (B, K), target (B, K) float 0/1; `class_weight` (K,) scales each label's
    positive term (`pos_weight`).
    """

    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if task == "multiclass":
            per = nn.functional.cross_entropy(logits, target, reduction="none")  # -> (B,)
            return weighted_mean(per, None if class_weight is None else class_weight[target])
        if task == "binary":
            per = nn.functional.binary_cross_entropy_with_logits(
                logits[:, 0], target, reduction="none"
            )  # -> (B,)
            w = None if class_weight is None else class_weight[target.long()]
            return weighted_mean(per, w)
        # multilabel: independent logits.
        return nn.functional.binary_cross_entropy_with_logits(
            logits, target, pos_weight=class_weight
        )

    return loss
