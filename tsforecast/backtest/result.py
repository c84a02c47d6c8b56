"""What `backtest` returns: forecasts, metrics, failures, leaderboard and per-slice metrics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tsforecast.data.frames import FrameKind, from_pandas
from tsforecast.errors import InputError
from tsforecast.metrics import evaluate_pandas

__all__ = ["BacktestResult"]

_BY = ("unique_id", "horizon", "cutoff")
# metrics in the targets' own units, which are not averaged over several targets
_IN_TARGET_UNITS = ("mae", "rmse", "pinball")


@dataclass
class BacktestResult:
    """What `backtest` returns. Frames are of the type of the frame given to `backtest`."""

    forecasts_pd: pd.DataFrame
    metrics_pd: pd.DataFrame
    failures_pd: pd.DataFrame
    settings: dict[str, Any]
    frame_kind: FrameKind = "pandas"
    # the input's id and time dtypes (and the cutoff's, typed as the time), for the outputs
    schema: Any = None
    # (model, fold) -> the loss history of that fit (step, train_loss, val_loss, lr, ...)
    training_curves: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    history_pd: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _eval_pd: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    _scales: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    # with `backtest(..., keep_fitted=True)`: label -> the fitted estimators, one per fit group
    fitted: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    @property
    def history(self) -> Any:
        """The validated rows the backtest ran on (id, time, targets, covariates)."""
        return from_pandas(self.history_pd, self.frame_kind, schema=self.schema)

    @property
    def forecasts(self) -> Any:
        """Long frame: id, time, cutoff, model, target, y, y_hat, y_lo_<level>, y_hi_<level>."""
        return from_pandas(self.forecasts_pd, self.frame_kind, schema=self.schema)

    @property
    def metrics(self) -> Any:
        """Long frame: model, target, metric, value (means over series and cutoffs)."""
        return from_pandas(self.metrics_pd, self.frame_kind)

    @property
    def failures(self) -> Any:
        """The series on which a model fell back: unique_id, model, cutoff, reason."""
        return from_pandas(self.failures_pd, self.frame_kind, schema=self.schema)

    def metrics_by(self, by: str) -> Any:
        """Metrics per series ("unique_id" or the id column's name), "horizon" step or "cutoff"."""
        id_col = self.settings["id_col"]
        key = "unique_id" if by == id_col else by
        if key not in _BY:
            msg = f"`by` must be {id_col!r}, 'horizon' or 'cutoff', got {by!r}."
            raise InputError(msg)
        out = evaluate_pandas(
            self._eval_pd, scales=self._scales, by=key, metrics=self.settings["metrics"]
        )
        out = out[out["model"].isin(self.settings["models"])]
        if key == "unique_id":
            out = out.rename(columns={"unique_id": id_col})
        return from_pandas(out.reset_index(drop=True), self.frame_kind)

    def leaderboard(self, metric: str | None = None, target: str | None = None) -> Any:
        """One row per model, sorted by `metric` (default: the first metric of the metrics
        frame), best first: the metrics of `target`, or averaged over the targets.

        Over several targets, the metrics in the targets' units (mae, rmse, pinball) are not
        averaged (an average of sales around 1e6 and a rate around 1e-3 is the sales' alone, and
        would rank the models by it): each target gets its own column, `mae[sales]`;
        `target=` gives one target's board.
        """
        metrics = self.metrics_pd
        targets = list(dict.fromkeys(metrics["target"])) if "target" in metrics else []
        if target is not None:
            if target not in targets:
                msg = f"`target` must be one of {targets}, got {target!r}."
                raise InputError(msg)
            metrics = metrics[metrics["target"] == target]
        elif len(targets) > 1:
            in_units = metrics["metric"].isin(_IN_TARGET_UNITS)
            per_target = metrics[in_units].assign(
                metric=metrics.loc[in_units, "metric"] + "[" + metrics.loc[in_units, "target"] + "]"
            )
            metrics = pd.concat([metrics[~in_units], per_target], ignore_index=True)
        wide = (
            metrics.pivot_table(
                index="model", columns="metric", values="value", aggfunc="mean", sort=False
            )
            .reindex(columns=list(dict.fromkeys(metrics["metric"])))
            .reset_index()
        )
        if wide.empty:
            return from_pandas(wide, self.frame_kind)
        key = metric if metric is not None else str(wide.columns[1])
        if key not in wide.columns:
            msg = f"`metric` must be one of {list(wide.columns[1:])}, got {metric!r}."
            if key in _IN_TARGET_UNITS and len(targets) > 1:
                msg += f" (over several targets: '{key}[{targets[0]}]', or pass `target=`)"
            raise InputError(msg)
        # coverage is best near its nominal level, every other metric is best when smallest
        if key.startswith("coverage_"):
            nominal = float(key.removeprefix("coverage_")) / 100.0
            order = (wide[key] - nominal).abs().sort_values(kind="stable").index
        else:
            order = wide[key].sort_values(kind="stable").index
        return from_pandas(wide.loc[order].reset_index(drop=True), self.frame_kind)
