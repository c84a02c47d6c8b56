"""The dashboard's summaries: leaderboard, error by horizon, fold x model, coverage, training.

Each is a small JSON-ready structure read from the result's own metrics where it has them (so
the page shows the numbers the result reports), computed here only where it lacks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import level_tag
from tsforecast.data.frames import to_pandas
from tsforecast.report.encode import json_scalar, time_key, time_label, to_float, to_floats
from tsforecast.report.reading import frame_or_none, metrics_by, unique

__all__ = [
    "WORST_SERIES",
    "coverage_table",
    "fold_table",
    "horizon_table",
    "leaderboard",
    "training_curves",
    "worst_series",
]

WORST_SERIES = 10  # series listed per model in the worst-series ranking
# the ranking's metric, the first the result has: scale-free, so series of any size compare
_RANKED_BY = ("mase", "smape")


def leaderboard(result: Any, metrics: pd.DataFrame | None) -> pd.DataFrame | None:
    """`result.leaderboard()`, else the metrics pivoted to one row per model; None without any."""
    board = None
    method = getattr(result, "leaderboard", None)
    if method is not None:
        board = frame_or_none(method)
    if board is None and metrics is not None and not metrics.empty:
        board = metrics.pivot_table(
            index=[c for c in ("model", "target") if c in metrics], columns="metric", values="value"
        ).reset_index()
    if board is None:
        return None
    if board.index.name is not None and board.index.name not in board.columns:
        board = board.reset_index()
    return board


def horizon_table(frame: pd.DataFrame | None, models: list[Any]) -> dict[str, Any]:
    """{target: {metric: {model: [value at step 1..H]}}} from metrics_by("horizon")."""
    if frame is None:
        return {}
    step_col = next(
        (c for c in frame.columns if c not in ("model", "target", "metric", "value")), None
    )
    if step_col is None:
        return {}
    out: dict[str, Any] = {}
    frame = frame.sort_values(step_col, kind="stable")
    for (target, metric), group in frame.groupby(["target", "metric"], sort=False):
        per_model: dict[str, Any] = {}
        for model, rows in group.groupby("model", sort=False):
            per_model[str(model)] = {
                "x": [json_scalar(v) for v in rows[step_col]],
                "y": to_floats(rows["value"]),
            }
        ordered = {str(m): per_model[str(m)] for m in models if str(m) in per_model}
        out.setdefault(str(target), {})[str(metric)] = ordered
    return out


def fold_table(
    result: Any,
    fc: pd.DataFrame,
    fold_of: pd.Series,
    hist: pd.DataFrame | None,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """{"labels": [...], "data": {target: {metric: {model: [value per fold]}}}}.

    When every series shares its cutoffs, a fold is a cutoff and `metrics_by("cutoff")` holds
    the numbers. When series end at different times (M4), a cutoff value names few series, so
    the folds are re-scored with `tsforecast.metrics.evaluate`, one call per fold.
    """
    cutoffs_per_fold = fc.groupby(fold_of, sort=True)["cutoff"].unique()
    aligned = all(len(values) == 1 for values in cutoffs_per_fold)
    labels = []
    for k, values in enumerate(cutoffs_per_fold):
        label = f"fold {k + 1}"
        if aligned:
            label += f" ({time_label(values[0])})"
        labels.append(label)

    by_cutoff = metrics_by(result, "cutoff") if aligned else None
    parts: list[tuple[int | None, pd.DataFrame]]  # (fold, its metrics); None: not a fold here
    if by_cutoff is not None and "cutoff" in by_cutoff.columns:
        position = {time_key(v[0]): k for k, v in enumerate(cutoffs_per_fold)}
        parts = [
            (position.get(time_key(cutoff)), group)
            for cutoff, group in by_cutoff.groupby("cutoff", sort=False)
        ]
    else:
        parts = list(enumerate(_rescored_folds(fc, fold_of, hist, settings, len(labels))))
    data: dict[str, Any] = {}
    for fold, frame in parts:
        if fold is None:
            continue
        for row in frame.itertuples(index=False):
            per_metric = data.setdefault(str(row.target), {}).setdefault(str(row.metric), {})
            values = per_metric.setdefault(str(row.model), [None] * len(labels))
            values[fold] = to_float(row.value)
    return {"labels": labels, "data": data}


def _rescored_folds(
    fc: pd.DataFrame,
    fold_of: pd.Series,
    hist: pd.DataFrame | None,
    settings: dict[str, Any],
    n_folds: int,
) -> list[pd.DataFrame]:
    """The metrics frame of each fold, scored again with the backtest's settings."""
    from tsforecast import metrics as metrics_module

    season_length = int(settings.get("season_length") or 1)
    train_size = settings.get("train_size")
    wanted = settings.get("metrics") or list(metrics_module.METRICS)
    scaled = {"mase", "rmsse", "owa"}  # need the training part of each fold
    train = None
    if hist is not None and set(unique(fc["target"])) <= set(hist.columns):
        train = hist
    else:
        wanted = [m for m in wanted if m not in scaled]
        if not wanted:
            return []
    frames = []
    for fold in range(n_folds):
        scores = metrics_module.evaluate(
            fc[fold_of.to_numpy() == fold],
            train,
            season_length=season_length,
            train_size=train_size if isinstance(train_size, int) else None,
            metrics=wanted,
        )
        frames.append(to_pandas(scores)[0])
    return frames


def coverage_table(
    metrics: pd.DataFrame | None, fc: pd.DataFrame, levels: list[Any], models: list[Any]
) -> dict[str, Any]:
    """{target: [{"model", "level", "value" (0..1)}]}: the share of actuals inside each interval.

    Taken from the metrics frame (`coverage_80` ...) when it has them, else counted here.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    if metrics is not None and not metrics.empty and "metric" in metrics:
        rows = metrics[metrics["metric"].astype(str).str.startswith("coverage_")]
        for row in rows.itertuples(index=False):
            level = float(str(row.metric).removeprefix("coverage_"))
            out.setdefault(str(getattr(row, "target", "y")), []).append(
                {
                    "model": json_scalar(row.model),
                    "level": int(level) if level.is_integer() else level,
                    "value": to_float(row.value),
                }
            )
        if out:
            return out
    observed = fc[fc["y"].notna()]
    for level in levels:
        lo, hi = f"y_lo_{level_tag(level)}", f"y_hi_{level_tag(level)}"
        has = observed[observed[lo].notna() & observed[hi].notna()]
        inside = (has["y"] >= has[lo]) & (has["y"] <= has[hi])
        shares = inside.groupby([has["model"], has["target"]]).mean()
        for (model, target), share in zip(shares.index, shares.to_numpy(), strict=True):
            out.setdefault(str(target), []).append(
                {"model": json_scalar(model), "level": level, "value": to_float(share)}
            )
    order = {str(m): k for k, m in enumerate(models)}
    for rows_of_target in out.values():
        rows_of_target.sort(key=lambda r: (order.get(str(r["model"]), 0), r["level"]))
    return out


def worst_series(
    by_series: pd.DataFrame | None, models: list[Any], series_ids: list[str]
) -> dict[str, Any]:
    """{target: {"metric", "models": {model: [[series k, value], ...]}}}, worst first.

    Per model, the WORST_SERIES series with the highest MASE over all their cutoffs (sMAPE
    when the result has no MASE), from `metrics_by("unique_id")`; `k` is the series' position
    in `series_ids` (the explorer's list). Ties go in the explorer's order; series whose value
    is not a finite number (a MASE over a constant history) are left out.
    """
    if by_series is None or not {"unique_id", "model", "metric"} <= set(by_series.columns):
        return {}
    position = {sid: k for k, sid in enumerate(series_ids)}
    frame = by_series.assign(
        k=[position.get(str(json_scalar(u)), -1) for u in by_series["unique_id"]],
        value=pd.to_numeric(by_series["value"], errors="coerce"),
        model=by_series["model"].astype(str),
    )
    frame = frame[(frame["k"] >= 0) & np.isfinite(frame["value"].to_numpy())]
    out: dict[str, Any] = {}
    for target, rows in frame.groupby("target", sort=False):
        metric = next((m for m in _RANKED_BY if (rows["metric"] == m).any()), None)
        if metric is None:
            continue
        ranked = rows[rows["metric"] == metric].sort_values(
            ["value", "k"], ascending=[False, True], kind="stable"
        )
        per_model = {
            str(model): [
                [int(k), to_float(v)]
                for k, v in ranked.loc[ranked["model"] == str(model), ["k", "value"]]
                .head(WORST_SERIES)
                .itertuples(index=False)
            ]
            for model in models
        }
        out[str(target)] = {"metric": metric, "models": {m: v for m, v in per_model.items() if v}}
    return out


def training_curves(result: Any) -> list[dict[str, Any]]:
    """Loss curves of the neural models, from whatever the result carries.

    Accepted: `result.training_curves` (or `training_history`) as a mapping name -> list of
    per-evaluation dicts (step, train_loss, val_loss), a TrainingResult-like object with
    `.history`, or an estimator with `history_`; a long frame with model, step, train_loss,
    val_loss (and optionally cutoff); or fitted models in `result.models` with `history_`.
    """
    raw = None
    for name in ("training_curves", "training_history", "histories"):
        raw = getattr(result, name, None)
        if raw is not None:
            break
    if raw is None:
        fitted = getattr(result, "models", None) or getattr(result, "fitted_models", None)
        if isinstance(fitted, Mapping):
            raw = {k: v for k, v in fitted.items() if getattr(v, "history_", None)}
    if raw is None:
        return []
    if callable(raw):
        raw = raw()
    curves: list[dict[str, Any]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            curves.extend(_curves_from(key, value))
    else:
        frame = frame_or_none(raw)
        if frame is not None and {"model", "step"} <= set(frame.columns):
            keys = [c for c in ("model", "cutoff", "fold", "unique_id") if c in frame.columns]
            for key, group in frame.groupby(keys, sort=False):
                curves.extend(_curves_from(key, group.to_dict("records")))
    return [c for c in curves if c["step"]]


def _curves_from(key: Any, value: Any) -> list[dict[str, Any]]:
    label = " · ".join(str(json_scalar(k)) for k in key) if isinstance(key, tuple) else str(key)
    model = str(key[0]) if isinstance(key, tuple) else str(key)
    if hasattr(value, "history_"):
        value = value.history_
    elif hasattr(value, "history") and not isinstance(value, (list, Mapping)):
        value = value.history
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(v, (list, Mapping)) or hasattr(v, "history") for v in value.values())
    ):
        # nested: {cutoff: history}
        out = []
        for sub_key, sub_value in value.items():
            out.extend(_curves_from((model, json_scalar(sub_key)), sub_value))
        return out
    rows = list(value) if isinstance(value, (list, tuple)) else []
    rows = [r for r in rows if isinstance(r, Mapping) and "step" in r]
    if not rows:
        return []
    return [
        {
            "model": model,
            "label": label,
            "step": [json_scalar(r["step"]) for r in rows],
            "train_loss": [to_float(r.get("train_loss")) for r in rows],
            "val_loss": [to_float(r.get("val_loss")) for r in rows],
        }
    ]
