"""A neural forecast says how its training went: `fc.attrs["training"]` (and `model.training_`).

Steps, the step cap, why training stopped (`stopped_by`: the loop's own reason), its seconds,
the budget it was given and what was kept for after it, as JSON values that a parquet file
keeps. No timing is asserted: the budget that ends training is one a single step outlasts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame
from tsforecast.errors import TsforecastWarning
from tsforecast.estimators import registry
from tsforecast.estimators.auto_persistence import member_training

TINY = {"max_steps": 2, "hidden_size": 8, "input_size": 8, "progress": False}
KEYS = {
    "steps",
    "max_steps",
    "stopped_by",
    "best_step",
    "seconds",
    "training_budget_s",
    "reserved_s",
}


@pytest.mark.parametrize("name", ["lstm", "bilstm", "seq2seq"])
def test_a_step_capped_fit_says_max_steps(name: str) -> None:
    fc = tsf.forecast(make_long_frame({"a": 60, "b": 50}), 4, model=name, **TINY)
    training = fc.attrs["training"]
    assert set(training) == KEYS
    assert training["steps"] == 2 and training["max_steps"] == 2
    assert training["stopped_by"] == "max_steps"
    assert training["training_budget_s"] is None and training["reserved_s"] is None
    assert training["seconds"] >= 0
    json.dumps(fc.attrs, allow_nan=False)  # JSON values, for parquet's bare json.dumps


def test_a_budget_that_ends_training_says_time_budget() -> None:
    # 0.01 s: the first step (the optimizer's construction with it) outlasts it every time
    model = registry.build("lstm", {**TINY, "max_steps": 1000, "time_budget_s": 0.01}, horizon=4)
    with pytest.warns(TsforecastWarning, match="barely trained"):
        fc = tsf.forecast(make_long_frame({"a": 60}), 4, model=model, time_budget_s=0.01)
    training = fc.attrs["training"]
    assert training["stopped_by"] == "time_budget"
    assert training["steps"] < training["max_steps"] == 1000
    assert training["training_budget_s"] is not None and training["reserved_s"] is not None
    assert model.training_ == training


def test_the_record_survives_parquet_and_saving_the_model(tmp_path: Path) -> None:
    model = registry.build("lstm", TINY, horizon=4)
    fc = tsf.forecast(make_long_frame({"a": 60}), 4, model=model)
    fc.to_parquet(tmp_path / "fc.parquet")
    assert pd.read_parquet(tmp_path / "fc.parquet").attrs["training"] == fc.attrs["training"]
    model.save(tmp_path / "model")
    assert tsf.models.load(tmp_path / "model").training_ == model.training_


@pytest.mark.filterwarnings("ignore:conformal intervals of")  # short history: not the point
def test_conformal_intervals_keep_the_final_fits_record() -> None:
    fc = tsf.forecast(
        make_long_frame({"a": 80, "b": 90}),
        4,
        model="lstm",
        levels=(80,),
        intervals="conformal",
        **TINY,
    )
    assert fc.attrs["training"]["stopped_by"] == "max_steps"


def test_auto_that_chose_a_neural_model_gives_its_record() -> None:
    fc = tsf.forecast(
        make_long_frame({"a": 80, "b": 90}),
        horizon=4,
        candidates=["lstm"],
        candidate_params={"lstm": {k: v for k, v in TINY.items() if k != "progress"}},
        progress=False,
        # no clock: under load the default few-second budget could end training first
        time_budget_s=None,
    )
    assert fc.attrs["auto_selection"].chosen == ["lstm"]
    assert fc.attrs["training"]["stopped_by"] == "max_steps"


def test_auto_without_a_neural_member_has_no_record() -> None:
    fc = tsf.forecast(make_long_frame({"a": 80}), horizon=4, candidates=["naive"], progress=False)
    assert "training" not in fc.attrs
    assert "auto_selection" in fc.attrs


class _Member:
    def __init__(self, training: dict[str, Any] | None) -> None:
        self.training_ = training


def test_several_neural_members_each_keep_their_record_under_their_name() -> None:
    one, two = {"steps": 1}, {"steps": 2}
    members: list[Any] = [_Member(one), _Member(None), _Member(two)]
    assert member_training(["lstm", "theta", "bilstm"], members) == {
        "members": {"lstm": one, "bilstm": two}
    }
    assert member_training(["lstm", "theta"], members[:2]) == one
    assert member_training(["theta"], [_Member(None)]) is None


@pytest.mark.parametrize("name", ["lstm", "seq2seq"])
@pytest.mark.parametrize("after", [0.0, 0.5, 1.0])
def test_patience_after_reaches_the_training_loop(
    name: str, after: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the share of the schedule from which early stopping counts (TrainingConfig.patience_after)
    import tsforecast.estimators.neural_training as neural_training

    seen: list[Any] = []
    real_train = neural_training.train

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["config"])
        return real_train(*args, **kwargs)

    monkeypatch.setattr(neural_training, "train", spy)
    params = {**TINY, "max_steps": 6, "eval_every": 1, "patience": 1, "patience_after": after}
    fc = tsf.forecast(make_long_frame({"a": 60, "b": 50}), 4, model=name, **params)
    assert [c.patience_after for c in seen] == [after]
    if after == 1.0:  # counting starts at the last step: the run goes to the cap
        assert fc.attrs["training"]["steps"] == 6


@pytest.mark.parametrize("value", [-0.5, 1.5, True, "half", None])
def test_patience_after_outside_zero_to_one_is_refused(value: Any) -> None:
    with pytest.raises(tsf.InputError, match="patience_after"):
        registry.build("lstm", {**TINY, "patience_after": value}, horizon=4)
