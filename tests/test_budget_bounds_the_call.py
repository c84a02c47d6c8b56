"""A time budget bounds the whole call, not only the training loop inside it.

What a call spends before training (reading and checking the frame, scaling, laying out the
windows, building the optimizer) and every fit a wrapper makes (conformal calibration fits) are
taken from the same budget. The estimator's own `time_budget_s` keeps the value the user gave:
the call's deadline travels beside it (`tsforecast.deadline`). The tests make a preparation
step slow with a sleep of known length and read what reached the next step, so they assert no
timing of real work.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame
from tsforecast import api, deadline
from tsforecast.errors import TsforecastWarning
from tsforecast.estimators import neural_base, registry
from tsforecast.training import loop

SLEEP_S = 0.5


def _slow(function: Any) -> Any:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLEEP_S)
        return function(*args, **kwargs)

    return wrapped


# ------------------------------------------------------------------ the deadline itself
def test_without_a_deadline_nothing_is_bounded() -> None:
    assert deadline.call_deadline() is None
    assert deadline.seconds_left(None) is None
    assert deadline.share_of_what_is_left(3) is None


def test_a_step_gets_the_smaller_of_its_own_budget_and_the_calls() -> None:
    with deadline.within_deadline(10.0):
        left = deadline.seconds_left(None)
        assert left is not None and 9.0 < left <= 10.0
        assert deadline.seconds_left(2.0) == pytest.approx(2.0, abs=0.5)
        own_large = deadline.seconds_left(100.0)
        assert own_large is not None and own_large <= 10.0
    assert deadline.call_deadline() is None  # the block's deadline ends with it


def test_a_nested_deadline_keeps_the_earliest_unless_it_replaces_it() -> None:
    with deadline.within_deadline(1.0):
        outer = deadline.call_deadline()
        with deadline.within_deadline(50.0):
            assert deadline.call_deadline() == outer
        with deadline.within_deadline(None):
            assert deadline.call_deadline() == outer
        with deadline.within_deadline(50.0, replace=True):
            inner = deadline.call_deadline()
            assert inner is not None and outer is not None and inner > outer + 40
        with deadline.within_deadline(None, replace=True):
            assert deadline.call_deadline() is None
        assert deadline.call_deadline() == outer


def test_a_share_divides_what_is_left() -> None:
    with deadline.within_deadline(9.0):
        share = deadline.share_of_what_is_left(3)
        assert share is not None and 2.5 < share <= 3.0
    with deadline.within_deadline(0.0):
        assert deadline.share_of_what_is_left(2) == 0.0  # never negative


# ------------------------------------------------------------------ neural fits
def _record_training_budget(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    seen: list[float | None] = []
    fit_network = neural_base.fit_network

    def recording_fit_network(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[5].time_budget_s)  # the TrainingConfig
        return fit_network(*args, **kwargs)

    monkeypatch.setattr(neural_base, "fit_network", recording_fit_network)
    return seen


def test_a_neural_fit_trains_for_what_its_preparation_left_of_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _record_training_budget(monkeypatch)
    monkeypatch.setattr(neural_base, "split_windows", _slow(neural_base.split_windows))
    model = registry.build(
        "lstm", {"time_budget_s": 2.0, "max_steps": 3, "progress": False}, horizon=4
    )
    model.fit(make_long_frame({"a": 60, "b": 50}))
    (budget,) = seen
    assert budget is not None and budget <= 2.0 - SLEEP_S
    assert model.get_params()["time_budget_s"] == 2.0  # the estimator's own setting is kept


def test_a_neural_fit_without_a_budget_is_not_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _record_training_budget(monkeypatch)
    model = registry.build("lstm", {"max_steps": 2, "progress": False}, horizon=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # few steps, but by `max_steps`: nothing to warn of
        model.fit(make_long_frame({"a": 60}))
    assert seen == [None]


def test_a_budget_the_preparation_used_up_still_trains_one_step(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(neural_base, "split_windows", _slow(neural_base.split_windows))
    model = registry.build("lstm", {"time_budget_s": 0.2, "progress": False}, horizon=4)
    with pytest.warns(TsforecastWarning, match=r"after \d+ step\(s\) of .* barely trained"):
        model.fit(make_long_frame({"a": 60, "b": 50}))
    fc = model.predict()
    # what is left (0.01 s) is a few steps at most, and the forecast is still made
    assert model.history_[-1]["step"] < 50
    assert model.training_result_.stopped_reason == "time_budget"
    assert fc["y"].notna().all()


def test_the_training_clock_counts_building_the_optimizer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the first optimizer of a process imports part of torch (about 2 s): the budget counts it
    monkeypatch.setattr(loop, "_optimizer", _slow(loop._optimizer))
    model = registry.build("lstm", {"time_budget_s": SLEEP_S / 2, "progress": False}, horizon=4)
    model.fit(make_long_frame({"a": 60}))
    assert model.history_[-1]["step"] == 1
    assert model.history_[-1]["elapsed_s"] >= SLEEP_S


# ------------------------------------------------------------------ forecast()
def test_forecast_spends_reading_the_frame_from_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    naive = type(registry.build("naive", {}, horizon=2))
    seen: dict[str, Any] = {}
    fit = naive.fit

    def recording_fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen["left_s"] = deadline.seconds_left(self.time_budget_s)
        seen["own_budget_s"] = self.time_budget_s
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(api, "to_panel", _slow(api.to_panel))
    monkeypatch.setattr(naive, "fit", recording_fit)
    fc = tsf.forecast(make_long_frame({"a": 30}), 2, model="naive", time_budget_s=10.0)
    assert seen["left_s"] <= 10.0 - SLEEP_S
    assert seen["own_budget_s"] == 10.0  # the model's parameter is what the user gave
    assert fc.attrs["settings"]["time_budget_s"] == 10.0
    assert deadline.call_deadline() is None  # nothing is left behind after the call


def test_forecast_of_a_neural_model_trains_for_what_the_call_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _record_training_budget(monkeypatch)
    monkeypatch.setattr(api, "to_panel", _slow(api.to_panel))
    tsf.forecast(
        make_long_frame({"a": 60, "b": 50}),
        4,
        model="lstm",
        time_budget_s=3.0,
        max_steps=3,
        progress=False,
    )
    (budget,) = seen
    assert budget is not None and budget <= 3.0 - SLEEP_S


def test_conformal_calibration_and_final_fits_share_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one calibration fit (refit=False) and the final fit: each gets about half of what the
    # call has left, not the whole budget twice
    seen = _record_training_budget(monkeypatch)
    tsf.forecast(
        make_long_frame({"a": 120, "b": 110}),
        4,
        model="lstm",
        levels=(80,),
        intervals="conformal",
        time_budget_s=8.0,
        max_steps=3,
        progress=False,
    )
    assert len(seen) == 2
    calibration, final = seen
    assert calibration is not None and final is not None
    assert calibration <= 8.0 / 2
    # the final fit gets what is left: less than the whole budget (the calibration, cut short
    # by `max_steps`, left it most of it)
    assert final < 8.0


def test_auto_ends_by_the_calls_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from tsforecast.estimators import auto

    seen: dict[str, Any] = {}
    select = auto.AutoForecaster._select

    def recording_select(
        self: Any, panel: Any, names: Any, season: Any, end: Any, criterion: Any, **kw: Any
    ) -> Any:
        seen["deadline"] = end
        seen["call_deadline"] = deadline.call_deadline()
        return select(self, panel, names, season, end, criterion, **kw)

    monkeypatch.setattr(api, "to_panel", _slow(api.to_panel))
    monkeypatch.setattr(auto.AutoForecaster, "_select", recording_select)
    started = time.perf_counter()
    tsf.forecast(
        make_long_frame({"a": 80, "b": 90}),
        4,
        candidates=["naive", "drift"],
        time_budget_s=20.0,
        progress=False,
    )
    # its own clock would end SLEEP_S later (it starts after the frame was read)
    assert seen["deadline"] < started + 20.0 + SLEEP_S / 2
    assert seen["deadline"] == pytest.approx(seen["call_deadline"], abs=0.05)


# ------------------------------------------------------------------ the forecasting pass's reserve
def test_a_reserve_comes_off_the_calls_deadline_not_off_the_steps_own_budget() -> None:
    with deadline.within_deadline(10.0):
        left = deadline.seconds_left(None, reserve_s=4.0)
        assert left is not None and 5.0 < left <= 6.0
        # its own budget (2 s) is the smaller: the reserve does not shorten it
        assert deadline.seconds_left(2.0, reserve_s=4.0) == pytest.approx(2.0, abs=0.5)
    # no call deadline: nothing to keep time for
    assert deadline.seconds_left(2.0, reserve_s=4.0) == pytest.approx(2.0, abs=0.5)
    assert deadline.seconds_left(None, reserve_s=4.0) is None


RESERVE_S = 0.75


def _fixed_reserve(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the forecasting pass's estimate RESERVE_S; the list counts its calls."""
    calls: list[int] = []

    def estimate(*args: Any, **kwargs: Any) -> float:
        calls.append(1)
        return RESERVE_S

    monkeypatch.setattr(neural_base, "forecast_pass_seconds", estimate)
    return calls


@pytest.mark.parametrize("name", ["lstm", "bilstm", "seq2seq"])
def test_forecast_keeps_the_forecasting_pass_out_of_the_training_budget(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    seen = _record_training_budget(monkeypatch)
    _fixed_reserve(monkeypatch)
    fc = tsf.forecast(
        make_long_frame({"a": 60, "b": 50}),
        4,
        model=name,
        max_steps=3,
        hidden_size=8,
        time_budget_s=3.0,
        progress=False,
    )
    (budget,) = seen
    # what the loop got: the call's 3 s less what reading the frame took and the reserve
    assert budget is not None and budget <= 3.0 - RESERVE_S
    training = fc.attrs["training"]
    assert training["reserved_s"] == RESERVE_S
    assert training["training_budget_s"] == budget
    assert fc.attrs["settings"]["time_budget_s"] == 3.0  # the parameter keeps its value


def test_an_estimator_object_given_to_forecast_keeps_the_reserve_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _record_training_budget(monkeypatch)
    _fixed_reserve(monkeypatch)
    model = registry.build(
        "lstm", {"time_budget_s": 3.0, "max_steps": 3, "progress": False}, horizon=4
    )
    tsf.forecast(make_long_frame({"a": 60}), 4, model=model, time_budget_s=3.0)
    (budget,) = seen
    assert budget is not None and budget <= 3.0 - RESERVE_S


def test_a_fit_alone_is_bounded_by_its_own_budget_and_keeps_no_reserve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen = _record_training_budget(monkeypatch)
    calls = _fixed_reserve(monkeypatch)
    model = registry.build(
        "lstm", {"time_budget_s": 3.0, "max_steps": 3, "progress": False}, horizon=4
    )
    model.fit(make_long_frame({"a": 60}))
    assert calls == []  # nothing measured: no call's deadline to keep time before
    (budget,) = seen
    assert budget is not None and budget > 3.0 - RESERVE_S
    assert model.training_["reserved_s"] is None


def test_a_reserve_larger_than_the_budget_still_trains_one_step_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(neural_base, "forecast_pass_seconds", lambda *a, **k: 1000.0)
    with pytest.warns(TsforecastWarning, match=r"1000\.00 s kept for validating and forecasting"):
        fc = tsf.forecast(
            make_long_frame({"a": 60, "b": 50}), 4, model="lstm", time_budget_s=5.0, progress=False
        )
    training = fc.attrs["training"]
    assert training["stopped_by"] == "time_budget"
    assert training["training_budget_s"] == neural_base._MIN_TRAINING_S
    assert fc["y"].notna().all()


def test_the_estimate_times_one_batch_and_scales_it_by_the_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a clock that moves 1 s across the timed forward: the estimate is then the windows to
    # forecast and to validate, in seconds per window of the timed batch, times the safeties
    from tsforecast.estimators import neural_training

    model = registry.build("lstm", {"max_steps": 2, "progress": False}, horizon=4)
    model.fit(make_long_frame({"a": 60, "b": 50, "c": 40}))
    panel = model.history_panel_
    inputs = neural_base.NetworkInputs(
        *neural_base.window_tensor(panel, model.scaler_, model.layout_, None),
        panel.lengths,
        model.layout_,
    )
    ticks = iter([100.0, 101.0])
    monkeypatch.setattr(neural_training.time, "perf_counter", lambda: next(ticks))
    seconds = neural_training.forecast_pass_seconds(
        model.network_, inputs, panel.lengths, 6, model.device_
    )
    per_window = 1.0 / 3  # 3 series, one batch
    expected = per_window * (
        3 * neural_training._FORECAST_SAFETY + 6 * neural_training._VALIDATION_SAFETY
    )
    assert seconds == pytest.approx(expected)
    assert not model.network_.training  # left in the mode it was in


def test_a_call_far_past_its_budget_says_so() -> None:
    from tsforecast.api import _warn_of_an_overrun

    with pytest.warns(UserWarning, match=r"took 5\.2 s of a 1 s time budget"):
        _warn_of_an_overrun(1.0, 5.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_of_an_overrun(1.0, 1.9)  # within a second of it: the call's fixed costs
        _warn_of_an_overrun(10.0, 14.0)  # within 1.5 times it
        _warn_of_an_overrun(None, 100.0)  # no budget
        _warn_of_an_overrun("auto", 100.0)


# ------------------------------------------------------------------ the decomposing baselines


def _seasonal_series(n_series: int) -> list[Any]:
    import numpy as np

    t = np.arange(96)
    return [
        100 + s + 10 * np.sin(2 * np.pi * t / 24) + np.cos(t * (s + 1)) for s in range(n_series)
    ]


def test_theta_fits_no_chunk_that_starts_after_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tsforecast import stats
    from tsforecast.stats import theta

    monkeypatch.setattr(theta, "THETA_CHUNK", 2)
    monkeypatch.setattr(theta, "_theta_chunk", _slow(theta._theta_chunk))
    series = _seasonal_series(6)
    out = stats.forecast_many("theta", series, 24, 24, deadline=time.time() + SLEEP_S / 2)
    # the first chunk starts before the deadline and finishes; the two after it do not start
    assert [f.fallback for f in out] == [None, None] + [stats.TIME_BUDGET_REASON] * 4
    free = stats.forecast_many("theta", series, 24, 24)
    assert [f.fallback for f in free] == [None] * 6
    assert free[0].mean.tolist() == out[0].mean.tolist()


@pytest.mark.parametrize("model", ["theta", "naive2"])
def test_a_decomposing_baseline_past_its_deadline_falls_back_on_every_series(model: str) -> None:
    from tsforecast import stats

    out = stats.forecast_many(model, _seasonal_series(3), 24, 24, deadline=time.time() - 1)
    assert [f.fallback for f in out] == [stats.TIME_BUDGET_REASON] * 3


@pytest.mark.parametrize("model", ["naive", "seasonal_naive", "drift"])
def test_a_naive_method_ignores_the_deadline_it_costs_what_its_fallback_costs(model: str) -> None:
    from tsforecast import stats

    late = stats.forecast_many(model, _seasonal_series(3), 24, 24, deadline=time.time() - 1)
    free = stats.forecast_many(model, _seasonal_series(3), 24, 24)
    assert [f.fallback for f in late] == [None] * 3
    assert [f.mean.tolist() for f in late] == [f.mean.tolist() for f in free]
