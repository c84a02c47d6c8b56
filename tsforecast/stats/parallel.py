"""One baseline over one series (with its fallback), and over many series across processes.

Every model maps a 1-d training array (the past of one series, oldest first) to a point forecast of
`horizon` steps and, for each requested level, the lower and upper interval bounds. The backtest
engine and `forecast()` turn these arrays into the forecasts frame; nothing here knows about frames.

A model that raises, does not converge, or returns non-finite values for a series falls back to
seasonal naive (naive when the series is shorter than two seasons or m = 1) and the reason is
returned with the forecast, so that the caller can report it.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np

from tsforecast.errors import InputError
from tsforecast.stats.arima import _arima
from tsforecast.stats.common import TIME_BUDGET_REASON, SeriesForecast, _Fallback
from tsforecast.stats.ets import _ets, ets_many
from tsforecast.stats.naive import _drift, _fallback, _naive, _naive2, _seasonal_naive
from tsforecast.stats.theta import _theta, theta_many

# Model name -> whether it is cheap enough to run in the calling process (no pool).
BASELINES: dict[str, bool] = {
    "naive": True,
    "seasonal_naive": True,
    "drift": True,
    "naive2": True,
    "ets": False,  # vectorised across the series of a chunk (`ets.ets_many`), chunks in a pool
    "arima": False,
    "theta": True,  # vectorised across series (`theta.theta_many`): no pool needed
}


# The models a deadline cuts short (the rest cost what their fallback, seasonal naive, costs):
# naive2 and theta test for a season and decompose the series, ~0.05-0.15 ms per 300 values.
_BOUNDED = frozenset({"naive2", "theta", "ets", "arima"})

_MODEL_FNS: dict[str, Callable[..., SeriesForecast]] = {
    "ets": _ets,
    "arima": _arima,
    "theta": _theta,
}


def fit_forecast(
    model: str,
    y: Any,
    horizon: int,
    season_length: int = 1,
    levels: Sequence[float] = (),
    spec: dict[str, Any] | None = None,
) -> SeriesForecast:
    """Forecast one series (1-d array of its past, oldest first, no NaN) with one baseline.

    With `spec` (from an earlier result's `.spec`) the model is not re-estimated: the fitted
    configuration and parameters are applied to the (longer) history `y`. Never raises for a
    model failure: the result then holds the fallback forecast and the reason.
    """
    arr = np.asarray(y, dtype=np.float64)
    m = int(season_length)
    if model not in BASELINES:
        msg = f"unknown baseline {model!r}; choose one of {sorted(BASELINES)}."
        raise InputError(msg)
    if model == "naive" or (model == "seasonal_naive" and (m <= 1 or len(arr) < m)):
        return _naive(arr, horizon, levels) if len(arr) >= 2 else _fallback(arr, horizon, 1, levels)
    if model == "seasonal_naive":
        return _seasonal_naive(arr, horizon, m, levels)
    if model == "drift":
        if len(arr) < 2:
            return _fallback(arr, horizon, 1, levels)
        return _drift(arr, horizon, levels)
    if model == "naive2":
        return (
            _naive2(arr, horizon, m, levels)
            if len(arr) >= 2
            else _fallback(arr, horizon, 1, levels)
        )
    return _guarded(
        model, arr, horizon, m, levels, lambda: _MODEL_FNS[model](arr, horizon, m, levels, spec)
    )


def _guarded(
    model: str,
    arr: np.ndarray,
    horizon: int,
    m: int,
    levels: Sequence[float],
    compute: Callable[[], SeriesForecast],
) -> SeriesForecast:
    """`compute()` when the series can be fitted and its result is finite; else the fallback."""
    reason: str | None = None
    try:
        reason = _unfittable(model, arr)
        if reason is not None:
            raise _Fallback(reason)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = compute()
        if not (np.all(np.isfinite(out.mean)) and np.all(np.isfinite(out.lo))):
            raise _Fallback("non-finite forecast")
        if not np.all(np.isfinite(out.hi)):
            raise _Fallback("non-finite interval")
        return out
    except _Fallback as exc:
        reason = str(exc)
    except Exception as exc:  # a statsmodels failure on one series must not end the run
        reason = f"{type(exc).__name__}: {exc}"
    out = _fallback(arr, horizon, m, levels)
    out.fallback = reason
    return out


def _unfittable(model: str, arr: np.ndarray) -> str | None:
    """Why a fitted model cannot be fitted to this series at all, or None."""
    if len(arr) < 10:
        return f"series too short for {model} ({len(arr)} values, needs 10)"
    if float(np.ptp(arr)) == 0.0:
        return "constant series"
    return None


def _theta_batch(
    series: Sequence[np.ndarray],
    horizon: int,
    m: int,
    levels: Sequence[float],
    deadline: float | None = None,
) -> list[SeriesForecast]:
    """Theta for many series in one vectorised fit, with the same fallbacks as one by one;
    the series of a chunk not started by `deadline` get the fallback (time budget reached)."""
    arrs = [np.asarray(y, dtype=np.float64) for y in series]
    fittable = [i for i, arr in enumerate(arrs) if _unfittable("theta", arr) is None]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = theta_many([arrs[i] for i in fittable], horizon, m, levels, deadline)
            batch = dict(zip(fittable, fitted, strict=True))
    except Exception:  # one bad series must not cost the others their fit: go one by one
        return [fit_forecast("theta", arr, horizon, m, levels) for arr in arrs]

    def fitted_or_cut(i: int) -> SeriesForecast:
        forecast = batch[i]
        if forecast is None:
            raise _Fallback(TIME_BUDGET_REASON)
        return forecast

    return [
        _guarded("theta", arr, horizon, m, levels, partial(fitted_or_cut, i))
        for i, arr in enumerate(arrs)
    ]


def _ets_batch(
    series: Sequence[np.ndarray],
    horizon: int,
    m: int,
    levels: Sequence[float],
    specs: Sequence[dict[str, Any] | None],
    deadline: float | None,
    combine: str | None = None,
    stop_at: float | None = None,
) -> list[SeriesForecast]:
    """ETS for a chunk of series in one vectorised fit, with the same fallbacks as one by one;
    a chunk not started by `deadline` gets the fallback with the time-budget reason, its
    estimation stops at `stop_at` (both `time.time()` values) with the best parameters found,
    and its work ends by `deadline` (`ets_many`: the series it leaves no time for fall back)."""
    arrs = [np.asarray(y, dtype=np.float64) for y in series]
    groups = _value_groups([len(a) for a in arrs], _MAX_BATCH_VALUES)
    if len(groups) > 1:  # one batch after the other: the memory of one at a time
        parts = []
        left_values = sum(len(a) for a in arrs)
        for g in groups:
            values = sum(len(arrs[i]) for i in g)
            # each batch's optimisers stop, and its work ends, at its share (by values) of the
            # time left: the first one would otherwise take all of it, and the others start
            # past the stop
            own_stop, own_deadline = stop_at, deadline
            now = time.time()
            if stop_at is not None:
                own_stop = now + max(stop_at - now, 0.0) * values / left_values
            if deadline is not None:
                own_deadline = now + max(deadline - now, 0.0) * values / left_values
            left_values -= values
            parts.append(
                _ets_batch(
                    [arrs[i] for i in g],
                    horizon,
                    m,
                    levels,
                    [specs[i] for i in g],
                    own_deadline,
                    combine,
                    own_stop,
                )
            )
        return [f for part in parts for f in part]
    if deadline is not None and time.time() >= deadline:
        out = [_fallback(arr, horizon, m, levels) for arr in arrs]
        for f in out:
            f.fallback = TIME_BUDGET_REASON
        return out
    fittable = [i for i, arr in enumerate(arrs) if _unfittable("ets", arr) is None]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fits = ets_many(
                [arrs[i] for i in fittable],
                horizon,
                m,
                levels,
                [specs[i] for i in fittable],
                combine=combine,
                stop_at=stop_at,
                deadline=deadline,
            )
    except Exception:  # one bad series must not cost the others their fit: go one by one
        return [
            _guarded("ets", a, horizon, m, levels, partial(_ets, a, horizon, m, levels, s, combine))
            for a, s in zip(arrs, specs, strict=True)
        ]
    batch = dict(zip(fittable, fits, strict=True))

    def result(i: int) -> SeriesForecast:
        out = batch[i]
        if isinstance(out, _Fallback):
            raise out
        return out

    return [
        _guarded("ets", arr, horizon, m, levels, partial(result, i)) for i, arr in enumerate(arrs)
    ]


# The most values one vectorised ETS batch holds: its memory grows with the values of all its
# series and forms at once (3,000 hourly series of 5-3,000 values, 4.6 M values: 3.3 GB in one
# worker); a batch of a million values still amortises the per-round loop (M4 Hourly, 0.4 M
# values, stays one batch per worker).
_MAX_BATCH_VALUES = 1_000_000


def _value_groups(lengths: Sequence[int], most: int) -> list[list[int]]:
    """Consecutive groups of the series (by position) of at most `most` values each (a longer
    series alone)."""
    groups: list[list[int]] = [[]]
    total = 0
    for i, n in enumerate(lengths):
        if groups[-1] and total + n > most:
            groups.append([])
            total = 0
        groups[-1].append(i)
        total += n
    return [g for g in groups if g]


def _ets_task(args: tuple) -> list[SeriesForecast]:
    return _ets_batch(*args)


def _ets_chunked(
    series: Sequence[np.ndarray],
    horizon: int,
    m: int,
    levels: Sequence[float],
    specs: Sequence[dict[str, Any] | None],
    workers: int,
    deadline: float | None,
    combine: str | None = None,
) -> list[SeriesForecast]:
    """ETS over one chunk of series per worker.

    The vectorised fit costs one Python-level loop over time per round of its optimiser,
    whatever the number of series inside: few, large chunks amortise it best (on M4 Hourly, 8
    chunks per worker took 2x longer than one). The series are dealt out by length, round
    robin, so that every chunk gets as many long series as the others.

    With a deadline the optimisers stop at `_OPTIMISE_SHARE` of the time left at the latest,
    each series with the best parameters found by then, and earlier where `ets_many`'s pilot
    prices the work that follows them (hold-out scores, combinations, intervals) higher.
    (Rounds sized by a measuring first round, before, paid that per-round loop again every
    round: under a 12 s budget ETS fitted 445 of 1,000 monthly series that take 14 s, the
    rest fell back to seasonal naive; on M4 Hourly ~100 of 414 in 31 s.)
    """
    workers = max(workers, 1)
    # longest first, series of one length in the order given (a deadline that cuts some of a
    # chunk cuts its last ones)
    order = [int(i) for i in np.argsort([-len(y) for y in series], kind="stable")]
    stop_at = None
    if deadline is not None:
        now = time.time()
        stop_at = now + _OPTIMISE_SHARE * max(deadline - now, 0.0)
    out: list[SeriesForecast | None] = [None] * len(series)
    with _ets_pool(workers, len(series)) as run:
        chunks = [c for c in (order[k::workers] for k in range(workers)) if len(c)]
        tasks = [
            (
                [series[i] for i in c],
                horizon,
                m,
                tuple(levels),
                [specs[i] for i in c],
                deadline,
                combine,
                stop_at,
            )
            for c in chunks
        ]
        for c, results in zip(chunks, run(tasks), strict=True):
            for i, res in zip(c, results, strict=True):
                out[i] = res
    return [r for r in out if r is not None]


# ETS with a deadline: the most of the time left that its optimisers may take (the rest is for
# what follows them in the workers and in the caller; `ets_many` measures its own part)
_OPTIMISE_SHARE = 0.85


@contextmanager
def _ets_pool(workers: int, n_series: int) -> Iterator[Any]:
    """A function that runs a list of `_ets_task` arguments, in `workers` processes when there
    are more than one (one pool for every round) and in this one otherwise."""
    if workers <= 1 or n_series <= 1:
        with single_threaded_blas():
            yield lambda tasks: [_ets_task(t) for t in tasks]
        return
    with _worker_pool(workers) as pool:
        yield (
            lambda tasks: (
                [_ets_task(t) for t in tasks]
                if len(tasks) == 1
                else list(pool.map(_ets_task, tasks))
            )
        )


# --------------------------------------------------------------------------- parallel runner

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _openblas_controls() -> list[tuple[Any, Any]]:
    """(get_num_threads, set_num_threads) of every OpenBLAS loaded in this process.

    numpy and scipy each bring their own OpenBLAS (symbols prefixed `scipy_openblas_`, with a
    `64_` suffix for the 64-bit-integer build). Statsmodels fits issue thousands of tiny BLAS
    calls; with the default one thread per core, OpenBLAS's threads spin against each other
    and against the other workers: on M4 Hourly, Theta runs 2.4x faster on one core and scales
    1.8x instead of 1.0x on two once BLAS is single-threaded.
    """
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted(
                {line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line}
            )
    except OSError:  # not Linux: fall back to the environment variables only
        return []
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("openblas", "scipy_openblas"):
            for suffix in ("", "64_"):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    controls.append((get, set_))
    return controls


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with every loaded OpenBLAS on one thread, then restore its setting."""
    controls = _openblas_controls()
    before = [int(get()) for get, _ in controls]
    for _, set_ in controls:
        set_(1)
    try:
        yield
    finally:
        for (_, set_), n_threads in zip(controls, before, strict=True):
            set_(n_threads)


def _init_worker() -> None:
    # One process per core: BLAS or torch threads inside a worker would oversubscribe them.
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    for _, set_ in _openblas_controls():
        set_(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _preload(model: str) -> None:
    """Import the model's statsmodels modules here, before forking, so that every worker
    inherits them instead of spending seconds importing them again."""
    import importlib

    modules = {
        "arima": [
            "statsmodels.tsa.seasonal",
            "statsmodels.tsa.stattools",
            "statsmodels.tsa.arima_process",
            "statsmodels.tsa.statespace.tools",
            "scipy.optimize",
            "scipy.signal",
        ],
    }
    for name in modules.get(model, []):
        importlib.import_module(name)


def _task(args: tuple) -> SeriesForecast:
    *fit_args, deadline = args
    model = fit_args[0]
    # Checked here, inside the worker, when the series is about to start: a chunk handed to a
    # worker before the deadline must still skip the series it has not reached by then.
    # A series that reapplies a fitted spec is a filter pass, not a fit: never cut.
    spec = fit_args[-1]
    if deadline is not None and not spec and model in _BOUNDED and time.time() >= deadline:
        _, y, horizon, season_length, levels, _ = fit_args
        out = _fallback(np.asarray(y, dtype=np.float64), horizon, int(season_length), levels)
        out.fallback = TIME_BUDGET_REASON
        return out
    return fit_forecast(*fit_args)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """None or -1: all cores; otherwise a positive integer."""
    n_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n_cores = n_cores or 1
    if n_jobs is None or n_jobs == -1:
        return n_cores
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        msg = f"`n_jobs` must be a positive integer, -1 or None (all cores), got {n_jobs!r}."
        raise InputError(msg)
    return n_jobs


def forecast_many(
    model: str,
    series: Sequence[np.ndarray],
    horizon: int,
    season_length: int = 1,
    levels: Sequence[float] = (),
    specs: Sequence[dict[str, Any] | None] | None = None,
    n_jobs: int | None = None,
    deadline: float | None = None,
    combine: str | None = None,
) -> list[SeriesForecast]:
    """`fit_forecast` over many series, in order, across `n_jobs` processes (None: all cores).

    `combine` (ets only) is how ETS turns its candidate fits into one forecast, one of
    `tsforecast.stats.ets.COMBINE`; None is `ets.DEFAULT_COMBINE` ("holdout").

    Cheap models (naive family) run in this process: a pool would cost more than the work.
    Theta fits all series at once, vectorised, in this process too; ETS fits one vectorised
    chunk of series per worker (with a deadline, its optimisers stop before it with the best
    parameters found: see `_ets_chunked`). `deadline` (a `time.time()` value) bounds the time
    of the fitted models: an arima series, or an ets chunk, not started by then is not fitted
    but gets the fallback forecast with the reason "time budget reached"; fits already running
    finish. naive2 is cut per series and theta per chunk of `THETA_CHUNK` series the same way.
    Series that all reapply a fitted spec ignore it (a filter pass each). naive,
    seasonal_naive and drift ignore it: they cost what the fallback (seasonal naive) would.
    """
    if model not in BASELINES:
        msg = f"unknown baseline {model!r}; choose one of {sorted(BASELINES)}."
        raise InputError(msg)
    if deadline is not None and (
        isinstance(deadline, bool) or not isinstance(deadline, (int, float))
    ):
        msg = (
            f"`deadline` must be a time.time() value (seconds since the epoch) or None, "
            f"got {deadline!r}; pass e.g. time.time() + budget_seconds."
        )
        raise InputError(msg)
    if combine is not None and model != "ets":
        msg = f"`combine` applies to model 'ets' only, got it for {model!r}; leave it None."
        raise InputError(msg)
    specs = list(specs) if specs is not None else [None] * len(series)
    if specs and all(spec is not None for spec in specs):
        # every series reapplies a fitted model (a backtest's later folds, a forecast from a
        # new history): a filter pass each, no search to cut short. Bounded, it would turn the
        # cheap second call of a fit that used its share into fallbacks
        deadline = None
    tasks = [
        (model, y, horizon, season_length, tuple(levels), spec, deadline)
        for y, spec in zip(series, specs, strict=True)
    ]
    workers = min(resolve_n_jobs(n_jobs), len(tasks))
    if model == "ets" and tasks:
        return _ets_chunked(
            series, horizon, int(season_length), levels, specs, workers, deadline, combine
        )
    # Past the deadline every series gets the cheap fallback: not worth forking a pool for.
    expired = deadline is not None and time.time() >= deadline
    if BASELINES[model] or workers <= 1 or expired:
        with single_threaded_blas():
            if model == "theta":
                return _theta_batch(series, horizon, int(season_length), levels, deadline)
            return [_task(t) for t in tasks]
    # About 8 chunks per worker: few enough that pickling overhead stays small, enough that a
    # chunk of long series at the end does not leave the other workers idle.
    chunksize = max(1, math.ceil(len(tasks) / (8 * workers)))
    _preload(model)
    with _worker_pool(workers) as pool:
        return list(pool.map(_task, tasks, chunksize=chunksize))


@contextmanager
def _worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` processes, forked (where the platform can) while this process's BLAS
    is single-threaded, so the workers start that way too."""
    import multiprocessing as mp

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    with (
        single_threaded_blas(),
        ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context(method), initializer=_init_worker
        ) as pool,
    ):
        yield pool
