"""engine="ray" vs engine="local" on the same backtest of a synthetic ragged panel.

The panel: `--n-series` (10,000) hourly series of 20-2,000 values (log-uniform lengths, a daily
season, a trend and noise; fixed seed). The backtest: seasonal_naive and theta, horizon 6,
3 windows (step 6), m = 24, metrics mae / smape / mase (no OWA, so no hidden naive2 run).

It prints, for each engine, the wall time of `tsf.backtest`, and for Ray, measured in the same
run, where the time goes:
- warm-up: a first small call on a fresh Ray (worker processes start and import tsforecast),
  not counted in the Ray wall time (a cluster is started once and serves many calls);
- driver, before: validating the frame into a panel (as every engine does), and cutting the
  panel into chunks (`Panel.select`, the fold plan's rows);
- serialisation: pickling the chunks (bytes and seconds, in the driver);
- transfer + scheduling: a no-op Ray task over the same chunks (they still travel to the
  workers) and over empty chunks (scheduling alone), per chunk;
- work in the chunks: the seconds the models took inside the workers, summed, and what that
  is per worker; next to it the same chunks run one after the other in the driver (the cost
  of cutting the work into chunks, without Ray and without two workers sharing the CPUs);
- driver, after: the fan-out's results put back in order, then the metrics and the frames
  (`tsf.backtest` minus the fan-out).
Then series·models·folds per CPU-second, next to statsforecast's ~1,900 (1M series x 10 models
x 7 folds in 4.8 min on 128 CPUs: 7e7 / (288 s x 128)).

The `fits` case (`--case fits`): independent fits fanned out, one task each, on
`--fit-series` (300) series of the same kind: a backtest of an lstm refitted on each of
`FIT_WINDOWS` folds, and `forecast(model="auto")` with a statistical and a neural candidate
(no time budget, so that the choice does not depend on the seconds). Local runs them one after
the other, with torch's default threads (every visible core) and again with one thread; Ray
runs them as tasks of one torch thread each.
It prints both walls, the ratio, whether the results are equal, and the tasks' seconds (summed,
per worker, the longest): with 2 workers the wall cannot go below the longest task nor below
the summed work over 2.

Run under the shared lock (the numbers share the machine with whatever else runs on it):
    flock /tmp/bench.lock python experiments/benchmarks/engines.py --cpus 2 [--case fits]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# Measure this checkout, not whichever tsforecast happens to be installed; the Ray workers
# started below inherit PYTHONPATH and import the same checkout.
sys.path.insert(0, str(REPO))
os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])

import tsforecast as tsf  # noqa: E402
from tsforecast.engines import RayEngine, work  # noqa: E402
from tsforecast.engines.chunks import series_chunks  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402

MODELS = ["seasonal_naive", "theta"]
HORIZON, N_WINDOWS, STEP, SEASON = 6, 3, 6, 24
METRICS = ["mae", "smape", "mase"]
STATSFORECAST_PER_CPU_S = 1e6 * 10 * 7 / (4.8 * 60 * 128)
FIT_WINDOWS = 4
LSTM = ("lstm", {"max_steps": 150, "input_size": 48, "hidden_size": 32, "batch_size": 64})
AUTO_CANDIDATES = ["theta", "lstm"]


def ragged_panel(n_series: int, seed: int = 0) -> pd.DataFrame:
    """Hourly series of 20-2,000 values (log-uniform lengths): level, trend, daily season."""
    rng = np.random.default_rng(seed)
    lengths = np.exp(rng.uniform(np.log(20), np.log(2000), n_series)).astype(np.int64)
    n_obs = int(lengths.sum())
    series = np.repeat(np.arange(n_series), lengths)
    starts = np.cumsum(lengths) - lengths
    t = np.arange(n_obs) - np.repeat(starts, lengths)  # position within its series
    level = np.repeat(rng.uniform(10, 100, n_series), lengths)
    slope = np.repeat(rng.normal(0, 0.01, n_series), lengths)
    amplitude = np.repeat(rng.uniform(0, 5, n_series), lengths)
    y = level + slope * t + amplitude * np.sin(2 * np.pi * t / SEASON) + rng.normal(0, 1, n_obs)
    origin = np.datetime64("2020-01-01T00:00")
    return pd.DataFrame(
        {
            "unique_id": pd.Categorical.from_codes(
                series, [f"s{i:05d}" for i in range(n_series)]
            ).astype(str),
            "ds": origin + t.astype("timedelta64[h]"),
            "y": y,
        }
    )


def run_backtest(df: pd.DataFrame, engine: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)
        result = tsf.backtest(
            df,
            MODELS,
            horizon=HORIZON,
            n_windows=N_WINDOWS,
            step=STEP,
            season_length=SEASON,
            metrics=METRICS,
            engine=engine,
        )
    return result, time.perf_counter() - started


def _noop(shared: Any, item: Any) -> int:
    return 0


def fits_case(n_series: int, cpus: int) -> dict[str, Any]:
    """Refitted lstm folds and auto's candidates: local vs Ray tasks (Ray initialised)."""
    import torch

    df = ragged_panel(n_series, seed=1)
    kwargs = {
        "horizon": HORIZON,
        "n_windows": FIT_WINDOWS,
        "step": STEP,
        "season_length": SEASON,
        "metrics": ["mase"],
        "refit": True,
    }
    auto = {
        "candidates": AUTO_CANDIDATES,
        "time_budget_s": None,
        "season_length": SEASON,
        "progress": False,
        **LSTM[1],
    }

    default_threads = torch.get_num_threads()

    def both(call: Any) -> tuple[Any, float, float, Any, float, RayEngine]:
        """Local with torch's default threads, local with one thread, then Ray tasks."""
        engine = RayEngine()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TsforecastWarning)
            t0 = time.perf_counter()
            local = call("local")
            local_s = time.perf_counter() - t0
            torch.set_num_threads(1)
            t0 = time.perf_counter()
            call("local")
            local_1_s = time.perf_counter() - t0
            torch.set_num_threads(default_threads)
            t0 = time.perf_counter()
            on_ray = call(engine)
            ray_s = time.perf_counter() - t0
        return local, local_s, local_1_s, on_ray, ray_s, engine

    # warm-up: the workers import torch and train once before anything is timed
    tiny = ("lstm", {"max_steps": 2, "input_size": 6, "hidden_size": 4})
    few = df[df["unique_id"].isin(df["unique_id"].drop_duplicates().iloc[:20])]
    tsf.backtest(few, [tiny], engine=RayEngine(), **{**kwargs, "n_windows": cpus})

    out: dict[str, Any] = {"fit_series": n_series, "local_torch_threads": torch.get_num_threads()}
    cases = {
        "refit_lstm": lambda engine: tsf.backtest(df, [LSTM], engine=engine, **kwargs),
        "auto": lambda engine: tsf.forecast(df, HORIZON, model="auto", engine=engine, **auto),
    }
    for name, call in cases.items():
        local, local_s, local_1_s, on_ray, ray_s, engine = both(call)
        if name == "refit_lstm":
            same = np.allclose(local.forecasts["y_hat"], on_ray.forecasts["y_hat"], rtol=1e-5)
            what = f"backtest of an lstm refitted on each of {FIT_WINDOWS} folds"
        else:
            same = np.allclose(local["y"], on_ray["y"], rtol=1e-5) and (
                local.attrs["auto_selection"].chosen == on_ray.attrs["auto_selection"].chosen
            )
            what = f"forecast(model='auto') with candidates {AUTO_CANDIDATES}"
        seconds = [task.seconds for task in engine.tasks]
        bound = max(max(seconds), sum(seconds) / cpus)  # the least wall 2 workers allow
        print(
            f"fits/{name}: {what}, {n_series} series: local {local_s:.2f} s "
            f"(torch {default_threads} threads), local {local_1_s:.2f} s (torch 1 thread), "
            f"ray {ray_s:.2f} s ({len(seconds)} tasks of 1 thread on {cpus} workers); "
            f"ratio local / ray {local_s / ray_s:.2f}x ({local_1_s / ray_s:.2f}x against "
            f"1 thread); same results: {same}"
        )
        print(
            f"  tasks: {sum(seconds):.2f} s summed, {sum(seconds) / cpus:.2f} s per worker, "
            f"longest {max(seconds):.2f} s; the rest of the ray wall (driver, transfer, "
            f"reassembly; auto's final refit): {ray_s - bound:.2f} s"
        )
        out[name] = {
            "local_s": round(local_s, 3),
            "local_1_thread_s": round(local_1_s, 3),
            "ray_s": round(ray_s, 3),
            "ratio_local_over_ray": round(local_s / ray_s, 3),
            "ratio_local_1_thread_over_ray": round(local_1_s / ray_s, 3),
            "same_results": bool(same),
            "tasks": len(seconds),
            "task_s_summed": round(sum(seconds), 3),
            "task_s_longest": round(max(seconds), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-series", type=int, default=10_000)
    parser.add_argument("--fit-series", type=int, default=300)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--case", choices=["backtest", "fits", "all"], default="all")
    args = parser.parse_args()

    import ray

    if args.case == "fits":
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        fits = fits_case(args.fit_series, args.cpus)
        ray.shutdown()
        print(json.dumps({"benchmark": "engines", "cpus": args.cpus, "fits": fits}))
        return

    df = ragged_panel(args.n_series)
    n_obs = len(df)
    print(
        f"panel: {args.n_series} series, {n_obs} rows (lengths 20-2,000, log-uniform); "
        f"models {MODELS}, horizon {HORIZON}, {N_WINDOWS} windows; "
        f"{len(os.sched_getaffinity(0))} cores visible, Ray on {args.cpus} (machine shared)"
    )

    local, local_s = run_backtest(df, "local")
    print(f"local: {local_s:.2f} s wall (seasonal_naive and theta run in the calling process)")

    started = time.perf_counter()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    engine = RayEngine()
    start_s = time.perf_counter() - started
    warm_ids = df["unique_id"].drop_duplicates().iloc[:200]
    _, warm_s = run_backtest(df[df["unique_id"].isin(warm_ids)], engine)
    print(f"ray: start {start_s:.2f} s, warm-up call {warm_s:.2f} s (workers import tsforecast)")

    # the fan-out, timed from inside the same backtest call
    fan_out = work.fan_out_backtest
    fan_out_s: list[float] = []

    def timed_fan_out(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        out = fan_out(*a, **k)
        fan_out_s.append(time.perf_counter() - t0)
        return out

    work.fan_out_backtest = timed_fan_out  # type: ignore[assignment]
    try:
        on_ray, ray_s = run_backtest(df, engine)
    finally:
        work.fan_out_backtest = fan_out  # type: ignore[assignment]
    same = on_ray.forecasts.equals(local.forecasts) and on_ray.metrics.equals(local.metrics)
    print(f"ray: {ray_s:.2f} s wall; same forecasts and metrics as local: {same}")
    print(f"ratio local / ray: {local_s / ray_s:.2f}x with {args.cpus} Ray workers")

    # where the Ray time goes
    from tsforecast.backtest.folds import plan_folds
    from tsforecast.backtest.models import resolve_models

    t0 = time.perf_counter()
    panel = tsf.to_panel(df, device="cpu")
    validate_s = time.perf_counter() - t0

    plan = plan_folds(panel.lengths.numpy(), HORIZON, N_WINDOWS, STEP, None, 1)
    t0 = time.perf_counter()
    chunks = series_chunks(panel.lengths.numpy(), engine.n_chunks(panel.n_series))
    items = [(panel.select(c.tolist()), work._plan_rows(plan, c)) for c in chunks]
    chunk_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pickled = sum(len(pickle.dumps(item, protocol=5)) for item in items)
    pickle_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.map(_noop, None, items)
    transfer_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.map(_noop, None, [None] * len(items))
    schedule_s = time.perf_counter() - t0
    work_s = sum(on_ray.settings["timings_s"].values())
    shared = {"horizon": HORIZON, "season_length": SEASON, "levels": None, "n_jobs": 1}
    runs = resolve_models(MODELS, shared)
    t0 = time.perf_counter()
    for chunk_panel, chunk_plan in items:
        work._backtest_chunk(runs, (), chunk_panel, chunk_plan)
    sequential_s = time.perf_counter() - t0
    after_s = ray_s - fan_out_s[0]
    print(
        f"  driver, before: {validate_s:.2f} s to validate the frame, {chunk_s:.2f} s to cut "
        f"{len(items)} chunks ({engine.chunks_per_worker} per worker)"
    )
    print(f"  serialisation: {pickled / 1e6:.1f} MB pickled in {pickle_s:.2f} s (driver)")
    print(
        f"  transfer + scheduling: no-op tasks over the chunks {transfer_s:.2f} s, over empty "
        f"chunks {schedule_s:.3f} s ({1e3 * schedule_s / len(items):.1f} ms per chunk)"
    )
    print(
        f"  work in the chunks: {work_s:.2f} s summed, {work_s / args.cpus:.2f} s per worker; "
        f"fan-out wall {fan_out_s[0]:.2f} s; the same chunks one after the other in the "
        f"driver: {sequential_s:.2f} s"
    )
    print(f"  driver, after (reassembly outside the fan-out, metrics, frames): {after_s:.2f} s")

    smf = args.n_series * len(MODELS) * N_WINDOWS
    local_rate = smf / (local_s * args.cpus)
    ray_rate = smf / (ray_s * args.cpus)
    print(
        f"series*models*folds per CPU-second ({args.cpus} CPUs): local {local_rate:.0f}, "
        f"ray {ray_rate:.0f}; statsforecast ~{STATSFORECAST_PER_CPU_S:.0f} "
        "(1M x 10 x 7 in 4.8 min on 128 CPUs)"
    )
    fits = fits_case(args.fit_series, args.cpus) if args.case == "all" else None
    ray.shutdown()
    print(
        json.dumps(
            {
                "benchmark": "engines",
                "fits": fits,
                "n_series": args.n_series,
                "n_obs": n_obs,
                "models": MODELS,
                "n_windows": N_WINDOWS,
                "cpus": args.cpus,
                "local_s": round(local_s, 3),
                "ray_s": round(ray_s, 3),
                "ratio_local_over_ray": round(local_s / ray_s, 3),
                "ray_start_s": round(start_s, 3),
                "ray_warmup_s": round(warm_s, 3),
                "same_results": bool(same),
                "chunks": len(items),
                "validate_s": round(validate_s, 3),
                "chunking_s": round(chunk_s, 3),
                "pickled_mb": round(pickled / 1e6, 2),
                "pickle_s": round(pickle_s, 3),
                "transfer_noop_s": round(transfer_s, 3),
                "schedule_noop_s": round(schedule_s, 3),
                "work_in_chunks_s": round(work_s, 3),
                "fan_out_s": round(fan_out_s[0], 3),
                "chunks_sequential_in_driver_s": round(sequential_s, 3),
                "driver_after_s": round(after_s, 3),
                "smf_per_cpu_s_local": round(local_rate, 1),
                "smf_per_cpu_s_ray": round(ray_rate, 1),
                "statsforecast_smf_per_cpu_s": round(STATSFORECAST_PER_CPU_S, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
