"""frame -> Panel: validation at the boundary.

Everything a user can get wrong about a frame is checked here, once, before any work starts.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import check_fill
from tsforecast.data.frames import to_pandas
from tsforecast.data.frequency import infer_step, on_fixed_grid, regularise
from tsforecast.data.panel import Panel
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
    order (they are sorted). The frame is never modified. `fill` fills missing target/covariate
    values and missing time stamps inside a series; without it they are errors.
    """
    pdf, kind = to_pandas(df)
    if len(pdf) == 0:
        msg = "`df` is empty (0 rows); pass a frame with at least one series."
        raise InputError(msg)
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
    pdf[time_col] = _time_stamps(pdf[time_col], time_col)
    data_cols = [*target_cols, *covariates]
    pdf = pdf[[id_col, time_col, *data_cols]]
    for col in data_cols:
        pdf[col] = pdf[col].astype("float64")
    _check_finite(pdf, id_col, time_col, data_cols)
    pdf = pdf.sort_values([id_col, time_col], kind="stable").reset_index(drop=True)
    _check_duplicates(pdf, id_col, time_col)

    ids_array = pdf[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids_array[1:] != ids_array[:-1]])
    bounds = np.r_[starts, len(pdf)]
    ids = [ids_array[i] for i in starts]
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
    )


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
        return [
            str(c)
            for c in pdf.columns
            if c not in reserved
            and pd.api.types.is_numeric_dtype(pdf[c])
            and not pd.api.types.is_bool_dtype(pdf[c])
        ]
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
    if not pd.api.types.is_numeric_dtype(dtype):
        example = pdf[col].dropna().iloc[0] if pdf[col].notna().any() else None
        msg = (
            f"{role} column {col!r} must be numeric, got dtype {dtype} (e.g. {example!r}); "
            "convert it with `pd.to_numeric` or choose another column."
        )
        raise InputError(msg)


def _time_stamps(column: pd.Series, time_col: str) -> pd.Series:
    """The time column as datetimes or int64, without missing stamps."""
    stamps = _normalise_time(column, time_col)
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        msg = (
            f"column {time_col!r} has missing time stamps (first at row {row}); drop or fill them."
        )
        raise InputError(msg)
    return stamps


def _normalise_time(column: pd.Series, time_col: str) -> pd.Series:
    """Datetime or integer time stamps; parse strings; refuse mixtures."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    if pd.api.types.is_bool_dtype(column.dtype):
        msg = f"column {time_col!r} is boolean; time stamps must be datetimes or integers."
        raise InputError(msg)
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.astype("int64")
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy()
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)) and not np.isnan(values).any():
            return column.astype("int64")
        msg = (
            f"column {time_col!r} holds non-integer floats or NaN (e.g. "
            f"{finite[finite != np.round(finite)][:1]}); time stamps must be datetimes or integers."
        )
        raise InputError(msg)
    # object or string column: inspect the Python types present.
    non_null = column.dropna()
    kinds = {_time_kind(v) for v in non_null.to_numpy()}
    if len(kinds) > 1:
        msg = (
            f"column {time_col!r} mixes time stamp types {sorted(kinds)}; "
            "use one type: all datetimes or all integers."
        )
        raise InputError(msg)
    kind = kinds.pop() if kinds else "datetime"
    if kind == "int":
        return column.astype("int64")
    if kind == "datetime":
        zones = {getattr(v, "tzinfo", None) is not None for v in non_null.to_numpy()}
        if len(zones) > 1:
            msg = (
                f"column {time_col!r} mixes time-zone-aware and naive time stamps; "
                "localise them all (`tz_localize`) or strip the zone (`tz_localize(None)`)."
            )
            raise InputError(msg)
        if zones == {True}:
            return pd.to_datetime(column, utc=True)
        return pd.to_datetime(column)
    if kind == "str":
        try:
            try:
                parsed = pd.to_datetime(column, format="mixed")
            except ValueError:
                # stamps with different UTC offsets ("+01:00" and "+02:00"): one UTC column
                parsed = pd.to_datetime(column, format="mixed", utc=True)
        except (ValueError, TypeError) as error:
            msg = (
                f"column {time_col!r} holds strings that are not dates (e.g. "
                f"{non_null.iloc[0]!r}); pass datetimes or integers."
            )
            raise InputError(msg) from error
        return parsed
    msg = (
        f"column {time_col!r} holds values of type {kind}; "
        "time stamps must be datetimes or integers."
    )
    raise InputError(msg)


def _time_kind(value: Any) -> str:
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "tzinfo"):
        return "datetime"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _check_finite(pdf: pd.DataFrame, id_col: str, time_col: str, data_cols: list[str]) -> None:
    for col in data_cols:
        values = pdf[col].to_numpy()
        bad = np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = (
                f"column {col!r} has {int(bad.sum())} infinite values (first: series "
                f"{pdf[id_col].iloc[row]!r} at {pdf[time_col].iloc[row]}); replace them with "
                "finite numbers or NaN and a `fill` policy."
            )
            raise InputError(msg)


def _check_duplicates(pdf: pd.DataFrame, id_col: str, time_col: str) -> None:
    duplicated = pdf.duplicated([id_col, time_col], keep="first").to_numpy()
    if not duplicated.any():
        return
    row = int(np.flatnonzero(duplicated)[0])
    series_id = pdf[id_col].iloc[row]
    n_in_series = int(duplicated[(pdf[id_col] == series_id).to_numpy()].sum())
    msg = (
        f"series {series_id!r} has {n_in_series} duplicated timestamps (first: "
        f"{pdf[time_col].iloc[row]}); aggregate or deduplicate the rows of each (id, time) pair."
    )
    raise InputError(msg)


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
