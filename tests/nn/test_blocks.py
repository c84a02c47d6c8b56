"""The shared building blocks of tsforecast/nn/blocks.py."""

from __future__ import annotations

import torch

from tsforecast.nn.blocks import final_state, mlp, stacked_lstm, to_patches


def test_patches_group_consecutive_steps_and_pad_on_the_requested_side() -> None:
    x = torch.arange(1.0, 6.0).reshape(1, 5, 1)  # (B=1, L=5, C=1): steps 1..5
    left = to_patches(x, 2, pad="left")  # the last patch ends at the last step
    right = to_patches(x, 2, pad="right")  # the first patch starts at the first step
    assert left.tolist() == [[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]]
    assert right.tolist() == [[[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]]]
    assert torch.equal(to_patches(x, 1, pad="left"), x)


def test_patches_keep_the_channels_of_a_step_together() -> None:
    x = torch.arange(12.0).reshape(1, 4, 3)  # (B, L=4, C=3)
    patches = to_patches(x, 2, pad="left")  # -> (B, 2, 2 x 3)
    assert patches.shape == (1, 2, 6)
    assert torch.equal(patches[0, 1], torch.cat([x[0, 2], x[0, 3]]))


def test_final_state_is_the_last_layer_and_both_directions_when_bidirectional() -> None:
    torch.manual_seed(0)
    x = torch.randn(3, 7, 2)
    for bidirectional in (False, True):
        lstm = stacked_lstm(2, 5, num_layers=2, bidirectional=bidirectional, dropout=0.1)
        output, (h_n, _) = lstm(x)  # output (B, L, D * dirs)
        state = final_state(h_n, bidirectional)
        # forward: the output at the last step; backward: the output at the first step
        expected = output[:, -1, :5]
        if bidirectional:
            expected = torch.cat([expected, output[:, 0, 5:]], dim=-1)
        torch.testing.assert_close(state, expected)


def test_dropout_is_only_given_to_a_stacked_lstm() -> None:
    assert stacked_lstm(2, 4, num_layers=1, bidirectional=False, dropout=0.3).dropout == 0.0
    assert stacked_lstm(2, 4, num_layers=2, bidirectional=False, dropout=0.3).dropout == 0.3


def test_mlp_with_no_hidden_layer_is_one_linear_map() -> None:
    head = mlp(6, 32, 3, n_layers=0, dropout=0.1)
    assert len(head) == 1 and isinstance(head[0], torch.nn.Linear)
    assert [type(m).__name__ for m in mlp(6, 32, 3, n_layers=2, dropout=0.1)] == [
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
        "ReLU",
        "Dropout",
        "Linear",
    ]
