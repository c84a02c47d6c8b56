"""The default call `tsf.forecast(train, h)` on four data sets: seconds, accuracy, what it chose.

For each data set (AirPassengers, 1,000 monthly-like series, M4 Hourly, M4 Weekly) the default
call (model="auto", time_budget_s="auto", nothing else) forecasts the test part; sMAPE and MASE
(M4 definitions, averaged over series) and OWA against Naive2 forecast in the same run are
printed with the seconds, what `auto` chose and whether issue 10's goal is met (2 CPU cores:
<= 10 s for AirPassengers, <= 90 s for 1,000 monthly series, <= 300 s and OWA <= 0.44 for
M4 Hourly, OWA <= 0.85 for M4 Weekly). Last output line: one JSON object.

    flock /tmp/bench.lock python experiments/benchmarks/default_forecast.py --datasets m4_weekly

`--single-series N` measures instead the default call on one series at a time: N series of the
monthly-like panel and N of M4 Weekly (evenly spaced through each), and AirPassengers, once per
`--n-windows` value (auto's inner folds; 2 is the default), scored as above over the N calls:
whether more inner folds choose better for a single series (README: not kept).

    python experiments/benchmarks/default_forecast.py --single-series 20 --n-windows 2 4
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

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# Measure this checkout, not whichever tsforecast happens to be installed.
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling `baselines`

from baselines import monthly_like_panel  # noqa: E402

import tsforecast as tsf  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402
from tsforecast.estimators.auto_selection import option_name  # noqa: E402
from tsforecast.metrics import mase, owa, smape  # noqa: E402

DATASETS = ["air_passengers", "monthly_like", "m4_hourly", "m4_weekly"]
# data set -> (seconds goal or None, OWA goal or None), issue 10
GOALS: dict[str, tuple[float | None, float | None]] = {
    "air_passengers": (10.0, None),
    "monthly_like": (90.0, None),
    "m4_hourly": (300.0, 0.44),
    "m4_weekly": (None, 0.85),
}


def split(name: str) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """(train, test, horizon, M4 season length for MASE) of a data set."""
    if name == "monthly_like":
        horizon = 18
        full = monthly_like_panel(1000, horizon=horizon)
        last = full.groupby("unique_id")["ds"].transform("max")
        is_test = full["ds"] > last - horizon
        return full[~is_test].reset_index(drop=True), full[is_test], horizon, 12
    data = tsf.datasets.load(name)
    assert isinstance(data, tsf.datasets.ForecastingDataset)
    return data.train, data.test, data.horizon, data.season_length


def score(
    train: pd.DataFrame, test: pd.DataFrame, fc: pd.DataFrame, season: int
) -> tuple[float, float]:
    """Mean sMAPE and MASE over series (the M4 definitions)."""
    history = {uid: g["y"].to_numpy() for uid, g in train.groupby("unique_id", sort=False)}
    pred = {uid: g["y"].to_numpy() for uid, g in fc.groupby("unique_id", sort=False)}
    smapes, mases = [], []
    for uid, g in test.groupby("unique_id", sort=False):
        y = g["y"].to_numpy()
        smapes.append(smape(y, pred[uid]))
        mases.append(mase(y, pred[uid], history[uid], season_length=season))
    return float(np.mean(smapes)), float(np.mean(mases))


def bench(name: str) -> dict[str, Any]:
    train, test, horizon, season = split(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)
        reference = tsf.forecast(train, horizon, model="naive2", season_length=season)
    ref_smape, ref_mase = score(train, test, reference, season)
    started = time.perf_counter()
    fc = tsf.forecast(train, horizon)  # the default call, nothing else
    seconds = time.perf_counter() - started
    s, m = score(train, test, fc, season)
    selection = fc.attrs["auto_selection"]
    result = {
        "dataset": name,
        "n_series": int(train["unique_id"].nunique()),
        "seconds": round(seconds, 1),
        "smape": round(s, 3),
        "mase": round(m, 3),
        "owa": round(owa(s, m, ref_smape, ref_mase), 4),
        "naive2_smape": round(ref_smape, 3),
        "naive2_mase": round(ref_mase, 3),
        "chosen": list(selection.chosen),
        "weights": list(selection.get("weights", [])),
        "candidates": list(selection.candidates),
        "reason": selection.reason,
        "inner_mase": {k: round(v, 4) for k, v in selection.inner_mase.items()},
        "inner_owa": {k: round(v, 4) for k, v in selection.get("inner_owa", {}).items()},
        "owa_reference": selection.get("owa_reference", ""),
        "n_failures": len(fc.attrs.get("failures", [])),
    }
    goal_s, goal_owa = GOALS[name]
    result["goal_seconds"], result["goal_owa"] = goal_s, goal_owa
    result["goal_met"] = (goal_s is None or seconds <= goal_s) and (
        goal_owa is None or result["owa"] <= goal_owa
    )
    return result


def code_version() -> str:
    """The measured checkout's commit (with "+changes" when its files differ from it)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def single_series(n: int, n_windows: int) -> list[dict[str, Any]]:
    """The default call on each of `n` single series of monthly-like and M4 Weekly, and on
    AirPassengers, with auto's `n_windows`: seconds and accuracy over the calls."""
    out = []
    for name in ("monthly_like", "m4_weekly", "air_passengers"):
        train, test, horizon, season = split(name)
        ids = train["unique_id"].unique()
        ids = ids[:: max(1, len(ids) // n)][:n]
        forecasts, references, seconds = [], [], 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TsforecastWarning)
            for uid in ids:
                one = train[train["unique_id"] == uid].reset_index(drop=True)
                started = time.perf_counter()
                forecasts.append(tsf.forecast(one, horizon, n_windows=n_windows, progress=False))
                seconds += time.perf_counter() - started
                references.append(tsf.forecast(one, horizon, model="naive2", season_length=season))
        part = train[train["unique_id"].isin(ids)]
        truth = test[test["unique_id"].isin(ids)]
        s, m = score(part, truth, pd.concat(forecasts), season)
        ref_s, ref_m = score(part, truth, pd.concat(references), season)
        out.append(
            {
                "dataset": name,
                "n_series": len(ids),
                "n_windows": n_windows,
                "seconds": round(seconds, 1),
                "smape": round(s, 3),
                "mase": round(m, 3),
                "owa": round(owa(s, m, ref_s, ref_m), 4),
            }
        )
        r = out[-1]
        print(
            f"{name}: {r['n_series']} single-series calls, n_windows={n_windows}  "
            f"{r['seconds']} s  sMAPE {r['smape']}  MASE {r['mase']}  OWA {r['owa']}",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    parser.add_argument("--single-series", type=int, default=0, help="N single-series calls")
    parser.add_argument("--n-windows", nargs="+", type=int, default=[2], help="auto's folds")
    args = parser.parse_args()
    if args.single_series:
        rows = []
        for value in args.n_windows:
            rows += single_series(args.single_series, value)
        print(json.dumps({"benchmark": "default_forecast_single_series", "results": rows}))
        return
    import torch

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f} at start, "
        f"code {code_version()}"
    )
    results = []
    for name in args.datasets:
        r = bench(name)
        results.append(r)
        goal = [f"<= {r['goal_seconds']:.0f} s"] if r["goal_seconds"] else []
        goal += [f"OWA <= {r['goal_owa']}"] if r["goal_owa"] else []
        print(
            f"{name}: {r['n_series']} series  {r['seconds']} s  sMAPE {r['smape']}  "
            f"MASE {r['mase']}  OWA {r['owa']} (Naive2 same run: sMAPE {r['naive2_smape']} "
            f"MASE {r['naive2_mase']})  chose {option_name(r['chosen'], r['weights'])}  "
            f"fallbacks {r['n_failures']}  goal {' and '.join(goal)}: "
            f"{'met' if r['goal_met'] else 'NOT met'}"
        )
        print(f"  inner MASE {r['inner_mase']}")
        if r["inner_owa"]:
            print(f"  inner OWA vs {r['owa_reference']} {r['inner_owa']}")
    print(json.dumps({"benchmark": "default_forecast", "results": results}))


if __name__ == "__main__":
    main()
