"""Sequences `X` for the sequence classifier: validated once, padded, batched.

- `prepare_sequences`: `X` as a list of (length_i, channels) arrays (lengths may differ) or one
  (N, L, C) array -> a list of float32 (length_i, channels) arrays, or `InputError` naming the
  sequence, the step and the channel at fault.
- `pad_sequences`: one right-padded (N, L_max, C) array and the lengths (N,).
- `channel_standardisation`: per-channel loc / scale from the training sequences only.
- `epoch_batches`: the training loop's `train_loss`, epochs of shuffled sequences, each batch
  sorted by length on the host; `forward_chunks`: a network over many padded sequences in
  chunks of bounded memory.

The labels `y` are prepared in `tsforecast.labels`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from tsforecast.errors import InputError

__all__ = [
    "PREDICT_CHUNK",
    "channel_standardisation",
    "epoch_batches",
    "forward_chunks",
    "pad_sequences",
    "prepare_sequences",
]

# Inference runs in chunks of this many sequences to bound memory on long inputs.
PREDICT_CHUNK = 1024


# --------------------------------------------------------------------------------------------
# Validation and padding
# --------------------------------------------------------------------------------------------


def _first_non_finite(seq: np.ndarray) -> tuple[int, int]:
    step, channel = np.argwhere(~np.isfinite(seq))[0]
    return int(step), int(channel)


def prepare_sequences(X: Any, n_channels: int | None = None) -> list[np.ndarray]:
    """Validate `X` and return it as a list of float32 arrays shaped (length_i, channels).

    `X` is a list of arrays (or nested lists) shaped (length_i, channels) — a 1-D element is one
    univariate sequence — or one array shaped (n_sequences, length, channels). Raises
    `InputError` for an empty `X`, empty sequences, non-numeric or non-finite values, channel
    counts that differ between sequences or from `n_channels` (the count seen in `fit`).
    """
    if isinstance(X, np.ndarray) or torch.is_tensor(X):
        array = X.detach().cpu().numpy() if torch.is_tensor(X) else X
        if array.ndim != 3:
            msg = (
                "`X` given as one array must be 3-D (n_sequences, length, channels), "
                f"got shape {array.shape}; for univariate sequences shaped (n, length) pass "
                "`X[..., None]`, or pass a list of (length_i, channels) arrays."
            )
            raise InputError(msg)
        items: Sequence[Any] = list(array)
    elif isinstance(X, (list, tuple)):
        items = X
    else:
        msg = (
            "`X` must be a list of arrays shaped (length_i, channels) or one array shaped "
            f"(n_sequences, length, channels), got {type(X).__name__}."
        )
        raise InputError(msg)
    if len(items) == 0:
        msg = "`X` holds no sequences; pass at least one (length, channels) array."
        raise InputError(msg)

    seqs: list[np.ndarray] = []
    for i, item in enumerate(items):
        if np.iscomplexobj(item):  # float64 would drop the imaginary part with a warning
            msg = (
                f"sequence {i} of `X` is complex; pass real values, e.g. the real and "
                "imaginary parts as two channels."
            )
            raise InputError(msg)
        try:
            seq = np.asarray(item, dtype=np.float64)
        except (TypeError, ValueError) as error:
            msg = (
                f"sequence {i} of `X` is not a numeric array shaped (length, channels) "
                f"({error}); convert it to floats first."
            )
            raise InputError(msg) from error
        if seq.ndim == 1:
            seq = seq[:, None]  # one univariate sequence -> (length, 1)
        if seq.ndim != 2:
            msg = f"sequence {i} of `X` must be 2-D (length, channels), got shape {seq.shape}."
            raise InputError(msg)
        if seq.shape[0] == 0:
            msg = (
                f"sequence {i} of `X` is empty (length 0); every sequence needs at least one "
                "step — drop empty sequences before calling."
            )
            raise InputError(msg)
        expected = n_channels if n_channels is not None else (seqs[0].shape[1] if seqs else None)
        if expected is not None and seq.shape[1] != expected:
            where = "the model was fitted on" if n_channels is not None else "sequence 0 has"
            msg = (
                f"sequence {i} of `X` has {seq.shape[1]} channels but {where} {expected}; "
                "every sequence must be shaped (length_i, channels) with the same channels."
            )
            raise InputError(msg)
        with np.errstate(over="ignore"):
            seq32 = seq.astype(np.float32)
        # Checked after the cast: values beyond float32's range become inf here.
        if not np.isfinite(seq32).all():
            step, channel = _first_non_finite(seq32)
            msg = (
                f"sequence {i} of `X` has non-finite values (NaN or inf), first at step "
                f"{step}, channel {channel} (value {float(seq[step, channel])!r}); fill or "
                "drop them before calling."
            )
            raise InputError(msg)
        seqs.append(seq32)
    return seqs


def pad_sequences(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad to (N, L_max, C) with zeros; lengths (N,). Packing ignores the padding."""
    lengths = np.array([s.shape[0] for s in seqs], dtype=np.int64)
    values = np.zeros((len(seqs), int(lengths.max()), seqs[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(seqs):
        values[i, : s.shape[0]] = s
    return values, lengths


def channel_standardisation(
    seqs: Sequence[np.ndarray], idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (loc, scale) (C,) float32 over the valid steps of the sequences `idx`.

    A channel that is constant in training gets scale 1, so it is centred but not blown up.
    """
    valid = np.concatenate([seqs[i] for i in idx], axis=0)  # -> (sum L_i, C)
    loc = valid.mean(0)
    scale = valid.std(0)
    scale = np.where(scale > 1e-8 * np.maximum(np.abs(loc), 1.0), scale, 1.0)
    return loc, scale.astype(np.float32)


# --------------------------------------------------------------------------------------------
# Batches of padded sequences
# --------------------------------------------------------------------------------------------


def _sorted_within_batches(
    idx: torch.Tensor, lengths: torch.Tensor, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """idx (n,) host int64 cut into consecutive batches of `batch_size`: each batch reordered
    by decreasing length (ties keep their order). Returns the reordered idx and lengths (n,)."""
    idx_lengths = lengths[idx]  # -> (n,)
    batch_of = torch.arange(len(idx)) // batch_size
    # One stable sort for the whole epoch: by batch, then by decreasing length.
    key = batch_of * (int(idx_lengths.max()) + 1) - idx_lengths
    order = torch.argsort(key, stable=True)
    return idx[order], idx_lengths[order]


def _to_device(host: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor on `device` without waiting for it: pinned and non-blocking on CUDA."""
    if device.type != "cuda":
        return host.to(device)
    return host.pin_memory().to(device, non_blocking=True)


def epoch_batches(
    train_idx: torch.Tensor,
    values: torch.Tensor,
    lengths: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int,
    loss_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> Callable[[nn.Module, torch.Generator], torch.Tensor]:
    """The loop's `train_loss`: epochs over the training sequences `train_idx` (N_train,).

    train_idx and lengths (N,) int64 on the host; values (N, L_max, C) and targets on the
    device. Each epoch is a fresh permutation cut into consecutive batches, all on the host:
    drawn with the loop's generator when it is a CPU one, else with a host generator seeded
    from it once. Each batch is sorted by decreasing length, so packing needs no reordering
    (`enforce_sorted=True`), and the epoch's indices and lengths reach the device in one
    non-blocking copy: no step waits for the device.
    """
    train_host = train_idx.to("cpu", torch.int64)
    n_train = train_host.shape[0]
    device = values.device
    epoch: dict[str, Any] = {"pos": n_train, "host_generator": None}

    def start_epoch(generator: torch.Generator) -> None:
        if generator.device.type == "cpu":
            host_generator = generator
        else:
            if epoch["host_generator"] is None:
                # initial_seed() is kept on the host: reading it waits for nothing.
                seed = generator.initial_seed()
                epoch["host_generator"] = torch.Generator().manual_seed(seed)
            host_generator = epoch["host_generator"]
        perm = torch.randperm(n_train, generator=host_generator)
        idx, idx_lengths = _sorted_within_batches(train_host[perm], lengths, batch_size)
        on_device = _to_device(torch.stack([idx, idx_lengths]), device)  # -> (2, N_train)
        epoch.update(pos=0, lengths=idx_lengths, idx_on_device=on_device[0])
        epoch["lengths_on_device"] = on_device[1]

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        if epoch["pos"] >= n_train:
            start_epoch(generator)
        batch = slice(epoch["pos"], epoch["pos"] + batch_size)
        epoch["pos"] += batch_size
        batch_lengths = epoch["lengths"][batch]  # (B,) host, decreasing
        idx = epoch["idx_on_device"][batch]  # (B,) on the device
        # Trim to this batch's longest sequence (its first); packing ignores the rest anyway.
        past = values[idx, : int(batch_lengths[0])]  # -> (B, L_b, C)
        logits = module(past, batch_lengths, epoch["lengths_on_device"][batch])
        return loss_of(logits, targets[idx])

    return train_loss


def forward_chunks(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
    values: torch.Tensor,
    lengths: torch.Tensor,
    chunk_size: int = PREDICT_CHUNK,
) -> torch.Tensor:
    """`fn(values, lengths, lengths_on_device)` (a network or its `encode`) over right-padded
    values (N, L, C) and host lengths (N,), `chunk_size` sequences at a time.

    The sequences run longest first, so that each chunk is sorted for packing and trimmed to
    its own longest (less padding); the outputs come back in the input order.
    """
    device = values.device
    lengths = lengths.to("cpu", torch.int64)
    order = torch.argsort(lengths, descending=True, stable=True)  # host
    outs = []
    for start in range(0, values.shape[0], chunk_size):
        chunk_idx = order[start : start + chunk_size]
        chunk_lengths = lengths[chunk_idx]  # decreasing
        on_device = _to_device(torch.stack([chunk_idx, chunk_lengths]), device)  # -> (2, b)
        chunk = values[on_device[0], : int(chunk_lengths[0])]  # -> (b, L_b, C)
        outs.append(fn(chunk, chunk_lengths, on_device[1]))
    inverse = _to_device(torch.argsort(order), device)  # input position -> sorted position
    return torch.cat(outs)[inverse]
