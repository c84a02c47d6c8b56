"""A time budget bounds the whole call, not only the training loop inside it.

What a call spends before training (reading and checking the frame, the first import of torch,
scaling, laying out the windows) is taken from the budget; what is left is the training's. The
tests make that preparation slow with a sleep of known length and read the budget that reached
the next stage, so they assert no timing of real work.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame
from tsforecast import api
from tsforecast.estimators import neural_base, registry

SLEEP_S = 0.5


def _slow(function: Any) -> Any:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLEEP_S)
        return function(*args, **kwargs)

    return wrapped


def test_a_neural_fit_trains_for_what_its_preparation_left_of_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}
    fit_network = neural_base.fit_network

    def recording_fit_network(*args: Any, **kwargs: Any) -> Any:
        seen["training_budget_s"] = args[5].time_budget_s  # the TrainingConfig
        return fit_network(*args, **kwargs)

    monkeypatch.setattr(neural_base, "split_windows", _slow(neural_base.split_windows))
    monkeypatch.setattr(neural_base, "fit_network", recording_fit_network)
    model = registry.build(
        "lstm", {"time_budget_s": 2.0, "max_steps": 3, "progress": False}, horizon=4
    )
    model.fit(make_long_frame({"a": 60, "b": 50}))
    assert seen["training_budget_s"] <= 2.0 - SLEEP_S
    assert model.get_params()["time_budget_s"] == 2.0  # the estimator's own setting is kept


def test_forecast_hands_the_model_what_reading_the_frame_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    naive = type(registry.build("naive", {}, horizon=2))
    seen: dict[str, Any] = {}
    fit = naive.fit

    def recording_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen["model_budget_s"] = self.time_budget_s
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(api, "to_panel", _slow(api.to_panel))
    monkeypatch.setattr(naive, "fit", recording_fit)
    fc = tsf.forecast(make_long_frame({"a": 30}), 2, model="naive", time_budget_s=10.0)
    assert seen["model_budget_s"] <= 10.0 - SLEEP_S
    assert fc.attrs["settings"]["time_budget_s"] == 10.0  # what the user asked for


def test_a_budget_the_preparation_used_up_still_fits_the_smallest_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # past the budget before training: one step, and the forecast is still made
    monkeypatch.setattr(neural_base, "split_windows", _slow(neural_base.split_windows))
    model = registry.build("lstm", {"time_budget_s": 0.2, "progress": False}, horizon=4)
    fc = model.fit(make_long_frame({"a": 60, "b": 50})).predict()
    assert model.history_[-1]["step"] == 1
    assert fc["y"].notna().all()
