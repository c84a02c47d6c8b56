"""ETS: exponential smoothing in state-space form, for many series at once, as a combination of
the candidate forms weighted by Akaike weights within the error family that forecasts the last
`horizon` training values best.

The candidate forms, their fit and their likelihood are in `ets_fit` (statsmodels' `ETSModel`
with heuristic initial states, fitted in numpy across series and candidates), the predictive
distributions in `ets_intervals`. What this module adds is the rule that turns the candidates'
fits into one forecast, `combine`, the same for every frequency:

- "holdout" (the default): every candidate is fitted twice, on the whole history and on the
  history without its last `horizon` values (the inner hold-out; never anything after the
  cutoff). On the hold-out each inner fit is scored by its log predictive density of the
  held-out values (the h-step normal density with the form's own forecast mean and spread), and
  each error family (additive errors, multiplicative errors) by the log of the mean of its
  forms' predictive densities: the family's predictive evidence with equal prior weights on its
  forms. The family with the higher score is kept; its forms, fitted on the whole history, are
  combined with tempered Akaike weights w_i = exp(-dAICc_i / 2T) / sum_j exp(-dAICc_j / 2T)
  (Kolassa 2011, IJF 27(2), at T = `WEIGHT_TEMPERATURE` = 2 rather than 1: see there). Why
  the family first: AICc compares one-step fits, and on M4 Weekly it prefers multiplicative
  errors for 274 of 359 series whose trended forms then forecast 13 weeks worse (MASE 3.37 vs
  2.80 for M,A,N and A,A,N on the series where M,A,N wins, 3.48 vs 3.21 for M,Ad,N and
  A,Ad,N); the error family is a statement about the spread of the errors, which the
  predictive density of the hold-out tests at the horizon asked for. A
  series too short for a hold-out of `horizon` values (or with no finite hold-out score) gets
  the Akaike combination of every candidate.
- "aicc": the (tempered) Akaike-weighted combination of every candidate (Kolassa's rule).
- "select": the single candidate with the lowest AICc (the classic `ets` selection).

In every rule only admissible candidates take part: a finite forecast and, for strictly
positive data, one positive at every step (AICc would otherwise take an undamped trend that
extrapolates a late decline below zero); a combination of positive forecasts with positive
weights is positive. Weights below `_MIN_WEIGHT` are dropped (the rest renormalised): they move
no quantile of the 1,000-sample mixture, and a single dominant form then gives exactly that
form's forecast and intervals. Intervals: one form, its own (analytic for additive errors,
statsmodels' simulation for multiplicative ones); a combination, the quantiles of the weighted
mixture of the forms' predictive distributions (see `ets_intervals` for why not the average of
the bounds).

What was fitted is in the forecast's `spec`: `form` (the form with the largest weight; with
`config` and `params` its statsmodels configuration and parameters), `weights` (form -> weight),
`components` (each form's config, params and weight: a later cutoff reapplies them without
refitting), `combine`, for "holdout" `family` and `holdout_score` (family -> log score), and
`stopped_by_budget` (True) where a time budget ended the search of a form it combines before
that search converged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsforecast.errors import InputError
from tsforecast.stats.common import TIME_BUDGET_REASON, SeriesForecast, _Fallback
from tsforecast.stats.ets_fit import (
    Candidate,
    _Fitted,
    _from_external,
    ets_candidates,
    ets_loglike,
    fit_candidates,
)
from tsforecast.stats.ets_intervals import (
    analytic_intervals,
    log_score,
    mixture_intervals,
    simulated_intervals,
)

__all__ = ["COMBINE", "Candidate", "akaike_weights", "ets_candidates", "ets_loglike", "ets_many"]

COMBINE = ("holdout", "aicc", "select")
# The rule `ets_many` applies when given none. The benchmark script sets it to compare rules in
# one run (worker processes are forked, so they inherit it); users pass `combine=`.
DEFAULT_COMBINE = "holdout"
_MIN_WEIGHT = 1e-6


# The combinations' Akaike weights are tempered: exp(-dAICc / (2 T)). Akaike weights are
# overconfident as forecast weights (the likelihood is of one-step errors, the forecast is
# h steps ahead, and the heuristic initial states make the AICc differences noisy); at T = 2
# the combinations forecast better than at T = 1 on M4 Weekly, M4 Hourly and the monthly-like
# panel, on their whole histories and on short ones (README, "ETS": T = 1, 1.25 ... 3.3).
WEIGHT_TEMPERATURE = 2.0


def akaike_weights(aicc: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Akaike weights [K] of finite AICc values [K]: exp(-dAICc / (2 temperature)), normalised
    to sum to 1 (temperature 1: Akaike's; larger: flatter)."""
    delta = np.asarray(aicc, dtype=np.float64) - np.min(aicc)
    w = np.exp(-0.5 * delta / temperature)
    return w / w.sum()


def _admissible(positive: bool, forecast: np.ndarray) -> bool:
    """A finite forecast, and for strictly positive data (`positive`) one that stays positive.

    AICc alone picks, for a positive series that declined at its end, an undamped additive trend
    whose forecast crosses zero (a monthly series ending near 2,000 forecast down to -975): such
    a candidate is set aside.
    """
    if not np.isfinite(forecast).all():
        return False
    return not (positive and float(forecast.min()) <= 0.0)


def _fits_history(cand: Candidate, n: int, m: int) -> bool:
    """Whether a history of n values is long enough for the form's heuristic initialisation
    (10 values; seasonal forms two full seasons and 10 + 2 (m // 2), as `ets_candidates` asks)."""
    if cand.season is None:
        return n >= 10
    return n >= 2 * m + 2 and n >= 10 + 2 * (m // 2)


def _family_scores(
    names: set[str], inner: Sequence[_Fitted], scores: np.ndarray
) -> dict[str, float]:
    """Error family ('A', 'M') -> log mean predictive density of its forms on the hold-out,
    over the inner fits whose form is among the whole-history admissible `names`."""
    by_family: dict[str, list[float]] = {}
    for fit, score in zip(inner, scores, strict=True):
        if fit.cand.name in names and np.isfinite(score):
            by_family.setdefault(fit.cand.name[0], []).append(float(score))
    return {fam: float(np.logaddexp.reduce(s) - np.log(len(s))) for fam, s in by_family.items()}


def _weights(
    fits: Sequence[_Fitted], combine: str, family: str | None
) -> list[tuple[float, _Fitted]]:
    """(weight, fit) of the combination of admissible `fits` under `combine`, largest first."""
    if combine == "select":
        return [(1.0, min(fits, key=lambda f: f.aicc))]
    pool = [f for f in fits if family is None or f.cand.name[0] == family]
    w = akaike_weights(np.array([f.aicc for f in pool]), WEIGHT_TEMPERATURE)
    keep = w >= _MIN_WEIGHT
    kept = w[keep] / w[keep].sum()
    pairs = zip(kept.tolist(), [f for f, k in zip(pool, keep, strict=True) if k], strict=True)
    return sorted(pairs, key=lambda p: -p[0])


def _spec_components(spec: dict[str, Any]) -> list[tuple[Candidate, list[float], float]]:
    """(form, statsmodels params, weight) of a spec; a spec of one form has weight 1."""
    comps = spec.get("components") or [{**spec, "weight": 1.0}]
    out = []
    for c in comps:
        error, trend, damped, season = c["config"]
        out.append((Candidate(error, trend, bool(damped), season), c["params"], c["weight"]))
    return out


def ets_many(
    series: Sequence[np.ndarray],
    horizon: int,
    m: int,
    levels: Sequence[float],
    specs: Sequence[dict[str, Any] | None] | None = None,
    combine: str | None = None,
    stop_at: float | None = None,
    deadline: float | None = None,
) -> list[SeriesForecast | _Fallback]:
    """ETS on every series (1-d, oldest first, at least 10 values, not constant).

    combine: "holdout", "aicc" or "select" (see the module docstring); None is
    `DEFAULT_COMBINE`. With a spec (from an earlier result) a series is not re-estimated: its
    forms, parameters and weights are applied to its (longer) history. A series no candidate
    can forecast gets a `_Fallback` (the reason) in its place. `stop_at` (a `time.time()`
    value) ends the estimation there, every series with the best parameters found by then
    (a deadline's anytime answer: a fit, not a fallback). `deadline` (a `time.time()` value)
    bounds the whole call: see `_within_deadline`.
    """
    rule = DEFAULT_COMBINE if combine is None else combine
    if rule not in COMBINE:
        msg = f"`combine` must be one of {list(COMBINE)}, got {combine!r}."
        raise InputError(msg)
    arrs = [np.asarray(y, dtype=np.float64) for y in series]
    if not arrs:
        return []
    spec_list: list[dict[str, Any] | None] = (
        list(specs) if specs is not None else [None] * len(arrs)
    )
    request = _Request(horizon, m, tuple(levels), rule)
    if deadline is not None:
        return _within_deadline(request, arrs, spec_list, stop_at, deadline)
    return _fit_and_combine(request, arrs, spec_list, stop_at, None)


@dataclass(frozen=True)
class _Request:
    """What `ets_many` was asked for, the same for every series."""

    horizon: int
    m: int
    levels: tuple[float, ...]
    rule: str


# A deadline's pilot: the series whose whole fit at the start parameters (no optimiser round)
# is timed to price everything but the optimiser: candidates and tables before it, the final
# recursion, hold-out scores, combination and intervals after it. That work is Python per
# series and form (10,000 daily series of 30 values: ~2 ms a series, more than the optimiser's
# rounds take), so a budget that only stopped the optimiser ended the call up to 20 s after a
# 1 s budget. The pilot runs twice, on `_PILOT_SMALL` of its series and on all of them: the
# difference prices a series, the rest is the cost of a batch (loops over time that a large
# batch shares; one pilot alone priced 1,500 daily series 1.2x too high, and a budget above
# the unbounded run time stopped every optimiser early).
_PILOT_SERIES = 32
_PILOT_SMALL = 8
# What is set aside is the price times this: noise on a loaded machine errs both ways.
_RESERVE_FACTOR = 1.25
# The combination and intervals run this many series at a time, the deadline checked before
# each group after the first (whose fits are done: combining them costs less than fitting
# them again): what the reserve did not foresee costs at most one group past it.
_COMBINE_GROUP = 128


@dataclass(frozen=True)
class _Price:
    """Seconds of a batch of n series at the start parameters: `before` the optimiser (per
    series) and after it, `batch + per_series * n`."""

    before: float
    batch: float
    per_series: float

    def after(self, n: int) -> float:
        return _RESERVE_FACTOR * (self.batch + self.per_series * n)

    def whole(self, n: int) -> float:
        return _RESERVE_FACTOR * self.before * n + self.after(n)


def _within_deadline(
    request: _Request,
    arrs: list[np.ndarray],
    specs: list[dict[str, Any] | None],
    stop_at: float | None,
    deadline: float,
) -> list[SeriesForecast | _Fallback]:
    """ETS of every series that the time to `deadline` allows, the others a `_Fallback` with
    the time-budget reason.

    A pilot prices the non-optimiser work (see `_PILOT_SERIES`). When all of it fits before
    the deadline, every series is fitted, the optimisers stopping early enough for what
    follows them (at `stop_at` or before; `minimise_all` also keeps a round's time). When it
    does not, the pilot's series keep its answers (at the start parameters) and as many other
    series as the time allows (in the order given, in batches each priced by the one before)
    are fitted at the start parameters too, with no optimiser round; the others fall back:
    fitting more series beats optimising fewer.
    """
    n = len(arrs)
    if time.time() >= deadline:
        return [_Fallback(TIME_BUDGET_REASON) for _ in range(n)]
    sample = [int(i) for i in np.unique(np.linspace(0, n - 1, min(n, _PILOT_SERIES)).round())]
    price, pilot = _pilot(request, [arrs[i] for i in sample], [specs[i] for i in sample], deadline)
    if time.time() + price.whole(n) < deadline:
        stop = deadline - price.after(n)
        if stop_at is not None:
            stop = min(stop, stop_at)
        return _fit_and_combine(request, arrs, specs, stop, deadline)
    answers: dict[int, SeriesForecast | _Fallback] = dict(zip(sample, pilot, strict=True))
    rest = [i for i in range(n) if i not in answers]
    # each batch priced by the one before it (the pilot's price of a whole fit first)
    per_series = price.whole(len(sample)) / len(sample)
    while rest:
        size = min(int((deadline - time.time()) / per_series), len(rest))
        if size < 1:
            break
        part, rest = rest[:size], rest[size:]
        started = time.perf_counter()
        fitted = _fit_and_combine(
            request, [arrs[i] for i in part], [specs[i] for i in part], time.time(), deadline
        )
        answers.update(zip(part, fitted, strict=True))
        per_series = _RESERVE_FACTOR * (time.perf_counter() - started) / size
    return [answers.get(i, _Fallback(TIME_BUDGET_REASON)) for i in range(n)]


def _pilot(
    request: _Request,
    arrs: list[np.ndarray],
    specs: list[dict[str, Any] | None],
    deadline: float,
) -> tuple[_Price, list[SeriesForecast | _Fallback]]:
    """The price of the non-optimiser work, from the pilot series, and their answers at the
    start parameters."""

    def timed(k: int) -> tuple[float, float, list[SeriesForecast | _Fallback]]:
        clock: dict[str, float] = {}
        started = time.perf_counter()
        answers = _fit_and_combine(request, arrs[:k], specs[:k], time.time(), deadline, clock=clock)
        ended = time.perf_counter()
        optimiser = clock.get("optimiser", ended)
        return optimiser - started, ended - optimiser, answers

    n = len(arrs)
    before, after, answers = timed(n)
    if n <= _PILOT_SMALL:
        return _Price(before / n, 0.0, after / n), answers
    _, after_small, _ = timed(_PILOT_SMALL)
    per_series = (after - after_small) / (n - _PILOT_SMALL)
    if per_series <= 0.0:  # noise larger than the difference: the whole cost per series
        return _Price(before / n, 0.0, after / n), answers
    return _Price(before / n, max(after - per_series * n, 0.0), per_series), answers


def _fit_and_combine(
    request: _Request,
    arrs: list[np.ndarray],
    specs: list[dict[str, Any] | None],
    stop_at: float | None,
    deadline: float | None,
    clock: dict[str, float] | None = None,
) -> list[SeriesForecast | _Fallback]:
    """`ets_many`'s work: fit every candidate (the optimisers stop at `stop_at`), then combine
    them `_COMBINE_GROUP` series at a time; a group after the first not started by `deadline`
    falls back. `clock["optimiser"]` gets the `perf_counter()` when the optimisers start."""
    if not arrs:
        return []
    horizon, m = request.horizon, request.m
    cand_lists: list[list[Candidate]] = []
    fixed: list[list[np.ndarray] | None] = []
    stored: list[list[float] | None] = []  # a spec's weights
    for y, spec in zip(arrs, specs, strict=True):
        if spec:
            comps = _spec_components(spec)
            cand_lists.append([c for c, _, _ in comps])
            fixed.append([_from_external(c, p) for c, p, _ in comps])
            stored.append([float(w) for _, _, w in comps])
        else:
            cand_lists.append(ets_candidates(y, m))
            fixed.append(None)
            stored.append(None)
    # the inner hold-out: each estimated series without its last `horizon` values
    held: list[int] = []
    if request.rule == "holdout":
        for i, (y, cands) in enumerate(zip(arrs, cand_lists, strict=True)):
            if fixed[i] is None and any(_fits_history(c, len(y) - horizon, m) for c in cands):
                held.append(i)
    inner_cands = [
        [c for c in cand_lists[i] if _fits_history(c, len(arrs[i]) - horizon, m)] for i in held
    ]
    everything = fit_candidates(
        arrs + [arrs[i][:-horizon] for i in held],
        m,
        cand_lists + inner_cands,
        fixed + [None] * len(held),
        stop_at,
        horizon,
        clock,
    )
    fitted = everything[: len(arrs)]
    inner_fits = dict(zip(held, everything[len(arrs) :], strict=True))
    out: list[SeriesForecast | _Fallback] = []
    for start in range(0, len(arrs), _COMBINE_GROUP):
        group = range(start, min(start + _COMBINE_GROUP, len(arrs)))
        if deadline is not None and start and time.time() >= deadline:
            out.extend(_Fallback(TIME_BUDGET_REASON) for _ in group)
            continue
        out.extend(
            _combine(
                [arrs[i] for i in group],
                [fitted[i] for i in group],
                [inner_fits.get(i) for i in group],
                [specs[i] for i in group],
                [stored[i] for i in group],
                request,
            )
        )
    return out


def _combine(
    arrs: list[np.ndarray],
    fitted: list[list[_Fitted]],
    inner_fits: list[list[_Fitted] | None],
    specs: list[dict[str, Any] | None],
    stored: list[list[float] | None],
    request: _Request,
) -> list[SeriesForecast | _Fallback]:
    """Each series' forecast from its candidates' fits: the hold-out scores of its inner fits
    (None: no hold-out), the combination under `rule` (or a spec's stored weights), intervals."""
    horizon, levels, rule = request.horizon, request.levels, request.rule
    # log predictive densities of the hold-out, every inner fit of the group in one batch
    flat = [(i, f) for i, fits in enumerate(inner_fits) for f in fits or [] if np.isfinite(f.aicc)]
    inner_positive = [bool((y[:-horizon] > 0).all()) for y in arrs]
    flat = [(i, f) for i, f in flat if _admissible(inner_positive[i], f.mean(horizon))]
    scores = log_score([f for _, f in flat], [arrs[i][-horizon:] for i, _ in flat])
    scored: dict[int, tuple[list[_Fitted], list[float]]] = {
        i: ([], []) for i, fits in enumerate(inner_fits) if fits is not None
    }
    for (i, f), s in zip(flat, scores, strict=True):
        scored[i][0].append(f)
        scored[i][1].append(float(s))

    out: list[SeriesForecast | _Fallback] = []
    combos: list[list[tuple[float, _Fitted]]] = []
    for i, (y, fits) in enumerate(zip(arrs, fitted, strict=True)):
        positive = bool((y > 0).all())
        ok = [
            (k, f)
            for k, f in enumerate(fits)
            if np.isfinite(f.aicc) and _admissible(positive, f.mean(horizon))
        ]
        if not ok:
            reason = "no ETS candidate could be fitted"
            if any(np.isfinite(f.aicc) for f in fits):
                reason = "no ETS candidate gives an admissible forecast"
            out.append(_Fallback(reason))
            combos.append([])
            continue
        family, family_scores = None, {}
        weights_in = stored[i]
        if weights_in is not None:
            total = sum(weights_in[k] for k, _ in ok)
            combo = sorted(((weights_in[k] / total, f) for k, f in ok), key=lambda p: -p[0])
            combine_used = (specs[i] or {}).get("combine", "select")
        else:
            admissible = [f for _, f in ok]
            if i in scored:
                inner, inner_scores = scored[i]
                names = {f.cand.name for f in admissible}
                family_scores = _family_scores(names, inner, np.array(inner_scores))
            if family_scores:
                family = max(family_scores, key=family_scores.__getitem__)
            # no hold-out score (too short, or none finite): the Akaike combination of all
            combine_used = rule if (rule != "holdout" or family) else "aicc"
            combo = _weights(admissible, combine_used, family)
        mean = np.sum([w * f.mean(horizon) for w, f in combo], axis=0)  # -> (H,)
        forecast = SeriesForecast(mean, np.empty((0, horizon)), np.empty((0, horizon)))
        top = combo[0][1]
        forecast.spec = {
            "config": top.cand.as_config(),
            "params": top.external_params(),
            "form": top.cand.name,
            "combine": combine_used,
            "weights": {f.cand.name: w for w, f in combo},
            "components": [
                {"config": f.cand.as_config(), "params": f.external_params(), "weight": w}
                for w, f in combo
            ],
        }
        if family is not None:
            forecast.spec["family"] = family
            forecast.spec["holdout_score"] = family_scores
        if any(f.stopped for _, f in combo):
            # the parameters are the best found when the budget's stop came, not converged
            forecast.spec["stopped_by_budget"] = True
        out.append(forecast)
        combos.append(combo)
    if levels:
        _intervals(out, combos, horizon, levels)
    return out


def _intervals(
    out: list[SeriesForecast | _Fallback],
    combos: list[list[tuple[float, _Fitted]]],
    horizon: int,
    levels: Sequence[float],
) -> None:
    """Fill in the bounds of every forecast of `out`: one form its own, a combination its
    mixture's (multiplicative forms simulated together, across series)."""
    single_mul: list[tuple[SeriesForecast, _Fitted]] = []
    mixed: list[tuple[SeriesForecast, list[tuple[float, _Fitted]]]] = []
    for forecast, combo in zip(out, combos, strict=True):
        if not isinstance(forecast, SeriesForecast):
            continue
        if len(combo) == 1 and combo[0][1].cand.error == "add":
            fit = combo[0][1]
            forecast.lo, forecast.hi = analytic_intervals(fit, forecast.mean, levels)
        elif len(combo) == 1:
            single_mul.append((forecast, combo[0][1]))
        else:
            mixed.append((forecast, combo))
    bounds = simulated_intervals([f for _, f in single_mul], horizon, levels)
    for (forecast, _), (lo, hi) in zip(single_mul, bounds, strict=True):
        forecast.lo, forecast.hi = lo, hi
    bounds = mixture_intervals([c for _, c in mixed], [f.mean for f, _ in mixed], levels)
    for (forecast, _), (lo, hi) in zip(mixed, bounds, strict=True):
        forecast.lo, forecast.hi = lo, hi


def _ets(
    y: np.ndarray,
    horizon: int,
    m: int,
    levels: Sequence[float],
    spec: dict[str, Any] | None,
    combine: str | None = None,
) -> SeriesForecast:
    """ETS of one series (`parallel.fit_forecast`'s signature)."""
    out = ets_many([y], horizon, m, levels, [spec], combine=combine)[0]
    if isinstance(out, _Fallback):
        raise out
    return out
