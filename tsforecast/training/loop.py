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

Data-parallel: with `distributed=` a `DistributedRun` the training forward goes through
DistributedDataParallel, and the clock (with a budget), the training loss and the stop decision
are agreed over the ranks (`tsforecast.training.distributed` says how).
"""

from __future__ import annotations

import math
import numbers
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

import torch
from torch import nn

from tsforecast.checks import (
    check_time_budget,
    non_negative_int,
    one_of,
    positive_int,
    positive_int_or_none,
)
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.training.distributed import STOP_REASONS, DistributedRun
from tsforecast.training.precision import Precision, precision_context, resolve_precision

__all__ = [
    "TrainingConfig",
    "TrainingResult",
    "check_ema_decay",
    "lr_factor",
    "train",
]

LrSchedule = Literal["cosine", "onecycle", "constant"]

# Cosine decays to this fraction of the peak rate rather than to 0, so late steps still learn.
_MIN_LR_RATIO = 0.1
# One-cycle spends this fraction of the run ramping up (torch's OneCycleLR default).
_ONECYCLE_PCT_START = 0.3


@dataclass
class TrainingConfig:
    """Hyper-parameters of the loop (not of the model).

    `patience` counts evaluations (every `eval_every` steps) without a better validation loss
    before stopping; None never stops early. With a decaying schedule (cosine, onecycle) the
    count starts once the run is `patience_after` of the way through it (in steps, or in
    seconds of `time_budget_s`): near its peak rate the validation loss is noisy, and a stop
    there skips the decay that gives most of the gain (auto's bilstm on M4 Hourly stopped at 45
    s of its 108 s, the rate at 66 % of its peak; the best weights are still kept from the
    first evaluation on). `time_budget_s` stops the run after that many
    seconds of training and also stretches the schedule so that the learning rate has decayed
    when the budget ends. `precision="auto"` uses bf16 autocast on CUDA and fp32 elsewhere; the
    LSTMs compute in fp32 either way (`tsforecast.training.precision` says why).
    `progress=None` shows a progress bar only when stderr is a terminal.
    `ema_decay` (None: off) keeps an exponential moving average of the weights, updated after
    every step with the decay min(ema_decay, (1 + t) / (10 + t)) at step t (the warm-up keeps
    the first steps' weights from dominating, as TensorFlow's ExponentialMovingAverage does
    with `num_updates`); validation, the best weights and the result are the averaged weights,
    while the optimizer keeps stepping the raw ones. Why: a time-budgeted run ends wherever
    the clock stops it, and the last steps' noise moves the result from run to run; the
    average is a smoother point of the same trajectory (auto's bilstm, M4 Weekly, three seeds:
    test OWA 0.6825-0.7015 without, 0.6841-0.6880 with 0.999; README, Neural forecasters).
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
    patience_after: float = 0.5
    time_budget_s: float | None = None
    precision: Precision = "auto"
    progress: bool | None = None
    seed: int = 0
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_steps", "batch_size", "eval_every"):
            positive_int(name, getattr(self, name))
        non_negative_int("warmup_steps", self.warmup_steps)
        positive_int_or_none("patience", self.patience)
        one_of("lr_schedule", self.lr_schedule, ("cosine", "onecycle", "constant"))
        after = self.patience_after
        if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after <= 1:
            msg = f"`patience_after` must be a number in [0, 1], got {after!r}."
            raise InputError(msg)
        one_of("precision", self.precision, ("auto", "bf16", "fp32"))
        check_time_budget(self.time_budget_s)
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            msg = f"`learning_rate` must be a positive number, got {self.learning_rate!r}."
            raise InputError(msg)
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            msg = f"`weight_decay` must be a non-negative number, got {self.weight_decay!r}."
            raise InputError(msg)
        if self.grad_clip_norm is not None and not self.grad_clip_norm > 0:
            clip = self.grad_clip_norm
            msg = f"`grad_clip_norm` must be a positive number or None, got {clip!r}."
            raise InputError(msg)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            msg = f"`seed` must be an integer, got {self.seed!r}."
            raise InputError(msg)
        check_ema_decay(self.ema_decay)


def check_ema_decay(decay: object) -> None:
    """Raise `InputError` unless `decay` is None or a number in [0, 1) (0 is off, as None: a
    TOML config has no null)."""
    if decay is None:
        return
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not 0 <= float(decay) < 1:
        msg = (
            "`ema_decay` must be None or 0 (no weight averaging; 0 in a TOML config) or a "
            f"number in (0, 1) such as 0.999, got {decay!r}."
        )
        raise InputError(msg)


@dataclass
class TrainingResult:
    """What the loop did.

    `history` has one dict per evaluation: step, train_loss (mean over the steps since the
    previous evaluation), val_loss (None without validation), lr, elapsed_s (wall clock since
    training began) and cpu_s (CPU seconds this process used since then, over all its threads:
    on a shared machine the cost of the work itself, which other processes' load does not
    inflate the way it inflates wall time).
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


def _optimizer(module: nn.Module, config: TrainingConfig, device: torch.device) -> Any:
    # No weight decay on biases and other 1-d parameters (nanoGPT / common practice).
    params = [p for p in module.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # The fused kernel does the whole AdamW update in one pass over each parameter (one
    # vectorised loop on CPU, few kernels on CUDA) instead of ~10 elementwise ops per parameter:
    # the same update up to float rounding. torch has it on CPU and CUDA for float parameters.
    fused = device.type in ("cpu", "cuda") and all(p.is_floating_point() for p in params)
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=fused or None)


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


class _WeightAverage:
    """The exponential moving average of the trained parameters (`TrainingConfig.ema_decay`)."""

    def __init__(self, params: Sequence[torch.Tensor], decay: float) -> None:
        self.params: list[torch.Tensor] = list(params)
        self.decay = decay
        with torch.no_grad():
            self.average = [p.detach().clone() for p in params]

    def update(self, step: int) -> None:
        """After optimizer step `step` (1 for the first)."""
        decay = min(self.decay, (1 + step) / (10 + step))
        with torch.no_grad():
            # one multi-tensor op for all parameters: average += (1 - decay) (param - average)
            torch._foreach_lerp_(self.average, [p.detach() for p in self.params], 1.0 - decay)

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """The module holds the averaged weights inside the block, its trained ones after."""
        with torch.no_grad():
            trained = [p.detach().clone() for p in self.params]
            torch._foreach_copy_(self.params, self.average)
        try:
            yield
        finally:
            with torch.no_grad():
                torch._foreach_copy_(self.params, trained)


class _Evaluations:
    """What the evaluations keep between them: the training loss since the last one, the best
    weights, the early-stopping count, and the history in `result`."""

    def __init__(
        self,
        module: nn.Module,
        val_loss: Callable[[nn.Module], torch.Tensor] | None,
        config: TrainingConfig,
        device: torch.device,
        precision: Literal["bf16", "fp32"],
        result: TrainingResult,
        distributed: DistributedRun | None = None,
    ) -> None:
        self.module, self.val_loss, self.config, self.device = module, val_loss, config, device
        self.precision = precision
        self.distributed = distributed
        self.result = result
        self.cpu_start = time.process_time()
        self.best_state: dict[str, torch.Tensor] | None = None
        self.best_val = math.inf
        self.evals_without_gain = 0
        # Losses are summed on the device and read once per evaluation: a `.item()` per step
        # would synchronise a GPU every step.
        self.loss_sum = torch.zeros((), device=device)
        self.n_since_eval = 0

    def add(self, loss: torch.Tensor) -> None:
        self.loss_sum = self.loss_sum + loss.detach().float()
        self.n_since_eval += 1

    def is_finite(self) -> bool:
        if self.distributed is not None:
            # the mean over ranks: every rank then sees the same loss, finite or not
            (total,) = self.distributed.all_reduce([float(self.loss_sum.item())])
            self.loss_sum = torch.tensor(total / self.distributed.world_size, device=self.device)
        return math.isfinite(float(self.loss_sum.item()))

    def record(
        self, step: int, train_loss: float, val: float | None, lr: float, elapsed: float
    ) -> None:
        entry = {"step": step, "train_loss": train_loss, "val_loss": val, "lr": lr}
        cpu = time.process_time() - self.cpu_start
        self.result.history.append({**entry, "elapsed_s": elapsed, "cpu_s": cpu})

    def evaluate(self, step: int, elapsed: float) -> tuple[float, float | None]:
        """(mean training loss since the last evaluation, validation loss or None)."""
        mean_train = float(self.loss_sum.item()) / max(self.n_since_eval, 1)
        self.loss_sum = torch.zeros((), device=self.device)
        self.n_since_eval = 0
        if self.val_loss is None:
            # Without validation the latest finite weights are the best we know of.
            self.best_state = _copy_state(self.module)
            self.result.best_step = step
            return mean_train, None
        self.module.eval()
        with torch.no_grad(), precision_context(self.device, self.precision):
            val = float(self.val_loss(self.module).float().item())
        self.module.train()
        if self.distributed is not None:
            # rank 0's value, bit for bit: best step and early stopping then agree everywhere
            (val,) = self.distributed.broadcast([val])
        if val < self.best_val:
            self.best_val = val
            self.best_state = _copy_state(self.module)
            self.result.best_step = step
            self.evals_without_gain = 0
        elif _patience_counts(self.config, step, elapsed):
            self.evals_without_gain += 1
        return mean_train, val

    def should_stop_early(self) -> bool:
        patience = self.config.patience
        return patience is not None and self.evals_without_gain >= patience

    def restore_best(self) -> None:
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)
        if self.val_loss is not None and math.isfinite(self.best_val):
            self.result.best_val_loss = self.best_val


def _run_progress(config: TrainingConfig, step: int, elapsed: float) -> float:
    """How far the run is: in steps, or in wall clock when a budget runs out first."""
    frac = step / config.max_steps
    if config.time_budget_s is not None:
        frac = max(frac, elapsed / config.time_budget_s)
    return frac


def _patience_counts(config: TrainingConfig, step: int, elapsed: float) -> bool:
    """Whether an evaluation without gain counts toward `patience` (see `TrainingConfig`)."""
    if config.lr_schedule == "constant":
        return True
    return _run_progress(config, step, elapsed) >= config.patience_after


def _learning_rate(config: TrainingConfig, step: int, elapsed: float) -> float:
    frac = _run_progress(config, step, elapsed)
    return config.learning_rate * lr_factor(frac, step, config.warmup_steps, config.lr_schedule)


def train(
    module: nn.Module,
    train_loss: Callable[[nn.Module, torch.Generator], torch.Tensor],
    *,
    val_loss: Callable[[nn.Module], torch.Tensor] | None,
    config: TrainingConfig,
    device: torch.device,
    distributed: DistributedRun | None = None,
) -> TrainingResult:
    """Train `module` in place and return what happened.

    `train_loss(module, generator)` draws a batch with `generator` (a `torch.Generator` on
    `device`, seeded from `config.seed`) and returns a scalar loss; the loop does the
    zero_grad / backward / clip / step. `val_loss(module)` is called under `no_grad` with the
    module in eval mode every `eval_every` steps and at the end; the weights with the lowest
    validation loss are restored when training stops. The module must already be on `device`.
    With `distributed`, `train_loss` gets the module wrapped in DistributedDataParallel and
    draws this rank's batch; `val_loss` must return the mean over every rank's windows.
    """
    # the clock starts before the optimizer is built: its first construction in a process
    # imports part of torch (about 2 s), time that a budget must count
    start = time.perf_counter()
    device = torch.device(device)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    optimizer = _optimizer(module, config, device)
    # the parameters the optimizer updates, listed once rather than walked every step
    trained = [p for p in module.parameters() if p.requires_grad]
    precision = resolve_precision(device, config.precision)
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    progress = _Progress(show, config.max_steps, sys.stderr)
    result = TrainingResult()
    evals = _Evaluations(module, val_loss, config, device, precision, result, distributed)
    step = 0
    elapsed = 0.0
    forward_module = distributed.wrap(module) if distributed is not None else module
    # every rank steps the same synchronised weights, so their averages agree too
    average = _WeightAverage(trained, float(config.ema_decay)) if config.ema_decay else None
    averaged = average.swapped_in if average is not None else nullcontext

    def clock() -> float:
        seconds = time.perf_counter() - start
        if distributed is not None and config.time_budget_s is not None:
            # the learning rate and the budget follow the clock: every rank reads the same one
            (seconds,) = distributed.all_reduce([seconds], op="max")
        return seconds

    module.train()
    # dropout draws from this RNG: each rank its own masks, as one process would draw distinct
    # masks for the windows of a batch (the batch generator stays shared by every rank)
    rank = distributed.rank if distributed is not None else 0
    with _seeded(config.seed + rank, device):
        while True:
            lr = _learning_rate(config, step, elapsed)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with precision_context(device, precision):
                loss = train_loss(forward_module, generator)
            optimizer.zero_grad(set_to_none=True)
            loss.float().backward()
            if config.grad_clip_norm is not None:
                # on CPU and CUDA torch clips with multi-tensor (foreach) ops and no host sync
                nn.utils.clip_grad_norm_(trained, config.grad_clip_norm)
            optimizer.step()
            step += 1
            if average is not None:
                average.update(step)
            evals.add(loss)

            elapsed = clock()
            out_of_time = config.time_budget_s is not None and elapsed >= config.time_budget_s
            if not (step % config.eval_every == 0 or step >= config.max_steps or out_of_time):
                progress.update(step, elapsed, None, None)
                continue
            is_finite = evals.is_finite()  # reads the summed loss: waits for the device
            # Read the clock again after that wait: on CUDA the host runs ahead of the kernels
            # it queued, and the history's time stamps (what throughput is measured from)
            # should count the work done, not the work queued.
            elapsed = clock()
            if not is_finite:
                result.stopped_reason = "non_finite_loss"
                evals.record(step, math.nan, None, lr, elapsed)
                msg = (
                    f"training loss became non-finite by step {step}; the weights of step "
                    f"{result.best_step} are kept. Lower `learning_rate` or check the "
                    "input for extreme values."
                )
                warnings.warn(msg, TsforecastWarning, stacklevel=3)
                break
            with averaged():  # validated and kept as best: the averaged weights
                mean_train, val = evals.evaluate(step, elapsed)
            evals.record(step, mean_train, val, lr, elapsed)
            progress.update(step, elapsed, mean_train, val)
            reason = ""
            if evals.should_stop_early():
                reason = "early_stopping"
            elif step >= config.max_steps or out_of_time:
                reason = "max_steps" if step >= config.max_steps else "time_budget"
            if distributed is not None:
                # rank 0 decides: no rank may leave while another waits in a collective
                (code,) = distributed.broadcast([float(STOP_REASONS.index(reason))])
                reason = STOP_REASONS[int(code)]
            if reason:
                result.stopped_reason = reason
                break
    progress.close()
    evals.restore_best()
    module.eval()
    return result
