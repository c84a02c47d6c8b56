"""`tsforecast.forecast()`: one call from a frame to the future rows, of the input's type.

The output has the input's schema for the `horizon` rows after each series' end: the id and time
columns, each target as its point forecast, and `T_lo_80` / `T_hi_80` ... when `levels` are given.

`model="auto"` (the default) chooses by measurement on the end of the training data. An inner
backtest (the last `n_windows` folds of `horizon` steps before each series' end, nothing after
it; each candidate fitted once, on the first fold) scores every candidate with MASE; then the best
single model, the median of the best two and the median of the best three are scored on the same
folds, and the lowest inner MASE wins. The winner's members are refitted on all the data to make
the forecast. A median of a few good, different models is a robust combination (M4's combination
benchmarks beat most of their members); the measurement decides per data set whether it pays.
`time_budget_s` bounds the call through the neural models' training budgets: a quarter of it for
the neural candidates in the inner backtest, most of what is left for a neural member's final fit.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.checks import check_levels, level_tag, positive_int
from tsforecast.errors import InputError
from tsforecast.frames import from_pandas, to_pandas
from tsforecast.metrics import evaluate_pandas, fold_scales
from tsforecast.panel import FillPolicy, Panel, infer_season_length, to_panel

__all__ = ["AutoSelection", "forecast"]

BASELINE_NAMES = ("naive", "seasonal_naive", "drift", "naive2", "ets", "arima", "theta")
NEURAL_NAMES = ("lstm", "bilstm", "seq2seq")
DEFAULT_CANDIDATES = ("seasonal_naive", "theta", "ets", "arima", "lstm")


@dataclass
class AutoSelection:
    """What `model="auto"` measured and chose (kept on the returned frame's `attrs`)."""

    chosen: list[str]
    inner_mase: dict[str, float] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def forecast(
    df: Any,
    horizon: int,
    model: str | Any = "auto",
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    levels: Sequence[float] = (),
    future_df: Any | None = None,
    season_length: int | None = None,
    freq: str | int | None = None,
    fill: FillPolicy | None = None,
    device: str = "auto",
    seed: int = 0,
    n_jobs: int | None = None,
    time_budget_s: float | None = None,
    candidates: Sequence[str] | None = None,
    n_windows: int = 2,
    progress: bool | None = None,
    **model_params: Any,
) -> Any:
    """Forecast `horizon` steps after the end of every series of `df`.

    `model` is a name (`naive`, `seasonal_naive`, `drift`, `naive2`, `ets`, `arima`, `theta`,
    `lstm`, `bilstm`, `seq2seq`, `auto`) or an estimator object with `fit(df)` / `predict()`.
    Extra keyword arguments go to the neural model's constructor.
    """
    start = time.perf_counter()
    horizon = positive_int("horizon", horizon)
    levels = tuple(check_levels(levels))
    if season_length is not None:
        season_length = positive_int("season_length", season_length)
    if time_budget_s is not None and not (
        isinstance(time_budget_s, (int, float)) and time_budget_s > 0
    ):
        msg = f"`time_budget_s` must be a positive number of seconds, got {time_budget_s!r}."
        raise InputError(msg)
    if isinstance(model, str) and model not in (*BASELINE_NAMES, *NEURAL_NAMES, "auto"):
        known = [*BASELINE_NAMES, *NEURAL_NAMES, "auto"]
        msg = f"unknown model {model!r}; choose one of {known} or pass an estimator object."
        raise InputError(msg)
    if model_params and model in BASELINE_NAMES:
        msg = (
            f"model {model!r} takes no parameters, got {sorted(model_params)}; "
            "parameters are for the neural models."
        )
        raise InputError(msg)
    target_cols = [target_col] if isinstance(target_col, str) else list(target_col)
    # validate once, here, before any fitting: every later step trusts this panel
    panel = to_panel(
        df, id_col=id_col, time_col=time_col, target_col=target_cols, freq=freq, fill=fill
    )
    season = season_length if season_length is not None else infer_season_length(panel)
    common = {
        "horizon": horizon,
        "levels": levels,
        "season_length": season,
        "device": device,
        "seed": seed,
        "n_jobs": n_jobs,
        "progress": progress,
    }

    if not isinstance(model, str):
        return _estimator_forecast(model, df, future_df, panel)
    if model in BASELINE_NAMES:
        wide = _baseline_wide(panel, model, horizon, season, levels, n_jobs)
        return from_pandas(wide, panel.frame_kind)
    if model in NEURAL_NAMES:
        return _neural_forecast(model, future_df, panel, common, time_budget_s, model_params)

    selection = _select(df, panel, candidates, n_windows, common, time_budget_s, model_params)
    members: list[pd.DataFrame] = []
    for name in selection.chosen:
        budget = None
        if time_budget_s is not None and name in NEURAL_NAMES:
            # what is left, shared by the neural members still to fit, less a margin for the
            # baselines' refit and the combination
            left = time_budget_s - (time.perf_counter() - start)
            n_left = sum(m in NEURAL_NAMES for m in selection.chosen[len(members) :])
            budget = max(0.7 * left / max(n_left, 1), 5.0)
        members.append(_member_forecast(name, future_df, panel, common, budget, model_params))
    wide = _combine(members, panel)
    selection.seconds = time.perf_counter() - start
    out = from_pandas(wide, panel.frame_kind)
    if isinstance(out, pd.DataFrame):
        out.attrs["auto_selection"] = selection
    _say(progress, f"auto: chose {' + '.join(selection.chosen)} in {selection.seconds:.0f} s")
    return out


# ---------------------------------------------------------------------------------- helpers


def _say(progress: bool | None, text: str) -> None:
    show = progress if progress is not None else sys.stderr.isatty()
    if show:
        print(f"[tsforecast] {text}", file=sys.stderr, flush=True)


def _baseline_wide(
    panel: Panel,
    model: str,
    horizon: int,
    season: int,
    levels: tuple[float, ...],
    n_jobs: int | None,
) -> pd.DataFrame:
    """A baseline's forecasts in the input's schema (pandas), one target at a time."""
    from tsforecast.stats import forecast_many

    frame: dict[str, Any] = {
        panel.id_col: np.repeat(np.array(panel.ids, dtype=object), horizon),
        panel.time_col: np.concatenate(
            [np.asarray(panel.future_times(s, horizon)) for s in range(panel.n_series)]
        ),
    }
    for c, target in enumerate(panel.target_cols):
        series = [panel.series_values(s)[:, c] for s in range(panel.n_series)]
        results = forecast_many(model, series, horizon, season, levels, n_jobs=n_jobs)
        frame[target] = np.concatenate([r.mean for r in results])
        for i, level in enumerate(levels):
            tag = level_tag(level)
            frame[f"{target}_lo_{tag}"] = np.concatenate([r.lo[i] for r in results])
            frame[f"{target}_hi_{tag}"] = np.concatenate([r.hi[i] for r in results])
    out = pd.DataFrame(frame)
    ids = pd.Series(panel.ids)
    if ids.map(type).nunique() == 1:
        out[panel.id_col] = out[panel.id_col].astype(ids.dtype)
    return out


def _neural_forecast(
    name: str,
    future_df: Any | None,
    panel: Panel,
    common: dict[str, Any],
    time_budget_s: float | None,
    model_params: dict[str, Any],
) -> Any:
    from tsforecast.estimators import registry

    fixed = {
        "horizon": common["horizon"],
        "levels": common["levels"] or None,
        "season_length": common["season_length"],
        "device": common["device"],
        "seed": common["seed"],
        "progress": common["progress"],
        "id_col": panel.id_col,
        "time_col": panel.time_col,
        "target_col": panel.target_cols,
        "time_budget_s": time_budget_s,
    }
    user = dict(model_params)
    for key in ("season_length", "time_budget_s", "progress"):
        if key in user:  # the user's own value wins over the call's default
            fixed.pop(key)
    estimator = registry.build(name, user, **fixed)
    # the validated rows (gaps filled as asked with `fill`), not the raw frame
    estimator.fit(panel.to_pandas(), future_df=future_df)
    out, _ = to_pandas(estimator.predict(future_df=future_df))
    return from_pandas(out, panel.frame_kind)


def _estimator_forecast(estimator: Any, df: Any, future_df: Any | None, panel: Panel) -> Any:
    for method in ("fit", "predict"):
        if not callable(getattr(estimator, method, None)):
            msg = (
                f"`model` must be a model name or an object with `fit(df)` and `predict()`, "
                f"got {type(estimator).__name__} without `{method}`."
            )
            raise InputError(msg)
    if future_df is None:
        estimator.fit(df)
        return estimator.predict()
    estimator.fit(df, future_df=future_df)
    return estimator.predict(future_df=future_df)


def _select(
    df: Any,
    panel: Panel,
    candidates: Sequence[str] | None,
    n_windows: int,
    common: dict[str, Any],
    time_budget_s: float | None,
    model_params: dict[str, Any],
) -> AutoSelection:
    """Score the candidates by an inner backtest on the end of the data; pick or combine."""
    from tsforecast.backtest import backtest

    names = list(candidates) if candidates is not None else list(DEFAULT_CANDIDATES)
    unknown = [n for n in names if n not in (*BASELINE_NAMES, *NEURAL_NAMES)]
    if unknown or not names:
        msg = (
            f"`candidates` must name known models, got {names}; choose from "
            f"{[*BASELINE_NAMES, *NEURAL_NAMES]}."
        )
        raise InputError(msg)
    n_windows = positive_int("n_windows", n_windows)
    horizon = common["horizon"]
    shortest = int(panel.lengths.min().item())
    # the inner folds must leave each series enough history to fit on
    while n_windows > 1 and shortest - n_windows * horizon < 2 * max(common["season_length"], 1):
        n_windows -= 1
    selection = AutoSelection(chosen=[], candidates=names)
    if shortest - n_windows * horizon < max(2 * common["season_length"], 4):
        # too short to measure anything: the most robust simple model
        selection.chosen = ["seasonal_naive" if common["season_length"] > 1 else "naive"]
        selection.skipped = {n: "series too short for an inner backtest" for n in names}
        return selection

    models: list[Any] = []
    n_neural = sum(name in NEURAL_NAMES for name in names)
    for name in names:
        if name in NEURAL_NAMES:
            # each neural candidate is fitted once here (refit=False); together they get a
            # quarter of the budget, leaving the rest to the baselines and the final refit
            budget = None if time_budget_s is None else max(time_budget_s / (4.0 * n_neural), 5.0)
            models.append((name, {"time_budget_s": budget, "progress": False, **model_params}))
        else:
            models.append(name)
    _say(common["progress"], f"auto: inner backtest of {names} on the last {n_windows} folds")
    # refit=False: every model is fitted once, on the first fold's training part, and later
    # folds only feed it the newer history (ETS/ARIMA keep their estimated parameters): the
    # ranking needs the same folds for all, not a refit per fold, and it halves the cost.
    result = backtest(
        panel.to_pandas(),  # the validated rows (gaps filled as asked with `fill`)
        models=models,
        horizon=horizon,
        n_windows=n_windows,
        step=horizon,
        refit=False,
        season_length=common["season_length"],
        id_col=panel.id_col,
        time_col=panel.time_col,
        target_col=panel.target_cols,
        n_jobs=common["n_jobs"],
        device=common["device"],
        seed=common["seed"],
    )
    forecasts, _ = to_pandas(result.forecasts)
    forecasts = forecasts.rename(columns={panel.id_col: "unique_id", panel.time_col: "ds"})
    scales = fold_scales(
        panel.to_pandas().rename(columns={panel.id_col: "unique_id", panel.time_col: "ds"}),
        forecasts,
        season_length=common["season_length"],
    )
    by_model = {str(name): frame for name, frame in forecasts.groupby("model", sort=False)}
    single = {name: _mase(frame, scales) for name, frame in by_model.items()}
    selection.inner_mase = dict(single)
    ranked: list[str] = sorted(single, key=single.__getitem__)
    options: dict[tuple[str, ...], float] = {(ranked[0],): single[ranked[0]]}
    for k in (2, 3):
        if len(ranked) >= k:
            members = tuple(ranked[:k])
            combined = _median_points([by_model[m] for m in members])
            options[members] = _mase(combined, scales)
            selection.inner_mase["median(" + ", ".join(members) + ")"] = options[members]
    best: tuple[str, ...] = min(options, key=lambda members: options[members])
    selection.chosen = list(best)
    return selection


def _mase(forecasts: pd.DataFrame, scales: pd.DataFrame) -> float:
    """MASE of one model's inner-backtest forecasts (mean over series, targets and folds)."""
    metrics = evaluate_pandas(forecasts.assign(model="candidate"), scales=scales, metrics=["mase"])
    values = metrics.loc[metrics["metric"] == "mase", "value"]
    return float(values.mean()) if len(values) else math.inf


def _median_points(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The median of several models' point forecasts on the same folds."""
    first = frames[0]
    keys = ["unique_id", "ds", "target", "cutoff"]
    stacked = np.stack(
        [f.sort_values(keys)["y_hat"].to_numpy(dtype=np.float64) for f in frames]
    )  # -> (k, N)
    combined = first.sort_values(keys).reset_index(drop=True)
    combined["y_hat"] = np.median(stacked, axis=0)
    return combined


def _member_forecast(
    name: str,
    future_df: Any | None,
    panel: Panel,
    common: dict[str, Any],
    time_budget_s: float | None,
    model_params: dict[str, Any],
) -> pd.DataFrame:
    _say(common["progress"], f"auto: fitting {name} on all the data")
    if name in BASELINE_NAMES:
        return _baseline_wide(
            panel,
            name,
            common["horizon"],
            common["season_length"],
            common["levels"],
            common["n_jobs"],
        )
    out = _neural_forecast(name, future_df, panel, common, time_budget_s, model_params)
    frame, _ = to_pandas(out)
    return frame


def _combine(members: list[pd.DataFrame], panel: Panel) -> pd.DataFrame:
    """The element-wise median of the members' point forecasts and interval bounds."""
    if len(members) == 1:
        return members[0]
    keys = [panel.id_col, panel.time_col]
    first = members[0].sort_values(keys, kind="stable").reset_index(drop=True)
    value_cols = [c for c in first.columns if c not in keys]
    out = first[keys].copy()
    for col in value_cols:
        stacked = np.stack(
            [
                m.sort_values(keys, kind="stable")[col].to_numpy(dtype=np.float64)
                if col in m.columns
                else np.full(len(first), np.nan)
                for m in members
            ]
        )  # -> (k, N)
        out[col] = np.nanmedian(stacked, axis=0)
    return out
