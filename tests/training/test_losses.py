"""The losses of tsforecast/training/losses.py, against their definitions and torch's own."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tsforecast.training.losses import (
    classification_loss,
    pinball_loss,
    point_loss,
    quantiles_for_levels,
)


def test_quantiles_for_levels_are_the_median_and_both_ends_of_each_interval() -> None:
    assert quantiles_for_levels([]) == [0.5]
    assert quantiles_for_levels([80, 95]) == [0.025, 0.1, 0.5, 0.9, 0.975]
    assert quantiles_for_levels([90, 90.0]) == [0.05, 0.5, 0.95]


def test_pinball_loss_at_the_median_is_half_the_absolute_error() -> None:
    g = torch.Generator().manual_seed(0)
    y = torch.randn(4, 3, 2, generator=g)  # (B, H, C)
    y_hat = torch.randn(4, 3, 2, 1, generator=g)  # (B, H, C, Q=1)
    loss = pinball_loss(y_hat, y, torch.tensor([0.5]))
    torch.testing.assert_close(loss, 0.5 * (y - y_hat[..., 0]).abs().mean())


def test_pinball_loss_weighs_under_and_over_forecasts_by_the_quantile() -> None:
    y = torch.zeros(1, 1, 1)
    quantiles = torch.tensor([0.1, 0.9])
    under = pinball_loss(torch.full((1, 1, 1, 2), -1.0), y, quantiles)  # y above y_hat
    over = pinball_loss(torch.full((1, 1, 1, 2), 1.0), y, quantiles)
    assert under.item() == pytest.approx((0.1 + 0.9) / 2)
    assert over.item() == pytest.approx((0.9 + 0.1) / 2)
    # one quantile alone: the 0.9 quantile pays 9 times more for an under-forecast
    q90 = torch.tensor([0.9])
    ratio = pinball_loss(torch.full((1, 1, 1, 1), -1.0), y, q90) / pinball_loss(
        torch.full((1, 1, 1, 1), 1.0), y, q90
    )
    assert ratio.item() == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("kind", "reference"),
    [
        ("mae", nn.functional.l1_loss),
        ("mse", nn.functional.mse_loss),
        ("huber", nn.functional.huber_loss),
    ],
)
def test_point_loss_is_torchs_loss_of_that_name(kind: str, reference: object) -> None:
    g = torch.Generator().manual_seed(1)
    y_hat, y = 3 * torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    torch.testing.assert_close(point_loss(kind, y_hat, y), reference(y_hat, y))  # type: ignore[operator]


def test_class_weighted_multiclass_loss_is_torchs_weighted_cross_entropy() -> None:
    g = torch.Generator().manual_seed(2)
    logits, target = torch.randn(16, 3, generator=g), torch.randint(0, 3, (16,), generator=g)
    weight = torch.tensor([1.0, 4.0, 0.5])
    loss = classification_loss("multiclass", weight)(logits, target)
    torch.testing.assert_close(loss, nn.CrossEntropyLoss(weight=weight)(logits, target))
    unweighted = classification_loss("multiclass", None)(logits, target)
    torch.testing.assert_close(unweighted, nn.functional.cross_entropy(logits, target))


def test_binary_and_multilabel_losses_read_raw_logits() -> None:
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(10, 1, generator=g)
    target = (torch.rand(10, generator=g) > 0.5).float()
    loss = classification_loss("binary", None)(logits, target)
    torch.testing.assert_close(loss, nn.BCEWithLogitsLoss()(logits[:, 0], target))
    labels = (torch.rand(10, 4, generator=g) > 0.5).float()
    pos_weight = torch.tensor([1.0, 2.0, 3.0, 0.5])
    logits = torch.randn(10, 4, generator=g)
    loss = classification_loss("multilabel", pos_weight)(logits, labels)
    torch.testing.assert_close(loss, nn.BCEWithLogitsLoss(pos_weight=pos_weight)(logits, labels))
