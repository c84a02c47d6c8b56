"""The training loop shared by every neural model (forecasters and the sequence classifier).

The losses live in `tsforecast.training.losses`.

The loop knows nothing about windows or data frames: the caller hands it a module and a
`train_loss(module, generator)` closure that draws its own batch (window indices drawn with the
generator, gathered on the device) and returns a scalar loss. The loop owns everything else:
AdamW, warm-up + learning-rate schedule, gradient clipping, mixed precision, evaluation,
early stopping with restore of the best weights, step and wall-clock budgets, and progress.

Determinism: the loop seeds a private copy of the global RNG (for dropout) and the batch
generator from `config.seed`, so on CPU the same seed gives the same weights, as long as the
wall-clock budget (`time_budget_s`) is not what ends or shapes the run.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

import torch
from torch import nn

from tsforecast.errors import InputError, TsforecastWarning

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "lr_factor",
    "train",
]

LrSchedule = Literal["cosine", "onecycle", "constant"]
Precision = Literal["auto", "bf16", "fp32"]

# Cosine decays to this fraction of the peak rate rather than to 0, so late steps still learn.
_MIN_LR_RATIO = 0.1
# One-cycle spends this fraction of the run ramping up (torch's OneCycleLR default).
_ONECYCLE_PCT_START = 0.3


@dataclass
class TrainingConfig:
    """Hyper-parameters of the loop (not of the model).

    `patience` counts evaluations (every `eval_every` steps) without a better validation loss
    before stopping; None never stops early. `time_budget_s` stops the run after that many
    seconds of training and also stretches the schedule so that the learning rate has decayed
    when the budget ends. `precision="auto"` uses bf16 autocast on CUDA and fp32 elsewhere.
    `progress=None` shows a progress bar only when stderr is a terminal.
    """

    max_steps: int = 1000
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    lr_schedule: LrSchedule = "cosine"
    grad_clip_norm: float | None = 1.0
    eval_every: int = 50
    patience: int | None = 10
    time_budget_s: float | None = None
    precision: Precision = "auto"
    progress: bool | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_steps", "batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"`{name}` must be a positive integer, got {value!r}."
                raise InputError(msg)
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, int):
            msg = f"`warmup_steps` must be a non-negative integer, got {self.warmup_steps!r}."
            raise InputError(msg)
        if self.warmup_steps < 0:
            msg = f"`warmup_steps` must be a non-negative integer, got {self.warmup_steps!r}."
            raise InputError(msg)
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            msg = f"`learning_rate` must be a positive number, got {self.learning_rate!r}."
            raise InputError(msg)
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            msg = f"`weight_decay` must be a non-negative number, got {self.weight_decay!r}."
            raise InputError(msg)
        if self.lr_schedule not in ("cosine", "onecycle", "constant"):
            msg = (
                "`lr_schedule` must be one of 'cosine', 'onecycle', 'constant', "
                f"got {self.lr_schedule!r}."
            )
            raise InputError(msg)
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            clip = self.grad_clip_norm
            msg = f"`grad_clip_norm` must be a positive number or None, got {clip!r}."
            raise InputError(msg)
        patience = self.patience
        if patience is not None and (
            isinstance(patience, bool) or not isinstance(patience, int) or patience < 1
        ):
            msg = f"`patience` must be a positive integer or None, got {self.patience!r}."
            raise InputError(msg)
        if self.time_budget_s is not None and not self.time_budget_s > 0:
            msg = f"`time_budget_s` must be a positive number or None, got {self.time_budget_s!r}."
            raise InputError(msg)
        if self.precision not in ("auto", "bf16", "fp32"):
            msg = f"`precision` must be one of 'auto', 'bf16', 'fp32', got {self.precision!r}."
            raise InputError(msg)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            msg = f"`seed` must be an integer, got {self.seed!r}."
            raise InputError(msg)


@dataclass
class TrainingResult:
    """What the loop did.

    `history` has one dict per evaluation: step, train_loss (mean over the steps since the
    previous evaluation), val_loss (None without validation), lr, elapsed_s.
    `stopped_reason` is one of "max_steps", "early_stopping", "time_budget", "non_finite_loss".
    `best_step` is the step whose weights the module holds after training (the last step when
    there is no validation).
    """

    history: list[dict[str, Any]] = field(default_factory=list)
    best_step: int = 0
    best_val_loss: float | None = None
    stopped_reason: str = "max_steps"


def lr_factor(progress: float, step: int, warmup_steps: int, schedule: LrSchedule) -> float:
    """Multiplier of the peak learning rate.

    `progress` in [0, 1] is how far the run is (steps or wall clock, whichever is further);
    `step` counts optimizer steps from 0 and drives the linear warm-up.
    """
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "onecycle":
        # Ramp up over the first 30 %, then a cosine down to almost 0 (as torch's OneCycleLR).
        if progress < _ONECYCLE_PCT_START:
            return 0.04 + 0.96 * progress / _ONECYCLE_PCT_START
        rest = (progress - _ONECYCLE_PCT_START) / (1.0 - _ONECYCLE_PCT_START)
        return 1e-4 + (1.0 - 1e-4) * 0.5 * (1.0 + math.cos(math.pi * rest))
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    if schedule == "constant":
        return warm
    cosine = _MIN_LR_RATIO + (1.0 - _MIN_LR_RATIO) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return warm * cosine


def _autocast(device: torch.device, precision: Precision) -> Any:
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    if not use_bf16:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _optimizer(module: nn.Module, config: TrainingConfig, device: torch.device) -> Any:
    # No weight decay on biases and other 1-d parameters (nanoGPT / common practice).
    params = [p for p in module.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"lr": config.learning_rate}
    if device.type == "cuda":
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    # Seed a private copy of the global RNG (dropout draws from it) so that training is
    # reproducible without changing the user's global random state.
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class _Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, enabled: bool, total: int, stream: TextIO) -> None:
        self.enabled = enabled
        self.total = total
        self.stream = stream
        self._last = 0.0

    def update(self, step: int, elapsed: float, loss: float | None, val: float | None) -> None:
        if not self.enabled or (time.perf_counter() - self._last < 0.1 and step < self.total):
            return
        self._last = time.perf_counter()
        width = 24
        done = int(width * step / self.total)
        text = f"\r[{'#' * done}{'.' * (width - done)}] {step}/{self.total} {elapsed:6.1f}s"
        if loss is not None:
            text += f" loss {loss:.4f}"
        if val is not None:
            text += f" val {val:.4f}"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def train(
    module: nn.Module,
    train_loss: Callable[[nn.Module, torch.Generator], torch.Tensor],
    *,
    val_loss: Callable[[nn.Module], torch.Tensor] | None,
    config: TrainingConfig,
    device: torch.device,
) -> TrainingResult:
    """Train `module` in place and return what happened.

    `train_loss(module, generator)` draws a batch with `generator` (a `torch.Generator` on
    `device`, seeded from `config.seed`) and returns a scalar loss; the loop does the
    zero_grad / backward / clip / step. `val_loss(module)` is called under `no_grad` with the
    module in eval mode every `eval_every` steps and at the end; the weights with the lowest
    validation loss are restored when training stops. The module must already be on `device`.
    """
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    optimizer = _optimizer(module, config, device)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    progress = _Progress(show, config.max_steps, sys.stderr)

    result = TrainingResult()
    best_state: dict[str, torch.Tensor] | None = None
    best_val = math.inf
    evals_without_gain = 0
    # Losses are summed on the device and read once per evaluation: a `.item()` per step would
    # synchronise a GPU every step.
    loss_sum = torch.zeros((), device=device)
    n_since_eval = 0
    step = 0
    start = time.perf_counter()

    def evaluate(elapsed: float, lr: float) -> bool:
        """Record one evaluation; True when early stopping should end the run."""
        nonlocal best_state, best_val, evals_without_gain, loss_sum, n_since_eval
        mean_train = float(loss_sum.item()) / max(n_since_eval, 1)
        loss_sum = torch.zeros((), device=device)
        n_since_eval = 0
        val: float | None = None
        if val_loss is not None:
            module.eval()
            with torch.no_grad(), _autocast(device, config.precision):
                val = float(val_loss(module).float().item())
            module.train()
            if val < best_val:
                best_val = val
                best_state = _copy_state(module)
                result.best_step = step
                evals_without_gain = 0
            else:
                evals_without_gain += 1
        else:
            # Without validation the latest finite weights are the best we know of.
            best_state = _copy_state(module)
            result.best_step = step
        result.history.append(
            {
                "step": step,
                "train_loss": mean_train,
                "val_loss": val,
                "lr": lr,
                "elapsed_s": elapsed,
            }
        )
        progress.update(step, elapsed, mean_train, val)
        return config.patience is not None and evals_without_gain >= config.patience

    module.train()
    lr = config.learning_rate
    with _seeded(config.seed, device):
        while True:
            elapsed = time.perf_counter() - start
            frac = step / config.max_steps
            if config.time_budget_s is not None:
                frac = max(frac, elapsed / config.time_budget_s)
            lr = config.learning_rate * lr_factor(
                frac, step, config.warmup_steps, config.lr_schedule
            )
            for group in optimizer.param_groups:
                group["lr"] = lr

            with _autocast(device, config.precision):
                loss = train_loss(module, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.float().backward()
            if config.grad_clip_norm is not None:
                nn.utils.clip_grad_norm_(module.parameters(), config.grad_clip_norm)
            optimizer.step()
            step += 1
            loss_sum = loss_sum + loss.detach().float()
            n_since_eval += 1

            elapsed = time.perf_counter() - start
            out_of_time = config.time_budget_s is not None and elapsed >= config.time_budget_s
            last = step >= config.max_steps or out_of_time
            if step % config.eval_every == 0 or last:
                if not math.isfinite(float(loss_sum.item())):
                    result.stopped_reason = "non_finite_loss"
                    result.history.append(
                        {
                            "step": step,
                            "train_loss": math.nan,
                            "val_loss": None,
                            "lr": lr,
                            "elapsed_s": elapsed,
                        }
                    )
                    msg = (
                        f"training loss became non-finite by step {step}; the weights of step "
                        f"{result.best_step} are kept. Lower `learning_rate` or check the "
                        "input for extreme values."
                    )
                    warnings.warn(msg, TsforecastWarning, stacklevel=3)
                    break
                if evaluate(elapsed, lr):
                    result.stopped_reason = "early_stopping"
                    break
                if step >= config.max_steps:
                    result.stopped_reason = "max_steps"
                    break
                if out_of_time:
                    result.stopped_reason = "time_budget"
                    break
            else:
                progress.update(step, elapsed, None, None)
    progress.close()

    if best_state is not None:
        module.load_state_dict(best_state)
    if val_loss is not None and math.isfinite(best_val):
        result.best_val_loss = best_val
    module.eval()
    return result
