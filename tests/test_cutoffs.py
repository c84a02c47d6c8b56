"""`predict_cutoffs` takes its cutoffs in any collection a user holds stamps in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tests.conftest import make_long_frame


@pytest.mark.parametrize("name", ["theta", "lstm"])
def test_cutoffs_as_a_list_an_index_a_series_or_an_array_give_the_same_forecasts(
    name: str,
) -> None:
    df = make_long_frame({"a": 60, "b": 50}, seed=0)
    params = {"max_steps": 2, "hidden_size": 4} if name == "lstm" else {}
    model = tsf.models.build(name, params, horizon=3, progress=False).fit(df)
    stamps = sorted(df["ds"].unique())[30:33]
    as_list = model.predict_cutoffs(df, list(stamps))
    assert as_list["cutoff"].nunique() == 3
    for given in (pd.DatetimeIndex(stamps), pd.Series(stamps), np.array(stamps)):
        pd.testing.assert_frame_equal(model.predict_cutoffs(df, given), as_list)
