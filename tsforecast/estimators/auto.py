"""`auto`: a meta-estimator that chooses or combines candidates by measurement.

`fit` runs an inner backtest (the last `n_windows` folds of `horizon` steps before each series'
end; each candidate fitted once, on the first fold) and scores every candidate: by MASE, or,
when every target value is > 0, by M4's OWA with the candidate of lowest inner MASE in Naive2's
place (the mean of the MASE and sMAPE ratios to it: the measure the forecasts are judged by,
which MASE alone is not; M4 Hourly, test: median(bilstm, arima) MASE 0.801 against bilstm's
0.848, sMAPE 10.20 against 9.62, OWA 0.4446 against 0.4386). Then the best single model, the
weighted means of the best two (0.75 / 0.25 either way, and 0.5 / 0.5: their median) and the
median of the best three are scored on the same folds, and the lowest score wins, except that a
combination within 1 % of the best single model's score is preferred to it (two folds cannot
tell them apart, and a combination is the more robust forecast). The winner's members are
refitted on all the data.
A median of a few good, different models is a robust combination (M4's combination benchmarks
beat most of their members); the measurement decides per data set whether it pays.

`time_budget_s` bounds the whole `fit`, and each step gets a share of what the steps before it
actually left (measured, never assumed): the neural candidates train first, once, on the data
before the inner folds, with 45 % of the budget between them; their inner fit also makes the
final forecast from the whole history when chosen (no refit: a model that never saw the inner
folds forecasts them, and then forecasts the future). The statistical candidates follow, cheap
ones first, within half of what is left (each half of what remains of it, the last one all;
they stop starting new series at their share: the rest fall back, see `failures_`); the chosen
statistical members are refitted on all the data with the rest, in proportion to their
estimated refit seconds. A candidate whose refit alone would not fit in what is left is left
out before the scoring, so that its cut folds do not shrink the others' comparison.
On an engine (`use_engine`), the candidates' inner backtests are independent tasks
that run at once, each with the share it would have had first. An option (a single model, a
median or a weighted mean) whose refit would not fit in what is left, by the seconds its inner
backtest took, is not chosen.

What was chosen and why is said on stderr in one or two lines (`progress=False` silences it;
`progress=True` also reports every step) and kept in `selection_.message`.
Series too short for the inner folds take no part in the choice (they are named in a warning
and in `selection_.excluded`) and are forecast by the chosen members like every other series.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tsforecast.checks import check_levels, check_seed, check_time_budget, positive_int
from tsforecast.data.frequency import infer_season_length
from tsforecast.data.panel import Panel
from tsforecast.deadline import seconds_left, within_deadline
from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, SeasonUnusedWarning, TsforecastWarning
from tsforecast.estimators.auto_persistence import (
    load_auto,
    member_failures,
    member_training,
    save_auto,
)
from tsforecast.estimators.auto_selection import (
    NEURAL_EMA_DECAY,
    NEURAL_SHARE,
    AutoSelection,
    choice_message,
    combine_forecasts,
    inner_metrics,
    measured_by_all,
    median_points,
    option_name,
    owa_defined,
    owa_ratio,
    refit_estimate,
    runnable_candidates,
    seconds_text,
    weighted_points,
)
from tsforecast.estimators.base import Capabilities, Forecaster
from tsforecast.estimators.neural_transform import positive_targets
from tsforecast.estimators.output import output_schema
from tsforecast.stats.parallel import TIME_BUDGET_REASON

__all__ = ["AutoForecaster", "AutoSelection"]

# Relative cost of a statistical candidate: the inner backtest runs the cheap ones first.
# a median this close to the best single model's inner MASE (ratio) is chosen instead of it
_NEAR = 1.01
# the share of what is left that the refits plan to use (the forecast itself follows them);
# an option is chosen only when its estimated refit seconds fit in it (0.7 before: M4 Hourly's
# arima, estimated at 50 s with 64 s left, was left out, and 64 s of the budget went unused)
_REFIT_USE = 0.85
_REFIT_FITS = _REFIT_USE
# a neural candidate refitted on all the data trains at least this long to be chosen
NEURAL_MIN_REFIT_S = 30.0
# (0: the clock never cuts it, so it still runs past the deadline; naive2 and theta are cut)
_COST = {"naive": 0, "seasonal_naive": 0, "drift": 0, "naive2": 1, "theta": 1, "ets": 2, "arima": 3}
# The weights of the better-scored of the two best candidates in their weighted means (0.5: their
# median). M4 Hourly, bilstm (log values) and arima: inner OWA 0.6813 alone, 0.6742 at 0.5,
# 0.6668 at 0.75; on the test 0.4386, 0.4446 and 0.4324.
_PAIR_WEIGHTS = (0.5, 0.75, 0.25)
# The median of the three best candidates is chosen unless an option's inner score is more
# than this / sqrt(inner series-folds) below its own (7.1 % for one series, 2 folds; 0.35 %
# for M4 Hourly's 414 series). Measured with experiments/benchmarks/selection_prior.py (the
# statistical candidates' test OWA when auto chooses for panels of 1, 3 and 10 series, without
# -> with): AirPassengers 1.0482 -> 0.7635; monthly-like 0.8198 -> 0.8149, 0.8221 -> 0.8175,
# 0.8036 -> 0.8022; M4 Weekly 0.8765 -> 0.8747, 0.8750 -> 0.8742, 0.8782 -> 0.8802; M4 Hourly
# 0.5079 -> 0.5072, 0.5012 -> 0.5018, 0.5019 -> 0.5004; whole panels unchanged.
_PRIOR_MARGIN = 0.1
# an option: its members and their weights (empty: their median)
Option = tuple[tuple[str, ...], tuple[float, ...]]


class AutoForecaster(Forecaster):
    """Chooses among `candidates` (registry names) by an inner backtest; see the module doc.

    candidate_params: {name: params} for candidates (e.g. {"lstm": {"hidden_size": 32}}).
    progress: None says the choice on stderr (one or two lines), True also every step, False
    nothing. The other arguments are those of every forecaster, given to every candidate.
    """

    model_name: ClassVar[str] = "auto"
    capabilities: ClassVar[Capabilities] = Capabilities(
        multivariate=True, past_covariates=True, future_covariates=True, levels=True
    )

    def __init__(
        self,
        horizon: int,
        levels: Any = None,
        candidates: list[str] | tuple[str, ...] | None = None,
        candidate_params: dict[str, dict[str, Any]] | None = None,
        n_windows: int = 2,
        season_length: int | None = None,
        time_budget_s: float | None = None,
        n_jobs: int | None = None,
        device: str = "auto",
        seed: int = 0,
        progress: bool | None = None,
        id_col: str = "unique_id",
        time_col: str = "ds",
        target_col: str | list[str] = "y",
        fill: str | None = None,
        freq: str | int | None = None,
    ) -> None:
        self.horizon = horizon
        self.levels = levels
        self.candidates = candidates
        self.candidate_params = candidate_params
        self.n_windows = n_windows
        self.season_length = season_length
        self.time_budget_s = time_budget_s
        self.n_jobs = n_jobs
        self.device = device
        self.seed = seed
        self.progress = progress
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.fill = fill
        self.freq = freq

    def _check_params(self) -> None:
        from tsforecast.estimators import registry

        positive_int("horizon", self.horizon)
        positive_int("n_windows", self.n_windows)
        check_levels(self.levels)
        check_seed(self.seed)
        check_time_budget(self.time_budget_s)
        resolve_device(self.device)
        if self.season_length is not None:
            positive_int("season_length", self.season_length)
        names = list(self.candidates) if self.candidates is not None else []
        allowed = [n for n in registry.names() if n != "auto"]
        if self.candidates is not None and (not names or any(n not in allowed for n in names)):
            msg = f"`candidates` must name models of {allowed}, got {self.candidates!r}."
            raise InputError(msg)
        for name, params in (self.candidate_params or {}).items():
            registry.build(name, params, horizon=int(self.horizon))  # checks names and values

    # ------------------------------------------------------------------ helpers
    def _say(self, text: str) -> None:
        """A progress line: with `progress=True`, or by default on a terminal."""
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        if show:
            print(f"[tsforecast] auto: {text}", file=sys.stderr, flush=True)

    def _tell(self, message: str) -> None:
        """What was chosen and why: always, unless `progress=False`."""
        if self.progress is not False:
            print(message, file=sys.stderr, flush=True)

    def _build(self, name: str, season: int, budget: float | None) -> Forecaster:
        from tsforecast.estimators import registry

        params = dict((self.candidate_params or {}).get(name, {}))
        if _is_neural(name):
            if "target_transform" not in params:
                params["target_transform"] = getattr(self, "neural_transform_", "none")
            params.setdefault("ema_decay", NEURAL_EMA_DECAY)
        shared: dict[str, Any] = {
            "horizon": int(self.horizon),
            "levels": check_levels(self.levels) or None,
            "season_length": season,
            "n_jobs": self.n_jobs,
            "device": self.device,
            "seed": self.seed,
            "progress": False,
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
        }
        if budget is not None and "time_budget_s" not in params:
            shared["time_budget_s"] = budget
        return registry.build(name, params, **shared)

    def _candidates(
        self, future_df: Any | None, panel: Panel
    ) -> tuple[list[str], dict[str, str], str]:
        """See `runnable_candidates`; the default candidates are said with `progress=True`."""
        given = None if self.candidates is None else list(self.candidates)
        names, skipped, sizing = runnable_candidates(given, panel, future_df, self.time_budget_s)
        if sizing:
            self._say(f"default candidates {names}: {sizing}")
        # parameters given for a model that does not run (the default left its neural
        # candidate out on small data; `future_df` skipped it) are said, not silently dropped
        unused = {n: sorted(p) for n, p in (self.candidate_params or {}).items() if p}
        unused = {n: keys for n, keys in unused.items() if n not in names}
        if unused:
            why = "; ".join(f"{n} {skipped[n]}" for n in unused if n in skipped)
            why = why or sizing or f"they are not among the candidates {names}"
            wanted = names + [n for n in unused if n not in names]
            msg = (
                f"auto: the parameters {unused} went unused: {why}. To train those models "
                f"anyway, name them in `candidates` (e.g. candidates={wanted})."
            )
            warnings.warn(msg, TsforecastWarning, stacklevel=3)
        return names, skipped, sizing

    # ------------------------------------------------------------------ fit
    def fit(self, df: Any, future_df: Any | None = None) -> AutoForecaster:
        """Choose by the inner backtest, then fit the chosen members on all of `df`."""
        self._check_params()
        self._begin_fit()
        started = time.perf_counter()
        # its own budget or the call's deadline (`tsforecast.deadline`), whichever ends first
        left = seconds_left(self.time_budget_s, started)
        deadline = None if left is None else started + left
        panel = self._read(df, "df")
        season = int(self.season_length or infer_season_length(panel))
        names, skipped, sizing = self._candidates(future_df, panel)
        # A neural candidate learns the log of strictly positive data (unless
        # `candidate_params` sets its `target_transform`): the loss then weighs relative errors
        # alike at a series' peaks and troughs. bilstm alone, as auto trains it (108 s, 2
        # cores): M4 Hourly OWA 0.4412 against 0.4591 on the raw values, M4 Weekly 0.7596
        # against 0.7719, within Weekly's run-to-run spread (target_transform.py: Hourly
        # better in every run, Weekly 0.8086 against 0.7856 in another; the README's table).
        self.neural_transform_ = "log" if positive_targets(panel) else "none"
        given = self.candidate_params or {}
        logged = [n for n in names if _is_neural(n) and "target_transform" not in given.get(n, {})]
        if self.neural_transform_ == "log" and logged:
            verb = "learns" if len(logged) == 1 else "learn"
            note = f"{', '.join(logged)} {verb} log values (every target value > 0)"
            sizing = f"{sizing}; {note}" if sizing else note
        from tsforecast.estimators import registry

        alone = [n for n in names if not registry.spec(n).capabilities.past_covariates]
        if panel.covariate_cols and alone:
            # each candidate is scored and refitted with the inputs it can use: said, not hidden
            readers = [n for n in names if n not in alone]
            use, forecast = ("uses", "forecasts") if len(alone) == 1 else ("use", "forecast")
            note = (
                f"{', '.join(alone)} {use} no covariates and {forecast} the targets alone; "
                f"{', '.join(readers)} {'reads' if len(readers) == 1 else 'read'} "
                f"{list(panel.covariate_cols)}"
            )
            sizing = f"{sizing}; {note}" if sizing else note
        criterion = "owa" if positive_targets(panel) else "mase"
        if future_df is not None:
            # the inner backtest has no known future: there the candidates read `future_df`'s
            # columns as past covariates, and an inner fit, which never learned them as known
            # future, cannot be reused; each chosen member is fitted again with `future_df`
            note = (
                "the inner backtest scores the candidates without the known future (future_df's "
                "columns as past covariates); the chosen ones are fitted again with it"
            )
            sizing = f"{sizing}; {note}" if sizing else note
        selection, fitted = self._select(
            panel, names, season, deadline, criterion, reuse=future_df is None
        )
        selection.skipped.update(skipped)
        selection.budget_s = None if self.time_budget_s is None else float(self.time_budget_s)
        refitted = self._refit(panel, selection, fitted, season, deadline, future_df)
        members = [fitted[n] if n in fitted else refitted[n] for n in selection.chosen]
        selection.reused = [n for n in selection.chosen if n in fitted]
        selection.seconds = time.perf_counter() - started
        selection.message = choice_message(selection, panel.n_series, sizing)
        self._tell(selection.message)
        self.members_ = members
        self.selection_ = selection
        self.season_length_ = season
        self.failures_ = member_failures(members)
        self.training_ = member_training(selection.chosen, members)
        self.frame_kind_ = panel.frame_kind
        self.schema_ = output_schema(panel)
        # a reused member was fitted without the inner folds' rows: its forecast starts from
        # the whole history, kept here (and saved)
        self.history_panel_ = panel if selection.reused else None
        return self

    def _refit(
        self,
        panel: Panel,
        selection: AutoSelection,
        fitted: dict[str, Forecaster],
        season: int,
        deadline: float | None,
        future_df: Any | None,
    ) -> dict[str, Forecaster]:
        """The chosen members fitted on all the data (a reused neural fit is not refitted):
        the statistical ones cheapest first, then a neural one that must be refitted, each with
        a part of what is left in proportion to its estimated refit seconds
        (`selection.refit_estimate_s`; a neural one counted at NEURAL_MIN_REFIT_S). An equal
        part for each, as before, gave ets 12 s of the 35 s left on 1,000 monthly series next to
        theta (0.8 s): its refit needs ~14 s, 674 series fell back to seasonal naive (OWA 0.974)
        and 22 s of the budget went unused."""
        # A neural member that must be refitted goes last, planned at the least it needs
        # (NEURAL_MIN_REFIT_S, as the choice counted it), and trains in all that is left: its
        # training ends at its budget, while a statistical member needs its estimate to reach
        # every series. (Planned at its inner 108 s, M4 Weekly's bilstm took most of the time
        # and arima's refit fell back on 224 of 359 series: OWA 0.8606.)
        estimate = {
            n: min(t, NEURAL_MIN_REFIT_S) if _is_neural(n) else t
            for n, t in selection.refit_estimate_s.items()
        }
        to_refit = [n for n in selection.chosen if n not in fitted]
        to_refit.sort(key=lambda n: (_is_neural(n), estimate.get(n, 1.0)))
        refitted: dict[str, Forecaster] = {}
        for k, name in enumerate(to_refit):
            budget = None
            if deadline is not None:
                left = deadline - time.perf_counter()
                parts = [max(estimate.get(n, 1.0), 0.1) for n in to_refit[k:]]
                budget = max(_REFIT_USE * left * parts[0] / sum(parts), 0.5)
            self._say(f"fitting {name} on all the data")
            member = self._build(name, season, budget)
            data = panel if member.capabilities.past_covariates else _targets_only(panel)
            # the member keeps its floor of time even past the call's deadline: a refit cut
            # to nothing would forecast by its fallback instead of what was chosen
            with within_deadline(budget, replace=True), warnings.catch_warnings():
                if self.season_length is None:
                    # the season auto inferred is the frequency's guess, not a request: as a
                    # model given no season_length, a member does not warn that it went unused
                    warnings.simplefilter("ignore", SeasonUnusedWarning)
                member.fit(
                    data, future_df=future_df if member.capabilities.future_covariates else None
                )
            refitted[name] = member
        return refitted

    def _select(
        self,
        panel: Panel,
        names: list[str],
        season: int,
        deadline: float | None,
        criterion: str,
        reuse: bool = True,
    ) -> tuple[AutoSelection, dict[str, Forecaster]]:
        """What to forecast with, and the neural candidates' inner fits (reusable; none when
        not `reuse`)."""
        selection = AutoSelection(chosen=[], candidates=list(names))
        fallback = "seasonal_naive" if season > 1 else "naive"
        if not names:
            selection.chosen, selection.reason = [fallback], "no candidate can run"
            return selection, {}
        horizon, n_windows = int(self.horizon), int(self.n_windows)
        need = n_windows * horizon + max(2 * season, 4)
        lengths = panel.lengths.numpy()
        long_enough = np.flatnonzero(lengths >= need)
        if len(long_enough) == 0 and n_windows > 1:
            n_windows, need = 1, horizon + max(2 * season, 4)
            long_enough = np.flatnonzero(lengths >= need)
        if len(long_enough) == 0:
            selection.chosen = [fallback]
            selection.reason = f"every series is shorter than the {need} values an inner fold needs"
            selection.skipped = {n: "series too short for an inner backtest" for n in names}
            warnings.warn(
                f"auto: {selection.reason}; forecasting with {fallback}.",
                TsforecastWarning,
                stacklevel=3,
            )
            return selection, {}
        if len(long_enough) < panel.n_series:
            excluded = [panel.ids[i] for i in np.flatnonzero(lengths < need)]
            selection.excluded = excluded
            shown = [*excluded[:10], "..."] if len(excluded) > 10 else excluded
            warnings.warn(
                f"auto: {len(excluded)} series are shorter than the {need} values an inner fold "
                f"needs and take no part in the choice (they are forecast by the chosen model): "
                f"{shown}",
                TsforecastWarning,
                stacklevel=3,
            )
        selection.n_windows = n_windows
        # a neural fit reused for the final forecast must have seen every series
        reusable = reuse and len(long_enough) == panel.n_series
        inner = panel.select(long_enough.tolist())
        scores, owa, reference, options, refit_s, fitted, scored_on, unmeasured = (
            self._inner_scores(inner, names, season, n_windows, deadline, reusable, criterion)
        )
        selection.skipped.update(unmeasured)
        selection.inner_mase = scores
        selection.criterion = criterion if owa else "mase"
        selection.inner_owa = owa
        selection.owa_reference = reference if owa else ""
        selection.scored_on = scored_on
        selection.refit_estimate_s = {n: round(t, 2) for n, t in refit_s.items()}
        # an option whose refit would overrun what is left is not chosen (the measured seconds
        # of its members' inner backtests; reused neural fits cost nothing more)
        left = math.inf if deadline is None else deadline - time.perf_counter()
        cost = {o: sum(_least_refit(m, refit_s, fitted) for m in o[0]) for o in options}
        # (a refit under a second is always allowed: below the noise of that measurement)
        feasible = {o: v for o, v in options.items() if cost[o] <= max(_REFIT_FITS * left, 1.0)}
        if not feasible:  # even the cheapest overruns: take it, its fallbacks are recorded
            feasible = {min(cost, key=cost.__getitem__): 0.0}
        best: Option = min(feasible, key=lambda option: feasible[option])
        measure = "OWA" if selection.criterion == "owa" else "MASE"
        selection.reason = f"lowest inner-backtest {measure}"
        near = [o for o in feasible if len(o[0]) > 1 and feasible[o] <= feasible[best] * _NEAR]
        if len(best[0]) == 1 and near and math.isfinite(feasible[best]):
            # a combination whose inner score is within 1 % of the best single model's: two
            # folds cannot tell them apart, and the combination is the more robust forecast
            # (M4 Hourly, same run: bilstm alone 0.8415 inner MASE, median(bilstm, arima) 0.8442)
            best = min(near, key=lambda option: feasible[option])
            selection.reason = (
                f"a combination within {100 * (_NEAR - 1):.0f} % of the lowest inner-backtest "
                f"{measure}"
            )
        best = self._prefer_median_of_three(
            selection, feasible, best, inner.n_series * inner.n_targets * n_windows, measure
        )
        selection.chosen = list(best[0])
        selection.weights = list(best[1])
        overrun = [o for o in options if o not in feasible and options[o] < options[best]]
        if overrun:
            dropped = ", ".join(option_name(*o) for o in overrun)
            selection.reason += f" among the options whose refit fits the budget (not {dropped})"
        return selection, {n: m for n, m in fitted.items() if n in best[0]}

    @staticmethod
    def _prefer_median_of_three(
        selection: AutoSelection,
        feasible: dict[Option, float],
        best: Option,
        n_scored: int,
        measure: str,
    ) -> Option:
        """The median of the three best candidates instead of `best`, unless `best` beats it
        by more than `_PRIOR_MARGIN / sqrt(n_scored)` (n_scored: the inner (series, target,
        fold)s). A few inner folds choose by noise; the margin shrinks as the evidence grows,
        like the inner score's standard error, so a large panel keeps its measured choice."""
        triples = [o for o in feasible if len(o[0]) == 3 and not o[1]]
        if not triples or best in triples:
            return best
        median3 = triples[0]
        margin = _PRIOR_MARGIN / math.sqrt(max(n_scored, 1))
        if not math.isfinite(feasible[median3]) or feasible[best] < feasible[median3] * (
            1 - margin
        ):
            return best
        selection.reason = (
            f"the median of the three best: {option_name(*best)} is not {100 * margin:.1f} % "
            f"below its inner-backtest {measure} ({n_scored} series-folds scored)"
        )
        return median3

    def _inner_scores(
        self,
        panel: Panel,
        names: list[str],
        season: int,
        n_windows: int,
        deadline: float | None,
        reusable: bool,
        criterion: str,
    ) -> tuple[
        dict[str, float],
        dict[str, float],
        str,
        dict[Option, float],
        dict[str, float],
        dict[str, Forecaster],
        str,
        dict[str, str],
    ]:
        """Inner MASE of every candidate and option; with `criterion` "owa" their inner OWA
        against the candidate of lowest inner MASE (its name; else empty and ""); every option's
        score (what the choice minimises); each statistical candidate's estimated refit
        seconds, the neural candidates' fits (when `reusable`), which inner folds the
        scores are taken on (`measured_by_all`; "" for all), and the candidates left without a
        score of their own (not run past the deadline, or every inner fit cut by the clock:
        their scores would be their fallback's) with why.

        The options: the best single candidate, the weighted means of the two best in
        `_PAIR_WEIGHTS` (0.5: their median) and the median of the three best."""
        from tsforecast.engines.fits import candidate_backtest, single_process
        from tsforecast.estimators import registry

        # Locally, one candidate at a time, each with a share of what the ones before it left:
        # the neural ones first, NEURAL_SHARE (45 %) of the budget between them (their training
        # stops there at the latest),
        # then the statistical ones, cheap first, within half of what is left then (each
        # candidate half of what remains of that share, the last one all of it);
        # the members' refit gets the rest.
        is_neural = {n: registry.spec(n).kind == "neural" for n in names}
        n_neural = sum(is_neural.values())
        order = sorted(names, key=lambda n: (not is_neural[n], _COST.get(n, 1)))
        self._say(f"inner backtest of {order} on the last {n_windows} folds")
        parts: list[pd.DataFrame] = []
        scales = pd.DataFrame()
        # candidates with no inner score of their own -> why (in `skipped`, not in the choice)
        unmeasured: dict[str, str] = {}
        refit_s: dict[str, float] = {}
        fitted: dict[str, Forecaster] = {}
        total = None if deadline is None else deadline - time.perf_counter()
        kwargs: dict[str, Any] = {
            "horizon": int(self.horizon),
            "n_windows": n_windows,
            "step": int(self.horizon),
            "refit": False,
            "season_length": season,
            "metrics": ["mase"],
            # the candidates are built with auto's levels (a reused neural fit forecasts them)
            "levels": check_levels(self.levels),
            "n_jobs": self.n_jobs,
            "device": self.device,
            "seed": int(self.seed),
        }
        engine = getattr(self, "_engine", None)
        if engine is not None and not engine.is_local and len(order) > 1:
            # the candidates' inner backtests are independent: one engine task each, all at
            # once, so each gets the share it would get first in the local order
            keep = [is_neural[n] and reusable for n in order]
            budgets = [
                None if total is None else _parallel_budget(total, is_neural[n], n_neural)
                for n in order
            ]
            built = [
                single_process(self._build(n, season, b))
                for n, b in zip(order, budgets, strict=True)
            ]
            outcomes = engine.map(
                candidate_backtest,
                (panel, {**kwargs, "n_jobs": 1}),
                list(zip(built, keep, strict=True)),
            )
        else:
            outcomes = []
            stats_end: float | None = None
            for name in order:
                past = deadline is not None and time.perf_counter() >= deadline
                if past and outcomes and _COST.get(name, 1) > 0:
                    # past the call's deadline a candidate's inner backtest would be all
                    # fallbacks at its fixed cost (10,000 daily series: 2-4 s each, a 3 s
                    # budget ending after 12 s): not run, not in the choice. The naive
                    # baselines still run: the clock never cuts them, and a neural candidate
                    # cut short by a tiny budget must not be the only one measured.
                    unmeasured[name] = "not measured: no time left in the budget"
                    continue
                budget = None
                if deadline is not None and total is not None:
                    if is_neural[name]:
                        budget = max(NEURAL_SHARE * total / n_neural, 0.5)
                    else:
                        if stats_end is None:
                            now = time.perf_counter()
                            stats_end = now + 0.5 * (deadline - now)
                        # half of what is left of the share, the last one all of it: the
                        # first expensive candidate (ets) may take what it needs, and what
                        # the cheap ones leave goes to the later ones. (An equal part for
                        # each candidate still to run, tried in 341f340, starved both ets
                        # and arima on 1,000 monthly series: theta chosen, OWA 0.9733
                        # against 0.7947 with ets; its M4 Hourly and Weekly gains were within
                        # the run-to-run spread.) Its two calls, fit and predict_cutoffs,
                        # share it: the second reapplies the first's fits and costs little
                        # (before, each call had half, and arima's order search on M4 Hourly
                        # stopped at ~20 s with 621 of 828 series-folds cut).
                        left = stats_end - time.perf_counter()
                        last = name == order[-1]
                        budget = max(left if last else left / 2, 0.5)
                item = (self._build(name, season, budget), is_neural[name] and reusable)
                with within_deadline(None if is_neural[name] else budget):
                    outcomes.append(candidate_backtest((panel, kwargs), item))
        ran = [n for n in order if n not in unmeasured]
        timed_out = []
        for name, (forecasts_pd, inner_scales, failures, seconds, model) in zip(
            ran, outcomes, strict=True
        ):
            n_failed = len(failures)
            cut = failures.loc[failures["reason"] == TIME_BUDGET_REASON]
            # only the fits the clock cut are work still to do: a series that fell back for
            # its data (too short for ARIMA's differences) cost its seconds already, and
            # counted as undone it made 1.2 s look like 24 s and left arima out of the choice
            refit_s[name] = refit_estimate(seconds, len(cut), panel.n_series * n_windows)
            timed_out.append(cut)
            if model is not None:
                fitted[name] = model
            self._say(f"{name}: {seconds:.1f} s, {n_failed} fallbacks")
            cut_folds = len(cut.drop_duplicates([panel.id_col, "cutoff"])) if len(cut) else 0
            if cut_folds >= panel.n_series * n_windows and name != ran[0]:
                # its inner scores would be its fallback's (seasonal naive's), not its own
                unmeasured[name] = f"not measured: the clock cut all {len(cut)} of its inner fits"
            # the backtest labels by the estimator's class name ("lstm" for a bilstm): the
            # candidate's own name is what is scored, chosen and refitted
            parts.append(forecasts_pd.assign(model=name))
            scales = inner_scales
        # a candidate whose refit alone would not fit in what is left can be in no option:
        # left out before the scoring, its cut folds do not shrink the others' comparison
        # (1,000 monthly series: arima's clock cut 1,025 of 1,856 series-folds, and ets,
        # theta and seasonal naive were compared on the 831 others)
        over = _out_of_time(
            {n: t for n, t in refit_s.items() if n not in unmeasured}, fitted, deadline
        )
        notes = []
        if unmeasured:
            notes.append(
                "left out of the choice: "
                + ", ".join(f"{n} ({why})" for n, why in unmeasured.items())
            )
        if over:
            left = 0.0 if deadline is None else max(deadline - time.perf_counter(), 0.0)
            estimates = ", ".join(f"{n} ~{seconds_text(refit_s[n])}" for n in over)
            notes.append(
                f"left out of the choice: {estimates} to refit (by its inner backtest), more "
                f"than {100 * _REFIT_FITS:.0f} % of the {seconds_text(left)} left"
            )
        keep = [n not in over and n not in unmeasured for n in ran]
        parts = [p for p, k in zip(parts, keep, strict=True) if k]
        timed_out = [t for t, k in zip(timed_out, keep, strict=True) if k]
        forecasts = pd.concat(parts, ignore_index=True).rename(
            columns={panel.id_col: "unique_id", panel.time_col: "ds"}
        )
        # (the candidates the clock did not cut add empty frames, whose object columns would
        # turn the cutoffs' dtype into object: only the non-empty ones)
        cut_parts = [part for part in timed_out if len(part)]
        cut = (
            pd.concat(cut_parts, ignore_index=True).rename(columns={panel.id_col: "unique_id"})
            if cut_parts
            else pd.DataFrame(columns=["unique_id", "target", "cutoff"])
        )
        forecasts, scored_on = measured_by_all(forecasts, cut)
        scored_on = "; ".join([*notes, scored_on] if scored_on else notes)
        if scored_on:
            self._say(scored_on)
        by_model = {str(m): f for m, f in forecasts.groupby("model", sort=False)}
        names_scored = ("mase", "smape") if criterion == "owa" else ("mase",)
        metrics = {m: inner_metrics(f, scales, names_scored) for m, f in by_model.items()}
        reference = min(metrics, key=lambda m: metrics[m]["mase"])
        # OWA needs a reference with a finite, positive MASE and sMAPE (constant series have
        # no finite MASE); otherwise every option is scored by MASE, and said so
        use_owa = criterion == "owa" and owa_defined(metrics[reference])

        def score(values: dict[str, float]) -> float:
            return owa_ratio(values, metrics[reference]) if use_owa else values["mase"]

        scores = {m: v["mase"] for m, v in metrics.items()}
        owa = {m: score(v) for m, v in metrics.items()} if use_owa else {}
        single = {m: score(v) for m, v in metrics.items()}
        ranked = sorted(single, key=single.__getitem__)
        options: dict[Option, float] = {((ranked[0],), ()): single[ranked[0]]}
        combined: list[tuple[Option, pd.DataFrame]] = []
        if len(ranked) >= 2:
            pair = tuple(ranked[:2])
            for w in _PAIR_WEIGHTS:
                weights = () if w == 0.5 else (w, round(1.0 - w, 6))
                frames = [by_model[m] for m in pair]
                points = weighted_points(frames, weights) if weights else median_points(frames)
                combined.append(((pair, weights), points))
        if len(ranked) >= 3:
            triple = tuple(ranked[:3])
            combined.append(((triple, ()), median_points([by_model[m] for m in triple])))
        for option, points in combined:
            values = inner_metrics(points, scales, names_scored)
            options[option] = score(values)
            scores[option_name(*option)] = values["mase"]
            if use_owa:
                owa[option_name(*option)] = options[option]
        return scores, owa, reference, options, refit_s, fitted, scored_on, unmeasured

    def use_engine(self, engine: Any) -> AutoForecaster:
        """Run the candidates' inner backtests as tasks of `engine` ("local", "ray", "dask" or
        a `tsf.engines` object; `tsf.forecast(model="auto", engine=...)` hands it over). Not a
        parameter: it is where the fit runs, not what it fits (not cloned, not saved)."""
        from tsforecast.engines import resolve_engine

        self._engine = resolve_engine(engine)
        return self

    # ------------------------------------------------------------------ predict
    def predict(self, history_df: Any | None = None, future_df: Any | None = None) -> Any:
        """The chosen members' forecasts combined: their median, or their weighted mean with
        `selection_.weights` (one member: its forecasts)."""
        self._check_fitted()
        outputs = []
        for name, member in zip(self.selection_.chosen, self.members_, strict=True):
            history = history_df
            if history is None and name in self.selection_.reused:
                history = self.history_panel_  # its fit ended before the inner folds
            if history is not None and not member.capabilities.past_covariates:
                history = _targets_only(self._read(history, "history_df"))
            use_future = future_df if member.capabilities.future_covariates else None
            outputs.append(member.predict(history, future_df=use_future))
        return combine_forecasts(outputs, self.schema_, self.selection_.weights)

    def predict_cutoffs(self, df: Any, cutoffs: Any, future_df: Any | None = None) -> Any:
        """The chosen members' `predict_cutoffs`, combined as in `predict`."""
        self._check_fitted()
        panel = self._read(df, "df")
        outputs = []
        for member in self.members_:
            data = panel if member.capabilities.past_covariates else _targets_only(panel)
            use_future = future_df if member.capabilities.future_covariates else None
            outputs.append(member.predict_cutoffs(data, cutoffs, future_df=use_future))
        return combine_forecasts(outputs, self.schema_, self.selection_.weights)

    def save(self, path: str | os.PathLike[str]) -> None:
        """A folder with `config.json` (parameters, what was chosen) and one saved folder per
        chosen member, written under a temporary name and swapped into place."""
        self._check_fitted()
        save_auto(self, path)

    @classmethod
    def _load(cls, folder: Path, device: Any) -> AutoForecaster:
        return load_auto(cls, folder, device)


def _parallel_budget(total: float, neural: bool, n_neural: int) -> float:
    """A candidate's budget when every inner backtest starts at once: the share it gets first in
    the local order (a neural one its part of NEURAL_SHARE; a statistical one half of half of
    the rest)."""
    if neural:
        return max(NEURAL_SHARE * total / n_neural, 0.5)
    return max(0.25 * (1 - NEURAL_SHARE) * total, 0.5)


def _least_refit(name: str, refit_s: dict[str, float], fitted: dict[str, Forecaster]) -> float:
    """The least refit seconds that make `name` worth choosing: none for a reused neural fit;
    for a neural candidate that must be refitted (some series were too short for the inner
    folds, so its inner fit has not seen them) at most NEURAL_MIN_REFIT_S, since its training
    stops at its budget and a shorter one still gives a trained model (M4 Weekly: bilstm
    refitted in 56 s instead of the 109 s of its inner fit, OWA 0.7907); a statistical one
    its estimate (series it does not reach fall back)."""
    from tsforecast.estimators import registry

    if name in fitted:
        return 0.0
    if registry.spec(name).kind == "neural":
        return min(refit_s[name], NEURAL_MIN_REFIT_S)
    return refit_s[name]


def _out_of_time(
    refit_s: dict[str, float], fitted: dict[str, Forecaster], deadline: float | None
) -> list[str]:
    """The candidates whose refit alone, by the seconds their inner backtest measured, would
    overrun what is left of the budget (the limit `_select` applies to every option); none
    when that is every candidate (then the cheapest is taken, its fallbacks recorded)."""
    if deadline is None:
        return []
    limit = max(_REFIT_FITS * (deadline - time.perf_counter()), 1.0)
    over = [n for n in refit_s if _least_refit(n, refit_s, fitted) > limit]
    return [] if len(over) == len(refit_s) else over


def _is_neural(name: str) -> bool:
    from tsforecast.estimators import registry

    return registry.spec(name).kind == "neural"


def _targets_only(panel: Panel) -> Panel:
    from tsforecast.backtest.folds import targets_only

    return targets_only(panel)
