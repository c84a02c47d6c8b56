"""Frequency inference where pandas cannot infer one: series of two stamps, gappy series.

A month, quarter or year is no fixed period: read as 31 or 365 days, the forecast stamps drift
off the calendar (2021-01-01, 2021-02-01 were forecast on 2021-03-04, 04-04, 05-05).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.errors import InputError


def _two_stamps(stamps: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "ds": pd.to_datetime(stamps * 2), "y": [1.0, 2, 3, 4]}
    )


def _future_stamps(df: pd.DataFrame, horizon: int = 3, **kwargs: object) -> list[str]:
    fc = tsf.forecast(df, horizon, model="naive", **kwargs)  # type: ignore[arg-type]
    return [str(d.date()) for d in fc.loc[fc["unique_id"] == "a", "ds"]]


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        (["2021-01-01", "2021-02-01"], ["2021-03-01", "2021-04-01", "2021-05-01"]),
        (["2021-01-31", "2021-02-28"], ["2021-03-31", "2021-04-30", "2021-05-31"]),
        (["2021-02-01", "2021-05-01"], ["2021-08-01", "2021-11-01", "2022-02-01"]),
        (["2021-03-31", "2021-06-30"], ["2021-09-30", "2021-12-31", "2022-03-31"]),
        (["2019-01-01", "2020-01-01"], ["2021-01-01", "2022-01-01", "2023-01-01"]),
        (["2021-01-01", "2021-03-01"], ["2021-05-01", "2021-07-01", "2021-09-01"]),  # 2MS
        (["2021-01-01", "2021-01-08"], ["2021-01-15", "2021-01-22", "2021-01-29"]),  # fixed 7D
    ],
)
def test_two_calendar_stamps_per_series_forecast_on_the_calendar(
    stamps: list[str], expected: list[str]
) -> None:
    assert _future_stamps(_two_stamps(stamps)) == expected


def test_two_stamps_a_month_apart_on_another_day_are_refused_with_how_to_restamp() -> None:
    with pytest.raises(InputError, match=r"31 days, is a calendar period.*on day 15.*to_period"):
        tsf.forecast(_two_stamps(["2021-01-15", "2021-02-15"]), 3, model="naive")
    # restamped as the message says, they are month starts
    restamped = _two_stamps(["2021-01-01", "2021-02-01"])
    assert _future_stamps(restamped, freq="MS") == ["2021-03-01", "2021-04-01", "2021-05-01"]


def test_monthly_stamps_with_many_missing_months_are_read_as_month_starts() -> None:
    ds = pd.date_range("2019-01-01", periods=36, freq="MS")
    keep = [0, 1, 4, 5, 9, 12, 13, 17, 20, 22, 25, 26, 29, 30, 33, 35]
    df = pd.DataFrame({"unique_id": "a", "ds": ds[keep], "y": np.arange(36.0)[keep]})
    # no run of three evenly spaced months: the most common step (3 months) is no fixed grid
    fc = tsf.forecast(df, 3, model="naive", fill="interpolate")
    assert [str(d.date()) for d in fc["ds"]] == ["2022-01-01", "2022-02-01", "2022-03-01"]
    with pytest.raises(InputError, match="missing time stamps"):
        tsf.forecast(df, 3, model="naive")  # without `fill` the gaps are told, not guessed


def test_gappy_quarter_ends_are_read_as_quarter_ends() -> None:
    ds = pd.date_range("2015-03-31", periods=24, freq="QE")
    keep = [0, 2, 3, 5, 8, 9, 11, 14, 16, 17, 20, 23]
    df = pd.DataFrame({"unique_id": "a", "ds": ds[keep], "y": np.arange(24.0)[keep]})
    fc = tsf.forecast(df, 2, model="naive", fill="ffill")
    assert [str(d.date()) for d in fc["ds"]] == ["2021-03-31", "2021-06-30"]


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        # steps of 2, 3, 2, 4 and 8 weeks: the weekly grid, not the most common step ('336h')
        (
            pd.date_range("2021-01-03", periods=20, freq="W")[[0, 2, 5, 7, 11, 19]],
            ["2021-05-23", "2021-05-30", "2021-06-06"],
        ),
        (
            pd.date_range("2021-01-01", periods=40, freq="D")[[0, 2, 5, 7, 11, 19, 22, 30, 39]],
            ["2021-02-10", "2021-02-11", "2021-02-12"],
        ),
        # weekdays only, with gaps: business days, whose weekends are no missing stamps
        (
            pd.date_range("2021-01-04", periods=40, freq="B")[[0, 2, 5, 7, 11, 19, 22, 30, 33, 39]],
            ["2021-03-01", "2021-03-02", "2021-03-03"],
        ),
    ],
)
def test_gappy_stamps_are_read_on_the_grid_every_step_is_made_of(
    stamps: pd.DatetimeIndex, expected: list[str]
) -> None:
    df = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(len(stamps), dtype=float)})
    assert _future_stamps(df, fill="interpolate") == expected


def test_gappy_quarter_hours_are_read_on_their_grid() -> None:
    stamps = pd.date_range("2021-01-01", periods=200, freq="15min")[[0, 2, 5, 7, 11, 19, 150]]
    df = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(7.0)})
    fc = tsf.forecast(df, 2, model="naive", fill="ffill")
    assert list(fc["ds"]) == [stamps[-1] + pd.Timedelta(minutes=15 * k) for k in (1, 2)]
