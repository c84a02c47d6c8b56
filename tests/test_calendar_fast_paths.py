"""Calendar frequencies ("MS", "W-SUN", "B", ...) checked and continued for all series at once:
the same frequency, grid and future stamps as one series at a time (10,000 monthly series
spent 5.5 s there, most of a 5 s time budget)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import tsforecast as tsf
from tsforecast.data.frequency import _add_inferred, on_calendar_grid
from tsforecast.errors import InputError

FREQS = [
    "MS",
    "ME",
    "QS-OCT",
    "QE",
    "YS",
    "YE",
    "W-SUN",
    "W-WED",
    "B",
    "SMS",
    "SME",
    "2MS",
    "BMS",
    "BME",
    "2W",
]


def _panel(
    freq: str, tz: str | None = None, lengths: tuple[int, ...] = (30, 12, 5)
) -> pd.DataFrame:
    """Ragged series on `freq`, each starting at another stamp of it."""
    frames = []
    for k, n in enumerate(lengths):
        ds = pd.date_range("2019-01-01", periods=n + 3 * k, freq=freq, tz=tz)[3 * k :]
        frames.append(
            pd.DataFrame({"unique_id": f"s{k}", "ds": ds, "y": np.arange(n, dtype=float) + k})
        )
    return pd.concat(frames, ignore_index=True)


def _bounds(df: pd.DataFrame) -> np.ndarray:
    sizes = df.groupby("unique_id", sort=False).size().to_numpy()
    return np.r_[0, np.cumsum(sizes)]


@pytest.mark.parametrize("tz", [None, "Europe/Berlin"])
@pytest.mark.parametrize("freq", FREQS)
def test_the_frequency_grid_and_future_stamps_are_those_of_one_series_at_a_time(
    freq: str, tz: str | None
) -> None:
    df = _panel(freq, tz)
    assert on_calendar_grid(df["ds"], _bounds(df), pd.tseries.frequencies.to_offset(freq).freqstr)
    one_at_a_time: dict[str, list[str]] = {}
    for sid, g in df.groupby("unique_id"):
        _add_inferred(one_at_a_time, g["ds"], sid)
    # pandas infers no semi-month frequency: it is passed, as the README says
    given = {"freq": freq} if freq in ("SMS", "SME") else {}
    fc = tsf.forecast(df, 4, model="naive", **given)
    for sid, g in df.groupby("unique_id"):
        expected = pd.date_range(g["ds"].iloc[-1], periods=5, freq=freq)[1:]
        assert fc[fc["unique_id"] == sid]["ds"].tolist() == list(expected), (freq, sid)
    inferred = tsf.to_panel(df, **given).freq
    # every series inferred alone names the same grid (QS-OCT and QS-JAN are one grid)
    for alias in one_at_a_time:
        grid = pd.date_range("2019-01-01", periods=24, freq=alias)
        assert list(grid) == list(pd.date_range(grid[0], periods=24, freq=inferred)), alias


def test_a_stamp_off_the_grid_is_refused_as_before() -> None:
    df = _panel("MS")
    df.loc[3, "ds"] = pd.Timestamp("2019-04-15")
    assert not on_calendar_grid(df["ds"], _bounds(df), "MS")
    with pytest.raises(InputError, match="off the 'MS' grid"):
        tsf.to_panel(df, freq="MS")


def test_a_first_stamp_off_the_frequency_is_no_fast_path() -> None:
    # Jan 15 + one month start is Feb 1: each stamp is the one before plus a step, but the
    # first is on no month start
    ds = pd.DatetimeIndex(["2019-01-15", "2019-02-01", "2019-03-01"])
    assert not on_calendar_grid(pd.Series(ds), np.array([0, 3]), "MS")
    with pytest.raises(InputError, match="off the 'MS' grid"):
        tsf.to_panel(pd.DataFrame({"unique_id": "a", "ds": ds, "y": 1.0}), freq="MS")


def test_a_missing_month_is_refused_or_filled_as_before() -> None:
    df = _panel("MS").drop(index=4).reset_index(drop=True)
    assert not on_calendar_grid(df["ds"], _bounds(df), "MS")
    with pytest.raises(InputError, match="missing time stamps"):
        tsf.to_panel(df, freq="MS")
    filled = tsf.to_panel(df, freq="MS", fill="interpolate")
    assert int(filled.lengths[0]) == 30


def test_frequencies_pandas_cannot_add_at_once_take_the_slow_path_and_agree() -> None:
    df = _panel("C", lengths=(20, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not on_calendar_grid(df["ds"], _bounds(df), "C")
        fc = tsf.forecast(df, 3, model="naive", freq="C")
    last = df.groupby("unique_id")["ds"].last()
    for sid in ("s0", "s1"):
        expected = pd.date_range(last[sid], periods=4, freq="C")[1:]
        assert fc[fc["unique_id"] == sid]["ds"].tolist() == list(expected)


def test_series_of_other_weekly_anchors_are_still_told_apart() -> None:
    a = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2020-01-05", periods=6, freq="W-SUN"), "y": 1.0}
    )
    b = pd.DataFrame(
        {"unique_id": "b", "ds": pd.date_range("2020-01-01", periods=6, freq="W-WED"), "y": 1.0}
    )
    with pytest.raises(InputError, match="different frequencies"):
        tsf.to_panel(pd.concat([a, b]))
