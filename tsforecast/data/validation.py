"""frame -> Panel: validation at the boundary.

Everything a user can get wrong about a frame is checked here, once, before any work starts.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import check_fill
from tsforecast.data.frames import FrameSchema, frame_kind, to_pandas
from tsforecast.data.frequency import infer_step, on_fixed_grid, regularise
from tsforecast.data.panel import Panel
from tsforecast.data.timestamps import time_stamps
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError

__all__ = ["FillPolicy", "to_panel"]

# the values of `checks.FILL_POLICIES`, as a type
FillPolicy = Literal["ffill", "interpolate", "zero"]


def to_panel(
    df: Any,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    covariate_cols: Sequence[str] | None = None,
    freq: str | int | None = None,
    fill: FillPolicy | None = None,
    device: str | torch.device = "cpu",
) -> Panel:
    """Validate a long frame and turn it into a `Panel`.

    `covariate_cols=None` takes every other numeric column as a covariate. Rows may come in any
    order: each series' rows are sorted by time, and the series keep the order of their first
    appearance in `df`. The frame is never modified. `fill` fills missing target/covariate
    values and missing time stamps inside a series; without it they are errors.
    """
    pdf, kind = to_pandas(df)
    if len(pdf) == 0:
        msg = "`df` is empty (0 rows); pass a frame with at least one series."
        raise InputError(msg)
    _check_column_names(pdf)
    check_fill(fill)
    target_cols = _target_list(target_col)
    _check_distinct(id_col, time_col, target_cols, covariate_cols)
    _check_columns_exist(pdf, {"id_col": [id_col], "time_col": [time_col]})
    _check_columns_exist(pdf, {"target_col": target_cols})
    covariates = _resolve_covariates(pdf, id_col, time_col, target_cols, covariate_cols)
    for col in target_cols:
        _check_numeric(pdf, col, role="target")
    for col in covariates:
        _check_numeric(pdf, col, role="covariate")
    _check_ids(pdf, id_col)
    input_time_dtype = pdf[time_col].dtype
    pdf[time_col] = time_stamps(pdf[time_col], time_col)
    schema = _schema(df, pdf, id_col, time_col, input_time_dtype)
    data_cols = [*target_cols, *covariates]
    pdf = pdf[[id_col, time_col, *data_cols]]
    for col in data_cols:
        pdf[col] = pdf[col].astype("float64")
    _check_finite(pdf, id_col, time_col, data_cols)
    pdf, codes, ids = _in_series_order(pdf, id_col, time_col)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bounds = np.r_[starts, len(pdf)]
    is_datetime = pd.api.types.is_datetime64_any_dtype(pdf[time_col])
    step = infer_step(pdf[time_col], bounds, ids, is_datetime, freq, time_col)
    series_times, series_values = _series_on_grid(pdf, bounds, ids, data_cols, step, fill)
    lengths = np.array([len(v) for v in series_values], dtype=np.int64)
    padded = np.zeros((len(ids), int(lengths.max()), len(data_cols)), dtype=np.float32)
    for s, values in enumerate(series_values):
        padded[s, : len(values)] = values
    target_device = resolve_device(device)
    return Panel(
        values=torch.from_numpy(padded).to(target_device),
        lengths=torch.from_numpy(lengths).to(target_device),
        ids=ids,
        times=series_times,
        freq=step,
        target_cols=target_cols,
        covariate_cols=covariates,
        id_col=id_col,
        time_col=time_col,
        frame_kind=kind,
        exact=tuple(series_values),
        schema=schema,
    )


def _schema(
    df: Any, pdf: pd.DataFrame, id_col: Any, time_col: Any, input_time_dtype: Any
) -> FrameSchema:
    """The dtypes output frames give back: the input's id dtype, and its time dtype when that
    is a datetime or number (stamps parsed from strings or objects come back as datetimes)."""
    time_kept = pd.api.types.is_datetime64_any_dtype(input_time_dtype) or (
        pd.api.types.is_numeric_dtype(input_time_dtype)
        and not pd.api.types.is_bool_dtype(input_time_dtype)
    )
    pandas = {
        id_col: pdf[id_col].dtype,
        time_col: input_time_dtype if time_kept else pdf[time_col].dtype,
    }
    polars: dict[Any, Any] = {}
    if frame_kind(df) == "polars":
        polars[id_col] = df.schema[id_col]
        if time_kept:
            polars[time_col] = df.schema[time_col]
    return FrameSchema(pandas=pandas, polars=polars)


def _in_series_order(
    pdf: pd.DataFrame, id_col: Any, time_col: Any
) -> tuple[pd.DataFrame, np.ndarray, list[Any]]:
    """The rows series by series (in order of first appearance), each sorted by time.

    Returns (rows, each row's series number, the ids). Duplicated (id, time) pairs are refused.
    """
    try:
        codes, uniques = pd.factorize(pdf[id_col], sort=False)
    except TypeError as error:
        example = pdf[id_col].iloc[0]
        msg = (
            f"column {id_col!r} holds ids that cannot be compared (e.g. {example!r} of type "
            f"{type(example).__name__}); use strings or integers as series ids."
        )
        raise InputError(msg) from error
    stamps = pdf[time_col]
    if pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        keys = pd.DatetimeIndex(stamps).asi8  # tz-aware stamps compare as instants
    else:
        keys = stamps.to_numpy(dtype=np.int64)
    order = np.lexsort((keys, codes))  # stable: by series, then by time
    codes, keys = codes[order], keys[order]
    pdf = pdf.iloc[order].reset_index(drop=True)
    duplicated = np.r_[False, (codes[1:] == codes[:-1]) & (keys[1:] == keys[:-1])]
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        n_in_series = int(duplicated[codes == codes[row]].sum())
        msg = (
            f"series {_row_id(pdf, id_col, row)!r} has {n_in_series} duplicated timestamps (first: "
            f"{pdf[time_col].iloc[row]}); aggregate or deduplicate the rows of each (id, time) "
            "pair."
        )
        raise InputError(msg)
    return pdf, codes, list(uniques)


def _series_on_grid(
    pdf: pd.DataFrame,
    bounds: np.ndarray,
    ids: list[Any],
    data_cols: list[str],
    step: str | int,
    fill: FillPolicy | None,
) -> tuple[list[pd.Index], list[np.ndarray]]:
    """Each series' time stamps and float64 values [n_s, C], on the regular grid and filled."""
    time_col = pdf.columns[1]
    times_all = pdf[time_col]
    raw_values = pdf[data_cols].to_numpy(dtype=np.float64)
    all_regular = on_fixed_grid(times_all, bounds, step)
    series_times: list[pd.Index] = []
    series_values: list[np.ndarray] = []
    for s, series_id in enumerate(ids):
        lo, hi = bounds[s], bounds[s + 1]
        times = pd.Index(times_all.iloc[lo:hi])
        values = raw_values[lo:hi]
        if not all_regular:
            times, values = regularise(times, values, step, series_id, fill, time_col)
        series_values.append(_fill_missing(values, series_id, times, data_cols, fill))
        series_times.append(times)
    return series_times, series_values


def _target_list(target_col: Any) -> list[Any]:
    """A list/tuple names several targets; any other value (a str, an int label) names one."""
    target_cols = list(target_col) if isinstance(target_col, (list, tuple)) else [target_col]
    if not target_cols:
        msg = "`target_col` is an empty list; name at least one target column."
        raise InputError(msg)
    return target_cols


def _check_column_names(pdf: pd.DataFrame) -> None:
    """A pandas frame may repeat a column name; which of the columns is meant is then unknown."""
    if isinstance(pdf.columns, pd.MultiIndex):
        msg = (
            f"`df` has {pdf.columns.nlevels} levels of column names (e.g. {pdf.columns[0]!r}); "
            "flatten them to one level first, e.g. `df.columns = ['_'.join(c) for c in "
            "df.columns]`."
        )
        raise InputError(msg)
    repeated = pdf.columns[pdf.columns.duplicated()].unique().tolist()
    if repeated:
        counts = {c: int((pdf.columns == c).sum()) for c in repeated}
        msg = (
            f"`df` has duplicated column names {repeated} ({counts} times; columns: "
            f"{list(pdf.columns)}); rename the columns so that every name is unique."
        )
        raise InputError(msg)


def _check_ids(pdf: pd.DataFrame, id_col: str) -> None:
    if pdf[id_col].isna().any():
        n_null = int(pdf[id_col].isna().sum())
        msg = f"column {id_col!r} has {n_null} null ids; every row needs a series id."
        raise InputError(msg)


def _check_columns_exist(pdf: pd.DataFrame, wanted: dict[str, list[str]]) -> None:
    for argument, columns in wanted.items():
        for col in columns:
            if col in pdf.columns:
                continue
            found = [str(c) for c in pdf.columns]
            close = difflib.get_close_matches(str(col), found, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            if col in pdf.index.names:
                hint = "it is the frame's index: call `df.reset_index()` first, or "
            msg = (
                f"column {col!r} is missing from `df` (found: {found}); {hint}"
                f"pass `{argument}=` with the right column name."
            )
            raise InputError(msg)


def _check_distinct(
    id_col: Any, time_col: Any, target_cols: list[Any], covariate_cols: Sequence[Any] | None
) -> None:
    """Every column has one role: no repeats, no column both id/time and a target/covariate."""
    covariates = [] if covariate_cols is None else list(covariate_cols)
    roles = [("id_col", id_col), ("time_col", time_col)]
    roles += [("target_col", c) for c in target_cols]
    roles += [("covariate_cols", c) for c in covariates]
    seen: dict[Any, str] = {}
    for argument, col in roles:
        if col in seen:
            msg = (
                f"column {col!r} is given twice (as `{seen[col]}` and `{argument}`); "
                "each column can have only one role."
            )
            raise InputError(msg)
        seen[col] = argument


def _resolve_covariates(
    pdf: pd.DataFrame,
    id_col: str,
    time_col: str,
    target_cols: list[str],
    covariate_cols: Sequence[str] | None,
) -> list[str]:
    reserved = {id_col, time_col, *target_cols}
    if covariate_cols is None:
        return [c for c in pdf.columns if c not in reserved and _is_real_number_dtype(pdf[c].dtype)]
    covariates = list(covariate_cols)
    _check_columns_exist(pdf, {"covariate_cols": covariates})
    clash = [c for c in covariates if c in reserved]
    if clash:
        msg = f"`covariate_cols` may not include the id, time or target columns, got {clash}."
        raise InputError(msg)
    return covariates


def _check_numeric(pdf: pd.DataFrame, col: str, role: str) -> None:
    dtype = pdf[col].dtype
    if pd.api.types.is_bool_dtype(dtype):
        msg = (
            f"{role} column {col!r} is boolean; cast it to a number first "
            f"(e.g. `df[{col!r}].astype(float)`)."
        )
        raise InputError(msg)
    if not _is_real_number_dtype(dtype):
        example = pdf[col].dropna().iloc[0] if pdf[col].notna().any() else None
        msg = (
            f"{role} column {col!r} must be numeric, got dtype {dtype} (e.g. {example!r}); "
            "convert it with `pd.to_numeric` or choose another column."
        )
        raise InputError(msg)


def _is_real_number_dtype(dtype: Any) -> bool:
    """Integers and floats: not booleans, not complex numbers (their imaginary part is lost)."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def _check_finite(pdf: pd.DataFrame, id_col: str, time_col: str, data_cols: list[str]) -> None:
    for col in data_cols:
        values = pdf[col].to_numpy()
        bad = np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = (
                f"column {col!r} has {int(bad.sum())} infinite values (first: series "
                f"{_row_id(pdf, id_col, row)!r} at {pdf[time_col].iloc[row]}); replace them with "
                "finite numbers or NaN and a `fill` policy."
            )
            raise InputError(msg)


def _row_id(pdf: pd.DataFrame, id_col: Any, row: int) -> Any:
    """The id of one row as a Python value: 'H7' or 3 in messages, not np.str_/np.int64(3)."""
    return pdf[id_col].iloc[row : row + 1].tolist()[0]


def _fill_missing(
    values: np.ndarray,
    series_id: Any,
    times: pd.Index,
    data_cols: list[str],
    fill: FillPolicy | None,
) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    if fill is None:
        row, col = np.argwhere(missing)[0]
        msg = (
            f"column {data_cols[col]!r} of series {series_id!r} has {int(missing[:, col].sum())} "
            f"missing values (first at {times[row]}); pass `fill='ffill'|'interpolate'|'zero'` "
            "or fill them yourself."
        )
        raise InputError(msg)
    if fill == "zero":
        return np.where(missing, 0.0, values)
    frame = pd.DataFrame(values)
    if fill == "ffill":
        # leading gaps have nothing before them: they take the first observed value.
        frame = frame.ffill().bfill()
    else:
        frame = frame.interpolate(method="linear", limit_direction="both")
    if frame.isna().any().any():
        col = int(np.flatnonzero(frame.isna().any().to_numpy())[0])
        msg = (
            f"column {data_cols[col]!r} of series {series_id!r} has no observed value at all; "
            "drop the series or the column."
        )
        raise InputError(msg)
    return frame.to_numpy()
