"""The id and time columns come back with the input's dtypes, whatever those are.

The matrix uses the common dtypes (string ids; int64 or datetime time stamps); here the id
column is also object, categorical or a 32-bit integer, and the time column a 32-bit integer,
nanosecond or microsecond datetimes or UTC datetimes, in pandas and polars, through the
estimator, `forecast()` and `backtest()` (its `cutoff` column too). An all-pairs cover of
(id dtype, time dtype, frame type, entry point, model) runs, with one statistical and one
neural model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import tsforecast as tsf
import tsforecast.models
from tests.contract.helpers import (
    ENTRY_ARGS,
    HORIZON,
    ID,
    NEURAL,
    STATISTICAL,
    TIME,
    Case,
    all_pairs,
    backtest,
    build,
    forecast,
    history_frame,
    native_dtype,
    param,
    tiny_params,
)

ID_DTYPES = ("str", "object", "category", "int64", "int32")
TIME_DTYPES = ("int64", "int32", "datetime-ns", "datetime-us", "datetime-utc")
PANDAS_IDS: dict[str, Any] = {"str": "str", "object": object, "category": "category"}
POLARS_IDS: dict[str, Any] = {"str": pl.String, "object": pl.String, "category": pl.Categorical}
POLARS_TIMES: dict[str, Any] = {
    "int64": pl.Int64,
    "int32": pl.Int32,
    "datetime-ns": pl.Datetime("ns"),
    "datetime-us": pl.Datetime("us"),
    "datetime-utc": pl.Datetime("us", "UTC"),
}


def keyed_frame(id_dtype: str, time_dtype: str, frame: str) -> Any:
    """Two daily (or integer-time) series with the given id and time dtypes."""
    pdf, _ = history_frame(1, "none", "int" if time_dtype.startswith("int") else "datetime")
    int_dtypes: dict[str, Any] = {"int64": "int64", "int32": "int32"}
    if id_dtype.startswith("int"):
        pdf[ID] = pdf[ID].str[1:].astype(int_dtypes[id_dtype])
    if id_dtype == "datetime":  # ids that are time stamps (a series per start date)
        pdf[ID] = pd.Timestamp("2019-01-01") + pd.to_timedelta(pdf[ID].str[1:].astype(int), "D")
    if time_dtype.startswith("int"):
        pdf[TIME] = pdf[TIME].astype(int_dtypes[time_dtype])
    if frame == "polars":
        out = pl.from_pandas(pdf)
        cast: dict[str, Any] = {TIME: POLARS_TIMES[time_dtype]}
        if id_dtype in POLARS_IDS:
            cast[ID] = POLARS_IDS[id_dtype]
        return out.with_columns(*(pl.col(c).cast(t) for c, t in cast.items()))
    if id_dtype in PANDAS_IDS:
        pdf[ID] = pdf[ID].astype(PANDAS_IDS[id_dtype])
    if time_dtype.startswith("datetime"):
        pdf[TIME] = pdf[TIME].astype("datetime64[ns]" if time_dtype == "datetime-ns" else "M8[us]")
        if time_dtype == "datetime-utc":
            pdf[TIME] = pdf[TIME].dt.tz_localize("UTC")
    return pdf


def dtype_cases() -> list[Any]:
    dims = {
        "id_dtype": ID_DTYPES,
        "time_dtype": TIME_DTYPES,
        "frame": ("pandas", "polars"),
        "entry": ("estimator", "forecast", "backtest"),
        "model": (STATISTICAL[0], NEURAL[0]),
    }
    return [
        param(
            Case(
                "dtypes",
                row["model"],
                row["entry"],
                frame=row["frame"],
                time=row["time_dtype"],
                param=row["id_dtype"] + "-ids",
            )
        )
        for row in all_pairs(dims)
    ]


@pytest.mark.parametrize("case", dtype_cases())
def test_id_and_time_columns_keep_the_input_dtypes(case: Case) -> None:
    df = keyed_frame(case.param.removesuffix("-ids"), case.time, case.frame)
    params, shared = tiny_params(case.model), dict(ENTRY_ARGS)
    if case.entry == "estimator":
        out = build(case).fit(df).predict()
    elif case.entry == "forecast":
        out = forecast(df, HORIZON, model=case.model, **shared, **params)
    else:
        out = backtest(df, [(case.model, params)], HORIZON, n_windows=2, **shared).forecasts
    assert type(out) is type(df)
    columns = [ID, TIME, *(["cutoff"] if case.entry == "backtest" else [])]
    got = {c: str(native_dtype(out, c)) for c in columns}
    want = {c: str(native_dtype(df, ID if c == ID else TIME)) for c in columns}
    assert got == want, f"{got} out for {want} in"


def saved_cases() -> list[Any]:
    dims = {
        "id_dtype": (*ID_DTYPES, "datetime"),
        "time_dtype": TIME_DTYPES,
        "frame": ("pandas", "polars"),
        "model": (STATISTICAL[0], "ets", NEURAL[0]),
    }
    return [
        param(
            Case(
                "saved",
                row["model"],
                "estimator",
                frame=row["frame"],
                time=row["time_dtype"],
                param=row["id_dtype"] + "-ids",
            )
        )
        for row in all_pairs(dims)
    ]


@pytest.mark.parametrize("case", saved_cases())
def test_a_loaded_model_forecasts_the_same_frame_with_the_same_dtypes(
    case: Case, tmp_path: Path
) -> None:
    # the saved history kept no dtypes: time-stamp and categorical ids came back as text (and a
    # later history with time-stamp ids was read as new series)
    df = keyed_frame(case.param.removesuffix("-ids"), case.time, case.frame)
    model = build(case).fit(df)
    model.save(tmp_path / "model")
    loaded = tsf.models.load(tmp_path / "model")
    for before, after in (
        (model.predict(), loaded.predict()),
        (model.predict(df), loaded.predict(df)),
    ):
        assert {c: str(native_dtype(after, c)) for c in (ID, TIME)} == {
            c: str(native_dtype(before, c)) for c in (ID, TIME)
        }
        pandas_before = before if isinstance(before, pd.DataFrame) else before.to_pandas()
        pandas_after = after if isinstance(after, pd.DataFrame) else after.to_pandas()
        pd.testing.assert_frame_equal(pandas_after, pandas_before)


@pytest.mark.parametrize("frame", ["pandas", "polars"])
@pytest.mark.parametrize(("dtype", "start"), [("uint8", 200), ("int8", 80), ("int16", 32700)])
@pytest.mark.parametrize("model", ["naive", "lstm"])
def test_integer_stamps_past_the_input_dtype_s_range_come_back_as_int64(
    frame: str, dtype: str, start: int, model: str
) -> None:
    # they wrapped around (uint8: 254, 255, 0, 1) or went negative (int8, int16)
    stamps = np.arange(start, start + 40, dtype=dtype)  # forecast: start + 40 ... start + 69
    df = pd.DataFrame({ID: "a", TIME: stamps, "y": np.arange(40.0)})
    data = df if frame == "pandas" else pl.from_pandas(df)
    params = {"input_size": 4, "hidden_size": 4, "max_steps": 2} if model == "lstm" else {}
    fitted = tsf.models.build(model, params, horizon=30, id_col=ID, time_col=TIME).fit(data)
    out = fitted.predict()
    column = out[TIME] if frame == "pandas" else out[TIME].to_pandas()
    assert column.tolist() == list(range(start + 40, start + 70))
    assert str(native_dtype(out, TIME)) in {"int64", "Int64"}
    # a forecast that stays inside the range keeps the input's dtype
    short = tsf.models.build("naive", {}, horizon=2, id_col=ID, time_col=TIME).fit(data)
    assert str(native_dtype(short.predict(), TIME)).lower() == dtype
