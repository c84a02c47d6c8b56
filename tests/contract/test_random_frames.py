"""Random frames through `forecast()` and `backtest()`: a clear `InputError` or a valid output.

Frames mix what users hand in: string / integer / null ids, integer / datetime / tz-aware /
mixed-time-zone / string time stamps, float / integer / boolean / string targets, NaN, inf,
duplicated rows, gaps, shuffled rows, duplicate column names, extra columns, pandas or polars.
Only the cheap models run (naive, seasonal_naive). Any other exception is a bug.

A flaw that a known bug breaks (`FLAW_BUGS`: flaw -> name in `KNOWN_BUGS`) is left out of the
random frames while its bug is known, and checked on one fixed frame (`flawed`) instead, as a
strict xfail: when the bug is fixed that check XPASSes, the entry goes, and the random frames
get the flaw back. The fixed frames stay as regression checks (duplicate column names crashed
`to_panel` with an AttributeError until the data branch refused them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contract.helpers import ID, KNOWN_BUGS, TIME, Case, backtest, forecast, param, to_pandas
from tsforecast.errors import InputError

# short series dropped with a warning are part of what random frames do
pytestmark = pytest.mark.filterwarnings("ignore::tsforecast.errors.TsforecastWarning")


TIME_KINDS = ("int", "datetime", "utc", "tz-mixed", "aware-and-naive", "strings", "float")
# repeated kinds are drawn more often: most frames should get past the first check
ID_KINDS = ("str", "str", "int", "mixed", "null")
TARGET_KINDS = ("float", "float", "float", "int", "bool", "str")
FLAWS = ("nan", "inf", "duplicate-row", "gap", "shuffled", "duplicate-column", "extra-str")
FLAW_BUGS: dict[str, str] = {}
RANDOM_FLAWS = tuple(f for f in FLAWS if FLAW_BUGS.get(f) not in KNOWN_BUGS)
FIXED_FRAMES = ("duplicate-column",)


def stamps(kind: str, n: int, offset: int) -> Any:
    if kind in ("int", "float"):
        values = np.arange(offset, offset + n)
        return values.astype(np.float64) if kind == "float" else values.astype(np.int64)
    dates = pd.date_range("2024-01-01", periods=n, freq="D") + pd.Timedelta(days=offset)
    if kind == "datetime":
        return dates
    if kind == "utc":
        return dates.tz_localize("UTC")
    if kind == "strings":
        return dates.strftime("%Y-%m-%d")
    if kind == "tz-mixed":  # one series in Paris, the next in New York
        return list(dates.tz_localize("Europe/Paris" if offset % 2 else "America/New_York"))
    return list(dates.tz_localize("UTC") if offset % 2 else dates)  # aware and naive


@st.composite
def frames(draw: st.DrawFn) -> tuple[Any, dict[str, Any]]:
    n_series = draw(st.integers(1, 3))
    lengths = [draw(st.integers(0, 30)) for _ in range(n_series)]
    time_kind = draw(st.sampled_from(TIME_KINDS))
    id_kind = draw(st.sampled_from(ID_KINDS))
    target_kind = draw(st.sampled_from(TARGET_KINDS))
    flaws = draw(st.sets(st.sampled_from(RANDOM_FLAWS), max_size=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    parts = []
    for s, n in enumerate(lengths):
        series_id: Any = {"str": f"s{s}", "int": s, "null": None if s == 0 else f"s{s}"}.get(
            id_kind, s if s % 2 else f"s{s}"
        )
        y: Any = 100.0 + rng.normal(0.0, 5.0, n).cumsum()
        y = {"int": np.round(y).astype(np.int64), "bool": y > 100.0, "str": y.astype(str)}.get(
            target_kind, y
        )
        parts.append(pd.DataFrame({ID: [series_id] * n, TIME: stamps(time_kind, n, s), "y": y}))
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({ID: [], TIME: [], "y": []})
    if len(df) and "nan" in flaws and target_kind == "float":
        df.loc[draw(st.integers(0, len(df) - 1)), "y"] = np.nan
    if len(df) and "inf" in flaws and target_kind == "float":
        df.loc[draw(st.integers(0, len(df) - 1)), "y"] = np.inf
    if len(df) and "duplicate-row" in flaws:
        df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
    if len(df) > 2 and "gap" in flaws:
        df = df.drop(index=draw(st.integers(1, len(df) - 2))).reset_index(drop=True)
    if "shuffled" in flaws:
        df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    if "extra-str" in flaws:
        df["note"] = "x"
    if "duplicate-column" in flaws:
        df = pd.concat([df, df[["y"]]], axis=1)
    frame: Any = df
    if draw(st.booleans()):
        try:
            frame = pl.from_pandas(df)
        except Exception:  # polars cannot hold this frame (duplicate names, mixed types)
            assume(False)
    call = {
        "model": draw(st.sampled_from(["naive", "seasonal_naive"])),
        "horizon": draw(st.integers(1, 5)),
        "levels": draw(st.sampled_from([(), (80,), (50, 99.5)])),
    }
    return frame, call


def check_keys(out: Any, df: Any) -> None:
    """Ids from the input; integer time stays integer, datetimes stay datetimes (same zone)."""
    pdf, src = to_pandas(out), to_pandas(df)
    assert set(pdf[ID].tolist()) <= set(src[ID].tolist())
    for col in [c for c in (TIME, "cutoff") if c in pdf.columns]:
        if pd.api.types.is_integer_dtype(src[TIME]):
            assert pd.api.types.is_integer_dtype(pdf[col]), f"{col}: {pdf[col].dtype}"
        if pd.api.types.is_datetime64_any_dtype(src[TIME]):
            assert pd.api.types.is_datetime64_any_dtype(pdf[col]), f"{col}: {pdf[col].dtype}"
            assert getattr(pdf[col].dt, "tz", None) == getattr(src[TIME].dt, "tz", None)


def check_forecast(out: Any, df: Any, call: dict[str, Any]) -> None:
    assert type(out) is type(df)
    pdf, src = to_pandas(out), to_pandas(df)
    tags = [f"{level:g}" for level in call["levels"]]
    cols = [ID, TIME, "y", *(f"y_{side}_{t}" for t in tags for side in ("lo", "hi"))]
    assert list(pdf.columns) == cols
    assert len(pdf) == call["horizon"] * src[ID].nunique()
    check_keys(out, df)
    values = pdf[cols[2:]].to_numpy(dtype=np.float64)
    assert np.isfinite(values).all()
    for t in tags:
        assert (pdf[f"y_lo_{t}"] <= pdf["y"]).all() and (pdf["y"] <= pdf[f"y_hi_{t}"]).all()


def check_backtest(out: Any, df: Any, call: dict[str, Any]) -> None:
    assert type(out) is type(df)
    pdf = to_pandas(out)
    tags = [f"{level:g}" for level in call["levels"]]
    cols = [ID, TIME, "cutoff", "model", "target", "y", "y_hat"]
    assert list(pdf.columns) == cols + [f"y_{s}_{t}" for t in tags for s in ("lo", "hi")]
    check_keys(out, df)
    assert len(pdf) % call["horizon"] == 0 and len(pdf) > 0
    assert np.isfinite(pdf[cols[-2:]].to_numpy(dtype=np.float64)).all()


def run(entry: str, df: Any, call: dict[str, Any], n_windows: int = 1) -> None:
    """Call `entry` on `df`: a clear InputError, or an output that passes the checks."""
    try:
        if entry == "forecast":
            out = forecast(df, n_jobs=1, **call)
        else:
            out = backtest(
                df,
                models=[call["model"]],
                horizon=call["horizon"],
                n_windows=n_windows,
                levels=call["levels"],
                n_jobs=1,
            ).forecasts
    except InputError as error:
        assert str(error)
        return
    (check_forecast if entry == "forecast" else check_backtest)(out, df, call)


@given(frames())
def test_forecast_gives_a_valid_frame_or_an_input_error(example: tuple[Any, dict]) -> None:
    run("forecast", *example)


@given(frames(), st.integers(1, 3))
def test_backtest_gives_a_valid_result_or_an_input_error(
    example: tuple[Any, dict], n_windows: int
) -> None:
    run("backtest", *example, n_windows=n_windows)


def flawed(flaw: str) -> pd.DataFrame:
    """A fixed frame of two series of 20 days with one flaw."""
    df = pd.concat(
        [
            pd.DataFrame({ID: f"s{k}", TIME: stamps("datetime", 20, 0), "y": np.arange(20.0) + k})
            for k in range(2)
        ],
        ignore_index=True,
    )
    assert flaw == "duplicate-column", f"no fixed frame for {flaw!r}"
    return pd.concat([df, df[["y"]]], axis=1)


@pytest.mark.parametrize(
    "case",
    [
        param(Case("random_frame", "naive", entry, param=flaw))
        for flaw in (*FIXED_FRAMES, *FLAW_BUGS)
        for entry in ("forecast", "backtest")
    ],
)
def test_a_fixed_flawed_frame_gives_a_valid_output_or_an_input_error(
    case: Case,
) -> None:
    run(case.entry, flawed(case.param), {"model": case.model, "horizon": 3, "levels": (80,)})
