"""What `auto` measures and how it chooses: the default candidates and budget sized to the
data, the record of a choice, and the inner-backtest scores and median combinations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tsforecast.data.frames import from_pandas, to_pandas
from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

__all__ = [
    "DEFAULT_STATISTICAL",
    "AutoSelection",
    "SelectionRecord",
    "choice_message",
    "combine_forecasts",
    "default_candidates",
    "default_time_budget",
    "inner_mase",
    "inner_metrics",
    "measured_by_all",
    "median_points",
    "neural_worth_it",
    "option_name",
    "owa_defined",
    "owa_ratio",
    "refit_estimate",
    "runnable_candidates",
    "weighted_points",
]

# Sizing the default to the data. A global neural model pays off on many long series (M4
# Hourly: 414 series of ~850 points, where a bidirectional LSTM is the most accurate single
# model); on short series (monthly: ~150 points) it is slower and no better than the baselines.
NEURAL_CANDIDATE = "bilstm"
# Every neural candidate trains with an exponential moving average of their weights (unless
# `candidate_params` say otherwise): their time-budgeted run ends where the clock stops it, and
# the average is less sensitive to where that is. bilstm as auto trains it (107 s, 2 cores),
# test OWA of 0.75 bilstm + 0.25 arima, without -> with, in two runs each (`neural_spread.py`):
# M4 Weekly, 3 seeds, mean 0.6790 -> 0.6744 and 0.6857 -> 0.6799; M4 Hourly, 5 seeds, even
# (0.4252 -> 0.4242, 0.4236 -> 0.4245). README, Neural forecasters.
NEURAL_EMA_DECAY = 0.999
# the statistical candidates of the default, always taking part
DEFAULT_STATISTICAL = ("seasonal_naive", "theta", "ets", "arima")
NEURAL_MIN_OBSERVATIONS = 50_000
NEURAL_MIN_MEDIAN_LENGTH = 300
# Share of the whole budget for the neural candidate's one training run (the inner backtest's
# fit is reused for the final forecast), and the least training time worth spending. Measured on
# 2 CPU cores with the default budget (240 s, so 108 s for the neural fit, its preparation
# included): M4 Hourly chose bilstm, OWA 0.468 to 0.496 in seven runs of ~176 s (arima alone:
# 0.511); M4 Weekly chose bilstm, OWA 0.763 to 0.844 in ~222 s. With 195 s (1e-4 s per observation
# below) the same code gave 0.496-0.501 on Hourly and 0.826 on Weekly: since ets combines its
# forms (21 s of the inner backtest on M4 Hourly) arima was cut short on ~45 % of its fits.
# Under heavy load (other jobs on the cores) 107 s of training lost to seasonal naive on M4
# Hourly: the inner backtest then does not choose it, and the call stays within its budget.
NEURAL_SHARE = 0.45
NEURAL_MIN_SECONDS = 80.0
# The default budget grows with series and observations; at most 240 s (the default call on M4
# Hourly must stay within five minutes, data reading and prediction included). It does not
# leave a neural candidate its NEURAL_MIN_SECONDS on short data (one series, 1,000 monthly), and
# does on many long series (M4 Hourly and Weekly sizes).
MAX_DEFAULT_BUDGET_S = 240.0


def seconds_text(seconds: float) -> str:
    """Seconds as a message shows them: whole seconds from 10 s on, one decimal below (a
    budget of 0.5 s was "a 0 s budget", with "the 0 s left")."""
    return f"{seconds:.0f} s" if abs(seconds) >= 9.95 else f"{seconds:.1f} s"


def neural_worth_it(n_observations: int, median_length: int, budget_s: float | None) -> str:
    """Why a neural candidate is left out of the default ("" when it takes part)."""
    if n_observations < NEURAL_MIN_OBSERVATIONS:
        return f"{n_observations} observations < {NEURAL_MIN_OBSERVATIONS}"
    if median_length < NEURAL_MIN_MEDIAN_LENGTH:
        return f"median series length {median_length} < {NEURAL_MIN_MEDIAN_LENGTH}"
    if budget_s is not None and NEURAL_SHARE * budget_s < NEURAL_MIN_SECONDS:
        return (
            f"a time budget of {seconds_text(budget_s)} leaves "
            f"{seconds_text(NEURAL_SHARE * budget_s)} < {seconds_text(NEURAL_MIN_SECONDS)} "
            "for training"
        )
    return ""


def default_candidates(
    n_series: int, n_observations: int, median_length: int, budget_s: float | None
) -> tuple[list[str], str]:
    """The default candidates for a panel of this size and this budget, and why. ARIMA's order
    search is slow per series but bounded by the time budget (series it does not reach fall back
    and score accordingly); it is the most accurate baseline on M4 Hourly, so it always takes
    part."""
    names = list(DEFAULT_STATISTICAL)
    why_not = neural_worth_it(n_observations, median_length, budget_s)
    if not why_not:
        names.append(NEURAL_CANDIDATE)
        why = f"{n_series} series, median length {median_length}"
        return names, f"{NEURAL_CANDIDATE} included ({why})"
    return names, f"{NEURAL_CANDIDATE} left out ({why_not})"


def default_time_budget(
    n_series: int, n_observations: int, median_length: int | None = None
) -> float:
    """A budget that grows with the data: ~5 s for one short series, ~75 s for 1,000 monthly
    series, 240 s (the cap) for M4 Hourly or Weekly.

    Per observation it allows more for long series (`median_length` above 200 values, up to
    5x): ARIMA's and ETS's cost per observation grows with the length (longer CSS filters,
    seasonal orders over a season of 24 or 52), and at ~1e-4 s per observation M4 Hourly's
    default (60 s) cut ARIMA short on 85 of its 414 series (OWA 0.564 against 0.511 when it
    finishes)."""
    long_series = 1.0 if median_length is None else min(5.0, max(1.0, median_length / 200.0))
    per_observation = 1.3e-4 * long_series
    budget = 5.0 + 0.05 * n_series + per_observation * n_observations
    return float(min(MAX_DEFAULT_BUDGET_S, budget))


def refit_estimate(seconds: float, n_cut: int, n_tasks: int) -> float:
    """What refitting a statistical candidate on all the data should cost, from its inner
    backtest: the seconds it took, scaled up when the budget cut `n_cut` of its `n_tasks` fits
    (the inner fit is one fit per series, like the refit; its other folds reuse the orders)."""
    done = 1.0 - min(n_cut, n_tasks) / max(n_tasks, 1)
    return seconds / max(done, 0.05)


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
    # each candidate's refit seconds estimated from its inner backtest (`refit_estimate`); the
    # budget the call ran under (None: none)
    refit_estimate_s: dict[str, float] = field(default_factory=dict)
    budget_s: float | None = None
    # chosen neural members whose inner-backtest fit made the final forecast (no refit)
    reused: list[str] = field(default_factory=list)
    # the one or two lines said on stderr: what was chosen and why
    message: str = ""
    # which inner (series, fold)s the scores are taken on (`measured_by_all`); "" for all
    scored_on: str = ""
    # the chosen members' weights in the forecast (a weighted mean); empty: their median
    weights: list[float] = field(default_factory=list)
    # what the choice minimised: "mase", or "owa" (the mean of the MASE and sMAPE ratios to
    # `owa_reference`'s on the same folds) when every target value is > 0; `inner_owa` by option
    criterion: str = "mase"
    owa_reference: str = ""
    inner_owa: dict[str, float] = field(default_factory=dict)
    # the inner backtest's folds per series (0: none ran)
    n_windows: int = 0


class SelectionRecord(dict[str, Any]):
    """An `AutoSelection` as a forecast frame's `attrs` hold it: a dict of JSON values (pandas
    writes `attrs` into a parquet file with a bare `json.dumps`, which raised TypeError on the
    dataclass) whose keys also read as attributes, as the dataclass's fields do
    (`fc.attrs["auto_selection"].chosen`). A frame read back from parquet holds a plain dict."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            keys = list(self)
            raise AttributeError(f"no {name!r} in the auto selection; it has {keys}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value  # the dict is the record (what parquet writes)

    @classmethod
    def of(cls, selection: AutoSelection) -> SelectionRecord:
        from tsforecast.json_values import json_values

        return cls(json_values(selection))


def inner_mase(forecasts: pd.DataFrame, scales: pd.DataFrame) -> float:
    """MASE of one model's inner-backtest forecasts (mean over series, targets and folds)."""
    return inner_metrics(forecasts, scales, ("mase",))["mase"]


def inner_metrics(
    forecasts: pd.DataFrame, scales: pd.DataFrame, names: tuple[str, ...] = ("mase", "smape")
) -> dict[str, float]:
    """Each metric of `names` on one model's inner-backtest forecasts (mean over series,
    targets and folds; inf when none could be scored)."""
    from tsforecast.metrics import evaluate_pandas

    metrics = evaluate_pandas(
        forecasts.assign(model="candidate"), scales=scales, metrics=list(names)
    )
    out = {}
    for name in names:
        values = metrics.loc[metrics["metric"] == name, "value"]
        mean = float(values.mean()) if len(values) else math.inf
        out[name] = mean if math.isfinite(mean) else math.inf
    return out


def owa_defined(reference: dict[str, float]) -> bool:
    """Whether `reference`'s MASE and sMAPE can divide: both finite and positive."""
    return all(0 < reference.get(k, math.inf) < math.inf for k in ("mase", "smape"))


def owa_ratio(scores: dict[str, float], reference: dict[str, float]) -> float:
    """M4's OWA with `reference` in place of Naive2: the mean of the MASE and sMAPE ratios
    (`owa_defined(reference)` must hold)."""
    return 0.5 * (scores["mase"] / reference["mase"] + scores["smape"] / reference["smape"])


# Below this share of the inner (series, target, fold)s that every candidate measured, the
# candidates are compared on all of them, each with its fallbacks: too few to compare on.
MIN_MEASURED_SHARE = 0.25


def measured_by_all(forecasts: pd.DataFrame, timed_out: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The inner forecasts of the (series, target, fold)s that no candidate left to its fallback
    because its share of the clock ran out, and a note of what was kept ("" for all).

    A candidate stopped by the clock forecasts the series it did not reach with seasonal naive;
    scored with those it is measured on the fallback's accuracy, not its own (M4 Hourly under
    load: arima 1.24 inner MASE with ~40 % of its fits cut, ~1.0 when it finishes), and so is
    every median it is in. Every candidate is scored on the same rows, so the comparison stays
    paired. Fallbacks for any other reason (a constant series) are what the model gives and stay.
    forecasts: unique_id, ds, target, cutoff, y, y_hat, model; timed_out: unique_id, target,
    cutoff of each fold a candidate's clock cut.
    """
    if timed_out.empty:
        return forecasts, ""
    keys = ["unique_id", "target", "cutoff"]
    folds = forecasts[keys].drop_duplicates()
    cut = timed_out[keys].drop_duplicates()
    # the same key types as the forecasts' (a failures frame may hold other ones)
    cut = cut.astype({k: folds[k].dtype for k in keys}, errors="ignore")
    cut = cut.merge(folds, on=keys)  # -> the folds cut
    share = 1.0 - len(cut) / max(len(folds), 1)
    if share < MIN_MEASURED_SHARE:
        note = (
            f"scored on all {len(folds)} inner series-folds, fallbacks included: the clock cut "
            f"{len(cut)} of them, leaving too few that every candidate measured"
        )
        return forecasts, note
    flagged = forecasts.merge(cut.assign(_cut=True), on=keys, how="left")["_cut"]
    kept = forecasts.loc[flagged.isna().to_numpy()]
    note = (
        f"scored on the {len(folds) - len(cut)} of {len(folds)} inner series-folds that every "
        "candidate measured (the clock cut the others)"
    )
    return kept, note


def median_points(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The median of several models' point forecasts on the same folds."""
    combined, stacked = _stacked_points(frames)
    combined["y_hat"] = np.median(stacked, axis=0)
    return combined


def weighted_points(frames: list[pd.DataFrame], weights: tuple[float, ...]) -> pd.DataFrame:
    """The weighted mean of several models' point forecasts on the same folds (a value missing
    in a member: the others', as `combine_forecasts` does)."""
    combined, stacked = _stacked_points(frames)
    combined["y_hat"] = _weighted_mean(stacked, weights)
    return combined


def _stacked_points(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, np.ndarray]:
    """The first frame's rows in key order and every frame's `y_hat` in that order (k, N);
    refuses frames whose rows are not the same (series, time, target, cutoff)s."""
    keys = ["unique_id", "ds", "target", "cutoff"]
    ordered = [f.sort_values(keys, kind="stable").reset_index(drop=True) for f in frames]
    for other in ordered[1:]:
        if len(other) != len(ordered[0]) or not other[keys].equals(ordered[0][keys]):
            msg = "auto: the candidates' inner forecasts are not on the same rows"
            raise RuntimeError(msg)
    stacked = np.stack([f["y_hat"].to_numpy(dtype=np.float64) for f in ordered])  # -> (k, N)
    return ordered[0].copy(), stacked


def _weighted_mean(stacked: np.ndarray, weights: Any) -> np.ndarray:
    """Weighted mean over members (axis 0) of (k, N) values, NaN left out and the weights of
    the others renormalised; NaN where every member is NaN."""
    w = np.asarray(weights, dtype=np.float64)[:, None]  # -> (k, 1)
    present = ~np.isnan(stacked)
    total = (w * present).sum(axis=0)  # -> (N,)
    mixed = (w * np.where(present, stacked, 0.0)).sum(axis=0)
    return np.where(total > 0, mixed / np.where(total > 0, total, 1.0), np.nan)


def combine_forecasts(outputs: list[Any], schema: Any, weights: list[float] | None = None) -> Any:
    """The element-wise median of the members' forecast frames (same rows), or with `weights`
    their weighted mean, of the point and every interval bound. A value a member lacks (a
    column it does not give, or NaN) is left out: the others' median or weighted mean."""
    if len(outputs) == 1:
        return outputs[0]
    frames = [to_pandas(o, "forecast")[0] for o in outputs]
    kind = to_pandas(outputs[0], "forecast")[1]
    first = frames[0]
    value_cols = list(
        dict.fromkeys(c for f in frames for c in f.columns if pd.api.types.is_float_dtype(f[c]))
    )
    out = first.copy()
    for col in value_cols:
        stacked = np.stack(
            [
                f[col].to_numpy(dtype=np.float64) if col in f else np.full(len(first), np.nan)
                for f in frames
            ]
        )  # -> (k, N)
        out[col] = _weighted_mean(stacked, weights) if weights else np.nanmedian(stacked, axis=0)
    return from_pandas(out, kind, schema=schema)


def option_name(members: Any, weights: Any = ()) -> str:
    """ "theta" for one member, "median(theta, ets)" for a median (or two equal weights),
    "0.75 bilstm + 0.25 arima" for a weighted mean."""
    if len(members) == 1:
        return str(members[0])
    if weights and len(set(weights)) > 1:
        return " + ".join(f"{w:g} {m}" for w, m in zip(weights, members, strict=True))
    return "median(" + ", ".join(members) + ")"


def choice_message(selection: AutoSelection, n_series: int, sizing: str) -> str:
    """One or two lines for stderr: what was chosen, on what measurement, and the sizing."""
    chosen = option_name(selection.chosen, selection.weights)
    if selection.criterion == "owa":
        shown, label = selection.inner_owa, f"inner OWA vs {selection.owa_reference}"
    else:
        shown, label = selection.inner_mase, "inner MASE"
    scores = ", ".join(f"{k} {v:.3f}" for k, v in shown.items())
    budget = ""
    if selection.budget_s is not None:
        budget = f" of a {seconds_text(selection.budget_s)} budget"
    first = (
        f"[tsforecast] auto chose {chosen} for {n_series} series in "
        f"{seconds_text(selection.seconds)}"
        f"{budget}: {selection.reason}" + (f" ({label}: {scores})" if scores else "")
    )
    notes = [sizing] if sizing else []
    if selection.reused:
        notes.append(f"{', '.join(selection.reused)} trained once, before the inner folds")
    if selection.excluded:
        notes.append(f"{len(selection.excluded)} series too short to take part in the choice")
    if selection.scored_on:
        notes.append(selection.scored_on)
    return first + ("\n[tsforecast] auto: " + "; ".join(notes) if notes else "")


def runnable_candidates(
    given: list[str] | None, panel: Panel, future_df: Any | None, budget_s: float | None
) -> tuple[list[str], dict[str, str], str]:
    """The candidates that can run on this data (`given`, or the defaults sized to the panel and
    `budget_s`), refusing what none of them can honour; those skipped and why; and how the
    default ones were sized ("" when given)."""
    from tsforecast.estimators import registry

    sizing = ""
    if given is not None:
        names = list(given)
    else:
        lengths = panel.lengths.numpy()
        names, sizing = default_candidates(
            panel.n_series, int(lengths.sum()), int(np.median(lengths)), budget_s
        )
    covariates = list(panel.covariate_cols)
    if covariates and not any(registry.spec(n).capabilities.past_covariates for n in names):
        msg = (
            f"the frame has the covariate columns {covariates}, but none of the candidates "
            f"{names} uses covariates; drop the columns (or select the target columns: "
            "`tsforecast forecast ... --covariates` with no names, `covariates = []` in a "
            "config's [data]) or add a neural candidate (lstm, bilstm, seq2seq: "
            f"`candidates={json.dumps([*names, 'bilstm'])}`, on the command line "
            f"`-p 'candidates={json.dumps([*names, 'bilstm'])}'`)."
        )
        raise InputError(msg)
    skipped: dict[str, str] = {}
    if future_df is not None:
        cannot = [n for n in names if not registry.spec(n).capabilities.future_covariates]
        if given is not None and cannot:
            msg = (
                f"`future_df` was given, but the candidates {cannot} use no known-future "
                "covariates; drop them from `candidates` or drop `future_df`."
            )
            raise InputError(msg)
        skipped = {n: "uses no known-future covariates (future_df given)" for n in cannot}
        names = [n for n in names if n not in cannot]
        if not names:  # a `future_df` nobody would read is refused, not ignored
            msg = (
                f"`future_df` was given, but none of the default candidates {cannot} uses "
                "known-future covariates; pass candidates that do (e.g. "
                "candidates=['lstm', 'seq2seq']) or drop `future_df`."
            )
            raise InputError(msg)
    return names, skipped, sizing
