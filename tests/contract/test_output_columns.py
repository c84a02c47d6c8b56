"""The forecast frame never gives two of its columns one name.

Per target T it holds T, `T_lo_<level>` and `T_hi_<level>` (and `predict_cutoffs` a `cutoff`): a
second target named `y_lo_80` next to `y` with level 80 overwrote y's lower bound with its own
point forecast (a frame with one column fewer, its coverage scored on the wrong bound), and a
target named `cutoff` was cast into the cutoffs. Such names are refused before any fit, by every
entry point, naming both columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.errors import InputError

TINY_LSTM = {"input_size": 6, "hidden_size": 4, "max_steps": 2, "progress": False}


def _frame(second_target: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame(
        {
            "unique_id": "a",
            "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
            "y": 100 + rng.normal(size=n).cumsum(),
            second_target: 50 + rng.normal(size=n).cumsum(),
        }
    )


CLASH = r"would name two of its columns 'y_lo_80': the lower 80 % bound of target 'y' and the point"


@pytest.mark.parametrize("second", ["y_lo_80", "y_hi_80"])
@pytest.mark.parametrize("model", ["naive", "theta", "lstm"])
def test_a_target_named_like_another_target_s_bound_is_refused_by_forecast(
    second: str, model: str
) -> None:
    params = TINY_LSTM if model == "lstm" else {}
    side = "lower" if "_lo_" in second else "upper"
    clash = rf"two of its columns '{second}': the {side} 80 % bound of target 'y' and the point"
    with pytest.raises(InputError, match=clash):
        tsf.forecast(
            _frame(second), 3, model=model, target_col=["y", second], levels=(80,), **params
        )


def test_a_target_named_like_another_target_s_bound_is_refused_by_backtest_and_estimators() -> None:
    df = _frame("y_lo_80")
    targets = ["y", "y_lo_80"]
    with pytest.raises(InputError, match=CLASH):
        tsf.backtest(df, ["naive"], horizon=3, target_col=targets, levels=(80,))
    with pytest.raises(InputError, match=CLASH):
        tsf.models.build("naive", {}, horizon=3, levels=(80,), target_col=targets).fit(df)
    conformal = tsf.models.ConformalForecaster(
        tsf.models.build("naive", {}, horizon=3, target_col=targets), levels=(80,)
    )
    with pytest.raises(InputError, match=CLASH):
        conformal.fit(df)


def test_such_names_are_forecast_as_they_are_where_no_column_clashes() -> None:
    # without levels there is no bound to clash with; at level 95 the bounds are y_lo_95
    df = _frame("y_lo_80")
    targets = ["y", "y_lo_80"]
    plain = tsf.forecast(df, 3, model="naive", target_col=targets)
    assert list(plain.columns) == ["unique_id", "ds", "y", "y_lo_80"]
    assert plain["y_lo_80"].iloc[0] == df["y_lo_80"].iloc[-1]
    at_95 = tsf.forecast(df, 3, model="naive", target_col=targets, levels=(95,))
    assert len(at_95.columns) == 2 + 2 * 3
    assert at_95["y_lo_80"].iloc[0] == df["y_lo_80"].iloc[-1]


@pytest.mark.parametrize("model", ["naive", "lstm"])
def test_predict_cutoffs_refuses_a_target_named_cutoff(model: str) -> None:
    df = _frame("cutoff")
    params = TINY_LSTM if model == "lstm" else {}
    fitted = tsf.models.build(model, params, horizon=3, target_col=["y", "cutoff"]).fit(df)
    assert "cutoff" in fitted.predict().columns  # predict has no cutoff column of its own
    with pytest.raises(InputError, match=r"two of its columns 'cutoff': the cutoff of each"):
        fitted.predict_cutoffs(df, [pd.Timestamp("2024-01-30")])


def test_predict_cutoffs_refuses_a_time_column_named_cutoff() -> None:
    df = _frame("x").drop(columns="x").rename(columns={"ds": "cutoff"})
    fitted = tsf.models.build("naive", {}, horizon=3, time_col="cutoff").fit(df)
    with pytest.raises(InputError, match=r"two of its columns 'cutoff': the time column and"):
        fitted.predict_cutoffs(df, [pd.Timestamp("2024-01-30")])
