"""frame -> Panel: validation at the boundary.

Everything a user can get wrong about a frame is checked here, once, before any work starts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from tsforecast.checks import check_fill
from tsforecast.data.frames import FrameSchema, frame_kind, is_real_number_dtype, to_pandas
from tsforecast.data.frequency import infer_step, on_calendar_grid, on_fixed_grid, regularise
from tsforecast.data.panel import Panel
from tsforecast.data.ragged import SeriesTimes
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

    `covariate_cols=None` takes every other numeric or boolean column (as 0/1) as a covariate;
    other columns (text, dates, categories) are left out, as they would need an encoding. Rows
    may come in any order: each series' rows are sorted by time, and the series keep the order
    of their first appearance in `df`. The frame is never modified. `fill` fills missing
    target/covariate values and missing time stamps inside a series; without it they are errors.
    """
    pdf, kind = to_pandas(df, copy=False)  # read only, never modified
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
    stamps = time_stamps(pdf[time_col], time_col)
    schema = _schema(df, pdf, id_col, time_col, input_time_dtype, stamps.dtype)
    data_cols = [*target_cols, *covariates]
    columns = {col: pdf[col].to_numpy(dtype=np.float64, na_value=np.nan) for col in data_cols}
    _check_finite(columns, pdf[id_col], stamps)
    codes, ids, order = _series_order(pdf[id_col], stamps, time_col)
    # one owned float64 array [N, C], series by series: the panel's exact values
    raw = np.empty((len(codes), len(data_cols)), dtype=np.float64)
    for j, col in enumerate(data_cols):
        raw[:, j] = columns[col] if order is None else columns[col][order]
    del columns
    if order is not None:
        stamps = stamps.iloc[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bounds = np.r_[starts, len(codes)]
    is_datetime = pd.api.types.is_datetime64_any_dtype(stamps)
    step = infer_step(stamps, bounds, ids, is_datetime, freq, time_col)
    flat_times, values, bounds, filled = _series_on_grid(
        stamps, raw, bounds, ids, data_cols, step, fill
    )
    target_device = resolve_device(device)
    return Panel(
        data=torch.from_numpy(values.astype(np.float32)).to(target_device),
        offsets=torch.from_numpy(bounds.astype(np.int64)).to(target_device),
        ids=ids,
        times=SeriesTimes(flat_times, bounds),
        freq=step,
        target_cols=target_cols,
        covariate_cols=covariates,
        id_col=id_col,
        time_col=time_col,
        frame_kind=kind,
        exact=values,
        schema=schema,
        filled=filled,
    )


def _schema(
    df: Any,
    pdf: pd.DataFrame,
    id_col: Any,
    time_col: Any,
    input_time_dtype: Any,
    parsed_time_dtype: Any,
) -> FrameSchema:
    """The dtypes output frames give back: the input's id dtype, and its time dtype when that
    is a datetime or number (stamps parsed from strings or objects come back as datetimes)."""
    time_kept = pd.api.types.is_datetime64_any_dtype(input_time_dtype) or (
        pd.api.types.is_numeric_dtype(input_time_dtype)
        and not pd.api.types.is_bool_dtype(input_time_dtype)
    )
    pandas = {
        id_col: pdf[id_col].dtype,
        time_col: input_time_dtype if time_kept else parsed_time_dtype,
    }
    polars: dict[Any, Any] = {}
    if frame_kind(df) == "polars":
        polars[id_col] = df.schema[id_col]
        if time_kept:
            polars[time_col] = df.schema[time_col]
    return FrameSchema(pandas=pandas, polars=polars)


def _series_order(
    id_column: pd.Series, stamps: pd.Series, time_col: Any
) -> tuple[np.ndarray, list[Any], np.ndarray | None]:
    """Each row's series number in the series-by-series order (first appearance, then time).

    Returns (codes in that order, the ids, the row order, or None when the rows already come
    so: the usual case, which then costs no sort and no copy). Duplicated (id, time) pairs are
    refused.
    """
    try:
        codes, uniques = _grouped_codes(id_column)
    except TypeError as error:
        example = id_column.iloc[0]
        msg = (
            f"column {id_column.name!r} holds ids that cannot be compared (e.g. {example!r} of "
            f"type {type(example).__name__}); use strings or integers as series ids."
        )
        raise InputError(msg) from error
    if pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        keys = pd.DatetimeIndex(stamps).asi8  # tz-aware stamps compare as instants
    else:
        keys = stamps.to_numpy(dtype=np.int64)
    ids = list(uniques)
    if _in_series_order(codes, keys):
        return codes, ids, None
    order = np.lexsort((keys, codes))  # stable: by series, then by time
    codes, keys = codes[order], keys[order]
    duplicated = np.r_[False, (codes[1:] == codes[:-1]) & (keys[1:] == keys[:-1])]
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        n_in_series = int(duplicated[codes == codes[row]].sum())
        msg = (
            f"series {_row_id(id_column, int(order[row]))!r} has {n_in_series} duplicated "
            f"timestamps (first: {stamps.iloc[int(order[row])]}); aggregate or deduplicate the "
            "rows of each (id, time) pair."
        )
        raise InputError(msg)
    return codes, ids, order


_BLOCK = 1 << 20  # rows a block: its temporaries stay in cache and reuse the same pages


def _in_series_order(codes: np.ndarray, keys: np.ndarray) -> bool:
    """True when the rows come series by series (first-appearance codes never decrease) and
    rise in time inside each series. Checked a block at a time: boolean [block] temporaries,
    never [N] ones (on 10**8 rows their fresh pages cost more than the comparisons)."""
    for start in range(0, max(len(codes) - 1, 0), _BLOCK):
        stop = min(start + _BLOCK, len(codes) - 1)
        c0, c1 = codes[start:stop], codes[start + 1 : stop + 1]
        k0, k1 = keys[start:stop], keys[start + 1 : stop + 1]
        if not (bool(np.all(c1 >= c0)) and bool(np.all((k1 > k0) | (c1 != c0)))):
            return False
    return True


def _grouped_codes(id_column: pd.Series) -> tuple[np.ndarray, Any]:
    """`pd.factorize(id_column, sort=False)`, without hashing every row when each series' rows
    come together (the usual case): then only the first row of each run is factorized."""
    values = (
        id_column.cat.codes.to_numpy()
        if isinstance(id_column.dtype, pd.CategoricalDtype)
        else id_column.to_numpy()
    )
    run_starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    _, uniques = pd.factorize(id_column.iloc[run_starts], sort=False)
    if len(uniques) != len(run_starts):  # a series comes back later: factorize every row
        return pd.factorize(id_column, sort=False)
    run_lengths = np.diff(np.r_[run_starts, len(values)])
    code_dtype = np.int32 if len(run_starts) < 2**31 else np.int64  # half the bytes a row
    return np.repeat(np.arange(len(run_starts), dtype=code_dtype), run_lengths), uniques


def _series_on_grid(
    stamps: pd.Series,
    raw: np.ndarray,
    bounds: np.ndarray,
    ids: list[Any],
    data_cols: list[str],
    step: str | int,
    fill: FillPolicy | None,
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray | None]:
    """Every series on the regular grid and filled: (flat stamps, float64 values [N, C],
    bounds [S + 1], the cells filled [N, C] or None when none). Regular series without missing
    values (the usual case) are not copied."""
    time_col: Any = stamps.name  # a label: not always a str
    if on_fixed_grid(stamps, bounds, step) or on_calendar_grid(stamps, bounds, step):
        flat_times = pd.Index(stamps)
        values = raw
    else:
        series_times: list[pd.Index] = []
        series_values: list[np.ndarray] = []
        for s, series_id in enumerate(ids):
            lo, hi = bounds[s], bounds[s + 1]
            times, vals = regularise(
                pd.Index(stamps.iloc[lo:hi]), raw[lo:hi], step, series_id, fill, time_col
            )
            series_times.append(times)
            series_values.append(vals)
        lengths = np.array([len(v) for v in series_values], dtype=np.int64)
        bounds = np.r_[0, np.cumsum(lengths)]
        flat_times = series_times[0].append(series_times[1:]) if len(ids) > 1 else series_times[0]
        values = np.concatenate(series_values) if len(ids) > 1 else series_values[0]
    filled = None
    missing = np.isnan(values).any(axis=1)
    if missing.any():
        filled = np.isnan(values)  # [N, C]: what the fill below makes up
        # only the series with missing values are filled, one by one (in place: owned)
        for s in np.unique(np.searchsorted(bounds, np.flatnonzero(missing), side="right") - 1):
            lo, hi = bounds[s], bounds[s + 1]
            values[lo:hi] = _fill_missing(values[lo:hi], ids[s], flat_times[lo:hi], data_cols, fill)
    return flat_times, np.ascontiguousarray(values), bounds, filled


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
            if col is None:  # a RangeIndex's name is None too: no "it is the index" for it
                msg = f"`{argument}` must be a column name of `df` (found: {found}), got None."
                raise InputError(msg)
            close = difflib.get_close_matches(str(col), found, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            if col in pdf.index.names:
                hint = "it is the frame's index: call `df.reset_index()` first, or "
            elif argument == "id_col" and not close:
                # a frame of one series often has no id column at all
                given = f"{col}=" if str(col).isidentifier() else f"**{{{col!r}: "
                close_call = "" if str(col).isidentifier() else "}"
                hint = (
                    f"one series? give it an id (`df.assign({given}'series_1'{close_call})`), or "
                )
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
        if col in seen and seen[col] == argument:
            # a list naming one column twice: said of the argument, not of the frame's columns
            msg = f"`{argument}` names column {col!r} twice; name each column once."
            raise InputError(msg)
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
        return [c for c in pdf.columns if c not in reserved and _is_covariate_dtype(pdf[c].dtype)]
    covariates = list(covariate_cols)
    _check_columns_exist(pdf, {"covariate_cols": covariates})
    clash = [c for c in covariates if c in reserved]
    if clash:
        msg = f"`covariate_cols` may not include the id, time or target columns, got {clash}."
        raise InputError(msg)
    return covariates


def _check_numeric(pdf: pd.DataFrame, col: str, role: str) -> None:
    dtype = pdf[col].dtype
    if role == "covariate" and pd.api.types.is_bool_dtype(dtype):
        return  # a flag (a holiday, a promotion) is a covariate of 0s and 1s
    if pd.api.types.is_bool_dtype(dtype):
        msg = (
            f"{role} column {col!r} is boolean; cast it to a number first "
            f"(e.g. `df[{col!r}].astype(float)`)."
        )
        raise InputError(msg)
    kept_apart = _not_numbers(pdf[col], col)
    if kept_apart:
        msg = f"{role} column {col!r} must be numeric, got dtype {dtype} ({kept_apart}."
        raise InputError(msg)
    if not is_real_number_dtype(dtype):
        values = pdf[col]
        as_numbers = pd.to_numeric(values, errors="coerce")
        bad = values[values.notna() & as_numbers.isna()]
        if len(bad):  # the first value that is no number, not the first value
            found = f"first non-number: {bad.iloc[0]!r} in row {bad.index[0]!r}"
            fix = "fix or drop those rows, or choose another column"
            comma = _decimal_comma_hint(bad)
            if comma:
                found, fix = f"{found}; {comma[0]}", comma[1]
        else:
            example = values.dropna().iloc[0] if values.notna().any() else None
            found = f"numbers written as text, e.g. {example!r}"
            fix = f"convert it with `pd.to_numeric(df[{col!r}])`"
        msg = f"{role} column {col!r} must be numeric, got dtype {dtype} ({found}); {fix}."
        raise InputError(msg)


# '1,5', '-0,25', '1.234,5': a comma as the decimal mark, '.' (if any) grouping thousands
_DECIMAL_COMMA = re.compile(r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+")


def _decimal_comma_hint(bad: pd.Series) -> tuple[str, str] | None:
    """(what the non-numbers look like, how to read them) when most of them are numbers written
    with a decimal comma (a CSV written in a German or French locale); else None."""
    text = bad.astype(str).str.strip()
    matches = text[text.str.fullmatch(_DECIMAL_COMMA)]
    if len(matches) * 2 <= len(text):
        return None
    found = f"{len(matches)} of the {len(text)} non-numbers look like numbers with a decimal comma"
    if matches.str.fullmatch(r"[-+]?\d{1,3},\d{3}").all():
        # '1,000' may as well be a thousand: `decimal=','` would silently read it as 1.0
        return (
            f"{found} or with a comma between thousands",
            "read the file with `pd.read_csv(path, decimal=',')` or `pd.read_csv(path, "
            "thousands=',')`, whichever it means, or write it with '.' as the decimal mark and "
            "no thousands separator",
        )
    grouped = matches.str.contains(".", regex=False).any()  # '1.234,5'
    options = "decimal=',', thousands='.'" if grouped else "decimal=','"
    return (
        found,
        f"read the file with `pd.read_csv(path, {options})`, or write it with '.' as the "
        "decimal mark",
    )


def _not_numbers(values: pd.Series, col: str) -> str:
    """What a column of complex numbers, durations or time stamps holds and how to make numbers
    of it ('' for other columns): `pd.to_numeric` takes all three without an error, so they
    were called "numbers written as text" and sent to it."""
    dtype = values.dtype
    present = values.dropna()
    example = f", e.g. {present.iloc[0]!r}" if len(present) else ""
    if pd.api.types.is_complex_dtype(dtype):
        return (
            f"complex numbers{example}); take their real part "
            f"(`df[{col!r}].to_numpy().real`) or their magnitude (`df[{col!r}].abs()`)"
        )
    if pd.api.types.is_timedelta64_dtype(dtype):
        return (
            f"durations{example}); convert them to a number of a unit, e.g. seconds with "
            f"`df[{col!r}].dt.total_seconds()`"
        )
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return (
            f"time stamps{example}); time stamps belong in `time_col`: if these are the values, "
            f"make numbers of them first (e.g. `df[{col!r}].astype('int64')`)"
        )
    return ""


def _is_covariate_dtype(dtype: Any) -> bool:
    """Real numbers and booleans (taken as 0 and 1)."""
    return is_real_number_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def _check_finite(columns: dict[str, np.ndarray], id_column: pd.Series, stamps: pd.Series) -> None:
    for col, values in columns.items():
        bad = np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = (
                f"column {col!r} has {int(bad.sum())} infinite values (first: series "
                f"{_row_id(id_column, row)!r} at {stamps.iloc[row]}); replace them with "
                "finite numbers or NaN and a `fill` policy."
            )
            raise InputError(msg)


def _row_id(id_column: pd.Series, row: int) -> Any:
    """The id of one row as a Python value: 'H7' or 3 in messages, not np.str_/np.int64(3)."""
    return id_column.iloc[row : row + 1].tolist()[0]


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
            "(CLI: `--fill`; config: `data.fill`) or fill them yourself."
        )
        raise InputError(msg)
    if fill == "zero":
        # a column with nothing observed would become a confident forecast of 0: refused
        # under every policy alike
        _check_some_observed(missing, series_id, data_cols)
        return np.where(missing, 0.0, values)
    frame = pd.DataFrame(values)
    if fill == "ffill":
        # leading gaps have nothing before them: they take the first observed value.
        frame = frame.ffill().bfill()
    else:
        frame = frame.interpolate(method="linear", limit_direction="both")
    _check_some_observed(frame.isna().to_numpy(), series_id, data_cols)
    return frame.to_numpy()


def _check_some_observed(missing: np.ndarray, series_id: Any, data_cols: list[str]) -> None:
    """Refuse a series whose column `missing` (rows, columns) marks missing everywhere."""
    empty = np.flatnonzero(missing.all(axis=0)) if len(missing) else np.array([], dtype=int)
    if len(empty):
        msg = (
            f"column {data_cols[int(empty[0])]!r} of series {series_id!r} has no observed "
            "value at all; drop the series or the column."
        )
        raise InputError(msg)
