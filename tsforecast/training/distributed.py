"""Data-parallel training with `torch.distributed` (DistributedDataParallel, no Lightning).

A neural fit takes part only when asked: `distributed=True`, or `"auto"` (on when the process
was launched by `torchrun` with WORLD_SIZE > 1, or a process group of more than one rank is
already initialised). The default, False, never touches `torch.distributed`.

What a distributed fit does (every rank reads the whole frame and builds the same windows):
- the network is wrapped in `DistributedDataParallel`, so gradients are averaged over ranks;
- every step all ranks draw the same `world_size * batch_size` window positions from the shared
  seed and rank `r` takes positions `r, r + W, ...`: the ranks' batches are disjoint slices of
  exactly the batch one process would draw with `batch_size * world_size` (`batch_slice`);
  dropout draws from a generator seeded with `seed + rank`, so the ranks' masks differ;
- validation windows are split rank-strided (`shard`); each rank returns sum(loss * count) and
  count, all-reduced into one count-weighted mean (`weighted_mean`);
- the wall clock is agreed every step when a time budget is set (the learning rate follows it),
  and the stop decision (early stopping, budget, non-finite loss) is broadcast from rank 0, so
  no rank leaves the loop while another waits in a collective;
- save writes on rank 0 only; the other ranks wait for it at a barrier (`on_rank_zero`).

The process group: if the process was launched by torchrun and no group is initialised, the
first distributed fit creates one (gloo on CPU, nccl on CUDA) and keeps it for the later save /
predict calls; it is destroyed at interpreter exit or by `leave_process_group()`. A group the
caller created is used as it is and never destroyed here.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from tsforecast.errors import InputError

__all__ = [
    "DistributedRun",
    "batch_slice",
    "check_distributed",
    "join_process_group",
    "leave_process_group",
    "on_rank_zero",
    "shard",
]

T = TypeVar("T")

# Stop codes broadcast from rank 0 (index into this tuple; 0 means keep training).
STOP_REASONS = ("", "early_stopping", "max_steps", "time_budget", "non_finite_loss")

# Whether this module created the default process group (then it also destroys it).
_created_group = False


def check_distributed(value: Any) -> None:
    """Refuse a `distributed` setting other than False, True or "auto"."""
    if value is not True and value is not False and value != "auto":
        msg = f'`distributed` must be False, True or "auto", got {value!r}.'
        raise InputError(msg)


@dataclass(frozen=True)
class DistributedRun:
    """This process's place in a data-parallel fit: its rank, the world size, its device."""

    rank: int
    world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, module: nn.Module) -> nn.Module:
        """`module` in DistributedDataParallel (it broadcasts rank 0's weights at once)."""
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=device_ids)

    def all_reduce(self, values: list[float], op: str = "sum") -> list[float]:
        """Element-wise sum (or max) of `values` over the ranks, the same list on every rank."""
        tensor = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX if op == "max" else dist.ReduceOp.SUM)
        return [float(v) for v in tensor.tolist()]

    def broadcast(self, values: list[float]) -> list[float]:
        """Rank 0's `values` on every rank."""
        tensor = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.broadcast(tensor, src=0)
        return [float(v) for v in tensor.tolist()]

    def weighted_mean(self, loss_sum: torch.Tensor, count: int) -> torch.Tensor:
        """sum over ranks of (loss * count) / sum of counts: the mean over every rank's windows.

        `loss_sum` is this rank's sum of per-window losses (0 for a rank without windows).
        """
        total, n = self.all_reduce([float(loss_sum.item()), float(count)])
        return torch.tensor(total / max(n, 1.0), device=self.device)

    def check_same(self, what: str, value: int) -> None:
        """Refuse a fit whose ranks disagree on `value` (e.g. they read different frames)."""
        low, high = self.all_reduce([-float(value), float(value)], op="max")
        if -low != high:
            msg = (
                f"every rank of a distributed fit must read the same frame, but the ranks "
                f"disagree on the {what} (from {int(-low)} to {int(high)}); pass the same `df` "
                "on every rank."
            )
            raise InputError(msg)

    def _comm_device(self) -> torch.device:
        # nccl reduces device tensors only; gloo takes CPU tensors.
        return self.device if dist.get_backend() == "nccl" else torch.device("cpu")


def _launched_world_size() -> int:
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def join_process_group(setting: Any, device: torch.device) -> DistributedRun | None:
    """This process's `DistributedRun` for `distributed=setting`, or None when it is off.

    Creates the process group when torchrun launched the process and none exists yet. On CUDA a
    device without an index becomes `cuda:LOCAL_RANK`, one GPU per rank.
    """
    check_distributed(setting)
    if setting is False:
        return None
    launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    initialised = dist.is_available() and dist.is_initialized()
    if setting == "auto" and not (
        (initialised and dist.get_world_size() > 1) or (launched and _launched_world_size() > 1)
    ):
        return None
    if not dist.is_available():
        msg = "`distributed=True` needs torch.distributed, which this PyTorch build lacks."
        raise InputError(msg)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if not initialised:
        if not launched:
            msg = (
                "`distributed=True` needs a process group, but none is initialised and the "
                "process was not launched by torchrun (RANK / WORLD_SIZE are not set); run "
                "`torchrun --nproc-per-node N script.py`, call "
                "`torch.distributed.init_process_group` first, or pass `distributed=False`."
            )
            raise InputError(msg)
        _create_group(device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return DistributedRun(dist.get_rank(), dist.get_world_size(), device)


def _create_group(device: torch.device) -> None:
    global _created_group
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, init_method="env://")
    _created_group = True
    atexit.register(leave_process_group)


def leave_process_group() -> None:
    """Destroy the process group if `join_process_group` created it (else do nothing)."""
    global _created_group
    if _created_group and dist.is_initialized():
        dist.destroy_process_group()
    _created_group = False


def batch_slice(pick: torch.Tensor, run: DistributedRun | None) -> torch.Tensor:
    """This rank's part of the shared draw `pick` [W * B]: positions rank, rank + W, ... -> [B]."""
    if run is None:
        return pick
    return pick[run.rank :: run.world_size]


def shard(
    windows: tuple[torch.Tensor, torch.Tensor], run: DistributedRun | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's windows (series_idx, cutoff_idx), rank-strided; ranks may get one less."""
    if run is None:
        return windows
    return windows[0][run.rank :: run.world_size], windows[1][run.rank :: run.world_size]


def on_rank_zero(run: DistributedRun | None, action: Callable[[], T]) -> T | None:
    """Run `action` on rank 0 only while the other ranks wait; every rank fails if it fails.

    Without a run (or a process group) `action` simply runs. Rank 0's outcome is broadcast
    before the others return, so a failure never leaves them waiting and never passes silently.
    """
    if run is None or not dist.is_initialized():
        return action()
    result: T | None = None
    error: BaseException | None = None
    if run.is_main:
        try:
            result = action()
        except BaseException as exc:  # re-raised below, after the others have been told
            error = exc
    (failed,) = run.broadcast([1.0 if error is not None else 0.0])
    if error is not None:
        raise error
    if failed:
        msg = "rank 0 failed to write; see its error."
        raise RuntimeError(msg)
    return result
