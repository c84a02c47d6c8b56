"""The boundary between the user's frame type and the pandas frames used inside.

A user may hand in pandas or polars; everything is validated on a pandas copy and every frame
that goes back to the user is converted to the type that came in ("same type out"). A
`FrameSchema` records the dtypes of the input's id and time columns, so that the frames going
back carry them too: a categorical id stays categorical, a polars `Date` stays `Date`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from tsforecast.errors import InputError

__all__ = [
    "FrameKind",
    "FrameSchema",
    "frame_kind",
    "from_pandas",
    "is_real_number_dtype",
    "restore_dtypes",
    "to_pandas",
    "wide_to_long",
]

FrameKind = Literal["pandas", "polars"]


@dataclass(frozen=True)
class FrameSchema:
    """The dtypes some columns of a user's frame had, to give frames built inside back.

    `pandas`: column -> dtype on the pandas side (for a polars input: of its pandas copy);
    `polars`: column -> polars dtype, for a polars input (empty for pandas). A column that is
    missing from a frame being restored is skipped.
    """

    pandas: Mapping[Hashable, Any] = field(default_factory=dict)
    polars: Mapping[Hashable, Any] = field(default_factory=dict)

    def with_column(self, name: Hashable, like: Hashable) -> FrameSchema:
        """This schema with column `name` typed as column `like` (e.g. a cutoff as the time)."""
        pandas = dict(self.pandas)
        polars = dict(self.polars)
        if like in self.pandas:
            pandas[name] = self.pandas[like]
        if like in self.polars:
            polars[name] = self.polars[like]
        return FrameSchema(pandas=pandas, polars=polars)


def restore_dtypes(pdf: pd.DataFrame, schema: FrameSchema) -> pd.DataFrame:
    """`pdf` (not modified) with the columns named in `schema` cast to their pandas dtypes.

    An integer column whose values the input's integer dtype cannot hold stays int64: the
    forecast stamps after a uint8 time column's 250 are 256, 257, ..., not 0, 1, ...
    """
    casts = {
        col: dtype
        for col, dtype in schema.pandas.items()
        if col in pdf.columns and pdf[col].dtype != dtype and _holds(dtype, pdf[col])
    }
    return pdf.astype(casts) if casts else pdf


def _holds(dtype: Any, column: pd.Series) -> bool:
    """Whether `dtype` holds every value of `column` (any dtype but a narrower integer does)."""
    if not pd.api.types.is_integer_dtype(dtype) or not pd.api.types.is_integer_dtype(column):
        return True
    values = column.dropna()
    if values.empty:
        return True
    bounds = np.iinfo(getattr(dtype, "numpy_dtype", dtype))
    return bool(bounds.min <= values.min() and values.max() <= bounds.max)


def frame_kind(df: Any, name: str = "df") -> FrameKind:
    """Return which library `df` comes from, or raise `InputError` if it is not a data frame."""
    if isinstance(df, pd.DataFrame):
        return "pandas"
    if type(df).__module__.startswith("polars") and type(df).__name__ == "DataFrame":
        return "polars"
    if type(df).__module__.startswith("polars") and type(df).__name__ == "LazyFrame":
        msg = f"`{name}` is a polars LazyFrame; call `.collect()` on it first."
        raise InputError(msg)
    msg = (
        f"`{name}` must be a pandas or polars DataFrame, got {type(df).__name__}; "
        "build one with `pd.DataFrame(...)` or `pl.DataFrame(...)`."
    )
    raise InputError(msg)


def to_pandas(df: Any, name: str = "df", copy: bool = True) -> tuple[pd.DataFrame, FrameKind]:
    """Return a pandas copy of `df` (never a view: the user's frame is never modified).

    `copy=False` returns a pandas input itself (or, where object columns of numbers are
    converted, a new frame sharing its other columns), for a caller that only reads it (the
    copy of a frame of 100 million rows costs gigabytes).

    Decimal numbers come back as float64 columns, as pandas reads Arrow decimals: a polars
    `Decimal` column (what SQL NUMERIC columns become) and a pandas object column of
    `decimal.Decimal` values, floats or integers are then numbers to every check downstream,
    where they would be text (left out as covariates, refused as targets); see
    `_numbers_as_numbers`. A polars `Int128` / `UInt128` column, which polars' own `to_pandas`
    cannot convert, comes back as int64.
    """
    kind = frame_kind(df, name)
    if kind == "polars":
        return _numbers_as_numbers(_polars_to_pandas(df, name)), kind
    return _numbers_as_numbers(df.copy() if copy else df), kind


_INT64 = np.iinfo(np.int64)


def _polars_to_pandas(df: Any, name: str) -> pd.DataFrame:
    """`df.to_pandas()` with the dtypes pandas has no counterpart for cast first."""
    import polars as pl

    casts = []
    for col, dtype in df.schema.items():
        if isinstance(dtype, pl.Decimal):
            casts.append(pl.col(col).cast(pl.Float64))
        elif dtype in (pl.Int128, pl.UInt128):
            # int64 holds every value exactly, the usual case (a SQL HUGEINT of counts or ids).
            # Values beyond int64 are refused, not made float64: as ids or time stamps, floats
            # that round to one value would merge distinct series or stamps without a word.
            low, high = df[col].min(), df[col].max()
            if low is not None and (low < _INT64.min or high > _INT64.max):
                extreme = low if low < _INT64.min else high
                msg = (
                    f"column {col!r} of `{name}` is {dtype} with values beyond int64 (e.g. "
                    f"{extreme}), which pandas cannot hold; cast it "
                    f"(`pl.col({col!r}).cast(pl.Float64)` for a measurement, "
                    f"`.cast(pl.String)` for an id) or drop it."
                )
                raise InputError(msg)
            casts.append(pl.col(col).cast(pl.Int64))
    return (df.with_columns(casts) if casts else df).to_pandas()


def _numbers_as_numbers(pdf: pd.DataFrame) -> pd.DataFrame:
    """`pdf` with its object columns of numbers as number columns (`pdf` itself when it has
    none; a frame of the user's is never modified): `decimal.Decimal` values (what SQL NUMERIC
    columns become) and Python or numpy floats (an object column after a concat or an assignment
    of None) as float64, Python or numpy integers without a gap as int64 (an id stays 1, not
    1.0). To the checks downstream an object column is text: left out as a covariate, refused
    as a target."""
    out = pdf
    for j, dtype in enumerate(pdf.dtypes):  # by position: a frame may repeat a column name
        if dtype != np.dtype(object):
            continue
        column = pdf.iloc[:, j]
        first = _first_present(column)
        if isinstance(first, (bool, np.bool_)) and column.notna().all():
            if all(isinstance(v, (bool, np.bool_)) for v in column):
                # True / False objects are the flags a bool column holds (a covariate of 0/1,
                # a target refused as boolean), not text
                if out is pdf:
                    out = pdf.copy(deep=False)
                out.isetitem(j, column.to_numpy(dtype=bool))
            continue
        if not _is_number(first):
            continue
        present = column[column.notna()]
        # numbers mixed with text are left as they are, for the dtype checks to name the first
        # value that is no number
        if not all(_is_number(v) for v in present):
            continue
        whole = len(present) == len(column) and all(
            (
                isinstance(v, (int, np.integer))
                or (isinstance(v, Decimal) and v.is_finite() and v == int(v))
            )
            and _INT64.min <= v <= _INT64.max
            for v in present
        )  # (Decimal ids such as Decimal('1001') stay 1001, not 1001.0)
        if out is pdf:
            out = pdf.copy(deep=False)  # a new frame: setting a column leaves `pdf` as it is
        # `to_numeric`, not `astype`: it takes None, NaN and pd.NA as NaN
        values = pd.to_numeric(column).to_numpy(dtype=np.int64 if whole else np.float64)
        out.isetitem(j, values)
    return out


def _is_number(value: Any) -> bool:
    """A real number of Python, numpy or `decimal`: not a bool, not a complex number."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (Decimal, int, float, np.integer, np.floating))


def _first_present(column: pd.Series) -> Any:
    """The first non-null value of `column` (None if none), looking at a short head first: an
    object column of 10**8 ids costs no full null scan when its first value is there."""
    for part in (column.iloc[:64], column):
        present = part[part.notna()]
        if len(present):
            return present.iloc[0]
    return None


def is_real_number_dtype(dtype: Any) -> bool:
    """Integers and floats: not booleans, not complex numbers (their imaginary part is lost)."""
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def from_pandas(pdf: pd.DataFrame, kind: FrameKind, schema: FrameSchema | None = None) -> Any:
    """Convert a frame built inside tsforecast back to the user's frame type.

    With `schema` (e.g. `panel.schema`), the columns it names get the input's dtypes back:
    pandas dtypes for a pandas result, polars dtypes (such as `Date`) for a polars one.
    """
    out = pdf.reset_index(drop=True)
    if schema is not None:
        out = restore_dtypes(out, schema)
    if kind == "pandas":
        return out
    import polars as pl

    frame = pl.from_pandas(out)
    if schema is None:
        return frame
    casts = [
        pl.col(str(col)).cast(dtype)
        for col, dtype in schema.polars.items()
        if col in frame.columns
        and frame.schema[col] != dtype
        and _holds(schema.pandas.get(col), out[col])
    ]
    return frame.with_columns(casts) if casts else frame


def wide_to_long(
    df: Any, time_col: str | None = None, id_col: str = "unique_id", value_col: str = "y"
) -> Any:
    """Turn a wide frame (a time column or index + one column per series) into the long form.

    The result has the columns `id_col`, `ds` (named `time_col` when given) and `value_col`,
    and is of the same type as `df`. With `time_col=None` the time stamps come from the pandas
    index (polars frames have no index: pass `time_col`). Every other column is a series, so
    each must hold numbers: a text, boolean or date column is refused by name.
    """
    pdf, kind = to_pandas(df)
    if time_col is None:
        if kind == "polars":
            msg = "`time_col` is required for a polars frame (polars has no index)."
            raise InputError(msg)
        if "ds" in pdf.columns:
            msg = (
                "`df` has a column 'ds' and `time_col` is None, which reads the time stamps "
                "from the index into a column 'ds'; pass `time_col='ds'` if it holds the time "
                "stamps, or rename it."
            )
            raise InputError(msg)
        pdf = pdf.rename_axis("ds").reset_index()
        time_col_out = "ds"
    else:
        if time_col not in pdf.columns:
            msg = (
                f"column {time_col!r} is missing from `df` (found: {list(pdf.columns)}); "
                "pass the name of the time column as `time_col`."
            )
            raise InputError(msg)
        time_col_out = time_col
    series_cols = [c for c in pdf.columns if c != time_col_out]
    if not series_cols:
        msg = "`df` has no series columns besides the time column."
        raise InputError(msg)
    _check_series_are_numbers(df, pdf, series_cols)
    clashes = [c for c in series_cols if str(c) in (id_col, value_col)]
    if clashes:
        msg = (
            f"the series columns {clashes} of `df` have the names of the long frame's id or "
            f"value column (id_col={id_col!r}, value_col={value_col!r}); pass other names "
            f"(e.g. value_col='value') or rename the series."
        )
        raise InputError(msg)
    long = pdf.melt(
        id_vars=[time_col_out], value_vars=series_cols, var_name=id_col, value_name=value_col
    )
    long = long[[id_col, time_col_out, value_col]]
    long[id_col] = long[id_col].astype(str)
    long = long.sort_values([id_col, time_col_out], kind="stable").reset_index(drop=True)
    return from_pandas(long, kind)


def _check_series_are_numbers(df: Any, pdf: pd.DataFrame, series_cols: list[Any]) -> None:
    """Refuse columns that are no series of numbers (a `region` label, a flag, a second date):
    melted with the numbers, they would become series of their own and make every value an
    object, refused later as target `y` with no word of the wide frame's column."""
    others = [c for c in series_cols if not is_real_number_dtype(pdf[c].dtype)]
    if not others:
        return
    is_polars = not isinstance(df, pd.DataFrame)
    described = []
    for col in others:
        dtype = df.schema[col] if is_polars else pdf[col].dtype  # the dtype the user sees
        present = pdf[col].dropna().iloc[:1].tolist()  # a Python value: True, not np.True_
        example = f", e.g. {present[0]!r}" if present else ""
        described.append(f"{col!r} (dtype {dtype}{example})")
    names = [str(c) for c in others]
    drop = f"df.drop({names})" if is_polars else f"df.drop(columns={names})"
    one = len(others) == 1
    msg = (
        "`wide_to_long` makes a series of numbers of every column besides the time column, "
        f"but {'column' if one else 'columns'} {', '.join(described)} "
        f"{'is' if one else 'are'} not numeric; drop {'it' if one else 'them'} (`{drop}`) or "
        f"convert {'it' if one else 'them'} to numbers first."
    )
    raise InputError(msg)
