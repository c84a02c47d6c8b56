"""ETS fitting: the candidate forms, statsmodels' heuristic initial states, the recursion and the
batched maximum-likelihood fit of every (series, candidate) pair at once.

`ets` (the model: combination rule, forecasts, specs) and `ets_intervals` build on it; see
`tsforecast.stats.ets` for what the model does. The models are statsmodels' `ETSModel` with
`initialization_method="heuristic"` (the tests hold the likelihood and the forecast of both to
the same numbers for the same parameters), fitted here in numpy, vectorised across series,
candidate models and parameter vectors: statsmodels spends 20-50 ms per candidate fit, most of
it in Python around a compiled loop over time; here one loop over time serves every parameter
vector of every candidate of every series of a batch.

Candidates: error (A, M) x trend (N, A, Ad) x season (N, A, M), without the unstable A,*,M
combinations and without multiplicative parts for non-positive data; the season is N unless the
M4 seasonality test sees a season in the series or in the series less its line, and A or M
when it does (statsmodels' heuristic initialisation needs two full seasons and 10 + 2 (m // 2)
values): at most 9 candidates.

Recursions (statsmodels' error-correction form; mu = l + phi b, e = y - yhat):
    season N or A: yhat = mu + s,  l' = mu + alpha e,    b' = phi b + beta e,    s' = s + gamma e
    season M:      yhat = mu s,    l' = mu + alpha e/s,  b' = phi b + beta e/s,
                   s' = s + gamma* (y / l' - s)
with beta = alpha beta*, gamma = (1 - alpha) gamma*; no trend is b = beta = 0, undamped phi = 1.
The state updates do not depend on the error type: it changes only the likelihood,
    -n/2 (log(2 pi mean(r^2)) + 1) - [error M] sum log|yhat|,  r = e (A) or e / yhat (M).
Parameters are estimated by maximum likelihood in statsmodels' box (alpha, beta*, gamma* in
[1e-4, 1 - 1e-4], phi in [0.8, 0.98]) with a batched Nelder-Mead (`nelder_mead`) from
statsmodels' start, as local a search as statsmodels' L-BFGS (a coarse grid of starts found
higher likelihoods but cost M4 Hourly OWA 0.69 -> 0.82: large smoothing weights that fit the
past step by step and forecast 48 steps worse); the initial
states come from statsmodels' heuristic (a decomposition of the first seasons, then a line
through the first 10 values) instead of being optimised: on long hourly series this keeps each
fit cheap and, on M4 Hourly, was also more accurate. AICc counts the smoothing parameters and
the variance, as statsmodels does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tsforecast.stats.naive import seasonality_test
from tsforecast.stats.nelder_mead import BatchedNelderMead, minimise_all

__all__ = ["Candidate", "ets_candidates", "ets_loglike", "fit_candidates"]

_LOWER = np.array([1e-4, 1e-4, 1e-4, 0.8])  # alpha, beta*, gamma*, phi (statsmodels' box)
_UPPER = np.array([1 - 1e-4, 1 - 1e-4, 1 - 1e-4, 0.98])
_START = np.array([0.1, 0.1, 0.01 / 0.9, 0.98])  # statsmodels' start: beta 0.01, gamma 0.01
_STEPS = np.array([0.05, 0.05, 0.05, -0.02])  # the initial simplex around the start
_NAMES = {None: "N", "add": "A", "mul": "M"}


@dataclass(frozen=True)
class Candidate:
    """One ETS form: error 'add'/'mul', trend None/'add', damped, season None/'add'/'mul'."""

    error: str
    trend: str | None
    damped: bool
    season: str | None

    # Which of (alpha, beta*, gamma*, phi) are estimated, [4] bool (read-only): read per fit
    # and per forecast, hundreds of thousands of times a batch, so computed once
    free: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        free = np.array([True, self.trend is not None, self.season is not None, self.damped])
        free.flags.writeable = False
        object.__setattr__(self, "free", free)  # a frozen dataclass

    @property
    def name(self) -> str:
        trend = "Ad" if self.damped else _NAMES[self.trend]
        return f"{_NAMES[self.error]},{trend},{_NAMES[self.season]}"

    def as_config(self) -> list[Any]:
        return [self.error, self.trend, self.damped, self.season]


# Which test admits the seasonal forms: "acf_or_detrended" (the default) or "acf" (the M4 test
# on the series alone, the rule before). The benchmark script sets it to compare both in one
# run (worker processes are forked, so they inherit it).
SEASON_GATE = "acf_or_detrended"


def _can_be_seasonal(y: np.ndarray, m: int) -> bool:
    """Seasonal candidates: two full seasons and the heuristic's 10 + 2 (m // 2) values, and the
    M4 90% autocorrelation test says seasonal, of the series or of the series less its least-
    squares line.

    Why a gate at all: on M4 Hourly it lowered MASE from 1.60 to 1.31 against AICc over all 15
    candidates (AICc often prefers a non-seasonal model whose 48-step forecast ignores the
    daily cycle). Why the detrended series too: a trend makes the autocorrelation high at every
    lag, and Bartlett's limit of the test grows with it, so a monthly series rising by twice
    its seasonal swing over 6 years was "not seasonal" in every draw, and its ets drew a trend
    line through the cycle, worse than seasonal naive. With the line taken out the test sees
    the season in every draw from 4 seasons on, and white noise, random walks and trends
    without a season still pass it in 0-8 % of draws at 4-8 seasons. Below 4 seasons the
    test has little power either way (the series' own cycle inflates the limit).
    """
    n = len(y)
    if m <= 1 or n < 2 * m + 2 or n < 10 + 2 * (m // 2):
        return False
    if seasonality_test(y, m):
        return True
    if SEASON_GATE != "acf_or_detrended" or n < 3 * m:
        return False
    t = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(t, y, 1)
    return seasonality_test(y - (intercept + slope * t), m)


def ets_candidates(y: np.ndarray, m: int) -> list[Candidate]:
    """The ETS forms fitted to one series (see the module docstring)."""
    positive = bool(np.all(y > 0))
    seasons: list[str | None] = [None]
    if _can_be_seasonal(y, m):
        seasons = ["add", "mul"] if positive else ["add"]
    out = []
    for error in ["add", "mul"] if positive else ["add"]:
        for trend, damped in ((None, False), ("add", False), ("add", True)):
            for season in seasons:
                if error == "add" and season == "mul":
                    continue  # unstable (R's `ets` excludes it too)
                out.append(Candidate(error, trend, damped, season))
    return out


# --------------------------------------------------------------------------- initial states


def _centred_trend(x: np.ndarray, m: int) -> np.ndarray:
    """pandas' rolling(m, center=True).mean(), then for even m the 2-average statsmodels takes."""
    n = len(x)
    trend = np.full(n, np.nan)
    trend[m // 2 : n - m + m // 2 + 1] = np.convolve(x, np.ones(m) / m, mode="valid")
    if m % 2 == 0:
        trend = np.r_[0.5 * (trend[:-1] + trend[1:]), np.nan]
    return trend


def _initial_states(y: np.ndarray, m: int, season: str | None) -> tuple[float, float, np.ndarray]:
    """statsmodels' `_initialization_heuristic`: (level, trend, first season's indices [m])."""
    seasonal = np.zeros(max(m, 1)) if season != "mul" else np.ones(max(m, 1))
    x = y
    if season is not None:
        n = len(y)
        min_obs = 10 + 2 * (m // 2)
        k_cycles = max(min(5, n // m), int(np.ceil(min_obs / m)))
        head = y[: m * k_cycles]
        trend = _centred_trend(head, m)
        detrended = head - trend if season == "add" else head / trend
        padded = np.full(k_cycles * m, np.nan)
        padded[: len(detrended)] = detrended
        seasonal = np.nanmean(padded.reshape(k_cycles, m), axis=0)
        seasonal = seasonal - seasonal.mean() if season == "add" else seasonal / seasonal.mean()
        x = trend[np.isfinite(trend)]
    # the least-squares line through the first 10 values at t = 1..10: level at t = 0, slope
    first = x[:10]
    slope = float(np.dot(_T_CENTRED, first - first.mean()) / _T_SQUARES)
    return float(first.mean() - slope * _T_MEAN), slope, seasonal


# t = 1..10 of the heuristic's line, its mean, centred values and sum of squares
_T = np.arange(1.0, 11.0)
_T_MEAN = _T.mean()
_T_CENTRED = _T - _T_MEAN
_T_SQUARES = np.dot(_T_CENTRED, _T_CENTRED)


# --------------------------------------------------------------------------- the recursion


@dataclass
class _Rows:
    """Parameter vectors to run, one per row, all of one season kind, rows sorted by length
    (longest first) so that the rows still inside their series at step t are a prefix."""

    y: np.ndarray  # (T, R) time-major values of each row's series (past its end: anything)
    lengths: np.ndarray  # (R,) descending
    alpha: np.ndarray  # (R,) and beta, gamma, phi: Hyndman's parameters
    beta: np.ndarray
    gamma: np.ndarray
    gamma_star: np.ndarray
    phi: np.ndarray
    level: np.ndarray  # (R,) initial states, overwritten by the final ones
    trend: np.ndarray  # (R,)
    season: np.ndarray  # (m, R): season[j] is the index for times = j mod m


def _active(lengths: np.ndarray, n_steps: int) -> np.ndarray:
    """Rows still inside their series at each step, [T]: a prefix, the rows being sorted."""
    return len(lengths) - np.searchsorted(lengths[::-1], np.arange(n_steps), side="right")


_BLOCK = 64  # time steps per block of the likelihood sums


def _smooth(rows: _Rows, season: str | None, any_mul: bool) -> tuple[np.ndarray, ...]:
    """Run the recursions; returns the sums over each row's steps (sse, sse_rel, log_sum) [R]
    of e^2, (e / yhat)^2 and log|yhat| (the last two only when `any_mul`).

    The states in `rows` end as each row's state after its last value. The loop costs a
    fixed ~1.5 us per numpy call whatever the number of rows: the views on the active prefix
    are only rebuilt when a row ends, and every operation writes into its output. yhat and e
    go to a (block, R) buffer, summed once per block of steps: past its end a row has e = 0
    and yhat = 1 there, which add nothing.
    """
    y, lengths = rows.y, rows.lengths
    n_steps, n_rows = y.shape
    m = rows.season.shape[0]
    sse, sse_rel, log_sum = np.zeros(n_rows), np.zeros(n_rows), np.zeros(n_rows)
    block_yhat, block_err = np.empty((_BLOCK, n_rows)), np.empty((_BLOCK, n_rows))
    active = _active(lengths, n_steps)
    phib, tmp = np.empty(n_rows), np.empty(n_rows)
    k = -1
    for t in range(n_steps):
        i = t % _BLOCK
        if i == 0:
            width = int(active[t])
            block_yhat[:, :width] = 1.0
            block_err[:, :width] = 0.0
        if active[t] != k:
            k = int(active[t])
            lk, bk, pk, tk = rows.level[:k], rows.trend[:k], phib[:k], tmp[:k]
            alpha, beta, gamma = rows.alpha[:k], rows.beta[:k], rows.gamma[:k]
            phi, gstar, seasons = rows.phi[:k], rows.gamma_star[:k], rows.season[:, :k]
        yt, yh, e = y[t, :k], block_yhat[i, :k], block_err[i, :k]
        np.multiply(phi, bk, out=pk)
        if season == "mul":
            s = seasons[t % m]
            np.add(lk, pk, out=lk)  # l <- mu
            np.multiply(lk, s, out=yh)
            np.subtract(yt, yh, out=e)
            np.divide(e, s, out=tk)  # e / s
            np.multiply(beta, tk, out=bk)
            bk += pk
            tk *= alpha
            lk += tk  # l' = mu + alpha e / s
            np.divide(yt, lk, out=tk)
            tk -= s
            tk *= gstar
            s += tk
        else:
            np.add(lk, pk, out=lk)  # l <- mu
            if season == "add":
                s = seasons[t % m]
                np.add(lk, s, out=yh)
            else:
                np.copyto(yh, lk)
            np.subtract(yt, yh, out=e)
            np.multiply(beta, e, out=bk)
            bk += pk
            np.multiply(alpha, e, out=tk)
            lk += tk
            if season == "add":
                np.multiply(gamma, e, out=tk)
                s += tk
        if i == _BLOCK - 1 or t == n_steps - 1:
            e_blk, yh_blk = block_err[: i + 1, :width], block_yhat[: i + 1, :width]
            sse[:width] += np.einsum("tr,tr->r", e_blk, e_blk)
            if any_mul:
                rel = e_blk / yh_blk
                sse_rel[:width] += np.einsum("tr,tr->r", rel, rel)
                # statsmodels' guard against yhat = 0 in the multiplicative likelihood
                yh_blk = np.abs(np.where(yh_blk == 0.0, 1e-32, yh_blk))
                log_sum[:width] += np.log(yh_blk).sum(axis=0)
    return sse, sse_rel, log_sum


def _loglike(
    sums: tuple[np.ndarray, ...], lengths: np.ndarray, error_mul: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(log-likelihood [R], mean squared residual [R]) as statsmodels' `ETSModel.loglike`:
    -n/2 (log(2 pi mean(r^2)) + 1) - [error M] sum log|yhat|."""
    sse, sse_rel, log_sum = sums
    n = lengths.astype(np.float64)
    mse = np.where(error_mul, sse_rel, sse) / n
    out = -0.5 * n * (np.log(2 * np.pi * mse) + 1.0) - np.where(error_mul, log_sum, 0.0)
    out[~np.isfinite(out)] = -np.inf
    return out, mse


# --------------------------------------------------------------------------- fitting


@dataclass
class _Table:
    """Every (series, candidate) pair of one season kind (an "entry"), with its initial states.

    y: (T, S) all series time-major, each padded past its end with its last value (never read
    by the recursion, kept tame); lengths: (S,); per entry: series index, error type, which
    parameters are free (E, 4), initial level and trend (E,), initial season (width, E).
    """

    season: str | None
    y: np.ndarray
    lengths: np.ndarray
    series_idx: np.ndarray
    error_mul: np.ndarray
    free: np.ndarray
    level: np.ndarray
    trend: np.ndarray
    seasonal: np.ndarray


def _time_major(arrs: Sequence[np.ndarray]) -> np.ndarray:
    lengths = np.array([len(y) for y in arrs])
    y = np.empty((int(lengths.max()), len(arrs)))
    for j, values in enumerate(arrs):
        y[: len(values), j] = values
        y[len(values) :, j] = values[-1]
    return y


def _tables(
    arrs: Sequence[np.ndarray], m: int, cand_lists: Sequence[Sequence[Candidate]]
) -> tuple[dict[str | None, _Table], list[list[tuple[str | None, int]]]]:
    """The tables by recursion kind, and for each series the key (kind, entry index) of each
    of its candidates.

    A non-seasonal candidate runs in the additive-season table when there is one (its season
    states are 0 and gamma = 0, so the recursion is exactly the non-seasonal one): every round
    of the optimiser then costs one loop over time fewer (on M4 Hourly a handful of
    non-seasonal series cost a whole loop over the ~900 hours per round).
    """
    y = _time_major(arrs)
    lengths = np.array([len(a) for a in arrs])
    has_add = any(c.season == "add" for cands in cand_lists for c in cands)
    rows: dict[str | None, list[tuple[int, Candidate, float, float, np.ndarray]]] = {}
    index: list[list[tuple[str | None, int]]] = []
    for i, (values, cands) in enumerate(zip(arrs, cand_lists, strict=True)):
        init = {s: _initial_states(values, m, s) for s in {c.season for c in cands}}
        keys = []
        for cand in cands:
            l0, b0, s0 = init[cand.season]
            kind = "add" if cand.season is None and has_add else cand.season
            bucket = rows.setdefault(kind, [])
            keys.append((kind, len(bucket)))
            if cand.season is None and kind == "add":
                s0 = np.zeros(m)
            bucket.append((i, cand, l0, b0 if cand.trend else 0.0, s0))
        index.append(keys)
    tables = {}
    for season, bucket in rows.items():
        width = max(m, 1) if season else 1
        tables[season] = _Table(
            season,
            y,
            lengths,
            np.array([r[0] for r in bucket]),
            np.array([r[1].error == "mul" for r in bucket]),
            np.array([r[1].free for r in bucket]).reshape(-1, 4),
            np.array([r[2] for r in bucket]),
            np.array([r[3] for r in bucket]),
            np.array([r[4][:width] if season else np.zeros(1) for r in bucket]).T.reshape(
                width, -1
            ),
        )
    return tables, index


def _run(
    table: _Table, entries: np.ndarray, internal: np.ndarray
) -> tuple[np.ndarray, np.ndarray, _Rows, np.ndarray]:
    """Evaluate table entries at internal parameters [R, 4] = (alpha, beta*, gamma*, phi)
    (the entries' fixed parameters are ignored).

    Returns (loglike [R], mse [R], final rows, order): the rows are sorted by length, and
    order[i] is the position in `entries` of sorted row i (loglike and mse are in that order).
    """
    which = table.series_idx[entries]
    lengths = table.lengths[which]
    order = np.argsort(-lengths, kind="stable")
    entries, which, lengths = entries[order], which[order], lengths[order]
    p, free = internal[order], table.free[entries]
    alpha = p[:, 0]
    beta_star = np.where(free[:, 1], p[:, 1], 0.0)
    gamma_star = np.where(free[:, 2], p[:, 2], 0.0)
    phi = np.where(free[:, 3], p[:, 3], 1.0)
    rows = _Rows(
        table.y[: int(lengths[0])][:, which], lengths, alpha, alpha * beta_star,
        (1 - alpha) * gamma_star, gamma_star, phi, table.level[entries].copy(),
        table.trend[entries].copy(), table.seasonal[:, entries].copy(),
    )  # fmt: skip
    error_mul = table.error_mul[entries]
    sums = _smooth(rows, table.season, bool(error_mul.any()))
    ll, mse = _loglike(sums, lengths, error_mul)
    return ll, mse, rows, order


def _fit(
    tables: dict[str | None, _Table],
    to_fit: Sequence[list[tuple[str | None, int]]],
    stop_at: float | None = None,
) -> tuple[dict[tuple[str | None, int], np.ndarray], set[tuple[str | None, int]]]:
    """Maximum-likelihood internal parameters of the given entries (the optimisers stop at
    `stop_at`, a `time.time()` value, with the best points found by then: `minimise_all`).

    to_fit: per series, its (season, entry) pairs. Returns {(season, entry): params [4]} and
    the entries whose search `stop_at` ended before it converged. One
    optimiser per form (trend, damped, season): the same free parameters; the forms' points
    are evaluated together, one recursion per season kind and round.
    """
    groups: dict[tuple[Any, ...], list[int]] = {}
    for pairs in to_fit:
        for season, e in pairs:
            free = tables[season].free[e]
            groups.setdefault((season, *free.tolist()), []).append(e)
    keys = list(groups)
    members = {k: np.array(v) for k, v in groups.items()}
    masks = {k: np.array(k[1:], dtype=bool) for k in keys}
    optimisers = [
        BatchedNelderMead(
            np.tile(_START[masks[k]], (len(members[k]), 1)),
            _STEPS[masks[k]],
            _LOWER[masks[k]],
            _UPPER[masks[k]],
            ftol=1e-6,
            xtol=1e-3,
            max_iter=40 * int(masks[k].sum()),
            speculate_below=50,
        )
        for k in keys
    ]

    def evaluate(requests: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        running = [k for k, opt in zip(keys, optimisers, strict=True) if not opt.done]
        out = [np.empty(len(idx)) for idx, _ in requests]
        for season in {k[0] for k in running}:
            parts = [j for j, k in enumerate(running) if k[0] == season]
            entries, internal, offsets = [], [], [0]
            for j in parts:
                idx, x = requests[j]
                full = np.tile(_START, (len(idx), 1))
                full[:, masks[running[j]]] = x
                entries.append(members[running[j]][idx])
                internal.append(full)
                offsets.append(offsets[-1] + len(idx))
            ll, _, _, order = _run(
                tables[season], np.concatenate(entries), np.concatenate(internal)
            )
            values = np.empty(len(ll))
            values[order] = -ll
            for j, a, b in zip(parts, offsets[:-1], offsets[1:], strict=True):
                out[j] = values[a:b]
        return out

    minimise_all(optimisers, evaluate, stop_at=stop_at)
    fitted = {}
    stopped = set()
    for key, opt in zip(keys, optimisers, strict=True):
        best = opt.x
        for r, e in enumerate(members[key]):
            full = _START.copy()
            full[masks[key]] = best[r]
            fitted[(key[0], int(e))] = full
            if opt.active[r]:  # still searching when `stop_at` came: not converged
                stopped.add((key[0], int(e)))
    return fitted, stopped


# --------------------------------------------------------------------------- forecasting


@dataclass
class _Fitted:
    """A candidate evaluated on its series at given parameters."""

    cand: Candidate
    internal: np.ndarray  # (4,) alpha, beta*, gamma*, phi
    loglike: float
    mse: float
    level: float
    trend: float
    season: np.ndarray  # (m,) by phase (time mod m)
    n: int
    stopped: bool = False  # the search was ended by a time budget before it converged
    # mean(horizon) by horizon: admissibility, hold-out scores, combination and intervals all
    # read it, for every form of every series
    # (not an init field: `dataclasses.replace` of a fit must not carry its old forecasts)
    _means: dict[int, np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # AICc and Hyndman's (alpha, beta, gamma, phi), read many times a fit: computed once
    aicc: float = field(init=False, repr=False, compare=False)
    hyndman: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        free = self.cand.free
        # smoothing parameters, the initial states (level, trend, m - 1 season indices: they
        # are read off the data, as R's `ets` estimates them) and the variance: Hyndman et
        # al.'s count. Uncounted, a seasonal form's 23 (hourly) indices cost nothing, and
        # the ETS combinations of M4 Weekly, M4 Hourly and the monthly-like panel all forecast
        # better with them counted (README, "ETS").
        states = (
            1 + (self.cand.trend is not None) + (len(self.season) - 1 if self.cand.season else 0)
        )
        k = int(free.sum()) + states + 1
        n = self.n
        self.aicc = -2.0 * self.loglike + 2.0 * k * n / (n - k - 1) if n > k + 1 else np.inf
        # (alpha, beta, gamma, phi) with zeros / phi = 1 where not in the model
        alpha, beta_star, gamma_star, phi = self.internal
        self.hyndman = (
            float(alpha),
            float(alpha * beta_star) if free[1] else 0.0,
            float((1 - alpha) * gamma_star) if free[2] else 0.0,
            float(phi) if free[3] else 1.0,
        )

    def mean(self, horizon: int) -> np.ndarray:
        """The point forecast (H,) of the next `horizon` steps (read-only: it is shared)."""
        if horizon not in self._means:
            out = self._mean(horizon)
            out.flags.writeable = False
            self._means[horizon] = out
        return self._means[horizon]

    def _mean(self, horizon: int) -> np.ndarray:
        _, _, _, phi = self.hyndman
        steps = np.arange(1, horizon + 1)
        damp = np.cumsum(phi**steps)  # phi + ... + phi^h
        mu = self.level + damp * self.trend
        if self.cand.season is None:
            return mu
        s = self.season[(self.n + steps - 1) % len(self.season)]
        return mu * s if self.cand.season == "mul" else mu + s

    def external_params(self) -> list[float]:
        """statsmodels' parameter vector (smoothing_level, _trend, _seasonal, damping_trend)."""
        alpha, beta, gamma, phi = self.hyndman
        free = self.cand.free
        return [v for v, f in zip((alpha, beta, gamma, phi), free, strict=True) if f]


def _evaluate(
    tables: dict[str | None, _Table],
    cands: dict[tuple[str | None, int], Candidate],
    params: dict[tuple[str | None, int], np.ndarray],
    horizon: int | None = None,
) -> dict[tuple[str | None, int], _Fitted]:
    """Every (season, entry) of `params` run at those internal parameters (with `horizon`,
    their forecasts of that many steps computed together)."""
    out = {}
    for season, table in tables.items():
        keys = [k for k in params if k[0] == season]
        if not keys:
            continue
        entries = np.array([k[1] for k in keys])
        internal = np.array([params[k] for k in keys]).reshape(-1, 4)
        ll, mse, rows, order = _run(table, entries, internal)
        means = None if horizon is None else _row_means(rows, season, horizon)  # (R, H)
        for r, pos in enumerate(order):
            key = keys[pos]
            out[key] = _Fitted(
                cands[key], internal[pos], float(ll[r]), float(mse[r]), float(rows.level[r]),
                float(rows.trend[r]), rows.season[:, r].copy(), int(rows.lengths[r]),
            )  # fmt: skip
            if means is not None:
                mean = means[r]
                mean.flags.writeable = False
                out[key]._means[horizon] = mean  # type: ignore[index]
    return out


def _row_means(rows: _Rows, season: str | None, horizon: int) -> np.ndarray:
    """`_Fitted.mean(horizon)` of every row at once, [R, H]: the same operations, per row.

    A non-seasonal form run in the additive table has season states 0 there, so adding them
    changes nothing."""
    steps = np.arange(1, horizon + 1)
    damp = np.cumsum(rows.phi[:, None] ** steps, axis=1)  # phi + ... + phi^h -> (R, H)
    mu = rows.level[:, None] + damp * rows.trend[:, None]
    if season is None:
        return mu
    m = rows.season.shape[0]
    phase = (rows.lengths[:, None] + steps[None, :] - 1) % m  # -> (R, H)
    s = rows.season[phase, np.arange(len(rows.lengths))[:, None]]  # -> (R, H)
    return mu * s if season == "mul" else mu + s


def _from_external(cand: Candidate, params: Sequence[float]) -> np.ndarray:
    """statsmodels' external parameters -> internal (alpha, beta*, gamma*, phi)."""
    full = _START.copy()
    full[cand.free] = np.asarray(params, dtype=np.float64)
    alpha = full[0]
    if cand.trend:
        full[1] = full[1] / alpha
    if cand.season:
        full[2] = full[2] / (1.0 - alpha)
    return full


def fit_candidates(
    arrs: Sequence[np.ndarray],
    m: int,
    cand_lists: Sequence[Sequence[Candidate]],
    fixed: Sequence[Sequence[np.ndarray] | None],
    stop_at: float | None = None,
    horizon: int | None = None,
    clock: dict[str, float] | None = None,
) -> list[list[_Fitted]]:
    """Every candidate of every series, in one batch: per series, its `_Fitted` in the order of
    its candidates. `fixed[i]` is None (estimate series i's candidates by maximum likelihood)
    or the internal parameters [4] of each of its candidates (evaluate them there, no fit).
    `stop_at` (a `time.time()` value) ends the estimation there with the best parameters found.
    With `horizon`, every fit's `mean(horizon)` is computed here, for all of them at once;
    `clock["optimiser"]` gets the `time.perf_counter()` when the optimisers start."""
    tables, keys = _tables(arrs, m, cand_lists)
    cands = {
        k: c for ks, cs in zip(keys, cand_lists, strict=True) for k, c in zip(ks, cs, strict=True)
    }
    to_fit = [ks for ks, f in zip(keys, fixed, strict=True) if f is None]
    if clock is not None:
        clock["optimiser"] = time.perf_counter()
    params, stopped = _fit(tables, to_fit, stop_at)
    for ks, f in zip(keys, fixed, strict=True):
        if f is not None:
            params.update(zip(ks, f, strict=True))
    fitted = _evaluate(tables, cands, params, horizon)
    for key in stopped:
        fitted[key].stopped = True
    return [[fitted[k] for k in ks] for ks in keys]


def ets_loglike(y: np.ndarray, m: int, cand: Candidate, params: Sequence[float]) -> float:
    """Log-likelihood of one series under `cand` with statsmodels' external `params`."""
    arr = np.asarray(y, dtype=np.float64)
    tables, index = _tables([arr], m, [[cand]])
    internal = _from_external(cand, params)
    kind, entry = index[0][0]
    ll, _, _, _ = _run(tables[kind], np.array([entry]), internal[None, :])
    return float(ll[0])
