"""M4 Hourly with `tsforecast.forecast(model="auto")`, untuned defaults: OWA and wall time.

One call on Hourly-train (414 series) forecasts the 48 test steps; scored with the M4 definitions
(sMAPE and MASE with m = 24 averaged over series, OWA from those aggregates against Naive2's
published 18.383 / 2.395) plus 80 % / 95 % interval coverage. Goal: OWA <= 0.55 in under 15
minutes on two CPU cores. Last output line: one JSON object.

    flock /tmp/tsforecast-bench.lock python experiments/benchmarks/m4_hourly_auto.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

import tsforecast as tsf
from tsforecast.estimators.auto_selection import option_name
from tsforecast.metrics import coverage, mase, owa, smape

NAIVE2_SMAPE, NAIVE2_MASE, SEASON, HORIZON = 18.383, 2.395, 24, 48


def run(time_budget_s: float) -> dict:
    """Forecast M4 Hourly with model="auto" and score it; returns the figures."""
    data = tsf.datasets.load("m4_hourly")
    start = time.perf_counter()
    fc = tsf.forecast(
        data.train, horizon=HORIZON, levels=(80, 95), time_budget_s=time_budget_s, progress=True
    )
    wall_s = time.perf_counter() - start
    train = {uid: g.y.to_numpy() for uid, g in data.train.groupby("unique_id", sort=False)}
    test = {uid: g.y.to_numpy() for uid, g in data.test.groupby("unique_id", sort=False)}
    pred = {uid: g for uid, g in fc.groupby("unique_id", sort=False)}
    smapes, mases, cov80, cov95 = [], [], [], []
    for uid, y in test.items():
        f = pred[uid]
        smapes.append(smape(y, f.y.to_numpy()))
        mases.append(mase(y, f.y.to_numpy(), train[uid], season_length=SEASON))
        cov80.append(coverage(y, f.y_lo_80.to_numpy(), f.y_hi_80.to_numpy()))
        cov95.append(coverage(y, f.y_lo_95.to_numpy(), f.y_hi_95.to_numpy()))
    s, m = float(np.mean(smapes)), float(np.mean(mases))
    selection = fc.attrs["auto_selection"]
    return {
        "smape": round(s, 3),
        "mase": round(m, 3),
        "owa": round(owa(s, m, NAIVE2_SMAPE, NAIVE2_MASE), 4),
        "coverage_80": round(float(np.mean(cov80)), 3),
        "coverage_95": round(float(np.mean(cov95)), 3),
        "wall_s": round(wall_s, 1),
        "time_budget_s": time_budget_s,
        "chosen": selection.chosen,
        "choice": option_name(selection.chosen, selection.get("weights", [])),
        "inner_mase": {k: round(v, 4) for k, v in selection.inner_mase.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-budget", type=float, default=840.0, help="seconds for the call")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f} at start"
    )
    result = run(args.time_budget)
    print(
        f"auto on M4 Hourly: sMAPE {result['smape']}  MASE {result['mase']}  OWA {result['owa']}"
        f"  coverage 80/95 {result['coverage_80']}/{result['coverage_95']}"
        f"  in {result['wall_s']} s  chose {result['choice']}"
    )
    print(f"inner-backtest MASE: {result['inner_mase']}")
    goal_met = result["owa"] <= 0.55 and result["wall_s"] <= 900
    print(
        json.dumps(
            {
                "benchmark": "m4_hourly_auto",
                **result,
                "goal_owa": 0.55,
                "goal_wall_s": 900,
                "goal_met": goal_met,
            }
        )
    )


if __name__ == "__main__":
    main()
