"""What `auto` measures and how it chooses: the default candidates and budget sized to the
data, the record of a choice, and the inner-backtest scores and median combinations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.data.frames import from_pandas, to_pandas

__all__ = [
    "AutoSelection",
    "combine_forecasts",
    "default_candidates",
    "default_time_budget",
    "inner_mase",
    "median_points",
]

DEFAULT_CANDIDATES = ("seasonal_naive", "theta", "ets", "arima", "lstm")
# Sizing the default candidates to the data: a global neural model pays off once there are
# enough observations to learn from (below, it is slower and no better than the baselines).
NEURAL_MIN_OBSERVATIONS = 50_000


def default_candidates(n_series: int, n_observations: int) -> tuple[list[str], str]:
    """The default candidates for a panel of this size, and why. ARIMA's order search is slow
    per series but bounded by the time budget (series it does not reach fall back and score
    accordingly); it is the most accurate baseline on M4 Hourly, so it always takes part."""
    names = ["seasonal_naive", "theta", "ets", "arima"]
    why = ""
    if n_observations >= NEURAL_MIN_OBSERVATIONS:
        names.append("lstm")
    else:
        why = f"lstm left out ({n_observations} observations < {NEURAL_MIN_OBSERVATIONS})"
    return names, why


def default_time_budget(n_series: int, n_observations: int) -> float:
    """A budget that grows with the data: ~5 s for one short series, ~70 s for 1,000 monthly
    series, at most 240 s."""
    return float(min(240.0, 5.0 + 0.05 * n_series + 1e-4 * n_observations))


@dataclass
class AutoSelection:
    """What `auto` measured and chose (on the estimator and on `forecast()`'s `attrs`)."""

    chosen: list[str]
    inner_mase: dict[str, float] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    excluded: list[Any] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


def inner_mase(forecasts: pd.DataFrame, scales: pd.DataFrame) -> float:
    """MASE of one model's inner-backtest forecasts (mean over series, targets and folds)."""
    from tsforecast.metrics import evaluate_pandas

    metrics = evaluate_pandas(forecasts.assign(model="candidate"), scales=scales, metrics=["mase"])
    values = metrics.loc[metrics["metric"] == "mase", "value"]
    return float(values.mean()) if len(values) else math.inf


def median_points(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The median of several models' point forecasts on the same folds."""
    keys = ["unique_id", "ds", "target", "cutoff"]
    ordered = [f.sort_values(keys, kind="stable") for f in frames]
    stacked = np.stack([f["y_hat"].to_numpy(dtype=np.float64) for f in ordered])  # -> (k, N)
    combined = ordered[0].reset_index(drop=True)
    combined["y_hat"] = np.median(stacked, axis=0)
    return combined


def combine_forecasts(outputs: list[Any], schema: Any) -> Any:
    """The element-wise median of the members' forecast frames (same rows, same columns)."""
    if len(outputs) == 1:
        return outputs[0]
    frames = [to_pandas(o, "forecast")[0] for o in outputs]
    kind = to_pandas(outputs[0], "forecast")[1]
    first = frames[0]
    value_cols = [c for c in first.columns if pd.api.types.is_float_dtype(first[c])]
    out = first.copy()
    for col in value_cols:
        stacked = np.stack(
            [
                f[col].to_numpy(dtype=np.float64) if col in f else np.full(len(first), np.nan)
                for f in frames
            ]
        )  # -> (k, N)
        out[col] = np.nanmedian(stacked, axis=0)
    return from_pandas(out, kind, schema=schema)
