"""The boundary between the user's frame type and the pandas frames used inside.

A user may hand in pandas or polars; everything is validated on a pandas copy and every frame
that goes back to the user is converted to the type that came in ("same type out"). A
`FrameSchema` records the dtypes of the input's id and time columns, so that the frames going
back carry them too: a categorical id stays categorical, a polars `Date` stays `Date`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from tsforecast.errors import InputError

__all__ = [
    "FrameKind",
    "FrameSchema",
    "frame_kind",
    "from_pandas",
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

    `copy=False` returns a pandas input itself, for a caller that only reads it (the copy of
    a frame of 100 million rows costs gigabytes).
    """
    kind = frame_kind(df, name)
    if kind == "pandas":
        return (df.copy() if copy else df), kind
    return df.to_pandas(), kind


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
    index (polars frames have no index: pass `time_col`).
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
