"""What the boundary keeps of the input: series order, id and time dtypes, time stamps as text."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
from tsforecast.data.frames import from_pandas
from tsforecast.data.validation import to_panel
from tsforecast.errors import InputError


def _frame(ids: list, n: int = 4, **columns) -> pd.DataFrame:
    """`n` hourly rows per id, in the order given."""
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.array(ids, dtype=object), n),
            "ds": np.tile(pd.date_range("2024-01-01", periods=n, freq="h"), len(ids)),
            "y": np.arange(n * len(ids), dtype=np.float64),
        }
    )
    return frame.assign(**columns)


# --- duplicated column names ------------------------------------------------------------------


def test_duplicated_column_names_are_refused_by_name() -> None:
    frame = _frame(["a"])
    frame["x"] = 1.0
    frame.columns = ["unique_id", "ds", "y", "y"]
    with pytest.raises(InputError, match=r"duplicated column names \['y'\] \(\{'y': 2\} times"):
        to_panel(frame)


def test_a_repeated_column_the_call_does_not_use_is_refused_too() -> None:
    frame = _frame(["a"]).assign(note="x", other="z")
    frame.columns = ["unique_id", "ds", "y", "note", "note"]
    with pytest.raises(InputError, match=r"duplicated column names \['note'\].*rename"):
        to_panel(frame, covariate_cols=[])


# --- series order -----------------------------------------------------------------------------


def test_series_keep_the_order_of_their_first_appearance() -> None:
    panel = to_panel(_frame(["s2", "s10", "s1"]))
    assert panel.ids == ["s2", "s10", "s1"]  # not sorted as strings (s1, s10, s2)
    assert panel.to_pandas().unique_id.unique().tolist() == ["s2", "s10", "s1"]


def test_interleaved_rows_are_grouped_by_series_in_first_appearance_order() -> None:
    frame = _frame(["b", "a"]).sample(frac=1.0, random_state=3)
    panel = to_panel(frame)
    assert panel.ids == list(frame.unique_id.unique())
    for s, series_id in enumerate(panel.ids):
        rows = frame[frame.unique_id == series_id].sort_values("ds")
        assert list(panel.times[s]) == list(rows.ds)
        np.testing.assert_array_equal(panel.series_values(s)[:, 0], rows.y.to_numpy())


def test_integer_ids_keep_their_order_too() -> None:
    assert to_panel(_frame([10, 2, 33])).ids == [10, 2, 33]


# --- id dtypes --------------------------------------------------------------------------------


def test_a_categorical_id_comes_back_categorical_with_its_categories() -> None:
    frame = _frame(["b", "a"])
    categories = pd.CategoricalDtype(["z", "b", "a"], ordered=True)
    frame["unique_id"] = frame["unique_id"].astype(categories)
    panel = to_panel(frame)
    assert panel.ids == ["b", "a"]
    assert panel.id_dtype == categories
    ids = panel.id_column(np.array([1, 0, 1]))
    assert ids.dtype == categories
    assert ids.tolist() == ["a", "b", "a"]
    assert panel.to_pandas()["unique_id"].dtype == categories
    assert panel.select([1]).id_column([0]).dtype == categories  # unused categories stay


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint16"])
def test_integer_ids_come_back_as_their_integer_dtype(dtype: str) -> None:
    frame = _frame([7, 3])
    frame["unique_id"] = frame["unique_id"].astype(dtype)
    panel = to_panel(frame)
    assert panel.id_column([0, 1]).dtype == dtype
    assert panel.id_column([0, 1]).tolist() == [7, 3]
    assert panel.to_pandas()["unique_id"].dtype == dtype


def test_string_ids_come_back_as_the_input_string_dtype() -> None:
    for dtype in [object, "string"]:
        frame = _frame(["a", "b"])
        frame["unique_id"] = frame["unique_id"].astype(dtype)
        panel = to_panel(frame)
        assert panel.id_column([1]).dtype == frame["unique_id"].dtype
        assert panel.id_column([1]).tolist() == ["b"]


# --- time dtypes ------------------------------------------------------------------------------


def test_a_pandas_output_gets_the_input_time_dtype() -> None:
    frame = _frame(["a"])
    frame["ds"] = frame["ds"].astype("datetime64[s]")
    panel = to_panel(frame)
    assert panel.time_dtype == "datetime64[s]"
    assert panel.to_pandas()["ds"].dtype == "datetime64[s]"
    future = pd.DataFrame({"unique_id": ["a"], "ds": panel.future_times(0, 1), "y": [0.0]})
    assert from_pandas(future, "pandas", schema=panel.schema)["ds"].dtype == "datetime64[s]"


def test_integer_time_keeps_its_integer_dtype() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": np.arange(5, dtype=np.int32), "y": 1.0})
    panel = to_panel(frame)
    assert panel.to_pandas()["ds"].dtype == np.int32


def test_a_polars_date_column_comes_back_as_date() -> None:
    frame = pl.DataFrame(
        {
            "unique_id": pl.Series(["b", "a"] * 3, dtype=pl.Categorical),
            "ds": [dt.date(2024, 1, 1 + k // 2) for k in range(6)],
            "y": [1.0, 2, 3, 4, 5, 6],
        }
    )
    panel = to_panel(frame)
    assert panel.ids == ["b", "a"]
    future = pd.DataFrame(
        {
            panel.id_col: panel.id_column([0, 1]),
            panel.time_col: [panel.future_times(0, 1)[0], panel.future_times(1, 1)[0]],
            "y": [0.0, 0.0],
        }
    )
    out = from_pandas(future, panel.frame_kind, schema=panel.schema)
    assert out.schema["ds"] == pl.Date
    assert out.schema["unique_id"] == pl.Categorical
    assert out["ds"].to_list() == [dt.date(2024, 1, 4), dt.date(2024, 1, 4)]


def test_polars_integer_ids_and_datetimes_keep_their_polars_types() -> None:
    frame = pl.DataFrame(
        {
            "unique_id": pl.Series([5, 5, 5], dtype=pl.Int32),
            "ds": pl.Series([dt.datetime(2024, 1, 1, h) for h in range(3)]).cast(
                pl.Datetime("ms", "Europe/Paris")
            ),
            "y": [1.0, 2.0, 3.0],
        }
    )
    panel = to_panel(frame)
    cutoffs = pd.DataFrame(
        {
            "unique_id": panel.id_column([0]),
            "ds": panel.future_times(0, 1),
            "cutoff": panel.times[0][-1:],
        }
    )
    out = from_pandas(cutoffs, "polars", schema=panel.schema.with_column("cutoff", like="ds"))
    assert out.schema["unique_id"] == pl.Int32
    assert out.schema["ds"] == pl.Datetime("ms", "Europe/Paris")
    assert out.schema["cutoff"] == pl.Datetime("ms", "Europe/Paris")


# --- decimals and 128-bit integers: numbers pandas has no plain dtype for ---------------------


def _decimal_frame() -> pl.DataFrame:
    """Two hourly series with a float target `y` and a float covariate `x` of 4 decimals."""
    return pl.from_pandas(_frame(["a", "b"], n=6, x=np.round(np.linspace(-1, 1, 12), 4)))


def test_polars_decimal_targets_and_covariates_are_the_float_columns_they_hold() -> None:
    # a Decimal covariate was left out as if it were text, a Decimal target refused as
    # "dtype object (numbers written as text ...); convert it with `pd.to_numeric`"
    floats = _decimal_frame()
    decimals = floats.with_columns(
        pl.col("y").cast(pl.Decimal(12, 2)), pl.col("x").cast(pl.Decimal(10, 4))
    )
    panel = to_panel(decimals)
    assert panel.target_cols == ["y"] and panel.covariate_cols == ["x"]
    np.testing.assert_array_equal(panel.exact, to_panel(floats).exact)


def test_a_pandas_column_of_decimal_objects_is_a_float_column() -> None:
    frame = _frame(["a"], n=4)
    frame["x"] = pd.Series([Decimal("0.5"), pd.NA, Decimal("-1.25"), 2], dtype=object)
    before = frame.copy()
    panel = to_panel(frame, fill="ffill")
    assert panel.covariate_cols == ["x"]
    np.testing.assert_array_equal(panel.exact[:, 1], [0.5, 0.5, -1.25, 2.0])
    pd.testing.assert_frame_equal(frame, before)  # the user's Decimals stay Decimals
    decimal_target = frame.assign(y=frame["y"].map(Decimal).astype(object))
    assert to_panel(decimal_target, covariate_cols=[]).target_cols == ["y"]


def test_object_columns_of_floats_or_integers_are_number_columns() -> None:
    # an object column of floats (after an assignment of None, say) was text to the checks:
    # left out as a covariate by lstm and by theta, which refuses covariates, without a word
    frame = _frame(["a"], n=4)
    frame["x"] = pd.Series([0.5, None, -1.25, np.float64(2.0)], dtype=object)
    frame["k"] = pd.Series([1, 2, np.int64(3), 4], dtype=object)
    before = frame.copy()
    panel = to_panel(frame, fill="ffill")
    assert panel.covariate_cols == ["x", "k"]
    np.testing.assert_array_equal(panel.exact[:, 1], [0.5, 0.5, -1.25, 2.0])
    np.testing.assert_array_equal(panel.exact[:, 2], [1, 2, 3, 4])
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(InputError, match=r"uses no covariates.*columns \['x', 'k'\]"):
        tsf.forecast(frame.ffill(), 2, model="theta")
    # integer ids held as objects stay integers, not 1.0
    ids = _frame(["a", "b"], n=4).assign(unique_id=pd.Series([7] * 4 + [8] * 4, dtype=object))
    assert to_panel(ids).ids == [7, 8]
    # numbers mixed with text stay text, for the check that names the first non-number
    mixed = _frame(["a"], n=4).assign(y=pd.Series([1.0, "n/a", 2.0, 3.0], dtype=object))
    with pytest.raises(InputError, match="'n/a'"):
        to_panel(mixed)


def test_integral_decimal_ids_stay_integers() -> None:
    frame = _frame(["a", "b"], n=4).assign(
        unique_id=pd.Series([Decimal("1001")] * 4 + [Decimal("1002")] * 4, dtype=object)
    )
    assert to_panel(frame).ids == [1001, 1002]  # not 1001.0


def test_object_columns_of_booleans_are_flags() -> None:
    # a target of True / False objects was "numbers written as text ... pd.to_numeric"
    frame = _frame(["a"], n=4)
    frame["f"] = pd.Series([True, False, True, True], dtype=object)
    panel = to_panel(frame)
    assert panel.covariate_cols == ["f"]  # a flag, as a bool column is
    np.testing.assert_array_equal(panel.exact[:, 1], [1, 0, 1, 1])
    with pytest.raises(InputError, match=r"target column 'f' is boolean; cast it"):
        to_panel(frame, target_col="f", covariate_cols=[])


def test_a_statistical_model_refuses_a_decimal_covariate_as_it_refuses_a_float_one() -> None:
    # theta, which uses no covariates, accepted a Decimal column: it was silently left out
    decimals = _decimal_frame().with_columns(pl.col("x").cast(pl.Decimal(10, 4)))
    with pytest.raises(InputError, match=r"uses no covariates.*columns \['x'\]"):
        tsf.forecast(decimals, 2, model="theta")
    with pytest.raises(InputError, match=r"uses no covariates.*columns \['x'\]"):
        tsf.forecast(decimals.to_pandas(), 2, model="theta")


@pytest.mark.parametrize("dtype", [pl.Int128, pl.UInt128])
def test_polars_128_bit_integer_columns_are_read_as_int64(dtype) -> None:
    # polars' own `to_pandas` raised pyarrow's ArrowInvalid "unsupported format string
    # '_pli128'", even for a column the call does not use
    frame = pl.from_pandas(_frame(["a"], n=4)).with_columns(
        pl.Series("n", [1, 2, 3, 2**40], dtype=dtype)
    )
    assert to_panel(frame, covariate_cols=[]).covariate_cols == []
    panel = to_panel(frame)
    assert panel.covariate_cols == ["n"]
    np.testing.assert_array_equal(panel.exact[:, 1], [1, 2, 3, 2**40])


def test_polars_128_bit_ids_come_back_with_their_dtype() -> None:
    frame = pl.from_pandas(_frame([7, 8], n=4)).with_columns(pl.col("unique_id").cast(pl.Int128))
    out = tsf.forecast(frame, 2, model="naive")
    assert out.schema["unique_id"] == pl.Int128
    assert out["unique_id"].to_list() == [7, 7, 8, 8]


def test_128_bit_integers_beyond_int64_are_refused_by_name_not_rounded() -> None:
    # as float64, ids or stamps that differ beyond 2**53 would become one without a word
    frame = pl.from_pandas(_frame(["a"], n=2)).with_columns(
        pl.Series("n", [1, 2**70], dtype=pl.Int128)
    )
    with pytest.raises(
        InputError, match=r"column 'n' of `df` is Int128 with values beyond int64 .*pl\.Float64"
    ):
        to_panel(frame)


# --- time stamps as strings (a CSV read by the CLI) -------------------------------------------

DST_STAMPS = [
    "2021-03-28T00:00:00+01:00",
    "2021-03-28T01:00:00+01:00",
    "2021-03-28T03:00:00+02:00",  # the clocks go forward: 02:00 local does not exist
    "2021-03-28T04:00:00+02:00",
]


@pytest.mark.parametrize("dtype", [object, "str", "string"])
def test_iso_strings_across_a_dst_change_parse_as_the_tz_aware_column_does(dtype) -> None:
    as_text = pd.DataFrame({"unique_id": "a", "ds": pd.Series(DST_STAMPS, dtype=dtype), "y": 1.0})
    zoned = as_text.assign(ds=pd.date_range("2021-03-28", periods=4, freq="h", tz="Europe/Paris"))
    from_text, from_zoned = to_panel(as_text), to_panel(zoned)
    assert from_text.freq == from_zoned.freq == "h"
    # the same instants (the text gives only offsets, not the zone: they come back in UTC)
    assert from_text.times[0].tz_convert("UTC").equals(from_zoned.times[0].tz_convert("UTC"))
    assert from_text.future_times(0, 1)[0] == from_zoned.future_times(0, 1)[0]


def test_iso_strings_across_a_dst_change_parse_without_a_pandas_warning() -> None:
    # pandas 2 warns that mixed offsets will be refused in the future; ours is UTC on both
    frame = pd.DataFrame({"unique_id": "a", "ds": DST_STAMPS, "y": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = to_panel(frame)
    assert str(panel.times[0].tz) == "UTC"


def test_iso_strings_in_a_polars_frame_parse_the_same_way() -> None:
    panel = to_panel(pl.DataFrame({"unique_id": "a", "ds": DST_STAMPS, "y": 1.0}))
    assert panel.freq == "h"
    assert str(panel.times[0].tz) == "UTC"


@pytest.mark.parametrize(("freq", "zone"), [("D", "Europe/Berlin"), ("MS", "America/New_York")])
def test_local_days_and_months_written_across_a_dst_change_keep_their_wall_clock(
    freq: str, zone: str
) -> None:
    # in UTC a local midnight falls at 22:00 or 23:00 and off the grid: they were refused as
    # "time stamps off the 'D' grid", though pandas' own to_csv writes them so
    stamps = pd.date_range("2024-03-01", periods=60, freq=freq, tz=zone)  # across the change
    text = pd.DataFrame({"unique_id": "a", "ds": stamps.astype(str), "y": 1.0})
    panel = to_panel(text)
    assert panel.freq == freq
    assert panel.times[0].tz is None
    assert panel.times[0].equals(pd.DatetimeIndex(stamps.tz_localize(None)))


def test_strings_with_one_offset_keep_it() -> None:
    stamps = ["2021-01-01T00:00:00+05:30", "2021-01-01T01:00:00+05:30", "2021-01-01T02:00:00+05:30"]
    panel = to_panel(pd.DataFrame({"unique_id": "a", "ds": stamps, "y": 1.0}))
    assert panel.times[0][0].utcoffset() == pd.Timedelta(hours=5, minutes=30)


def test_strings_mixing_offsets_and_none_are_refused_like_datetimes() -> None:
    stamps = ["2021-03-28T00:00:00", "2021-03-28T01:00:00+01:00", "2021-03-28T02:00:00+01:00"]
    with pytest.raises(InputError, match=r"mixes time-zone-aware and naive time stamps"):
        to_panel(pd.DataFrame({"unique_id": "a", "ds": stamps, "y": 1.0}))


# --- dates written with the day and the month as numbers -------------------------------------


def _written(days: pd.DatetimeIndex, fmt: str) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": "a", "ds": days.strftime(fmt), "y": 1.0})


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y", "%m/%d/%Y", "%d/%m/%Y %H:%M"])
def test_numeric_dates_are_read_in_one_order_for_the_whole_column(fmt: str) -> None:
    # pandas' mixed parser reads 04/01/2021 ... 12/01/2021 month-first and 13/01/2021 day-first
    days = pd.date_range("2021-01-04", periods=40, freq="D")
    panel = to_panel(_written(days, fmt))
    assert panel.freq == "D"
    assert panel.times[0].equals(pd.DatetimeIndex(days))


@pytest.mark.parametrize(
    ("fmt", "freq"), [("%d/%m/%Y", "MS"), ("%m/%d/%Y", "MS"), ("%d.%m.%Y", "QS-JAN")]
)
def test_numeric_dates_that_fit_either_order_take_the_one_of_regular_stamps(fmt, freq) -> None:
    # day-first 01/01/2021 ... 01/12/2022 are months; read month-first, 12 days of two Januaries
    starts = pd.date_range("2021-01-01", periods=24, freq=freq)
    panel = to_panel(_written(starts, fmt))
    assert panel.times[0].equals(pd.DatetimeIndex(starts))


def test_numeric_dates_that_are_regular_in_either_order_are_refused_with_both_readings() -> None:
    twelve_months = _written(pd.date_range("2021-01-01", periods=12, freq="MS"), "%d/%m/%Y")
    with pytest.raises(InputError, match=r"no value tells which comes first") as caught:
        to_panel(twelve_months)
    message = str(caught.value)
    assert "'01/02/2021'" in message
    assert "month-first it is 2021-01-02, day-first 2021-02-01" in message
    assert "format='%d/%m/%Y'" in message and "format='%m/%d/%Y'" in message


def test_two_numeric_dates_per_series_are_refused_as_too_few_to_decide() -> None:
    # it said "neither reading gives regular time stamps", where both do (days or months)
    frame = pd.DataFrame(
        {"unique_id": ["a", "a", "b", "b"], "ds": ["01/01/2021", "01/02/2021"] * 2, "y": 1.0}
    )
    with pytest.raises(InputError, match=r"2 distinct stamps are too few to tell which reading"):
        to_panel(frame)


def test_numeric_dates_written_in_both_orders_are_refused() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": ["13/01/2021", "01/14/2021"], "y": 1.0})
    with pytest.raises(InputError, match=r"some dates day-first \('13/01/2021'\) and some month"):
        to_panel(frame)


def test_day_first_dates_in_a_polars_frame_are_read_day_first() -> None:
    days = pd.date_range("2021-03-01", periods=20, freq="D")
    frame = pl.DataFrame({"unique_id": "a", "ds": list(days.strftime("%d/%m/%Y")), "y": 1.0})
    assert to_panel(frame).times[0].equals(pd.DatetimeIndex(days))


def test_datetime_objects_of_one_zone_keep_the_zone() -> None:
    stamps = pd.date_range("2024-01-01", periods=3, freq="h", tz="Europe/Paris")
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.Series(list(stamps), dtype=object), "y": 1.0})
    assert str(to_panel(frame).times[0].tz) == "Europe/Paris"


def test_python_dates_are_datetimes() -> None:
    days = [dt.date(2024, 1, d) for d in (1, 2, 3)]
    assert to_panel(pd.DataFrame({"unique_id": "a", "ds": days, "y": 1.0})).freq == "D"


# --- numbers as time stamps -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e300, 2.5])
def test_float_stamps_must_be_whole_finite_numbers(bad: float) -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": [1.0, 2.0, bad], "y": 1.0})
    with pytest.raises(InputError, match=r"column 'ds' holds non-integer, infinite or missing"):
        to_panel(frame)


def test_integer_stamps_beyond_2_62_are_refused() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": [0, 1, 2**63 - 1], "y": 1.0})
    with pytest.raises(InputError, match=r"integer stamps must lie within ±2\*\*62"):
        to_panel(frame)


def test_numeric_columns_with_integer_labels_are_covariates_under_their_labels() -> None:
    frame = _frame(["a"]).assign(extra=1.5).rename(columns={"extra": 7})
    panel = to_panel(frame)
    assert panel.covariate_cols == [7]
    assert panel.to_pandas()[7].tolist() == [1.5] * 4


# --- regular grids ----------------------------------------------------------------------------


def test_a_stray_stamp_far_away_is_an_error_not_an_exhausted_memory() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": [0, 1, 2, 10**15], "y": 1.0})
    with pytest.raises(InputError, match=r"series 'a' has 999999999999997 missing time stamps"):
        to_panel(frame)
    with pytest.raises(InputError, match=r"would make 1000000000000001 time stamps from 4"):
        to_panel(frame, fill="zero")


def test_datetimes_beyond_the_nanosecond_range_are_checked_and_filled_in_their_own_unit() -> None:
    stamps = pd.date_range("3000-01-01", periods=6, freq="h", unit="s")
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps.delete(2), "y": [1.0, 2, 4, 5, 6]})
    with pytest.raises(InputError, match=r"1 missing time stamps .*first: 3000-01-01 02:00"):
        to_panel(frame)
    panel = to_panel(frame, fill="interpolate")
    assert panel.freq == "h"
    assert panel.times[0].equals(stamps)
    assert panel.series_values(0)[:, 0].tolist() == [1.0, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("freq", "days", "period"),
    [("MS", 14, "M"), ("MS", 29, "M"), ("QS", 14, "Q"), ("YS", 14, "Y")],
)
def test_stamps_in_the_middle_of_each_month_are_refused_with_how_to_restamp_them(
    freq: str, days: int, period: str
) -> None:
    # no pandas frequency is "the 15th of every month": the error says so and how to restamp,
    # and the restamping it shows gives a panel on `freq`
    starts = pd.date_range("2020-01-01", periods=12, freq=freq)
    # `days` after each start, within its month (the 30th is the 29th in February 2020)
    stamps = starts + pd.to_timedelta(np.minimum(days, starts.days_in_month - 1), unit="D")
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(12.0)})
    with pytest.raises(
        InputError,
        match=rf"on day {stamps[0].day} of their month.*to_period\('{period}'\).*freq='{freq}'",
    ):
        to_panel(frame)
    frame["ds"] = frame["ds"].dt.to_period(period).dt.to_timestamp()
    assert to_panel(frame, freq=freq).freq.startswith(freq)  # QS-JAN, YS-JAN
    assert to_panel(frame).n_obs == 12


@pytest.mark.parametrize(
    ("stamps_freq", "passed", "name", "hinted"),
    [
        ("ME", "MS", "month-end", "ME"),
        ("ME", "QS", "month-end", "ME"),
        ("ME", "W", "month-end", "ME"),
        ("QE", "QS", "quarter-end", "QE"),
        ("QE-NOV", "QS", "quarter-end", "QE-NOV"),
        ("YE", "YS", "year-end", "YE"),
        ("MS", "W", "month-start", "MS"),
        ("QS-FEB", "QS", "quarter-start", "QS-FEB"),
    ],
)
def test_period_end_or_start_stamps_with_the_wrong_freq_are_told_the_freq_that_fits(
    stamps_freq: str, passed: str, name: str, hinted: str
) -> None:
    # month ends are a pandas frequency ('ME'): the error names it, not a restamping
    stamps = pd.date_range("2021-01-01", periods=30, freq=stamps_freq)
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(30.0)})
    with pytest.raises(InputError) as caught:
        to_panel(frame, freq=passed)
    message = str(caught.value)
    assert f"Its stamps are {name} stamps: pass freq='{hinted}'" in message
    assert "or leave `freq` out to infer it" in message
    assert "no pandas frequency" not in message and "to_period" not in message
    assert to_panel(frame, freq=hinted).n_obs == 30
    assert to_panel(frame).n_obs == 30


@pytest.mark.parametrize(
    ("stamps_freq", "days", "hinted"),
    [("SMS", "the 1st and 15th", "SMS"), ("SME", "the 15th and month-end", "SME")],
)
def test_semi_month_stamps_are_told_to_pass_the_semi_month_freq(
    stamps_freq: str, days: str, hinted: str
) -> None:
    # pandas does not infer semi-months: the inferred 14-day grid fails, and the error says
    # which frequency to pass
    stamps = pd.date_range("2020-01-01", periods=48, freq=stamps_freq)
    frame = pd.DataFrame({"unique_id": "a", "ds": stamps, "y": np.arange(48.0)})
    with pytest.raises(
        InputError, match=rf"off the .* grid.*semi-month .*\({days}\): pass freq='{hinted}'\."
    ):
        to_panel(frame)
    assert to_panel(frame, freq=hinted).n_obs == 48


def test_an_off_grid_stamp_of_hourly_data_gets_no_restamping_hint() -> None:
    stamps = pd.date_range("2020-01-01", periods=6, freq="h").insert(
        6, pd.Timestamp("2020-01-01 05:07")
    )
    with pytest.raises(InputError, match=r"off the 'h' grid .*the right `freq`\.$"):
        to_panel(pd.DataFrame({"unique_id": "a", "ds": stamps, "y": 1.0}))


# beyond 2262: pandas 2 parses into nanoseconds, which cannot hold them
FAR_STAMPS = pd.date_range("2300-03-25", periods=4, freq="h", unit="s")
FAR_IN_UTC = pd.date_range("2300-03-24 23:00", periods=4, freq="h", tz="UTC", unit="s")
FAR_DST = ["2300-03-25T00:00+01:00", "2300-03-25T01:00+01:00", "2300-03-25T03:00+02:00"]


@pytest.mark.parametrize(
    ("ds", "zone", "expected"),
    [
        ([t.isoformat() for t in FAR_STAMPS], None, FAR_STAMPS),
        ([t.to_pydatetime() for t in FAR_STAMPS], None, FAR_STAMPS),
        ([t.isoformat() + "+01:00" for t in FAR_STAMPS], "UTC+01:00", FAR_IN_UTC),
        ([*FAR_DST, "2300-03-25T04:00+02:00"], "UTC", FAR_IN_UTC),
    ],
    ids=["strings", "datetime-objects", "one-offset", "offsets-across-dst"],
)
def test_stamps_beyond_the_nanosecond_range_parse_like_nearer_ones(
    ds: list, zone: str | None, expected: pd.DatetimeIndex
) -> None:
    times = to_panel(pd.DataFrame({"unique_id": "a", "ds": ds, "y": 1.0})).times[0]
    assert (str(times.tz) if times.tz else None) == zone
    assert list(times) == list(expected)  # the same instants


# --- odd inputs get an InputError too ---------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (
            pd.DataFrame({"unique_id": "a", "ds": pd.array([1, None, 3], dtype="Int64"), "y": 1.0}),
            r"column 'ds' has 1 missing time stamps \(first at row 1\)",
        ),
        (
            pd.DataFrame({"unique_id": "a", "ds": pd.to_timedelta([1, 2], unit="h"), "y": 1.0}),
            r"column 'ds' holds durations \(timedelta\)",
        ),
        (
            pd.DataFrame({"unique_id": "a", "ds": [1, 2], "y": [1j, 2j]}),
            r"target column 'y' must be numeric, got dtype complex128",
        ),
        (
            pd.DataFrame(
                [["a", 1, 1.0]],
                columns=pd.MultiIndex.from_arrays([["unique_id", "ds", "y"], ["", "", ""]]),
            ),
            r"`df` has 2 levels of column names .*flatten them",
        ),
        (
            pd.DataFrame({"ds": [1, 2], "y": 1.0}, index=pd.Index(["a", "a"], name="unique_id")),
            r"column 'unique_id' is missing .*it is the frame's index: call `df.reset_index\(\)`",
        ),
    ],
    ids=[
        "nullable int stamps with NA",
        "durations",
        "complex target",
        "two column levels",
        "id in the index",
    ],
)
def test_odd_inputs_are_refused_with_what_to_do(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(InputError, match=match):
        to_panel(frame)


def test_polars_durations_and_null_stamps_are_refused() -> None:
    durations = pl.DataFrame({"unique_id": ["a", "a"], "ds": [1, 2], "y": [1.0, 2.0]})
    with pytest.raises(InputError, match=r"holds durations"):
        to_panel(durations.with_columns(pl.col("ds").cast(pl.Duration("us"))))
    with pytest.raises(InputError, match=r"column 'ds' has 1 missing time stamps"):
        to_panel(durations.with_columns(ds=pl.Series([1, None])))


def test_an_unrelated_complex_column_is_not_taken_as_a_covariate() -> None:
    frame = _frame(["a"]).assign(z=1j)
    assert to_panel(frame).covariate_cols == []
