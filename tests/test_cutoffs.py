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


def test_naive_cutoffs_on_time_zone_aware_data_are_read_in_its_zone_as_a_list_or_a_frame() -> None:
    # the frame form failed inside pandas (astype from naive to aware)
    stamps = pd.date_range("2020-01-01", periods=30, freq="D", tz="Europe/Berlin")
    df = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(30.0)})
    model = tsf.models.build("naive", horizon=2).fit(df)
    as_list = model.predict_cutoffs(df, [pd.Timestamp("2020-01-10")])
    as_frame = model.predict_cutoffs(
        df, pd.DataFrame({"unique_id": ["a"], "cutoff": [pd.Timestamp("2020-01-10")]})
    )
    as_text = model.predict_cutoffs(
        df, pd.DataFrame({"unique_id": ["a"], "cutoff": ["2020-01-10"]})
    )
    pd.testing.assert_frame_equal(as_frame, as_list)
    pd.testing.assert_frame_equal(as_text, as_list)
    assert as_list["cutoff"].iloc[0] == stamps[9]
    naive = df.assign(ds=stamps.tz_localize(None))
    aware_cutoffs = pd.DataFrame({"unique_id": ["a"], "cutoff": [stamps[9]]})
    with pytest.raises(
        tsf.InputError, match=r"have a time zone but the time stamps of `df` do not"
    ):
        tsf.models.build("naive", horizon=2).fit(naive).predict_cutoffs(naive, aware_cutoffs)
