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
  combined with Akaike weights w_i = exp(-dAICc_i / 2) / sum_j exp(-dAICc_j / 2) (Kolassa 2011,
  IJF 27(2)). Why: AICc compares one-step fits, and on M4 Weekly it prefers multiplicative
  errors for 274 of 359 series whose trended forms then forecast 13 weeks worse (MASE 3.37 vs
  2.80 for M,A,N and A,A,N on the series where M,A,N wins, 3.48 vs 3.21 for M,Ad,N and
  A,Ad,N); the error family is a statement about the spread of
  the errors, which the predictive density of the hold-out tests at the horizon asked for. A
  series too short for a hold-out of `horizon` values (or with no finite hold-out score) gets
  the Akaike combination of every candidate.
- "aicc": the Akaike-weighted combination of every candidate (Kolassa's rule).
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

from collections.abc import Sequence
from typing import Any

import numpy as np

from tsforecast.errors import InputError
from tsforecast.stats.common import SeriesForecast, _Fallback
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


def akaike_weights(aicc: np.ndarray) -> np.ndarray:
    """Akaike weights [K] of finite AICc values [K]: exp(-dAICc / 2), normalised to sum to 1."""
    delta = np.asarray(aicc, dtype=np.float64) - np.min(aicc)
    w = np.exp(-0.5 * delta)
    return w / w.sum()


def _admissible(y: np.ndarray, forecast: np.ndarray) -> bool:
    """A finite forecast, and for strictly positive data one that stays positive.

    AICc alone picks, for a positive series that declined at its end, an undamped additive trend
    whose forecast crosses zero (a monthly series ending near 2,000 forecast down to -975): such
    a candidate is set aside.
    """
    if not np.all(np.isfinite(forecast)):
        return False
    return not (bool(np.all(y > 0)) and float(forecast.min()) <= 0.0)


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
    w = akaike_weights(np.array([f.aicc for f in pool]))
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
) -> list[SeriesForecast | _Fallback]:
    """ETS on every series (1-d, oldest first, at least 10 values, not constant).

    combine: "holdout", "aicc" or "select" (see the module docstring); None is
    `DEFAULT_COMBINE`. With a spec (from an earlier result) a series is not re-estimated: its
    forms, parameters and weights are applied to its (longer) history. A series no candidate
    can forecast gets a `_Fallback` (the reason) in its place. `stop_at` (a `time.time()`
    value) ends the estimation there, every series with the best parameters found by then
    (a deadline's anytime answer: a fit, not a fallback).
    """
    rule = DEFAULT_COMBINE if combine is None else combine
    if rule not in COMBINE:
        msg = f"`combine` must be one of {list(COMBINE)}, got {combine!r}."
        raise InputError(msg)
    arrs = [np.asarray(y, dtype=np.float64) for y in series]
    if not arrs:
        return []
    specs = list(specs) if specs is not None else [None] * len(arrs)
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
    if rule == "holdout":
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
    )
    fitted, inner_fits = (
        everything[: len(arrs)],
        dict(zip(held, everything[len(arrs) :], strict=True)),
    )
    # log predictive densities of the hold-out, every inner fit of every series in one batch
    flat = [(i, f) for i in held for f in inner_fits[i] if np.isfinite(f.aicc)]
    flat = [(i, f) for i, f in flat if _admissible(arrs[i][:-horizon], f.mean(horizon))]
    scores = log_score([f for _, f in flat], [arrs[i][-horizon:] for i, _ in flat])
    scored: dict[int, tuple[list[_Fitted], list[float]]] = {i: ([], []) for i in held}
    for (i, f), s in zip(flat, scores, strict=True):
        scored[i][0].append(f)
        scored[i][1].append(float(s))

    out: list[SeriesForecast | _Fallback] = []
    combos: list[list[tuple[float, _Fitted]]] = []
    for i, (y, fits) in enumerate(zip(arrs, fitted, strict=True)):
        ok = [
            (k, f)
            for k, f in enumerate(fits)
            if np.isfinite(f.aicc) and _admissible(y, f.mean(horizon))
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
