"""ETS predictive distributions: analytic for additive errors, simulated for multiplicative ones,
and the mixture of a weighted combination of forms.

- Additive-error (linear) forms: normal with the analytic variance
  sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha + beta (phi + ... + phi^j) + gamma [j = 0 mod m]
  (Hyndman et al. 2008, class 1).
- Multiplicative-error forms: `N_PATHS` simulated sample paths with normal relative errors, drawn
  as statsmodels draws them (`default_rng(0)`, 1,000 paths): the empirical quantiles are the
  bounds of its `get_prediction`. Every series draws the same standard normals, so its bounds do
  not depend on the other series of a batch; fits are simulated `_CHUNK` at a time to bound memory
  (the paths of 1,600 hourly forms at once would take 600 MB).
- A combination sum_i w_i (form i): the Akaike-weighted mixture of the forms' predictive
  distributions, F(x) = sum_i w_i F_i(x), whose quantiles are read from the pooled weighted
  sample of every form (1,000 paths of each multiplicative form; the normal quantiles at
  (k + 1/2) / 1,000 of each additive one). The weights are posterior model probabilities, so the
  mixture is the model-averaged predictive distribution: it widens where the forms disagree,
  which averaging the forms' bounds would not show (the average of bounds is the quantile of no
  distribution of the combination). The weighted quantile function is monotone, so a 95 %
  interval contains the 80 % one; the bounds are widened to the point forecast where the mean of
  a skewed mixture falls outside a band, so the point always lies inside.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from tsforecast.stats.common import _bands
from tsforecast.stats.ets_fit import _Fitted

__all__ = ["N_PATHS", "analytic_sd", "log_score", "mixture_intervals", "simulated_intervals"]

N_PATHS = 1000  # as statsmodels' default simulate_repetitions
_CHUNK = 64  # fits simulated together


def analytic_sd(fit: _Fitted, horizon: int) -> np.ndarray:
    """Standard deviation (H,) of an additive-error form's h-step forecasts (class 1)."""
    alpha, beta, gamma, phi = fit.hyndman
    j = np.arange(1, horizon)
    # gamma is 0 without a season, beta without a trend
    c = alpha + beta * np.cumsum(phi**j) + gamma * (j % len(fit.season) == 0)
    return np.sqrt(fit.mse * (1.0 + np.r_[0.0, np.cumsum(c**2)]))


def analytic_intervals(
    fit: _Fitted, mean: np.ndarray, levels: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) (n_levels, H) of an additive-error form: normal, the class-1 variance."""
    lo, hi = _bands(mean, analytic_sd(fit, len(mean)), levels)
    return lo, hi


def _paths(fits: Sequence[_Fitted], horizon: int, seed: int = 0) -> np.ndarray:
    """Sample paths (H, G, P) of multiplicative-error forms of one season kind."""
    season = fits[0].cand.season
    n_series = len(fits)
    z = np.random.default_rng(seed).standard_normal((horizon, 1, N_PATHS))
    rel = z * np.sqrt(np.array([f.mse for f in fits]))[None, :, None]  # -> (H, G, P)
    hynd = np.array([f.hyndman for f in fits])  # -> (G, 4)
    alpha, beta, gamma, phi = (hynd[:, i, None] for i in range(4))  # each (G, 1)
    gstar = np.array([f.internal[2] if season else 0.0 for f in fits])[:, None]
    level = np.repeat(np.array([f.level for f in fits])[:, None], N_PATHS, axis=1)  # (G, P)
    trend = np.repeat(np.array([f.trend for f in fits])[:, None], N_PATHS, axis=1)
    seasons = np.repeat(np.stack([f.season for f in fits])[:, :, None], N_PATHS, axis=2)
    m = seasons.shape[1]
    rows = np.arange(n_series)
    n_obs = np.array([f.n for f in fits])
    paths = np.empty((horizon, n_series, N_PATHS))
    for h in range(horizon):
        phase = (n_obs + h) % m
        s = seasons[rows, phase]  # -> (G, P)
        mu = level + phi * trend
        yhat = mu * s if season == "mul" else (mu + s if season == "add" else mu)
        y = yhat * (1.0 + rel[h])
        e = y - yhat
        if season == "mul":
            trend = phi * trend + beta * e / s
            level = mu + alpha * e / s
            seasons[rows, phase] = s + gstar * (y / level - s)
        else:
            trend = phi * trend + beta * e
            level = mu + alpha * e
            if season == "add":
                seasons[rows, phase] = s + gamma * e
        paths[h] = y
    return paths


def _simulated(
    fits: Sequence[_Fitted], horizon: int, reduce: Callable[[np.ndarray], Sequence[Any]]
) -> list[Any]:
    """reduce(paths (H, G, P)) -> one result per fit, of each multiplicative-error fit,
    simulated by season kind and in chunks of `_CHUNK` fits (results in the order of `fits`;
    `reduce` sees a chunk at once: one numpy call per chunk, not per fit)."""
    out: list[Any] = [None] * len(fits)
    by_season: dict[str | None, list[int]] = {}
    for i, f in enumerate(fits):
        by_season.setdefault(f.cand.season, []).append(i)
    for idx in by_season.values():
        for start in range(0, len(idx), _CHUNK):
            part = idx[start : start + _CHUNK]
            paths = _paths([fits[i] for i in part], horizon)  # -> (H, G, P)
            for i, result in zip(part, reduce(paths), strict=True):
                out[i] = result
    return out


def _per_fit(values: np.ndarray) -> list[np.ndarray]:
    """(H, G, ...) -> G arrays (H, ...), one per fit."""
    return [values[:, g] for g in range(values.shape[1])]


def _probs(levels: Sequence[float]) -> list[float]:
    return [p for lvl in levels for p in (0.5 - lvl / 200.0, 0.5 + lvl / 200.0)]


def simulated_intervals(
    fits: Sequence[_Fitted], horizon: int, levels: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(lo, hi) (n_levels, H) of multiplicative-error forms: the paths' empirical quantiles."""
    probs = _probs(levels)

    def bounds(paths: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        q = np.quantile(paths, probs, axis=2)  # -> (2 n_levels, H, G)
        return [(q[0::2, :, g], q[1::2, :, g]) for g in range(q.shape[2])]

    return _simulated(fits, horizon, bounds)


def log_score(fits: Sequence[_Fitted], actual: Sequence[np.ndarray]) -> np.ndarray:
    """Log predictive density [G] of each fit's next len(actual[g]) values, the sum over the
    steps of the normal log density with the forecast's mean and standard deviation (analytic
    for additive errors, of the simulated paths for multiplicative ones): -inf where the
    forecast or its spread is not finite and positive."""
    horizon = max((len(a) for a in actual), default=0)
    sds: list[Any] = [None] * len(fits)
    mul = [i for i, f in enumerate(fits) if f.cand.error == "mul"]
    for i, f in enumerate(fits):
        if f.cand.error == "add":
            sds[i] = analytic_sd(f, horizon)
    spreads = _simulated([fits[i] for i in mul], horizon, lambda p: _per_fit(p.std(axis=2)))
    for i, sd in zip(mul, spreads, strict=True):
        sds[i] = sd
    out = np.full(len(fits), -np.inf)
    by_length: dict[int, list[int]] = {}
    for i, y in enumerate(actual):
        by_length.setdefault(len(y), []).append(i)
    for n, idx in by_length.items():  # the fits scored on n values, at once
        mean = np.array([fits[i].mean(n) for i in idx]).reshape(len(idx), n)  # -> (G, n)
        sd = np.array([sds[i][:n] for i in idx]).reshape(len(idx), n)
        y = np.array([actual[i] for i in idx], dtype=np.float64).reshape(len(idx), n)
        ok = np.isfinite(mean).all(axis=1) & np.isfinite(sd).all(axis=1) & (sd > 0).all(axis=1)
        with np.errstate(all="ignore"):
            z = (y - mean) / sd
            density = np.sum(-0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * z * z, axis=1)
        out[np.array(idx)] = np.where(ok, density, -np.inf)
    return out


# the standard normal quantiles at (k + 1/2) / N_PATHS: an additive form's sample in a mixture
_NORMAL_GRID = np.array([NormalDist().inv_cdf((k + 0.5) / N_PATHS) for k in range(N_PATHS)])


def mixture_intervals(
    combos: Sequence[Sequence[tuple[float, _Fitted]]],
    means: Sequence[np.ndarray],
    levels: Sequence[float],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(lo, hi) (n_levels, H) of each weighted combination of forms [(weight, fit), ...] (two
    forms or more; weights summing to 1), with its point forecast means[i] (H,) inside."""
    horizon = len(means[0]) if means else 0
    probs = np.array(_probs(levels))
    grid = _NORMAL_GRID
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for start in range(0, len(combos), _CHUNK):
        part = combos[start : start + _CHUNK]
        mul = [f for combo in part for _, f in combo if f.cand.error == "mul"]
        # each form's sample sorted per step (the additive ones are, by the grid): the pooled
        # sample is then a few sorted runs, which a stable (merge) sort orders ~3x faster
        sims = iter(_simulated(mul, horizon, lambda p: _per_fit(np.sort(p, axis=2))))
        for combo, mean in zip(part, means[start : start + _CHUNK], strict=True):
            samples, weights = [], []
            for w, f in combo:
                if f.cand.error == "mul":
                    samples.append(next(sims))  # (H, P)
                else:
                    samples.append(
                        f.mean(horizon)[:, None] + analytic_sd(f, horizon)[:, None] * grid
                    )
                weights.append(np.full(N_PATHS, w / N_PATHS))
            values = np.concatenate(samples, axis=1)  # -> (H, K P)
            order = np.argsort(values, axis=1, kind="stable")
            sorted_values = np.take_along_axis(values, order, axis=1)
            cum = np.cumsum(np.concatenate(weights)[order], axis=1)  # -> (H, K P)
            cum /= cum[:, -1:]
            # the weighted inverse ECDF: the smallest value whose cumulative weight reaches p
            q = np.stack(
                [
                    sorted_values[
                        np.arange(horizon), np.minimum((cum < p).sum(axis=1), cum.shape[1] - 1)
                    ]
                    for p in probs
                ]
            )  # -> (2 n_levels, H)
            lo, hi = np.minimum(q[0::2], mean), np.maximum(q[1::2], mean)
            out.append((lo, hi))
    return out
