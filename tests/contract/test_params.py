"""Every model parameter reaches the model, through every entry point; unknown names are refused.

For each registered model and each of its `user_param_names()`, a valid value different from
the model's default is passed through the estimator (`registry.build`), `forecast(**params)`,
`backtest(models=[(name, params)])` and a TOML config. The model class's `fit` is replaced by
one that records `self.get_params()` and stops the call, so what arrives is observed on the very
estimator the entry point fits, at no training cost.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.helpers import (
    ENTRIES,
    HORIZON,
    MODELS,
    Case,
    Data,
    Recorded,
    build,
    cutoff_stamps,
    history_frame,
    param,
    run_backtest,
    run_forecast,
    run_toml,
    tiny_params,
)
from tsforecast.errors import InputError
from tsforecast.estimators import registry

# Valid non-default values, the first that differs from the model's default is used. A
# parameter missing here gets one from its default's type (bool: the other one; int: + 1).
CANDIDATE_VALUES: dict[str, list[Any]] = {
    "input_size": [6],
    "hidden_size": [5],
    "num_layers": [1, 3],
    "dropout": [0.2],
    "head_layers": [1],
    "head_hidden_size": [6],
    "patch_size": [2],
    "loss": ["mse"],
    "scaler": ["robust"],
    "target_transform": ["log"],
    "calendar": [True],
    "season_length": [5],
    "max_steps": [2],
    "batch_size": [8],
    "learning_rate": [0.01],
    "weight_decay": [0.001],
    "lr_schedule": ["constant"],
    "val_size": [2],
    "patience": [3],
    "patience_after": [0.25],
    "eval_every": [2],
    "ema_decay": [0.9],
    "time_budget_s": [30.0],
    "precision": ["fp32"],
    "device": ["cpu"],
    "seed": [5],
    "progress": [False],
    "fill": ["ffill"],
    "freq": ["D"],
    "n_jobs": [1],
    "teacher_forcing": [0.25],
    "teacher_forcing_decay": [0.75],
    "candidates": [["naive", "drift"]],
    "candidate_params": [{"lstm": {"hidden_size": 5}}],
    "combine": ["aicc"],
}


def effective_default(name: str, key: str) -> Any:
    model = registry.spec(name)
    return model.defaults.get(key, model.cls.param_defaults()[key])


def non_default_value(name: str, key: str) -> Any:
    default = effective_default(name, key)
    for value in CANDIDATE_VALUES.get(key, []):
        if value != default:
            return value
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1
    msg = f"add a valid non-default value of `{key}` ({name}) to CANDIDATE_VALUES"
    raise AssertionError(msg)


def cases(check: str) -> Iterator[Any]:
    for name in MODELS:
        try:
            keys = registry.spec(name).user_param_names() if check == "params" else [""]
        except ImportError:  # the model's class is not there yet: one placeholder per entry
            keys = ["<class missing>"]
        for key in keys:
            for entry in ENTRIES:
                yield param(Case(check, name, entry, param=key))


def call_entry(case: Case, params: dict[str, Any]) -> None:
    """Run the entry point of `case` on one short daily series with `params`."""
    history, _ = history_frame(1, "none", "datetime", lengths={"s1": 30})
    data = Data(df=history, future_df=None, history=history, future=None)
    if case.entry == "estimator":
        build(case, params).fit(data.df)
    elif case.entry == "forecast":
        run_forecast(case, data, params)
    elif case.entry == "backtest":
        run_backtest(case, data, params)
    else:
        run_toml(case, data, params)


@pytest.mark.parametrize("case", list(cases("params")))
def test_every_parameter_reaches_the_fitted_model(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = registry.spec(case.model).cls  # ImportError while the class is missing
    value = non_default_value(case.model, case.param)
    seen: list[dict[str, Any]] = []

    def recording_fit(self: Any, df: Any, future_df: Any = None) -> Any:
        seen.append(self.get_params())
        raise Recorded

    monkeypatch.setattr(cls, "fit", recording_fit)
    params = {**tiny_params(case.model), case.param: value}
    with contextlib.suppress(Recorded):
        call_entry(case, params)
    assert seen, f"{case.entry} never fitted a {cls.__name__}"
    got = seen[-1][case.param]
    normalise = (lambda v: list(v)) if isinstance(value, (list, tuple)) else (lambda v: v)
    assert normalise(got) == normalise(value), (
        f"{case.param}={value!r} given to {case.entry}, the model got {got!r}"
    )


@pytest.mark.parametrize("case", list(cases("unknown_param")))
def test_an_unknown_parameter_is_refused(case: Case) -> None:
    with pytest.raises(InputError, match="no_such_param"):
        call_entry(case, {**tiny_params(case.model), "no_such_param": 1})


@pytest.mark.parametrize("case", [param(Case("set_params", name)) for name in MODELS])
def test_set_params_refuses_unknown_names_and_bad_values_and_keeps_the_old_ones(
    case: Case,
) -> None:
    model = build(case)
    before = model.get_params()
    assert list(before) == model.param_names()
    assert set(inspect.signature(type(model).__init__).parameters) - {"self"} == set(before)
    with pytest.raises(InputError, match="no_such_param"):
        model.set_params(no_such_param=1)
    with pytest.raises(InputError, match="horizon"):
        model.set_params(horizon=0)
    assert model.get_params() == before
    assert model.set_params(seed=7) is model and model.seed == 7
    twin = model.clone()
    assert type(twin) is type(model) and twin is not model
    assert twin.get_params() == model.get_params()
    assert not twin.is_fitted


@pytest.mark.parametrize("case", [param(Case("set_params", name)) for name in MODELS])
def test_a_forecast_refuses_parameters_changed_after_fit_until_it_is_refitted(
    case: Case,
) -> None:
    """set_params after fit does not change what was fitted: predict, predict_cutoffs and
    save refuse (naming the change) rather than forecast with the old horizon under the new
    name; setting the value back, or fitting again, ends it. `n_jobs`, `progress` and
    `time_budget_s` are read at forecast time and may change."""
    model = build(case, levels=(80,))
    history, future = history_frame(1, "none", "datetime")
    model.fit(history, future_df=future)
    expected = model.predict()
    runtime = {"progress": True, "n_jobs": 1, "time_budget_s": 30.0}
    model.set_params(**{k: v for k, v in runtime.items() if k in model.param_names()})
    model.predict()
    model.set_params(horizon=HORIZON + 1)
    with pytest.raises(InputError, match=rf"horizon={HORIZON} at fit, {HORIZON + 1} now"):
        model.predict()
    with pytest.raises(InputError, match="fit it again"):
        model.predict_cutoffs(history, cutoff_stamps(history))
    model.set_params(horizon=HORIZON)  # back to the fitted value
    assert len(model.predict()) == len(expected)
    model.set_params(horizon=HORIZON + 1).fit(history, future_df=future)
    assert len(model.predict()) == len(expected) // HORIZON * (HORIZON + 1)
