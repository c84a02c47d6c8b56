"""`ema_decay`: the loop validates, keeps and returns an exponential moving average of the
weights, while the optimizer keeps stepping the raw ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import tsforecast as tsf
from tsforecast.errors import InputError
from tsforecast.estimators import registry
from tsforecast.estimators.auto import AutoForecaster
from tsforecast.training import TrainingConfig, train


def _train_loss(module: nn.Module, generator: torch.Generator) -> torch.Tensor:
    x = torch.randn(32, 3, generator=generator)  # -> (B, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])  # -> (B,)
    return nn.functional.mse_loss(module(x).squeeze(-1), y)


def _trajectory(config: TrainingConfig) -> list[list[torch.Tensor]]:
    """The raw weights after every step of the same run without averaging."""
    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    weights: list[list[torch.Tensor]] = []

    def recording_loss(m: nn.Module, g: torch.Generator) -> torch.Tensor:
        weights.append([p.detach().clone() for p in m.parameters()])  # before this step
        return _train_loss(m, g)

    train(module, recording_loss, val_loss=None, config=config, device=torch.device("cpu"))
    weights.append([p.detach().clone() for p in module.parameters()])  # after the last step
    return weights


def test_the_result_is_the_warmed_up_moving_average_of_the_raw_weights() -> None:
    plain = TrainingConfig(max_steps=30, eval_every=10, grad_clip_norm=None)
    raw = _trajectory(plain)  # raw[t]: the weights after t steps

    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    averaged = TrainingConfig(max_steps=30, eval_every=10, grad_clip_norm=None, ema_decay=0.9)
    train(module, _train_loss, val_loss=None, config=averaged, device=torch.device("cpu"))

    expected = [p.clone() for p in raw[0]]
    for step in range(1, 31):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, raw[step], strict=True)]
    for got, want, last in zip(module.parameters(), expected, raw[30], strict=True):
        torch.testing.assert_close(got.detach(), want, rtol=1e-5, atol=1e-6)
        assert not torch.allclose(got.detach(), last)  # not the raw weights


def test_averaging_does_not_change_the_raw_trajectory() -> None:
    # The raw weights the optimizer steps are those of a run without averaging: validation
    # swaps the average in and the trained weights back.
    config = TrainingConfig(max_steps=20, eval_every=5, grad_clip_norm=None)
    raw = _trajectory(config)
    seen: list[list[torch.Tensor]] = []

    def recording_loss(m: nn.Module, g: torch.Generator) -> torch.Tensor:
        seen.append([p.detach().clone() for p in m.parameters()])
        return _train_loss(m, g)

    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    averaged = TrainingConfig(max_steps=20, eval_every=5, grad_clip_norm=None, ema_decay=0.99)
    train(
        module,
        recording_loss,
        val_loss=lambda m: _train_loss(m, torch.Generator().manual_seed(1)),
        config=averaged,
        device=torch.device("cpu"),
    )
    for before_step, want in zip(seen, raw, strict=False):
        for got, expected in zip(before_step, want, strict=True):
            torch.testing.assert_close(got, expected)


def test_validation_and_the_kept_weights_are_the_averaged_ones() -> None:
    # the weights validation sees at step 30 are the moving average of the raw trajectory,
    # and the module keeps them (the one evaluation is the best)
    fast = {"learning_rate": 0.05, "warmup_steps": 0, "grad_clip_norm": None}
    raw = _trajectory(TrainingConfig(max_steps=30, eval_every=30, **fast))
    expected = raw[0][0].clone()  # the weight matrix
    for step in range(1, 31):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * raw[step][0]

    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    val_weights: list[torch.Tensor] = []

    def val_loss(m: nn.Module) -> torch.Tensor:
        val_weights.append(m.weight.detach().clone())
        return _train_loss(m, torch.Generator().manual_seed(1))

    config = TrainingConfig(max_steps=30, eval_every=30, ema_decay=0.9, **fast)
    train(module, _train_loss, val_loss=val_loss, config=config, device=torch.device("cpu"))
    assert len(val_weights) == 1
    torch.testing.assert_close(val_weights[0], expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(val_weights[0], raw[30][0], atol=1e-2)
    torch.testing.assert_close(module.weight.detach(), val_weights[0])


def test_early_stopping_restores_the_best_average() -> None:
    # validation gets worse after the first evaluation: the average of step 5 is restored
    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    seen: list[torch.Tensor] = []

    def worsening(m: nn.Module) -> torch.Tensor:
        seen.append(m.weight.detach().clone())
        return torch.tensor(float(len(seen)))

    config = TrainingConfig(
        max_steps=100, eval_every=5, patience=2, patience_after=0.0, ema_decay=0.9
    )
    result = train(
        module, _train_loss, val_loss=worsening, config=config, device=torch.device("cpu")
    )
    assert result.stopped_reason == "early_stopping" and result.best_step == 5
    torch.testing.assert_close(module.weight.detach(), seen[0])


def test_ema_decay_takes_any_real_number_and_zero_means_off() -> None:
    TrainingConfig(ema_decay=np.float32(0.99))  # type: ignore[arg-type]
    torch.manual_seed(0)
    a = nn.Linear(3, 1)
    train(
        a,
        _train_loss,
        val_loss=None,
        config=TrainingConfig(max_steps=5, ema_decay=0.0),
        device=torch.device("cpu"),
    )
    torch.manual_seed(0)
    b = nn.Linear(3, 1)
    train(
        b,
        _train_loss,
        val_loss=None,
        config=TrainingConfig(max_steps=5),
        device=torch.device("cpu"),
    )
    torch.testing.assert_close(a.weight, b.weight)


@pytest.mark.parametrize("decay", [1.0, -0.1, 1.5, True, "0.99"])
def test_an_ema_decay_outside_zero_to_one_is_refused(decay: object) -> None:
    with pytest.raises(InputError, match="ema_decay"):
        TrainingConfig(ema_decay=decay)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="ema_decay"):
        registry.build("lstm", {"ema_decay": decay}, horizon=2)


def _panel() -> pd.DataFrame:
    t = pd.date_range("2024-01-01", periods=80, freq="D")
    frames = [
        pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": 10.0 + i + torch.arange(80).sin()})
        for i in range(3)
    ]
    return pd.concat(frames, ignore_index=True)


def test_a_forecaster_with_ema_decay_records_it_and_differs_from_one_without() -> None:
    df = _panel()
    kwargs = {"horizon": 4, "input_size": 8, "max_steps": 30, "progress": False}
    plain = tsf.models.LSTMForecaster(**kwargs).fit(df)
    averaged = tsf.models.LSTMForecaster(**kwargs, ema_decay=0.9).fit(df)
    assert averaged.get_params()["ema_decay"] == 0.9
    assert not plain.predict()["y"].equals(averaged.predict()["y"])


def test_a_model_with_ema_decay_saves_and_loads(tmp_path: Path) -> None:
    df = _panel()
    model = tsf.models.LSTMForecaster(
        horizon=4, input_size=8, max_steps=20, ema_decay=0.9, progress=False
    ).fit(df)
    model.save(tmp_path / "m")
    loaded = tsf.models.load(tmp_path / "m")
    assert loaded.get_params()["ema_decay"] == 0.9
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def test_a_model_saved_before_ema_decay_existed_loads_without_it(tmp_path: Path) -> None:
    model = tsf.models.LSTMForecaster(horizon=4, input_size=8, max_steps=5, progress=False)
    model.fit(_panel()).save(tmp_path / "m")
    config_files = [p for p in (tmp_path / "m").rglob("*.json") if "ema_decay" in p.read_text()]
    assert config_files, "the saved parameters should name ema_decay"
    for path in config_files:
        saved = json.loads(path.read_text())
        _drop_key(saved, "ema_decay")
        path.write_text(json.dumps(saved))
    loaded = tsf.models.load(tmp_path / "m")
    assert loaded.get_params()["ema_decay"] is None
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def _drop_key(value: object, key: str) -> None:
    if isinstance(value, dict):
        value.pop(key, None)
        for inner in value.values():
            _drop_key(inner, key)
    elif isinstance(value, list):
        for inner in value:
            _drop_key(inner, key)


def test_auto_trains_its_neural_candidate_with_averaged_weights() -> None:
    auto = AutoForecaster(horizon=4, candidates=["naive", "lstm"])
    assert auto._build("lstm", 7, None).get_params()["ema_decay"] == 0.999
    # candidate_params win, None included
    auto = AutoForecaster(
        horizon=4, candidates=["naive", "lstm"], candidate_params={"lstm": {"ema_decay": None}}
    )
    assert auto._build("lstm", 7, None).get_params()["ema_decay"] is None
