"""Batches of padded sequences (tsforecast/sequences.py): each training batch is sorted by length
on the host for packing, and sorting changes no prediction."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from tsforecast.nn.classifier import ClassifierConfig, LSTMClassifierNet
from tsforecast.sequences import epoch_batches, forward_chunks, pad_sequences
from tsforecast.training import TrainingConfig, train
from tsforecast.training.losses import classification_loss

CPU = torch.device("cpu")


def _sequences(n: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded values (N, L_max, 2), host lengths (N,) from 3 to 17, labels (N,) in 0..2."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    seqs = [
        (rng.normal(size=(int(rng.integers(3, 18)), 2)) + label).astype(np.float32)
        for label in labels
    ]
    values, lengths = pad_sequences(seqs)
    return torch.from_numpy(values), torch.from_numpy(lengths), torch.from_numpy(labels)


class _Recorder(nn.Module):
    """Stands in for a network: records what each training step hands it."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))
        self.calls: list[dict[str, Any]] = []

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, lengths_on_device: torch.Tensor
    ) -> torch.Tensor:
        self.calls.append({"x": x, "lengths": lengths, "on_device": lengths_on_device})
        return self.weight * x.sum(dim=(1, 2))


def test_each_batch_is_sorted_by_length_and_holds_the_sequences_of_the_plain_permutation() -> None:
    values, lengths, _ = _sequences()
    train_idx = torch.arange(3, 40)  # sequences 0..2 are held out
    ids = torch.arange(40.0)  # the "targets" name the sequence each row came from
    seen: list[torch.Tensor] = []

    def loss_of(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        seen.append(target.long())
        return logits.sum()

    train_loss = epoch_batches(train_idx, values, lengths, ids, 8, loss_of)
    recorder = _Recorder()
    generator = torch.Generator().manual_seed(0)
    for _ in range(2 * 5):  # two epochs of 37 sequences in batches of 8 (the last has 5)
        train_loss(recorder, generator)

    plain = torch.Generator().manual_seed(0)  # the permutations of an unsorted epoch loop
    perms = [train_idx[torch.randperm(37, generator=plain)] for _ in range(2)]
    expected_batches = [perm[lo : lo + 8] for perm in perms for lo in range(0, 37, 8)]
    for call, batch_ids, expected in zip(recorder.calls, seen, expected_batches, strict=True):
        assert sorted(batch_ids.tolist()) == sorted(expected.tolist())
        assert torch.equal(call["lengths"], lengths[batch_ids])
        assert torch.all(call["lengths"][:-1] >= call["lengths"][1:])  # decreasing
        assert torch.equal(call["on_device"], call["lengths"])
        assert call["lengths"].device.type == "cpu"
        assert call["x"].shape[1] == int(call["lengths"][0])  # trimmed to its longest


def test_sorting_the_batches_on_the_host_changes_no_prediction() -> None:
    # The same network trained with the sorted batches and with the unsorted batches packed
    # by torch (enforce_sorted=False): the same batches as sets, so the same model. (With
    # dropout the masks fall on other rows of a sorted batch: equally random, not equal.)
    values, lengths, labels = _sequences()
    train_idx = torch.arange(40)
    loss_of = classification_loss("multiclass", None)
    config = TrainingConfig(max_steps=15, eval_every=5, warmup_steps=2, progress=False)

    def fresh_net() -> LSTMClassifierNet:
        torch.manual_seed(0)
        return LSTMClassifierNet(ClassifierConfig(2, 3, hidden_size=8, patch_size=2))

    def unsorted_batches() -> Any:
        epoch: dict[str, Any] = {"pos": 40}

        def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
            if epoch["pos"] >= 40:
                epoch.update(perm=train_idx[torch.randperm(40, generator=generator)], pos=0)
            idx = epoch["perm"][epoch["pos"] : epoch["pos"] + 16]
            epoch["pos"] += 16
            past = values[idx, : int(lengths[idx].max())]
            return loss_of(module(past, lengths[idx]), labels[idx])

        return train_loss

    sorted_net, unsorted_net = fresh_net(), fresh_net()
    sorted_loss = epoch_batches(train_idx, values, lengths, labels, 16, loss_of)
    train(sorted_net, sorted_loss, val_loss=None, config=config, device=CPU)
    train(unsorted_net, unsorted_batches(), val_loss=None, config=config, device=CPU)
    with torch.no_grad():
        got = forward_chunks(sorted_net, values, lengths)
        expected = unsorted_net(values, lengths)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_forward_chunks_runs_longest_first_and_returns_the_input_order() -> None:
    values, lengths, _ = _sequences(n=11)
    torch.manual_seed(0)
    net = LSTMClassifierNet(ClassifierConfig(2, 3, hidden_size=8, patch_size=3)).eval()
    with torch.no_grad():
        chunked = forward_chunks(net, values, lengths, chunk_size=4)
        one_by_one = torch.cat(
            [net(values[i : i + 1, : int(lengths[i])], lengths[i : i + 1]) for i in range(11)]
        )
    torch.testing.assert_close(chunked, one_by_one, rtol=1e-5, atol=1e-6)
