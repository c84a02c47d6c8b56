"""No look-ahead, for every model, through `backtest()`.

Every value after each series' first cutoff (targets and covariates) is replaced by wild
numbers: the forecasts made at that cutoff must not move, while those of the later fold (whose
history the change reaches) must. Covariates are in the frame for the models that use them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.contract.helpers import (
    ID,
    LEVELS,
    MODELS,
    TIME,
    Case,
    capabilities,
    case_data,
    param,
    run_backtest,
    scramble_after,
    to_pandas,
)


def lookahead_case(name: str) -> Any:
    """A covariate for the models that use covariates; levels for those that give them."""
    caps = capabilities(name)
    return param(
        Case(
            "lookahead",
            name,
            "backtest",
            covariates="past" if caps is not None and caps.past_covariates else "none",
            levels=LEVELS if caps is None or caps.levels else (),
        )
    )


@pytest.mark.parametrize("case", [lookahead_case(name) for name in MODELS])
def test_forecasts_at_a_cutoff_ignore_every_value_after_it(case: Case) -> None:
    data = case_data(case)
    before = to_pandas(run_backtest(case, data))
    first_cutoff = before.groupby(ID)["cutoff"].min().to_dict()
    changed = scramble_after(data.history, first_cutoff, seed=1)
    after = to_pandas(run_backtest(case, replace(data, df=changed, history=changed)))

    forecast_cols = [c for c in before.columns if c.startswith("y_")]

    def fold(frame: pd.DataFrame, first: bool) -> pd.DataFrame:
        at_first = frame["cutoff"] == frame[ID].map(first_cutoff)
        rows = frame[at_first if first else ~at_first].sort_values([ID, TIME, "target"])
        return rows[forecast_cols].reset_index(drop=True)

    pd.testing.assert_frame_equal(fold(before, first=True), fold(after, first=True))
    later_before = fold(before, first=False).to_numpy()
    later_after = fold(after, first=False).to_numpy()
    assert not np.allclose(later_before, later_after), "the change never reached the model"
