"""Forecast accuracy metrics: plain functions on arrays, and `evaluate` for forecasts frames.

Array functions take the actuals `y` and the forecasts `y_hat` of one forecast (any shape, the
same for both) and return a float. The scaled errors (MASE, RMSSE) also take the training part
`y_train` seen by the model before its cutoff, because their scale is the in-sample error of the
seasonal naive forecast on that part (M4 definition: `mean_{t=m+1..n} |y_t - y_{t-m}|`).

Conventions (M4, see `Benchmarks and Evaluation.R` of the M4 organisers):
- `smape` and `mape` are in percent; `smape` is `200 |y - f| / (|y| + |f|)` with 0/0 taken as 0.
- `mase`/`rmsse` of a panel are the mean of the per-forecast values (one per series and cutoff).
- `owa` compares the AGGREGATE sMAPE and MASE (means over all series) with Naive2's on the same
  forecasts: `0.5 (sMAPE / sMAPE_naive2 + MASE / MASE_naive2)`; it is not a mean of per-series OWAs.
- `pinball` averages the quantile loss over the interval bounds present (level l gives the
  quantiles (1 - l/100)/2 and 1 - (1 - l/100)/2) and the point forecast taken as the median.
- `coverage_l` is the fraction (0..1) of actuals inside the level-l interval.
- `msis_l` is M4's mean scaled interval score of the level-l interval: the mean over the horizon
  of `(U - L) + 2/a (L - y) 1{y < L} + 2/a (y - U) 1{y > U}` with `a = 1 - l/100`, divided by
  the MASE scale of the forecast's training part (M4 reports msis_95).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.errors import InputError, TsforecastWarning

__all__ = [
    "METRICS",
    "coverage",
    "evaluate",
    "mae",
    "mape",
    "mase",
    "mase_scale",
    "owa",
    "pinball",
    "rmse",
    "rmsse",
    "rmsse_scale",
    "smape",
]

# The point metrics `evaluate` reports by default, in leaderboard order.
METRICS: tuple[str, ...] = ("mase", "smape", "owa", "mae", "rmse", "mape", "rmsse")

_INTERVAL_COL = re.compile(r"^y_(lo|hi)_(\d+(?:\.\d+)?)$")


def _pair(y: Any, y_hat: Any) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=np.float64)
    f_arr = np.asarray(y_hat, dtype=np.float64)
    if y_arr.shape != f_arr.shape:
        msg = f"`y` and `y_hat` must have the same shape, got {y_arr.shape} and {f_arr.shape}."
        raise InputError(msg)
    return y_arr, f_arr


def mae(y: Any, y_hat: Any) -> float:
    """Mean absolute error."""
    y_arr, f_arr = _pair(y, y_hat)
    return float(np.mean(np.abs(y_arr - f_arr)))


def rmse(y: Any, y_hat: Any) -> float:
    """Root mean squared error."""
    y_arr, f_arr = _pair(y, y_hat)
    return float(np.sqrt(np.mean((y_arr - f_arr) ** 2)))


def mape(y: Any, y_hat: Any) -> float:
    """Mean absolute percentage error, in percent (`inf` when an actual is 0)."""
    y_arr, f_arr = _pair(y, y_hat)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(100.0 * np.abs(y_arr - f_arr) / np.abs(y_arr)))


def smape(y: Any, y_hat: Any) -> float:
    """Symmetric MAPE as in M4, in percent: mean of `200 |y - f| / (|y| + |f|)` (0/0 -> 0)."""
    y_arr, f_arr = _pair(y, y_hat)
    return float(np.mean(_smape_terms(y_arr, f_arr)))


def _smape_terms(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    num = 200.0 * np.abs(y - f)
    den = np.abs(y) + np.abs(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0.0, 0.0, num / np.where(den == 0.0, 1.0, den))


def _seasonal_diffs(y_train: Any, season_length: int) -> np.ndarray:
    train = np.asarray(y_train, dtype=np.float64).ravel()
    if season_length < 1:
        msg = f"`season_length` must be a positive integer, got {season_length!r}."
        raise InputError(msg)
    if train.size <= season_length:
        return np.empty(0)
    diffs = train[season_length:] - train[:-season_length]
    # a missing value (NaN) leaves out the differences it is in, not the whole scale
    return diffs[~np.isnan(diffs)]


def mase_scale(y_train: Any, season_length: int) -> float:
    """In-sample MAE of the seasonal naive forecast on `y_train` (NaN when too short)."""
    diffs = _seasonal_diffs(y_train, season_length)
    return float(np.mean(np.abs(diffs))) if diffs.size else float("nan")


def rmsse_scale(y_train: Any, season_length: int) -> float:
    """In-sample mean squared error of the seasonal naive forecast on `y_train`."""
    diffs = _seasonal_diffs(y_train, season_length)
    return float(np.mean(diffs**2)) if diffs.size else float("nan")


def mase(y: Any, y_hat: Any, y_train: Any, season_length: int = 1) -> float:
    """Mean absolute scaled error: MAE divided by `mase_scale(y_train, season_length)`."""
    scale = mase_scale(y_train, season_length)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(mae(y, y_hat) / scale)


def rmsse(y: Any, y_hat: Any, y_train: Any, season_length: int = 1) -> float:
    """Root mean squared scaled error: sqrt(MSE / mean squared seasonal difference of the
    training part). M5 used lag 1 (`season_length=1`); tsforecast scales with the season length,
    as MASE does."""
    scale = rmsse_scale(y_train, season_length)
    y_arr, f_arr = _pair(y, y_hat)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sqrt(np.mean((y_arr - f_arr) ** 2) / scale))


def pinball(y: Any, q_hat: Any, quantile: float) -> float:
    """Mean quantile (pinball) loss of the forecast `q_hat` of the `quantile` (0 < q < 1)."""
    if not 0.0 < quantile < 1.0:
        msg = f"`quantile` must lie strictly between 0 and 1, got {quantile!r}."
        raise InputError(msg)
    y_arr, q_arr = _pair(y, q_hat)
    diff = y_arr - q_arr
    return float(np.mean(np.maximum(quantile * diff, (quantile - 1.0) * diff)))


def coverage(y: Any, lo: Any, hi: Any) -> float:
    """Fraction (0..1) of actuals inside the closed interval [lo, hi]."""
    y_arr, lo_arr = _pair(y, lo)
    _, hi_arr = _pair(y, hi)
    return float(np.mean((y_arr >= lo_arr) & (y_arr <= hi_arr)))


def owa(smape_value: float, mase_value: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average (M4) from AGGREGATE sMAPE and MASE and Naive2's on the same data."""
    return 0.5 * (smape_value / smape_naive2 + mase_value / mase_naive2)


# --------------------------------------------------------------------------- forecasts frames


def _levels_in(columns: Sequence[str]) -> list[str]:
    """Levels (as written in the column names) that have both a lo and a hi column."""
    found: dict[str, set[str]] = {}
    for col in columns:
        match = _INTERVAL_COL.match(str(col))
        if match:
            found.setdefault(match.group(2), set()).add(match.group(1))
    return sorted((lvl for lvl, sides in found.items() if sides == {"lo", "hi"}), key=float)


def fold_scales(
    train: pd.DataFrame,
    keys: pd.DataFrame,
    *,
    season_length: int,
    id_col: str = "unique_id",
    time_col: str = "ds",
    train_size: int | None = None,
) -> pd.DataFrame:
    """MASE and RMSSE scales per (unique_id, target, cutoff) from the training part of each fold.

    The training part of a fold is the rows of `train` (validated, long, one column per target)
    for that series with `time_col <= cutoff`, limited to the last `train_size` rows when given
    (sliding window). Returns `keys` with the columns `_mase_scale` and `_rmsse_scale` added.
    """
    out = keys[["unique_id", "target", "cutoff"]].drop_duplicates().reset_index(drop=True)
    mase_s = np.full(len(out), np.nan)
    rmsse_s = np.full(len(out), np.nan)
    train = train.sort_values([id_col, time_col], kind="stable")
    ids = train[id_col].to_numpy()
    times = train[time_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.empty(0, int)
    bounds = np.r_[starts, len(ids)]
    where = {ids[b]: (bounds[i], bounds[i + 1]) for i, b in enumerate(starts)}
    columns: dict[str, np.ndarray] = {}
    # numpy values, not the Timestamps iterating a column gives: numpy cannot order a Timestamp
    # against datetime64[ns] stamps, but orders datetime64 values of any two resolutions
    cutoffs = out["cutoff"].to_numpy()
    for i, (uid, target, cutoff) in enumerate(
        zip(out["unique_id"], out["target"], cutoffs, strict=True)
    ):
        if uid not in where or target not in train.columns:
            continue
        if target not in columns:
            columns[target] = train[target].to_numpy(dtype=np.float64)
        lo, hi = where[uid]
        n_past = lo + int(np.searchsorted(times[lo:hi], cutoff, side="right"))
        first = lo if train_size is None else max(lo, n_past - train_size)
        past = columns[target][first:n_past]
        past = past[~np.isnan(past)]
        mase_s[i] = mase_scale(past, season_length)
        rmsse_s[i] = rmsse_scale(past, season_length)
    out["_mase_scale"] = mase_s
    out["_rmsse_scale"] = rmsse_s
    return out


def _point_terms(fc: pd.DataFrame, levels: list[str]) -> pd.DataFrame:
    """One row per forecast point with every per-point error term the metrics average."""
    y = fc["y"].to_numpy(dtype=np.float64)
    f = fc["y_hat"].to_numpy(dtype=np.float64)
    err = y - f
    terms = pd.DataFrame(
        {
            "abs": np.abs(err),
            "sq": err**2,
            "smape": _smape_terms(y, f),
        },
        index=fc.index,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        terms["mape"] = 100.0 * np.abs(err) / np.abs(y)
        if "_mase_scale" in fc:
            terms["mase"] = np.abs(err) / fc["_mase_scale"].to_numpy()
            terms["rmsse"] = err**2 / fc["_rmsse_scale"].to_numpy()
    terms["mape"] = terms["mape"].replace([np.inf, -np.inf], np.nan)
    if levels:
        # Median at y_hat, then the two bounds of every level.
        losses = [np.maximum(0.5 * err, -0.5 * err)]
        for lvl in levels:
            lo = fc[f"y_lo_{lvl}"].to_numpy(dtype=np.float64)
            hi = fc[f"y_hi_{lvl}"].to_numpy(dtype=np.float64)
            q_lo = (1.0 - float(lvl) / 100.0) / 2.0
            for q, bound in ((q_lo, lo), (1.0 - q_lo, hi)):
                d = y - bound
                losses.append(np.maximum(q * d, (q - 1.0) * d))
            if "_mase_scale" in fc:
                # M4's MSIS: interval width plus 2/alpha times each miss, over the MASE scale
                alpha = 1.0 - float(lvl) / 100.0
                score = (hi - lo) + (2.0 / alpha) * (
                    np.maximum(lo - y, 0.0) + np.maximum(y - hi, 0.0)
                )
                with np.errstate(divide="ignore", invalid="ignore"):
                    terms[f"msis_{lvl}"] = score / fc["_mase_scale"].to_numpy()
            covered = ((y >= lo) & (y <= hi)).astype(np.float64)
            # a model without intervals has NaN bounds: no coverage rather than 0% coverage
            terms[f"coverage_{lvl}"] = np.where(np.isnan(lo) | np.isnan(hi), np.nan, covered)
        terms["pinball"] = np.mean(np.stack(losses), axis=0)
    return terms


def evaluate_pandas(
    forecasts: pd.DataFrame,
    *,
    scales: pd.DataFrame | None = None,
    by: str | None = None,
    baseline: str = "naive2",
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """`evaluate` on a pandas forecasts frame, with the fold scales already computed.

    Each forecast (unique_id, cutoff, model, target) gives one value per metric (per horizon step
    when `by="horizon"`); the reported value is the mean over forecasts in each group, skipping
    undefined values (a zero or missing scale, a zero actual for MAPE).
    """
    wanted = list(METRICS) if metrics is None else list(metrics)
    fc = forecasts.reset_index(drop=True)
    if scales is not None:
        fc = fc.merge(scales, on=["unique_id", "target", "cutoff"], how="left")
    unit = ["model", "target", "unique_id", "cutoff"]
    if by == "horizon":
        # numbered before the rows without an actual are dropped: step 2 stays step 2 when
        # step 1's actual is missing (a value `fill` made up)
        step = fc.groupby(unit, sort=False)["ds"].rank(method="first").astype(np.int64)
        unit = [*unit, "horizon"]
        fc = fc.assign(horizon=step)
    fc = fc[fc["y"].notna()].reset_index(drop=True)
    levels = _levels_in(list(fc.columns))
    terms = _point_terms(fc, levels)
    per_unit = terms.assign(**{k: fc[k] for k in unit}).groupby(unit, sort=False).mean()
    # Root after the per-forecast mean: RMSE/RMSSE of a forecast, then averaged over forecasts.
    per_unit["rmse"] = np.sqrt(per_unit.pop("sq"))
    per_unit["mae"] = per_unit.pop("abs")
    if "rmsse" in per_unit:
        per_unit["rmsse"] = np.sqrt(per_unit["rmsse"])
    per_unit = per_unit.replace([np.inf, -np.inf], np.nan).reset_index()
    group = ["model", "target"] + ([by] if by is not None else [])
    agg = per_unit.groupby(group, sort=False).mean(numeric_only=True)
    agg = agg.drop(columns=[c for c in ("cutoff", "unique_id", "horizon") if c in agg])
    if "owa" in wanted and {"smape", "mase"} <= set(agg.columns):
        agg["owa"] = _owa_column(agg, baseline)
    extra = [c for c in agg.columns if c.startswith(("coverage_", "msis_")) or c == "pinball"]
    order = [m for m in wanted if m in agg.columns] + [c for c in extra if c not in wanted]
    long = (
        agg[order]
        .reset_index()
        .melt(id_vars=group, var_name="metric", value_name="value")
        .dropna(subset=["value"])
    )
    first = [by] if by is not None else []
    return long[[*first, "model", "target", "metric", "value"]].reset_index(drop=True)


def _owa_column(agg: pd.DataFrame, baseline: str) -> pd.Series:
    models = agg.index.get_level_values("model")
    if baseline not in set(models):
        return pd.Series(np.nan, index=agg.index)
    ref = agg.xs(baseline, level="model")[["smape", "mase"]]
    # `model` is the first level of the (model, target[, by]) index: align the rest.
    ref_aligned = ref.reindex(agg.index.droplevel(0))  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = 0.5 * (
            agg["smape"].to_numpy() / ref_aligned["smape"].to_numpy()
            + agg["mase"].to_numpy() / ref_aligned["mase"].to_numpy()
        )
    return pd.Series(values, index=agg.index)


def evaluate(
    forecasts: Any,
    train_df: Any = None,
    *,
    season_length: int = 1,
    by: str | None = None,
    baseline: str = "naive2",
    metrics: Sequence[str] | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    train_size: int | None = None,
) -> Any:
    """Metrics frame (model, target, metric, value) of a forecasts frame, of the input's type.

    `forecasts` is a long frame as `backtest` returns it (unique_id, ds, cutoff, model, target, y,
    y_hat, optional y_lo_<level>/y_hi_<level>); `unique_id`/`ds` may carry other names given by
    `id_col`/`time_col`. MASE and RMSSE need `train_df`, the series frame (one column per target)
    the forecasts were made from: the scale of each forecast uses only its rows up to the cutoff
    (the last `train_size` of them for a sliding window). OWA needs the `baseline` model (Naive2)
    among the forecasts. `by` in {"unique_id", "horizon", "cutoff"} adds a column and reports
    each group separately.
    """
    from tsforecast.data.frames import from_pandas, to_pandas

    fc, kind = to_pandas(forecasts)
    fc = fc.rename(columns={id_col: "unique_id", time_col: "ds"})
    required = ["unique_id", "ds", "cutoff", "model", "target", "y", "y_hat"]
    missing = [c for c in required if c not in fc.columns]
    if missing:
        msg = (
            f"`forecasts` lacks the columns {missing} (found: {list(fc.columns)}); pass the "
            "`forecasts` frame of a backtest result."
        )
        raise InputError(msg)
    if by not in (None, "unique_id", "horizon", "cutoff"):
        msg = f"`by` must be None, 'unique_id', 'horizon' or 'cutoff', got {by!r}."
        raise InputError(msg)
    scales = None
    if train_df is not None:
        train, _ = to_pandas(train_df)
        scales = fold_scales(
            train,
            fc,
            season_length=season_length,
            id_col=id_col,
            time_col=time_col,
            train_size=train_size,
        )
    elif metrics is None or {"mase", "rmsse", "owa"} & set(metrics):
        warnings.warn(
            "`train_df` was not given, so MASE, RMSSE and OWA cannot be computed; pass the "
            "series frame the forecasts were made from.",
            TsforecastWarning,
            stacklevel=2,
        )
    out = evaluate_pandas(fc, scales=scales, by=by, baseline=baseline, metrics=metrics)
    if by == "unique_id":
        out = out.rename(columns={"unique_id": id_col})
    return from_pandas(out, kind)
