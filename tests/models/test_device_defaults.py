"""The neural defaults sized by the device: batch, step cap and learning rate.

A GPU's throughput keeps growing with the batch up to a few thousand windows and a CPU's does
not, so the same data gets a larger batch (and a learning rate scaled to it) on CUDA; on CUDA
with a time budget the budget, not a CPU-sized step cap, ends the run. What the user sets is
kept as it is on every device.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.conftest import make_long_frame
from tsforecast.errors import InputError
from tsforecast.estimators import neural_defaults as nd
from tsforecast.estimators.lstm import LSTMForecaster
from tsforecast.estimators.seq2seq import Seq2SeqForecaster


def _frame() -> pd.DataFrame:
    return make_long_frame({"a": 60, "b": 50})


def _params(**given: object) -> dict[str, object]:
    params = LSTMForecaster(horizon=12).get_params()
    params.update(given)
    return params


def test_cpu_keeps_the_cpu_sized_batch_step_cap_and_base_learning_rate() -> None:
    sizes = nd.training_sizes(1_000_000, "cpu", _params(time_budget_s=None))
    assert sizes["batch_size"] == 256
    assert sizes["max_steps"] == 1500
    assert sizes["learning_rate"] == pytest.approx(3e-3)


def test_cpu_with_a_time_budget_trains_up_to_twenty_passes_instead_of_1500_steps() -> None:
    budgeted = nd.training_sizes(1_000_000, "cpu", _params(time_budget_s=60.0))
    assert budgeted["max_steps"] == 20 * (1_000_000 // 256)  # the budget ends it first
    # small data: the same 20 passes (at least 200 steps) with or without a budget
    small = [nd.training_sizes(3_000, "cpu", _params(time_budget_s=b)) for b in (60.0, None)]
    assert small[0]["max_steps"] == small[1]["max_steps"] == 20 * (3_000 // 256)


def test_default_width_grows_with_the_data_but_stays_64_on_a_budgeted_cpu_run() -> None:
    assert nd.default_hidden_size(1_000, "cpu", budgeted=True) == 32
    assert nd.default_hidden_size(10_000, "cpu", budgeted=False) == 64
    assert nd.default_hidden_size(100_000, "cpu", budgeted=False) == 128
    assert nd.default_hidden_size(100_000, "cpu", budgeted=True) == 64
    assert nd.default_hidden_size(100_000, "cuda", budgeted=True) == 128


def test_a_fitted_model_records_the_budgeted_cpu_width_and_a_given_width_is_kept() -> None:
    long = make_long_frame({"a": 12_000, "b": 12_000})  # > 20,000 training windows
    fast = {"max_steps": 1, "input_size": 8, "patch_size": 8, "device": "cpu"}
    budgeted = LSTMForecaster(horizon=4, time_budget_s=30.0, **fast).fit(long)
    assert budgeted.params_["hidden_size"] == 64
    unbounded = LSTMForecaster(horizon=4, **fast).fit(long)
    assert unbounded.params_["hidden_size"] == 128
    given = LSTMForecaster(horizon=4, time_budget_s=30.0, hidden_size=128, **fast).fit(long)
    assert given.params_["hidden_size"] == 128


def test_cuda_takes_a_batch_of_up_to_4096_windows_and_scales_the_learning_rate() -> None:
    sizes = nd.training_sizes(1_000_000, "cuda", _params())
    assert sizes["batch_size"] == 4096
    # sqrt(4096 / 256) = 4 times 3e-3 would be 1.2e-2: capped at 1e-2
    assert sizes["learning_rate"] == pytest.approx(1e-2)
    mid = nd.training_sizes(8 * 1024, "cuda", _params())
    assert mid["batch_size"] == 1024
    assert mid["learning_rate"] == pytest.approx(3e-3 * math.sqrt(1024 / 256))


def test_small_data_gets_the_same_batch_on_every_device() -> None:
    cpu = nd.training_sizes(800, "cpu", _params())
    cuda = nd.training_sizes(800, "cuda", _params())
    assert cpu["batch_size"] == cuda["batch_size"] == 100
    assert cpu["learning_rate"] == cuda["learning_rate"] == pytest.approx(3e-3)


def test_cuda_with_a_time_budget_has_no_step_cap_and_without_one_keeps_it() -> None:
    budgeted = nd.training_sizes(1_000_000, "cuda", _params(time_budget_s=30.0))
    assert budgeted["max_steps"] == nd.UNCAPPED_STEPS
    unbudgeted = nd.training_sizes(1_000_000, "cuda", _params(time_budget_s=None))
    assert unbudgeted["max_steps"] == 1500


def test_what_the_user_sets_is_kept_on_every_device() -> None:
    given = _params(batch_size=64, max_steps=77, learning_rate=5e-4, time_budget_s=30.0)
    for device_type in ("cpu", "cuda", "mps"):
        sizes = nd.training_sizes(1_000_000, device_type, given)
        assert sizes == {"batch_size": 64, "max_steps": 77, "learning_rate": 5e-4}


@pytest.mark.parametrize("rate", [0.0, -1e-3, 1.5, "fast", True])
def test_a_learning_rate_that_cannot_work_is_refused(rate: object) -> None:
    with pytest.raises(InputError, match="`learning_rate` must be a number in"):
        LSTMForecaster(horizon=12).set_params(learning_rate=rate)


def test_the_resolved_learning_rate_is_recorded_after_fit() -> None:
    model = LSTMForecaster(horizon=4, max_steps=3, device="cpu", progress=False).fit(_frame())
    assert model.params_["learning_rate"] == pytest.approx(3e-3)
    assert model.params_["batch_size"] <= 256


def test_seq2seq_narrows_its_default_width_on_cpu_only() -> None:
    model = Seq2SeqForecaster(horizon=4, max_steps=2, device="cpu", progress=False).fit(_frame())
    assert model.params_["hidden_size"] <= 64
