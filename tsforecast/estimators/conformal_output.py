"""The forecasts frame of `ConformalForecaster`: the base's forecasts with the calibrated
intervals (see `conformal`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.data.frames import from_pandas, to_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError
from tsforecast.estimators.conformal_scores import _bounds, _naive_scales

if TYPE_CHECKING:
    from tsforecast.estimators.conformal import ConformalForecaster

__all__ = ["with_calibrated_intervals"]


def widths_for(
    model: ConformalForecaster, panel: Panel | None
) -> tuple[dict[Any, int], np.ndarray]:
    """(id -> row, half-widths (S', H, C, L)) covering every series of `panel`."""
    rows = {i: s for s, i in enumerate(model.ids_)}
    if panel is None:
        return rows, model.half_widths_
    new = [i for i in panel.ids if i not in rows]
    if not new:
        return rows, model.half_widths_
    if not model.pool_series:
        shown = [*new[:10], "..."] if len(new) > 10 else new
        msg = (
            f"conformal intervals are calibrated per series, and {len(new)} series were not "
            f"in the training data: {shown}; fit on them, or use `pool_series=True`."
        )
        raise InputError(msg)
    fitted = model.half_widths_
    if model.score == "width":  # pooled factors are the same for every series
        extra = np.broadcast_to(fitted[0], (len(new), *fitted.shape[1:]))
    else:  # pooled: the unit half-widths times the new series' own scale
        unit = fitted[0] / model.scales_[0][None, :, None]  # -> (H, C, L)
        positions = [panel.ids.index(i) for i in new]
        scales = _naive_scales(panel)[positions]  # -> (N, C)
        extra = unit[None] * scales[:, None, :, None]  # -> (N, H, C, L)
    for k, i in enumerate(new):
        rows[i] = len(model.ids_) + k
    return rows, np.concatenate([fitted, extra], axis=0)


def with_calibrated_intervals(
    model: ConformalForecaster, out: Any, panel: Panel | None, with_cutoff: bool
) -> Any:
    """The base's forecasts `out` with the intervals of `model` at its levels."""
    from tsforecast.estimators.output import output_schema

    pdf, kind = to_pandas(out, "the base model's forecasts")
    id_col, time_col = model.base.id_col, model.base.time_col  # type: ignore[attr-defined]
    rows, widths = widths_for(model, panel)
    group = [id_col, "cutoff"] if with_cutoff else [id_col]
    step = (
        pdf.groupby(group, sort=False, observed=True)[time_col].rank(method="first").to_numpy() - 1
    )
    row = pdf[id_col].map(rows).to_numpy()
    columns = [id_col, time_col, *(["cutoff"] if with_cutoff else [])]
    for t, target in enumerate(model.target_cols_):
        point = pdf[target].to_numpy(dtype=np.float64)
        columns.append(target)
        for i, level in enumerate(model.levels_):
            tag = level_tag(level)
            half = widths[row.astype(np.int64), step.astype(np.int64), t, i]
            if model.score == "width":  # the model's own interval, each side scaled
                lo, hi = _bounds(pdf, target, level, model.model_name)
                pdf[f"{target}_lo_{tag}"] = point - half * (point - lo)
                pdf[f"{target}_hi_{tag}"] = point + half * (hi - point)
            else:
                pdf[f"{target}_lo_{tag}"] = point - half
                pdf[f"{target}_hi_{tag}"] = point + half
            columns += [f"{target}_lo_{tag}", f"{target}_hi_{tag}"]
        if model.score == "width":
            _nest(pdf, target, model.levels_)
    rest = [c for c in pdf.columns if c not in columns and "_lo_" not in c and "_hi_" not in c]
    schema = output_schema(panel) if panel is not None else _fitted_schema(model)
    return from_pandas(pdf[columns + rest], kind, schema=schema)


def _fitted_schema(model: ConformalForecaster) -> Any:
    schema = getattr(model, "schema_", None)
    if schema is None:
        return None
    return schema.with_column("cutoff", like=model.base.time_col)  # type: ignore[attr-defined]


def _nest(pdf: pd.DataFrame, target: str, levels: Sequence[float]) -> None:
    """Widen, in place, each level's interval to contain every lower level's: factors
    calibrated level by level (or a level kept at the model's own) could cross."""
    lo_prev = hi_prev = None
    for level in sorted(levels):
        tag = level_tag(level)
        lo, hi = f"{target}_lo_{tag}", f"{target}_hi_{tag}"
        if lo_prev is not None and hi_prev is not None:
            pdf[lo] = np.minimum(pdf[lo].to_numpy(), pdf[lo_prev].to_numpy())
            pdf[hi] = np.maximum(pdf[hi].to_numpy(), pdf[hi_prev].to_numpy())
        lo_prev, hi_prev = lo, hi
