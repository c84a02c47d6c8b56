"""The boundary between the user's frame type and the pandas frames used inside.

A user may hand in pandas or polars; everything is validated on a pandas copy and every frame
that goes back to the user is converted to the type that came in ("same type out").
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from tsforecast.errors import InputError

__all__ = ["FrameKind", "frame_kind", "from_pandas", "to_pandas", "wide_to_long"]

FrameKind = Literal["pandas", "polars"]


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


def to_pandas(df: Any, name: str = "df") -> tuple[pd.DataFrame, FrameKind]:
    """Return a pandas copy of `df` (never a view: the user's frame is never modified)."""
    kind = frame_kind(df, name)
    if kind == "pandas":
        return df.copy(), kind
    return df.to_pandas(), kind


def from_pandas(pdf: pd.DataFrame, kind: FrameKind) -> Any:
    """Convert a frame built inside tsforecast back to the user's frame type."""
    if kind == "pandas":
        return pdf.reset_index(drop=True)
    import polars as pl

    return pl.from_pandas(pdf.reset_index(drop=True))


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
    long = pdf.melt(
        id_vars=[time_col_out], value_vars=series_cols, var_name=id_col, value_name=value_col
    )
    long = long[[id_col, time_col_out, value_col]]
    long[id_col] = long[id_col].astype(str)
    long = long.sort_values([id_col, time_col_out], kind="stable").reset_index(drop=True)
    return from_pandas(long, kind)
