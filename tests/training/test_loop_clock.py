"""The loop's time stamps count the work the device has done, not only the work queued."""

from __future__ import annotations

import time
import types

import pytest
import torch
from torch import nn

from tsforecast.training import TrainingConfig, train
from tsforecast.training import loop as loop_module


def test_history_time_stamps_are_read_after_the_device_has_caught_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fake clock that ticks 1 s per reading; reading the summed loss (the evaluation's wait
    # for the device) takes 100 s, as a GPU still running queued kernels would.
    clock = {"now": 0.0}

    def perf_counter() -> float:
        clock["now"] += 1.0
        return clock["now"]

    fake_time = types.SimpleNamespace(perf_counter=perf_counter, process_time=time.process_time)
    monkeypatch.setattr(loop_module, "time", fake_time)
    is_finite = loop_module._Evaluations.is_finite

    def slow_is_finite(self: loop_module._Evaluations) -> bool:
        clock["now"] += 100.0
        return is_finite(self)

    monkeypatch.setattr(loop_module._Evaluations, "is_finite", slow_is_finite)

    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        return module(torch.ones(2, 1)).square().mean()

    config = TrainingConfig(max_steps=4, eval_every=2, warmup_steps=0, progress=False)
    result = train(nn.Linear(1, 1), train_loss, val_loss=None, config=config, device="cpu")
    first, second = (entry["elapsed_s"] for entry in result.history)
    assert first > 100.0  # the first wait is inside the first stamp
    assert second - first > 100.0  # and the second wait inside the interval between them


def test_history_counts_cpu_seconds_apart_from_waiting():
    # cpu_s is the work this process did: time spent waiting (here asleep, on a shared machine
    # in other processes' turns) is in elapsed_s but not in cpu_s.
    def train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
        time.sleep(0.25)
        return module(torch.ones(2, 1)).square().mean()

    config = TrainingConfig(max_steps=4, eval_every=2, warmup_steps=0, progress=False)
    result = train(nn.Linear(1, 1), train_loss, val_loss=None, config=config, device="cpu")
    cpu = [entry["cpu_s"] for entry in result.history]
    wall = [entry["elapsed_s"] for entry in result.history]
    assert cpu == sorted(cpu) and cpu[0] >= 0.0
    assert wall[-1] >= 1.0  # four sleeps of 0.25 s
    assert wall[-1] - cpu[-1] >= 0.9  # and none of them is counted as work
