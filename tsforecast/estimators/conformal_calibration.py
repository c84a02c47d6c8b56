"""The calibration of `ConformalForecaster`: which series and windows calibrate, the scores of
those windows, and the half-widths (or width factors) the scores give.

Which windows calibrate. A window's score is exchangeable with the final forecast's only if the
forecast behind it was made from comparable data. Pooled over series, a calibration window
therefore counts only when the values up to its cutoff are at least half of its series'
values; the earlier windows of a short series are left out, so that forecasts from a fraction
of a short series' history, whose errors are far wider than its own intervals, do not set the
pooled factor. On M4 Weekly (5 windows of 13 weeks), the 65 series of 80 weeks reach their
two oldest cutoffs after 15 and 28 values; with those windows in the pool, ets' own 95 % intervals
covered 61-77 % of their actuals there (95-97 % on the other series), the pooled 95 % factor
was 1.12 and the test coverage 98.1 %; without them 95.7 % (naive 96.3 -> 96.5 %, theta 96.4 ->
96.6 %). With `refit=False` the later windows keep the fit of the first cutoff; the rule is on
the data each forecast sees. A series with no such window takes the pooled half-widths.
Calibrated per series (no pooling), every series must give all its windows, and the first of
them must see at least half of the series: a shorter series is refused. With 20 one-step-apart
windows of 7 days on 30 series of 43 daily values, the first fit saw 17 values and ets' 80 %
conformal intervals were 8 times as wide as its own (coverage 100 %); from 52 values, which the
rule asks for, they cover 84 % (theta 80 %).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tsforecast.data.frames import to_pandas
from tsforecast.data.panel import Panel
from tsforecast.deadline import share_of_what_is_left, within_deadline
from tsforecast.errors import InputError
from tsforecast.estimators.conformal_scores import (
    _bounds,
    _fold_future,
    _naive_scales,
    _order_statistics,
    _positions,
    conformal_half_widths,
    width_scores,
)

if TYPE_CHECKING:
    from tsforecast.estimators.conformal import ConformalForecaster

__all__ = [
    "calibration_length",
    "calibration_scores",
    "counted_windows",
    "half_widths",
    "possible_scores",
    "scores_per_level",
]


def calibration_length(horizon: int, n_windows: int, step: int, pool_series: bool) -> int:
    """The shortest series that calibrates (see the module docstring)."""
    from tsforecast.backtest.folds import min_length

    need = min_length(horizon, n_windows, step, None) + 1
    if pool_series:  # at least the last window must see half of the series: n - horizon >= n / 2
        return max(need, 2 * horizon)
    # per series every window counts: the first must see half of the series,
    # n - horizon - (n_windows - 1) step >= n / 2
    return max(need, 2 * (horizon + (n_windows - 1) * step))


def counted_windows(
    lengths: np.ndarray, horizon: int, n_windows: int, step: int, pool_series: bool
) -> np.ndarray:
    """(S, K) whether window k of each series counts: the series is long enough, and pooled,
    the values up to the window's cutoff are at least half of the series'."""
    need = calibration_length(horizon, n_windows, step, pool_series)
    seen = lengths[:, None] - horizon - (n_windows - 1 - np.arange(n_windows))[None, :] * step
    counts = np.broadcast_to((lengths >= need)[:, None], seen.shape)  # -> (S, K)
    return counts & (2 * seen >= lengths[:, None]) if pool_series else counts.copy()


def possible_scores(lengths: np.ndarray, model: ConformalForecaster) -> int:
    """How many scores per step the calibration windows of series of `lengths` can give."""
    n_windows = int(model.n_windows)
    counts = counted_windows(lengths, model.horizon, n_windows, int(model.step), model.pool_series)
    if model.pool_series:
        return int(counts.sum())
    return n_windows if bool(counts.all()) else 0


def calibration_scores(
    model: ConformalForecaster, panel: Panel, future_df: Any | None
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (K, S_cal, H, C, L or 1) of the calibration windows of `panel` (absolute errors,
    or width factors per level, NaN where a width score is left out), and the positions of the
    series calibrated."""
    from tsforecast.backtest.folds import check_refit, fold_panel, plan_folds

    horizon, n_windows, step = model.horizon, int(model.n_windows), int(model.step)
    lengths = panel.lengths.to("cpu").numpy()
    need = calibration_length(horizon, n_windows, step, model.pool_series)
    calibrated = np.flatnonzero(lengths >= need)
    short = [panel.ids[i] for i in np.flatnonzero(lengths < need)]
    if short and (not model.pool_series or len(calibrated) == 0):
        shown = [*short[:10], "..."] if len(short) > 10 else short
        longest_short = int(lengths[lengths < need].max())
        if model.pool_series and model.score == "width":
            # intervals='calibrated' (or a ConformalForecaster set up as it): pointing back to
            # 'calibrated' would send the user round in a circle
            ways_out = (
                "or use intervals='auto' (the model's own intervals where the data give too few "
                "calibration windows) or intervals='model'."
            )
        else:
            ways_out = (
                "or reduce `n_windows` or `step` of a `tsf.models.ConformalForecaster`"
                + ("" if model.pool_series else " or set its `pool_series=True`")
                + ", or use intervals='calibrated' (pooled scores, windows one horizon apart)."
            )
        msg = (
            f"{len(short)} series have fewer than the {need} values that {n_windows} "
            f"calibration windows of horizon {horizon} (step {step}) need"
            + ("" if model.pool_series else " (the first window must see half of the series)")
            + f": {shown} (the longest of them {longest_short}; in a backtest, the values up "
            f"to the fold's cutoff); give more history, {ways_out}"
        )
        raise InputError(msg)
    cal = panel if len(calibrated) == panel.n_series else panel.select(list(calibrated))
    cal_lengths = cal.lengths.to("cpu").numpy()
    plan = plan_folds(cal_lengths, horizon, n_windows, step, None, check_refit(model.refit))
    width = model.score == "width"
    levels = model.levels_
    n_levels = len(levels) if width else 1
    scores = np.full((n_windows, cal.n_series, horizon, cal.n_targets, n_levels), np.nan)
    missing = 0
    flat = np.concatenate(
        [cal.observed_values(s)[:, : cal.n_targets] for s in range(cal.n_series)]
    )  # -> (sum of lengths, C)
    starts = np.r_[0, np.cumsum(cal_lengths)[:-1]].astype(np.int64)
    for g, group in enumerate(plan.fit_groups):
        first = group[0]
        train = fold_panel(cal, plan.start_idx[:, first], plan.cutoff_idx[:, first])
        fitted = model._point_model()
        fold_future = _fold_future(cal, plan.cutoff_idx[:, first], horizon, future_df)
        # an equal share of what the call has left for this fit, the later ones and the final
        with within_deadline(share_of_what_is_left(len(plan.fit_groups) - g + 1)):
            try:
                fitted.fit(train, future_df=fold_future)
            except InputError as error:
                # the model's own message counts the values of this fit, not the user's data
                seen, of = int(train.lengths.max().item()), int(cal_lengths.max())
                msg = (
                    f"the calibration fit of {model.model_name!r} (on the values up to the "
                    f"first calibration cutoff: at most {seen} of the {of} values of a series; "
                    "in a backtest, of the values up to the fold's cutoff) "
                    f"failed: {error} Or give more history, or pass intervals='model' (no "
                    "calibration fit)."
                )
                raise InputError(msg) from error
        pairs = pd.DataFrame(
            {
                cal.id_col: np.repeat(np.array(cal.ids, dtype=object), len(group)),
                "cutoff": [
                    cal.times[s][plan.cutoff_idx[s, k]] for s in range(cal.n_series) for k in group
                ],
            }
        )
        predicted, _ = to_pandas(fitted.predict_cutoffs(cal, pairs), "predict_cutoffs")
        series_idx, cutoff_pos, fold_idx, step_idx = _positions(cal, plan.cutoff_idx, predicted)
        # the actual of each row: position cutoff + 1 + step of its series, in one gather
        at = starts[series_idx] + cutoff_pos + 1 + step_idx
        for t, target in enumerate(cal.target_cols):
            y_hat = predicted[target].to_numpy(dtype=np.float64)
            actual = flat[at, t]  # NaN where `fill` made the value up: no score there
            missing += int(np.isnan(y_hat).sum())
            if not width:
                scores[fold_idx, series_idx, step_idx, t, 0] = np.abs(actual - y_hat)
                continue
            for i, level in enumerate(levels):
                lo, hi = _bounds(predicted, target, level, model.model_name)
                scores[fold_idx, series_idx, step_idx, t, i] = width_scores(actual, y_hat, lo, hi)
    # pooled: the windows that saw less than half of their series are left out
    counts = counted_windows(cal_lengths, horizon, n_windows, step, model.pool_series)
    scores[~counts.T] = np.nan  # counts.T -> (K, S_cal)
    if missing:
        msg = (
            f"{missing} calibration forecasts of {model.model_name!r} are NaN; its "
            "`predict_cutoffs` must forecast every step for conformal intervals."
        )
        raise InputError(msg)
    return scores, calibrated


def half_widths(
    model: ConformalForecaster, scores: np.ndarray, calibrated: np.ndarray, panel: Panel
) -> np.ndarray:
    """(S, H, C, L) half-widths ("absolute") or width factors ("width") for every series of
    `panel` from the scores (K, S_cal, H, C, L or 1)."""
    levels = model.levels_
    if model.score == "width":
        if not model.pool_series:
            return _order_statistics(scores, levels)  # -> (S, H, C, L)
        pooled = scores.reshape(-1, *scores.shape[2:])  # -> (K * S_cal, H, C, L)
        factors = _order_statistics(pooled, levels)  # -> (H, C, L)
        return np.broadcast_to(factors, (panel.n_series, *factors.shape)).copy()
    scores = scores[..., 0]  # -> (K, S_cal, H, C)
    if not model.pool_series:
        return conformal_half_widths(scores, levels)  # -> (S, H, C, L)
    scales = _naive_scales(panel)  # -> (S, C)
    scaled = scores / scales[calibrated][None, :, None, :]  # -> (K, S_cal, H, C)
    pooled = scaled.reshape(-1, *scaled.shape[2:])  # -> (K * S_cal, H, C), NaN: left out
    tiled = np.repeat(pooled[..., None], len(levels), axis=-1)  # -> (K * S_cal, H, C, L)
    unit = _order_statistics(tiled, levels)  # -> (H, C, L)
    return unit[None] * scales[:, None, :, None]  # -> (S, H, C, L)


def scores_per_level(model: ConformalForecaster, scores: np.ndarray) -> np.ndarray:
    """(L,) the fewest finite scores of any step and target per level (the width score leaves
    degenerate windows out)."""
    counted = np.isfinite(scores).sum(axis=(0, 1) if model.pool_series else 0)
    fewest = counted.reshape(-1, counted.shape[-1]).min(axis=0)
    return np.broadcast_to(fewest, (len(model.levels_),)).copy()
