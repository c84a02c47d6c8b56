"""Statistical baselines on M4 Hourly: accuracy and wall time, one core against all cores.

Every model runs through `tsforecast.backtest` (the engine users call) on the 414 series with one
48-step fold (the official train/test split), season length 24, point forecasts only. For each
model it prints sMAPE, MASE, OWA (against Naive2, M4 definition), the published M4 row where
there is one (read from the shipped m4_hourly/m4_hourly_published_results.csv), the wall time
with `n_jobs=1` and with all cores, and the speed-up. The last line is one JSON object.

A slow model's `n_jobs=1` time can be measured on a subset (`--serial-every arima=4`: every 4th
series); the output then says so, gives the all-cores time on the same subset, and computes the
speed-up on that subset only, never from an extrapolation.

Run under the shared lock:
    flock /tmp/tsforecast-bench.lock \
        python experiments/benchmarks/stats.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# Measure this checkout, not whichever tsforecast happens to be installed.
sys.path.insert(0, str(REPO))

import tsforecast as tsf  # noqa: E402
from tsforecast import datasets, stats  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402
from tsforecast.stats import parallel  # noqa: E402

MODELS = ["naive", "seasonal_naive", "drift", "naive2", "theta", "ets", "arima"]
PUBLISHED_ID = {"naive": "Naive", "seasonal_naive": "sNaive", "naive2": "Naive2", "theta": "Theta"}


def published_rows() -> dict[str, dict[str, float]]:
    table = pd.read_csv(datasets.data_dir() / "m4_hourly" / "m4_hourly_published_results.csv")
    table["method_id"] = table["method_id"].astype(str)
    out = {}
    for model, method in PUBLISHED_ID.items():
        row = table[table["method_id"] == method].iloc[0]
        out[model] = {
            "smape": float(row["hourly_smape"]),
            "mase": float(row["hourly_mase"]),
            "owa": float(row["hourly_owa"]),
        }
    return out


def run(df: pd.DataFrame, model: str, n_jobs: int) -> tuple[float, Any]:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)  # fallbacks are counted below
        res = tsf.backtest(df, [model], horizon=48, n_windows=1, season_length=24, n_jobs=n_jobs)
    return time.perf_counter() - started, res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument(
        "--serial-every",
        default="",
        help="model=k pairs: time n_jobs=1 on every k-th series only (e.g. arima=4)",
    )
    args = parser.parse_args()
    models = [m for m in args.models.split(",") if m]
    serial_every = {
        k: int(v) for k, v in (pair.split("=") for pair in args.serial_every.split(",") if pair)
    }

    ds = datasets.load("m4_hourly")
    assert isinstance(ds, datasets.ForecastingDataset)
    df = pd.concat([ds.train, ds.test], ignore_index=True)
    ids = sorted(df["unique_id"].unique())
    n_all = stats.resolve_n_jobs(None)
    published = published_rows()
    load = os.getloadavg()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} | cores available: {n_all}"
        f" | load average at start: {load[0]:.1f} | python {platform.python_version()}"
    )
    print(f"M4 Hourly: {len(ids)} series, horizon 48, one fold (official split), m = 24")
    print(f"tsforecast from {Path(tsf.__file__).parent}", flush=True)
    for model in models:
        parallel._preload(model)  # imports are not part of the timing

    header = (
        f"{'model':15s} {'sMAPE':>7s} {'MASE':>7s} {'OWA':>7s} | {'published':>23s} | "
        f"{'1 job s':>8s} {f'{n_all} jobs s':>9s} {'speed-up':>8s}  fallbacks"
    )
    print(header)
    results: dict[str, Any] = {}
    for model in models:
        wall_all, res = run(df, model, n_all)
        metrics = res.metrics_pd.set_index("metric")["value"]
        every = serial_every.get(model, 1)
        if every > 1:
            subset = df[df["unique_id"].isin(ids[::every])]
            wall_one, _ = run(subset, model, 1)
            wall_all_subset, _ = run(subset, model, n_all)
            n_serial = len(ids[::every])
            speedup = wall_one / wall_all_subset
        else:
            wall_one, _ = run(df, model, 1)
            wall_all_subset = wall_all
            n_serial = len(ids)
            speedup = wall_one / wall_all
        row = {
            "smape": round(float(metrics["smape"]), 3),
            "mase": round(float(metrics["mase"]), 3),
            "owa": round(float(metrics["owa"]), 3),
            "published": published.get(model),
            "wall_s_all_cores": round(wall_all, 1),
            "n_jobs_all": n_all,
            "wall_s_1_job": round(wall_one, 1),
            "wall_s_all_cores_same_series": round(wall_all_subset, 1),
            "serial_measured_on_n_series": n_serial,
            "speedup": round(speedup, 2),
            "fallbacks": len(res.failures_pd),
            "in_process": stats.BASELINES[model],
        }
        results[model] = row
        pub = published.get(model)
        pub_text = f"{pub['smape']:7.3f} {pub['mase']:7.3f} {pub['owa']:7.3f}" if pub else "-"
        serial_text = f"{wall_one:8.1f}"
        note = ""
        if stats.BASELINES[model]:
            note = "  [runs in the calling process: n_jobs does not apply, times are noise]"
        if n_serial < len(ids):
            note = (
                f"  [1-job time and speed-up on {n_serial} of {len(ids)} series (every "
                f"{every}th); {n_all} jobs on those: {wall_all_subset:.1f} s]"
            )
        print(
            f"{model:15s} {row['smape']:7.3f} {row['mase']:7.3f} {row['owa']:7.3f} | "
            f"{pub_text:>23s} | {serial_text} {wall_all:9.1f} {speedup:8.2f}  "
            f"{row['fallbacks']}{note}",
            flush=True,
        )
    summary = {
        "benchmark": "m4_hourly_baselines",
        "n_series": len(ids),
        "horizon": 48,
        "cores": n_all,
        "load_average_at_start": round(load[0], 2),
        "models": results,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
