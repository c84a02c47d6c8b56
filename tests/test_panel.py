"""frame -> Panel: what a valid frame becomes, and the error every bad input gets."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch

from tests.conftest import make_long_frame
from tsforecast.checks import positive_int
from tsforecast.data.frames import wide_to_long
from tsforecast.data.validation import to_panel
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError


def test_valid_frame_becomes_left_aligned_padded_tensor(small_frame: pd.DataFrame) -> None:
    panel = to_panel(small_frame)
    assert panel.values.shape == (3, 40, 2)
    assert panel.values.dtype == torch.float32
    assert panel.lengths.tolist() == [30, 24, 40]
    assert panel.ids == ["a", "b", "c"]
    assert panel.target_cols == ["y"]
    assert panel.covariate_cols == ["x0"]
    assert panel.freq == "h"
    b = small_frame[small_frame.unique_id == "b"]
    np.testing.assert_allclose(panel.values[1, :24, 0].numpy(), b.y.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(panel.values[1, :24, 1].numpy(), b.x0.to_numpy(), rtol=1e-6)
    assert torch.all(panel.values[1, 24:] == 0)
    assert list(panel.times[1]) == list(b.ds)


def test_unsorted_rows_are_sorted_and_the_frame_is_not_modified(small_frame) -> None:
    shuffled = small_frame.sample(frac=1.0, random_state=0)
    before = shuffled.copy()
    panel = to_panel(shuffled)
    pd.testing.assert_frame_equal(shuffled, before)
    expected = to_panel(small_frame)
    # series come in the order of their first row; each one's rows are sorted by time
    assert panel.ids == list(shuffled.unique_id.unique())
    order = [expected.ids.index(i) for i in panel.ids]
    assert torch.equal(panel.values, expected.values[order])


def test_multivariate_targets_come_first_and_covariates_are_chosen_explicitly() -> None:
    frame = make_long_frame({"a": 10}, n_covariates=2)
    frame["z"] = frame["y"] * 2
    panel = to_panel(frame, target_col=["y", "z"], covariate_cols=["x1"])
    assert panel.columns == ["y", "z", "x1"]
    assert panel.n_targets == 2


def test_integer_time_and_future_times() -> None:
    frame = make_long_frame({"a": 10, "b": 5}, datetime=False)
    frame["ds"] = frame["ds"] * 3
    panel = to_panel(frame)
    assert panel.freq == 3
    assert list(panel.future_times(1, 2)) == [18, 21]


def test_datetime_future_times_follow_the_frequency() -> None:
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": pd.date_range("2020-01-01", periods=5, freq="MS"), "y": 1.0}
    )
    panel = to_panel(frame)
    assert panel.freq == "MS"
    assert list(panel.future_times(0, 2)) == list(pd.to_datetime(["2020-06-01", "2020-07-01"]))


def test_date_strings_are_parsed() -> None:
    frame = pd.DataFrame(
        {"unique_id": "s", "ds": ["2020-01-01", "2020-01-02", "2020-01-03"], "y": [1.0, 2, 3]}
    )
    assert to_panel(frame).freq == "D"


def test_polars_frame_gives_the_same_panel(small_frame) -> None:
    from_pandas = to_panel(small_frame)
    from_polars = to_panel(pl.from_pandas(small_frame))
    assert from_polars.frame_kind == "polars"
    assert torch.equal(from_pandas.values, from_polars.values)
    assert from_pandas.ids == from_polars.ids


@pytest.mark.parametrize("fill", ["ffill", "interpolate", "zero"])
def test_fill_policies_fill_nan_targets(fill: str) -> None:
    frame = make_long_frame({"a": 6})
    frame.loc[2, "y"] = np.nan
    panel = to_panel(frame, fill=fill)  # type: ignore[arg-type]
    expected = {
        "ffill": frame.y[1],
        "interpolate": (frame.y[1] + frame.y[3]) / 2,
        "zero": 0.0,
    }[fill]
    assert panel.values[0, 2, 0].item() == pytest.approx(expected, rel=1e-5)


def test_fill_inserts_missing_timestamps() -> None:
    frame = make_long_frame({"a": 6}).drop(index=[2, 3])
    panel = to_panel(frame, fill="interpolate")
    assert panel.lengths.tolist() == [6]
    assert len(panel.times[0]) == 6


def test_wide_to_long_pandas_and_polars() -> None:
    wide = pd.DataFrame(
        {"ds": pd.date_range("2020", periods=3, freq="D"), "s1": [1.0, 2, 3], "s2": [4.0, 5, 6]}
    )
    long = wide_to_long(wide, time_col="ds")
    assert list(long.columns) == ["unique_id", "ds", "y"]
    assert long.y.tolist() == [1.0, 2, 3, 4, 5, 6]
    long_pl = wide_to_long(pl.from_pandas(wide), time_col="ds")
    assert isinstance(long_pl, pl.DataFrame)
    assert long_pl["y"].to_list() == [1.0, 2, 3, 4, 5, 6]
    from_index = wide_to_long(wide.set_index("ds"))
    assert from_index.shape == (6, 3)


def test_wide_to_long_refuses_series_named_like_its_output_columns() -> None:
    # they failed inside pandas ("cannot insert ds, already exists", value_name clashes)
    wide = pd.DataFrame({"ds": pd.date_range("2020", periods=3, freq="D"), "y": [1.0, 2, 3]})
    with pytest.raises(InputError, match=r"column 'ds' and `time_col` is None.*time_col='ds'"):
        wide_to_long(wide)
    with pytest.raises(InputError, match=r"series columns \['y'\].*value_col='value'"):
        wide_to_long(wide, time_col="ds")
    with pytest.raises(InputError, match=r"series columns \['unique_id'\]"):
        wide_to_long(wide.rename(columns={"y": "unique_id"}), time_col="ds")
    long = wide_to_long(wide, time_col="ds", value_col="value")
    assert long["unique_id"].tolist() == ["y"] * 3 and long["value"].tolist() == [1.0, 2, 3]


def test_wide_to_long_refuses_columns_that_are_no_series_of_numbers_by_name() -> None:
    # a text column became a series of its own and made every `y` an object, refused later as
    # "target column 'y' must be numeric" with no word of `region`
    wide = pd.DataFrame(
        {
            "date": pd.date_range("2021-01-01", periods=3, freq="D"),
            "storeA": [1.0, 2, 3],
            "storeB": [4, 5, 6],
            "region": "north",
        }
    )
    with pytest.raises(
        InputError,
        match=r"column 'region' \(dtype str, e\.g\. 'north'\) is not numeric; drop it "
        r"\(`df\.drop\(columns=\['region'\]\)`\)",
    ):
        wide_to_long(wide, time_col="date")
    with pytest.raises(
        InputError, match=r"column 'region' \(dtype String, .*`df\.drop\(\['region'\]\)`"
    ):
        wide_to_long(pl.from_pandas(wide), time_col="date")
    flagged = wide.drop(columns="region").assign(open=True)
    with pytest.raises(InputError, match=r"column 'open' \(dtype bool, e\.g\. True\)"):
        wide_to_long(flagged.set_index("date"))
    long = wide_to_long(wide.drop(columns="region"), time_col="date")
    assert long["y"].dtype == np.float64 and long["unique_id"].unique().tolist() == [
        "storeA",
        "storeB",
    ]


# --- bad input: one test each, checking the type and the words of the message -------------


def _raises(match: str, frame, **kwargs) -> None:
    with pytest.raises(InputError, match=match):
        to_panel(frame, **kwargs)


def test_not_a_frame() -> None:
    _raises(r"must be a pandas or polars DataFrame, got list", [1, 2, 3])


def test_empty_frame() -> None:
    _raises(r"`df` is empty \(0 rows\)", pd.DataFrame({"unique_id": [], "ds": [], "y": []}))


def test_missing_column_names_what_exists_and_the_argument(small_frame) -> None:
    frame = small_frame.rename(columns={"ds": "date"})
    _raises(r"column 'ds' is missing from `df` \(found: .*'date'.*\).*`time_col=`", frame)


def test_a_frame_without_an_id_column_is_told_how_to_name_its_one_series(small_frame) -> None:
    one = small_frame[small_frame["unique_id"] == small_frame["unique_id"].iloc[0]]
    frame = one.drop(columns="unique_id")
    _raises(r"one series\? give it an id \(`df.assign\(unique_id='series_1'\)`\)", frame)
    # None names no column: it was taken for the name of the frame's RangeIndex
    _raises(r"`id_col` must be a column name of `df` .*got None", frame, id_col=None)


def test_misspelled_target_suggests_the_close_name(small_frame) -> None:
    _raises(
        r"column 'yy' is missing.*did you mean 'y'\?.*`target_col=`", small_frame, target_col="yy"
    )


def test_non_numeric_target(small_frame) -> None:
    frame = small_frame.assign(y=small_frame.y.astype(str))
    _raises(r"target column 'y' must be numeric, got dtype", frame)


def test_a_non_number_among_numbers_is_quoted_with_its_row(small_frame) -> None:
    # the message quoted the first (valid) value of the column, not the one that is wrong
    frame = small_frame.assign(y=small_frame.y.astype(str))
    frame.loc[3, "y"] = "abc"
    _raises(r"first non-number: 'abc' in row 3", frame)
    _raises(r"numbers written as text", small_frame.assign(y=small_frame.y.astype(str)))


def _read(csv: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO("unique_id,ds,y\n" + csv))


def test_numbers_with_a_decimal_comma_are_told_how_to_read_them() -> None:
    # "fix or drop those rows" led nowhere when every row is such a number
    decimal_commas = _read('a,1,"1,5"\na,2,"2,5"\na,3,"-0,25"\n')
    _raises(
        r"\(first non-number: '1,5' in row 0; 3 of the 3 non-numbers look like numbers with a "
        r"decimal comma\); read the file with `pd\.read_csv\(path, decimal=','\)`, or write it "
        r"with '\.' as the decimal mark\.$",
        decimal_commas,
    )
    grouped = _read('a,1,"1.234,5"\na,2,"2,5"\na,3,"3,5"\n')
    _raises(r"`pd\.read_csv\(path, decimal=',', thousands='\.'\)`", grouped)
    # '1,000' may be a thousand: `decimal=','` alone would be a silent wrong number
    thousands = _read('a,1,"1,000"\na,2,"2,500"\na,3,"3,000"\n')
    _raises(
        r"or with a comma between thousands\); .*`pd\.read_csv\(path, thousands=','\)`", thousands
    )
    # where few non-numbers look so, it is the rows that are wrong
    _raises(
        r"first non-number: 'x' in row 0\); fix or drop those rows",
        _read('a,1,x\na,2,"2,5"\na,3,n/a\n'),
    )


def test_boolean_target(small_frame) -> None:
    frame = small_frame.assign(y=small_frame.y > 0)
    _raises(r"target column 'y' is boolean; cast it to a number", frame)


def test_boolean_covariate_is_taken_as_zeros_and_ones(small_frame) -> None:
    # a flag (holiday, promotion) is a covariate whether it is named or found implicitly
    frame = small_frame.assign(flag=small_frame.y > 0)
    as_float = small_frame.assign(flag=(small_frame.y > 0).astype(float))
    for covariate_cols in (None, ["flag"]):
        panel = to_panel(frame, covariate_cols=covariate_cols)
        reference = to_panel(as_float, covariate_cols=covariate_cols)
        assert "flag" in panel.covariate_cols
        torch.testing.assert_close(panel.values, reference.values)


def test_text_columns_are_not_implicit_covariates(small_frame) -> None:
    panel = to_panel(small_frame.assign(name="store"))
    assert "name" not in panel.covariate_cols


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_infinite_values_name_series_and_time(small_frame, value: float) -> None:
    frame = small_frame.copy()
    frame.loc[31, "y"] = value
    _raises(r"column 'y' has 1 infinite values \(first: series 'b' at 2024-01-01 01:00", frame)


def test_nan_target_without_fill(small_frame) -> None:
    frame = small_frame.copy()
    frame.loc[3, "y"] = np.nan
    _raises(
        r"column 'y' of series 'a' has 1 missing values \(first at 2024-01-01 03:00.*`fill=", frame
    )
    # the advice names the command line's flag and the config's key too
    _raises(r"`fill='ffill'\|'interpolate'\|'zero'` \(CLI: `--fill`; config: `data\.fill`\)", frame)


def test_unknown_fill_policy(small_frame) -> None:
    _raises(
        r"`fill` must be None or one of \['ffill', 'interpolate', 'zero'\]",
        small_frame,
        fill="mean",
    )


def test_duplicated_id_time_pairs(small_frame) -> None:
    frame = pd.concat([small_frame, small_frame.iloc[[33, 34]]])
    _raises(r"series 'b' has 2 duplicated timestamps \(first: 2024-01-01 03:00", frame)


def test_gap_inside_a_series(small_frame) -> None:
    frame = small_frame.drop(index=[5, 6])
    _raises(r"series 'a' has 2 missing time stamps .*first: 2024-01-01 05:00.*`fill=", frame)
    _raises(r"\(CLI: `--fill`; config: `data\.fill`\) to fill them", frame)


def test_irregular_spacing_inside_a_series(small_frame) -> None:
    frame = small_frame.copy()
    frame.loc[5, "ds"] = frame.loc[5, "ds"] + pd.Timedelta(minutes=30)
    _raises(r"series 'a' has 1 time stamps off the 'h' grid", frame)


def test_series_of_different_frequencies() -> None:
    hourly = make_long_frame({"a": 10})
    daily = pd.DataFrame(
        {"unique_id": "b", "ds": pd.date_range("2024-01-01", periods=10, freq="D"), "y": 1.0}
    )
    _raises(r"series have different frequencies", pd.concat([hourly, daily]))


def test_integer_series_of_different_steps_are_refused_by_name() -> None:
    # a gcd over all series put a step-2 and a step-3 series on a step-1 grid: "39 missing
    # time stamps" for 'a', and with `fill` both forecast off their own grids
    step2 = pd.DataFrame({"unique_id": "a", "ds": np.arange(0, 80, 2), "y": np.arange(40.0)})
    step3 = pd.DataFrame({"unique_id": "b", "ds": np.arange(1, 121, 3), "y": np.arange(40.0)})
    both = pd.concat([step2, step3])
    _raises(r"different integer time steps: \{2: \['a'\], 3: \['b'\]\}", both)
    _raises(r"different integer time steps", both, fill="ffill")
    assert to_panel(step2).freq == 2 and to_panel(step3).freq == 3
    assert to_panel(pd.concat([step2, step2.assign(unique_id="c")])).freq == 2
    # an explicit step puts them on one grid, filled
    assert to_panel(both, freq=1, fill="ffill").freq == 1
    # a one-stamp series has no step of its own
    single = pd.DataFrame({"unique_id": "d", "ds": [7], "y": [1.0]})
    assert to_panel(pd.concat([step2, single])).freq == 2


def test_null_ids(small_frame) -> None:
    frame = small_frame.astype({"unique_id": object})
    frame.loc[4, "unique_id"] = None
    _raises(r"column 'unique_id' has 1 null ids", frame)


def test_mixed_time_types(small_frame) -> None:
    frame = small_frame.astype({"ds": object})
    frame.loc[2, "ds"] = 7
    _raises(r"column 'ds' mixes time stamp types \['datetime', 'int'\]", frame)


def test_timezone_aware_and_naive_mixed(small_frame) -> None:
    frame = small_frame.astype({"ds": object})
    frame.loc[2, "ds"] = pd.Timestamp("2024-01-01 02:00", tz="UTC")
    _raises(r"mixes time-zone-aware and naive time stamps", frame)


def test_non_date_strings_as_time(small_frame) -> None:
    frame = small_frame.assign(ds="yesterday")
    _raises(r"column 'ds' holds strings that are not dates", frame)
    dates = small_frame.assign(ds=small_frame.ds.astype(str))
    dates.loc[4, "ds"] = "notadate"
    _raises(r"not dates \(first: 'notadate'\)", dates)


@pytest.mark.parametrize("value", [0, -3, 2.5, "24", True, None])
def test_horizon_must_be_a_positive_integer(value) -> None:
    with pytest.raises(InputError, match=r"`horizon` must be a positive integer, got"):
        positive_int("horizon", value)


def test_unknown_device_is_refused() -> None:
    with pytest.raises(InputError, match=r"`device` must be 'auto'"):
        resolve_device("tpu")
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}


def test_series_values_keep_the_exact_float64_input() -> None:
    frame = make_long_frame({"a": 5, "b": 3})
    frame.loc[0, "y"] = 0.1 + 1e-9  # not representable in float32
    panel = to_panel(frame)
    assert panel.series_values(0)[0, 0] == frame.y.iloc[0]
    assert panel.series_values(0).dtype == np.float64
    assert panel.select([1]).series_values(0).shape == (3, 1)


def test_timezone_aware_time_is_kept() -> None:
    frame = make_long_frame({"a": 6})
    frame["ds"] = frame["ds"].dt.tz_localize("Europe/Paris")
    panel = to_panel(frame)
    assert panel.freq == "h"
    assert str(panel.future_times(0, 1)[0]) == "2024-01-01 06:00:00+01:00"
    assert str(panel.to_pandas()["ds"].dtype).endswith("Europe/Paris]")


def test_to_pandas_round_trips_the_validated_rows(small_frame) -> None:
    shuffled = small_frame.sample(frac=1.0, random_state=1)
    back = to_panel(shuffled).to_pandas()
    # series by series, in the order they first appear; the same dtypes as the input
    expected = pd.concat(
        [small_frame[small_frame.unique_id == i] for i in shuffled.unique_id.unique()]
    )
    pd.testing.assert_frame_equal(back, expected.reset_index(drop=True))


@pytest.mark.parametrize(
    ("freq", "season"), [("h", 24), ("15min", 96), ("D", 7), ("MS", 12), ("QS", 4), ("W", 52)]
)
def test_season_length_follows_the_frequency(freq: str, season: int) -> None:
    from tsforecast.data.frequency import infer_season_length

    frame = pd.DataFrame(
        {"unique_id": "s", "ds": pd.date_range("2020-01-06", periods=30, freq=freq), "y": 1.0}
    )
    assert infer_season_length(to_panel(frame)) == season


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("BMS", 12),  # business-month stamps are monthly data
        ("BME", 12),
        ("BQE", 4),
        ("B", 5),
        ("2MS", 6),  # a multiple divides the unit's cycle
        ("3MS", 4),
        ("2W", 26),
        ("7D", 52),  # whole weeks written in days are weeks: "7D" once gave 1, no season
        ("14D", 26),
        ("168h", 52),
        ("2h", 12),
        ("5MS", 1),  # ... or no whole number of steps spans it: no season
        ("5h", 1),
        ("2D", 1),
        ("21D", 1),  # 3 weeks: as "3W"
        ("YS", 1),
    ],
)
def test_season_length_of_business_calendars_and_multiples(freq: str, season: int) -> None:
    from tsforecast.data.frequency import infer_season_length

    frame = pd.DataFrame(
        {"unique_id": "s", "ds": pd.date_range("2020-01-06", periods=30, freq=freq), "y": 1.0}
    )
    panel = to_panel(frame, freq=freq)
    assert infer_season_length(panel) == season


def test_season_length_of_integer_time_comes_from_the_autocorrelation() -> None:
    from tsforecast.data.frequency import infer_season_length

    t = np.arange(24 * 20)
    frame = pd.DataFrame({"unique_id": "s", "ds": t, "y": np.sin(2 * np.pi * t / 24) * 10 + t})
    assert infer_season_length(to_panel(frame)) == 24


@pytest.mark.parametrize("period", [3, 5, 6, 8, 10, 12, 17, 24, 52])
def test_integer_time_takes_the_period_of_its_cycle_not_an_alias(period: int) -> None:
    """A cycle of 10 also correlates at 0.31 with itself 12 steps on; the calendar candidates
    alone took that lag (tour 14), and seasonal naive at 12 was 7 times worse than at 10."""
    from tsforecast.data.frequency import infer_season_length

    rng = np.random.default_rng(2)
    n = max(240, 12 * period)
    t = np.arange(n)
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": t,
                    "y": 50 + 3 * np.sin(2 * np.pi * t / period + i) + 0.1 * rng.normal(size=n),
                }
            )
            for i in range(5)
        ]
    )
    assert infer_season_length(to_panel(frame)) == period


def test_integer_time_without_a_cycle_has_no_season() -> None:
    from tsforecast.data.frequency import infer_season_length

    rng = np.random.default_rng(3)
    walks = pd.DataFrame(
        {"unique_id": "w", "ds": np.arange(400), "y": rng.normal(size=400).cumsum()}
    )
    noise = pd.DataFrame({"unique_id": "n", "ds": np.arange(400), "y": rng.normal(size=400)})
    assert infer_season_length(to_panel(walks)) == 1
    assert infer_season_length(to_panel(noise)) == 1


def test_integer_time_finds_a_working_week_of_five_days() -> None:
    from tsforecast.data.frequency import infer_season_length

    rng = np.random.default_rng(0)
    t = np.arange(200)
    week = np.array([1.0, 1.0, 1.0, 1.2, 0.6])[t % 5]
    frame = pd.DataFrame({"unique_id": "a", "ds": t, "y": 100 * week + rng.normal(size=200)})
    assert infer_season_length(to_panel(frame)) == 5


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"target_col": ["y", "y"]}, r"`target_col` names column 'y' twice; name each column once"),
        ({"target_col": "ds"}, r"column 'ds' is given twice \(as `time_col` and `target_col`\)"),
        (
            {"covariate_cols": ["x0", "x0"]},
            r"`covariate_cols` names column 'x0' twice; name each column once",
        ),
    ],
)
def test_a_column_has_one_role(small_frame, kwargs, match) -> None:
    _raises(match, small_frame, **kwargs)


def test_integer_column_labels_are_names() -> None:
    frame = make_long_frame({"a": 5}).rename(columns={"y": 0})
    assert to_panel(frame, target_col=0).target_cols == [0]


def test_date_strings_with_different_utc_offsets_are_parsed() -> None:
    frame = pd.DataFrame(
        {
            "unique_id": "s",
            "ds": ["2024-03-31 00:00+01:00", "2024-03-31 01:00+01:00", "2024-03-31 03:00+02:00"],
            "y": [1.0, 2.0, 3.0],
        }
    )
    assert to_panel(frame).freq == "h"


def test_an_integer_freq_on_datetime_stamps_says_it_is_for_integer_time(small_frame) -> None:
    # "`freq` 2 is not a pandas frequency" did not say what an integer step is for
    _raises(
        r"`freq` 2 is an integer step, which is for integer time stamps, but column 'ds' holds "
        r"datetimes; pass a pandas frequency instead, e\.g\. '2D' \(every 2 days\) or '2h'",
        small_frame,
        freq=2,
    )


def test_a_device_this_machine_lacks_is_told_what_to_use_in_no_entry_points_syntax(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError) as info:
        resolve_device("cuda")
    message = str(info.value)
    assert message.startswith("`device` 'cuda' was asked for but CUDA is not available")
    assert message.endswith("use 'auto' (the GPU when there is one, else the CPU) or 'cpu'.")
    assert "device='auto'" not in message  # Python syntax, shown to command-line users too
    with pytest.raises(InputError, match=r"^`--device` 'cuda:1' was asked for"):
        resolve_device("cuda:1", what="`--device`")


@pytest.mark.parametrize(
    ("values", "received", "fix"),
    [
        (
            lambda y: y.astype(complex),
            "got dtype complex128 (complex numbers, e.g.",
            "take their real part (`df['y'].to_numpy().real`) or their magnitude",
        ),
        (
            lambda y: pd.to_timedelta(y, unit="s"),
            "got dtype timedelta64[ns] (durations, e.g. Timedelta(",
            "e.g. seconds with `df['y'].dt.total_seconds()`",
        ),
        (
            lambda y: pd.Timestamp("2020-01-01") + pd.to_timedelta(y, unit="D"),
            "got dtype datetime64[ns] (time stamps, e.g. Timestamp(",
            "time stamps belong in `time_col`",
        ),
    ],
)
def test_targets_that_pandas_makes_numbers_of_say_what_they_hold(
    small_frame, values, received: str, fix: str
) -> None:
    # they were "numbers written as text", with `pd.to_numeric` as the fix: they are neither
    frame = small_frame.assign(y=values(small_frame["y"]))
    with pytest.raises(InputError) as info:
        to_panel(frame)
    message = str(info.value)
    assert message.startswith("target column 'y' must be numeric, ")
    assert received in message and fix in message
    assert "written as text" not in message and "pd.to_numeric" not in message


def test_a_column_of_pandas_periods_is_told_to_convert_them_to_time_stamps(small_frame) -> None:
    periods = small_frame.assign(ds=small_frame["ds"].dt.to_period("h"))
    _raises(r"column 'ds' holds pandas Periods; .*`df\['ds'\]\.dt\.to_timestamp\(\)`", periods)
    objects = periods.assign(ds=periods["ds"].astype(object))
    _raises(r"holds pandas Periods; .*`pd\.PeriodIndex\(df\['ds'\]\)\.to_timestamp\(\)`", objects)
    converted = periods.assign(ds=periods["ds"].dt.to_timestamp())
    assert to_panel(converted).freq == "h"


@pytest.mark.parametrize(
    ("freq", "start", "stray"),
    [
        ("MS", "2021-01-01", "2022-03-31"),
        ("MS", "2021-01-01", "2022-03-15"),
        ("ME", "2021-01-31", "2022-03-01"),
        ("W-SUN", "2021-01-03", "2021-03-03"),
    ],
)
def test_a_one_row_series_off_the_panels_calendar_is_refused(
    freq: str, start: str, stray: str
) -> None:
    """A one-row series has no step of its own, but its panel's calendar has a grid: on March
    31 in a month-start panel it was forecast from April 1, one day on (tour 14)."""
    grid = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range(start, periods=20, freq=freq), "y": 1.0}
    )
    stray_row = pd.DataFrame({"unique_id": "c", "ds": pd.to_datetime([stray]), "y": [1.0]})
    with pytest.raises(InputError, match=r"series 'c' has its one time stamp .* off the"):
        to_panel(pd.concat([grid, stray_row]))


def test_a_one_row_series_on_the_panels_calendar_is_kept() -> None:
    grid = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-01-01", periods=20, freq="MS"), "y": 1.0}
    )
    one = pd.DataFrame({"unique_id": "c", "ds": pd.to_datetime(["2022-03-01"]), "y": [1.0]})
    panel = to_panel(pd.concat([grid, one]))
    assert panel.n_series == 2 and panel.freq == "MS"


@pytest.mark.parametrize(
    ("freq", "advice"), [("M", "'ME' (month end) or 'MS'"), ("2Q", "'QE'"), ("H", "'h'")]
)
def test_an_alias_pandas_3_removed_is_refused_with_its_new_spelling(freq: str, advice: str) -> None:
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-01-31", periods=12, freq="ME"), "y": 1.0}
    )
    with pytest.raises(InputError, match=rf"pandas 3 renamed .*did you mean {re.escape(advice)}"):
        to_panel(frame, freq=freq)


def test_daily_data_read_as_business_days_is_told_its_weekends_are_off_the_grid() -> None:
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2021-01-01", periods=30, freq="D"), "y": 1.0}
    )
    with pytest.raises(InputError, match=r"9 time stamps off the 'B' grid.*fall on weekends"):
        to_panel(frame, freq="B")
