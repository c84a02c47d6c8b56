"""Tests of the shared training loop (tsforecast/training/loop.py)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn

from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.training import TrainingConfig, TrainingResult, lr_factor, train

CPU = torch.device("cpu")


def _regression_problem(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(512, 4, generator=g)
    w = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return x, x @ w + 0.01 * torch.randn(512, 1, generator=g)


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.1), nn.ReLU(), nn.Linear(16, 1))


def _closures(x: torch.Tensor, y: torch.Tensor, batch_size: int = 32):  # type: ignore[no-untyped-def]
    def train_loss(module: nn.Module, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, 400, (batch_size,), generator=gen)
        return nn.functional.mse_loss(module(x[idx]), y[idx])

    def val_loss(module: nn.Module) -> torch.Tensor:
        return nn.functional.mse_loss(module(x[400:]), y[400:])

    return train_loss, val_loss


def test_learns_a_linear_map_and_records_history() -> None:
    x, y = _regression_problem()
    module = _model()
    train_loss, val_loss = _closures(x, y)
    cfg = TrainingConfig(max_steps=200, eval_every=40, learning_rate=2e-2, progress=False)
    result = train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
    assert isinstance(result, TrainingResult)
    assert [h["step"] for h in result.history] == [40, 80, 120, 160, 200]
    assert set(result.history[0]) == {"step", "train_loss", "val_loss", "lr", "elapsed_s", "cpu_s"}
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.best_val_loss is not None and result.best_val_loss < 0.1
    assert result.best_val_loss == min(h["val_loss"] for h in result.history)
    assert not module.training  # handed back in eval mode


def test_same_seed_same_weights_and_global_rng_untouched() -> None:
    x, y = _regression_problem()
    train_loss, val_loss = _closures(x, y)
    states = []
    for _ in range(2):
        module = _model()
        torch.manual_seed(123)
        before = torch.rand(1)
        torch.manual_seed(123)
        cfg = TrainingConfig(max_steps=30, eval_every=10, seed=7, progress=False)
        train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
        after = torch.rand(1)
        assert torch.equal(before, after)  # the loop did not consume the user's RNG
        states.append(module.state_dict())
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k])

    module = _model()
    cfg = TrainingConfig(max_steps=30, eval_every=10, seed=8, progress=False)
    train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
    assert not torch.equal(module.state_dict()["0.weight"], states[0]["0.weight"])


def test_early_stopping_restores_best_weights() -> None:
    x, y = _regression_problem()
    module = _model()
    train_loss, _ = _closures(x, y)
    # A validation loss that gets worse after the first evaluation, whatever the weights.
    calls: list[torch.Tensor] = []

    def val_loss(m: nn.Module) -> torch.Tensor:
        calls.append(m[0].weight.detach().clone())
        return torch.tensor(float(len(calls)))

    cfg = TrainingConfig(
        max_steps=1000, eval_every=10, patience=3, patience_after=0.0, progress=False
    )
    result = train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
    assert result.stopped_reason == "early_stopping"
    assert len(result.history) == 4
    assert result.best_step == 10
    assert result.best_val_loss == 1.0
    assert torch.equal(module[0].weight, calls[0])


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_patience_counts_only_in_the_second_half_of_a_decaying_schedule(schedule: str) -> None:
    # Near its peak rate the validation loss is noisy: a stop there would skip the decay.
    x, y = _regression_problem()
    module = _model()
    train_loss, _ = _closures(x, y)
    calls: list[int] = []

    def worse_every_time(m: nn.Module) -> torch.Tensor:
        calls.append(1)
        return torch.tensor(float(len(calls)))

    cfg = TrainingConfig(
        max_steps=200, eval_every=10, patience=3, lr_schedule=schedule, progress=False
    )
    result = train(module, train_loss, val_loss=worse_every_time, config=cfg, device=CPU)
    # the evaluations at steps 20..90 do not count; those at 100, 110 and 120 do
    assert result.stopped_reason == "early_stopping"
    assert [h["step"] for h in result.history][-1] == 120
    assert result.best_step == 10


def test_patience_counts_from_the_start_with_a_constant_rate() -> None:
    x, y = _regression_problem()
    module = _model()
    train_loss, _ = _closures(x, y)
    calls: list[int] = []

    def worse_every_time(m: nn.Module) -> torch.Tensor:
        calls.append(1)
        return torch.tensor(float(len(calls)))

    cfg = TrainingConfig(
        max_steps=200, eval_every=10, patience=3, lr_schedule="constant", progress=False
    )
    result = train(module, train_loss, val_loss=worse_every_time, config=cfg, device=CPU)
    assert [h["step"] for h in result.history][-1] == 40


@pytest.mark.parametrize("value", [-0.1, 1.5, True, "half"])
def test_patience_after_must_be_a_share_of_the_run(value: object) -> None:
    with pytest.raises(InputError, match="patience_after"):
        TrainingConfig(patience_after=value)  # type: ignore[arg-type]


def test_no_validation_keeps_last_weights() -> None:
    x, y = _regression_problem()
    module = _model()
    train_loss, _ = _closures(x, y)
    cfg = TrainingConfig(max_steps=25, eval_every=10, progress=False)
    result = train(module, train_loss, val_loss=None, config=cfg, device=CPU)
    assert result.stopped_reason == "max_steps"
    assert [h["step"] for h in result.history] == [10, 20, 25]
    assert all(h["val_loss"] is None for h in result.history)
    assert result.best_step == 25 and result.best_val_loss is None


def test_time_budget_stops_the_run() -> None:
    x, y = _regression_problem()
    module = _model()
    train_loss, val_loss = _closures(x, y)
    cfg = TrainingConfig(max_steps=10**7, time_budget_s=0.3, eval_every=100, progress=False)
    result = train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
    assert result.stopped_reason == "time_budget"
    assert result.history[-1]["elapsed_s"] < 5.0
    # The schedule is stretched over the budget, so the rate has decayed by the end.
    assert result.history[-1]["lr"] < 0.2 * cfg.learning_rate


def test_non_finite_loss_stops_with_warning() -> None:
    module = _model()

    def bad_loss(m: nn.Module, gen: torch.Generator) -> torch.Tensor:
        return m(torch.full((2, 4), math.nan)).mean()

    cfg = TrainingConfig(max_steps=50, eval_every=5, progress=False)
    with pytest.warns(TsforecastWarning, match="non-finite"):
        result = train(module, bad_loss, val_loss=None, config=cfg, device=CPU)
    assert result.stopped_reason == "non_finite_loss"


def test_lr_schedules() -> None:
    assert lr_factor(0.0, 0, 10, "cosine") == pytest.approx(0.1)
    assert lr_factor(0.5, 20, 10, "cosine") == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(1.0, 100, 10, "cosine") == pytest.approx(0.1)
    assert lr_factor(0.7, 70, 10, "constant") == 1.0
    assert lr_factor(0.0, 4, 10, "constant") == pytest.approx(0.5)
    assert lr_factor(0.3, 0, 0, "onecycle") == pytest.approx(1.0)
    assert lr_factor(1.0, 0, 0, "onecycle") < 1e-3
    # Monotone decay after warm-up.
    values = [lr_factor(p / 100, p, 5, "cosine") for p in range(5, 101)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_progress_bar_quiet_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    x, y = _regression_problem()
    train_loss, val_loss = _closures(x, y)
    train(
        _model(),
        train_loss,
        val_loss=val_loss,
        config=TrainingConfig(max_steps=20, eval_every=10),
        device=CPU,
    )
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest
    train(
        _model(),
        train_loss,
        val_loss=val_loss,
        config=TrainingConfig(max_steps=20, eval_every=10, progress=True),
        device=CPU,
    )
    err = capsys.readouterr().err
    assert "20/20" in err and "val" in err


def test_bf16_autocast_on_cpu_runs() -> None:
    x, y = _regression_problem()
    train_loss, val_loss = _closures(x, y)
    module = _model()
    cfg = TrainingConfig(max_steps=20, eval_every=10, precision="bf16", progress=False)
    result = train(module, train_loss, val_loss=val_loss, config=cfg, device=CPU)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    assert math.isfinite(result.history[-1]["train_loss"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_steps": 0}, "`max_steps` must be a positive integer, got 0"),
        ({"batch_size": 2.5}, "`batch_size`"),
        ({"learning_rate": -1.0}, "`learning_rate`"),
        ({"warmup_steps": -1}, "`warmup_steps`"),
        ({"lr_schedule": "step"}, "`lr_schedule`"),
        ({"patience": 0}, "`patience`"),
        ({"time_budget_s": 0}, "`time_budget_s`"),
        ({"precision": "fp16"}, "`precision`"),
        ({"grad_clip_norm": 0.0}, "`grad_clip_norm`"),
    ],
)
def test_config_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(InputError, match=match):
        TrainingConfig(**kwargs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda_with_bf16() -> None:
    dev = torch.device("cuda")
    x, y = (t.to(dev) for t in _regression_problem())

    def train_loss(module: nn.Module, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, 400, (32,), generator=gen, device=dev)
        return nn.functional.mse_loss(module(x[idx]), y[idx])

    def val_loss(module: nn.Module) -> torch.Tensor:
        return nn.functional.mse_loss(module(x[400:]), y[400:])

    module = _model().to(dev)
    cfg = TrainingConfig(max_steps=200, eval_every=50, learning_rate=1e-2, progress=False)
    result = train(module, train_loss, val_loss=val_loss, config=cfg, device=dev)
    assert result.best_val_loss is not None and result.best_val_loss < 0.2


def test_a_saved_model_folder_is_written_whole_and_read_back(tmp_path) -> None:
    from tsforecast.errors import InputError
    from tsforecast.persistence import read_model_folder, write_model_folder

    write_model_folder(tmp_path / "m", {"w": torch.ones(2)}, {"class": "X"})
    write_model_folder(tmp_path / "m", {"w": torch.zeros(3)}, {"class": "Y"})  # replaces it
    config, tensors = read_model_folder(tmp_path / "m", "model")
    assert config == {"class": "Y"} and torch.equal(tensors["w"], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folder left behind
    with pytest.raises(InputError, match=r"is not a saved model \(it needs config.json"):
        read_model_folder(tmp_path / "nothing", "model")
