"""A fitted model's history panel in a saved-model folder: tensors plus JSON metadata."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.frames import FrameSchema
from tsforecast.data.panel import Panel
from tsforecast.data.ragged import ragged_from_padded

__all__ = ["id_to_saved", "ids_from_saved", "panel_from_saved", "panel_to_saved"]


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _pandas_dtype_spec(dtype: Any) -> dict[str, Any]:
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "category": [_json_value(c) for c in categories],
            "ordered": bool(dtype.ordered),
            "categories_dtype": _pandas_dtype_spec(categories.dtype),
        }
    return {"name": str(dtype)}


def _pandas_dtype(spec: dict[str, Any]) -> Any:
    if "category" in spec:
        categories_dtype = _pandas_dtype(spec["categories_dtype"])
        categories = pd.Index(spec["category"])
        if categories_dtype is not None:
            categories = categories.astype(categories_dtype)
        return pd.CategoricalDtype(categories, ordered=spec["ordered"])
    try:
        return pd.api.types.pandas_dtype(spec["name"])
    except TypeError:  # a dtype this pandas does not know (saved by another version)
        return None


def _polars_dtype_spec(dtype: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": type(dtype).__name__ if not isinstance(dtype, type) else dtype.__name__
    }
    for attribute in ("time_unit", "time_zone"):
        if getattr(dtype, attribute, None) is not None:
            spec[attribute] = getattr(dtype, attribute)
    if spec["name"] == "Enum":
        spec["categories"] = [str(c) for c in dtype.categories]
    return spec


def _polars_dtype(spec: dict[str, Any]) -> Any:
    import polars as pl

    kind = getattr(pl, spec["name"], None)
    if kind is None:
        return None
    if spec["name"] == "Datetime":
        return pl.Datetime(spec.get("time_unit", "us"), spec.get("time_zone"))
    if spec["name"] == "Enum":
        return pl.Enum(spec["categories"])
    return kind


def _schema_to_saved(panel: Panel) -> dict[str, Any] | None:
    """The input's id and time dtypes (pandas, and polars for a polars input), as JSON."""
    if panel.schema is None:
        return None
    columns = (panel.id_col, panel.time_col)
    return {
        "pandas": {
            c: _pandas_dtype_spec(d) for c, d in panel.schema.pandas.items() if c in columns
        },
        "polars": {
            c: _polars_dtype_spec(d) for c, d in panel.schema.polars.items() if c in columns
        },
    }


def _schema_from_saved(saved: dict[str, Any] | None) -> FrameSchema | None:
    if not saved:
        return None
    pandas = {c: _pandas_dtype(spec) for c, spec in saved["pandas"].items()}
    polars = (
        {c: _polars_dtype(spec) for c, spec in saved["polars"].items()} if saved["polars"] else {}
    )
    return FrameSchema(
        pandas={c: d for c, d in pandas.items() if d is not None},
        polars={c: d for c, d in polars.items() if d is not None},
    )


def id_to_saved(series_id: Any) -> Any:
    """A series id as JSON (a time stamp as ISO text); `ids_from_saved` turns it back."""
    return _json_value(series_id)


def ids_from_saved(ids: list[Any], panel: Panel) -> list[Any]:
    """Ids written by `id_to_saved`, in the type of the loaded `panel`'s ids."""
    return _ids_as_saved(ids, panel.schema, panel.id_col)


def _ids_as_saved(ids: list[Any], schema: FrameSchema | None, id_col: str) -> list[Any]:
    """The ids of the saved JSON back in their type: time stamps were written as ISO text."""
    dtype = None if schema is None else schema.pandas.get(id_col)
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if dtype is not None and pd.api.types.is_datetime64_any_dtype(dtype):
        return [pd.Timestamp(i) for i in ids]
    return ids


def panel_to_saved(panel: Panel, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors named `<prefix>.*`, JSON metadata) that `panel_from_saved` turns back."""
    # ragged, as in memory: the file follows the number of observations too
    tensors = {
        f"{prefix}.data": panel.data.detach().to("cpu").contiguous(),
        f"{prefix}.offsets": panel.offsets.detach().to("cpu").contiguous(),
    }
    if panel.exact is not None:
        tensors[f"{prefix}.exact"] = torch.from_numpy(np.ascontiguousarray(panel.exact))
    meta = {
        "ids": [_json_value(i) for i in panel.ids],
        "last_times": [_json_value(t[-1]) for t in panel.times],
        "freq": _json_value(panel.freq),
        "is_datetime": panel.is_datetime,
        "id_col": panel.id_col,
        "time_col": panel.time_col,
        "frame_kind": panel.frame_kind,
        "target_cols": panel.target_cols,
        "covariate_cols": panel.covariate_cols,
        "schema": _schema_to_saved(panel),
    }
    return tensors, meta


def _times_ending_at(last: Any, n: int, freq: str | int, is_datetime: bool) -> pd.Index:
    if is_datetime:
        return pd.date_range(end=pd.Timestamp(last), periods=n, freq=str(freq))
    step = int(freq)
    return pd.Index(int(last) - step * np.arange(n - 1, -1, -1, dtype=np.int64))


def panel_from_saved(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str, device: torch.device
) -> Panel:
    """The panel saved by `panel_to_saved` (on `device`); also reads the padded layout
    (`<prefix>.values` [S, T, C] and `.lengths`) that models saved before the ragged one have."""
    if f"{prefix}.data" in tensors:
        data, offsets = tensors[f"{prefix}.data"], tensors[f"{prefix}.offsets"]
    else:
        data, offsets = ragged_from_padded(
            tensors[f"{prefix}.values"], tensors[f"{prefix}.lengths"]
        )
    lengths = offsets[1:] - offsets[:-1]
    times = [
        _times_ending_at(last, int(n), meta["freq"], meta["is_datetime"])
        for last, n in zip(meta["last_times"], lengths.tolist(), strict=True)
    ]
    exact = tensors[f"{prefix}.exact"].numpy() if f"{prefix}.exact" in tensors else None
    schema = _schema_from_saved(meta.get("schema"))  # models saved before it: no schema
    return Panel(
        data=data.to(device),
        offsets=offsets.to(device),
        ids=_ids_as_saved(meta["ids"], schema, meta["id_col"]),
        times=times,
        freq=meta["freq"],
        target_cols=meta["target_cols"],
        covariate_cols=meta["covariate_cols"],
        id_col=meta["id_col"],
        time_col=meta["time_col"],
        frame_kind=meta["frame_kind"],
        exact=exact,
        schema=schema,
    )
