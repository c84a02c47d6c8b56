"""M4 Hourly: every neural model as one global model over the 414 series, 48 test steps.

Run under the shared lock so that timings are not polluted by other runs:
    flock /tmp/tsforecast-bench.lock python experiments/benchmarks/m4_hourly.py

Each model is trained on Hourly-train with a wall-clock budget (`--budget`, default 180 s: the
"3-minute" figure; early stopping may end it sooner), forecasts the 48 test steps from the end
of each training series, and is scored with the M4 definitions through `tsforecast.metrics`:
sMAPE and MASE (m = 24, scale from the training part) averaged over series, OWA from those
aggregates against Naive2's published 18.383 / 2.395, and 80 % / 95 % interval coverage.
Then the best of them is trained again with `--long-budget` (default 600 s: the "10-minute"
figure; 0 skips it). The last output line is one JSON object; `best_owa` is the best OWA of all
runs, `best_owa_budget` the best at `--budget`. Finally `tsforecast.forecast(model="auto")`
(untuned, `--auto-budget` seconds, default 840) is scored the same way under the key `auto`
(goal: OWA <= 0.55 in under 15 minutes); `--models "" --long-budget 0` runs only that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch

import tsforecast.models as tm
from tsforecast import datasets
from tsforecast.metrics import coverage, mase, owa, smape

NAIVE2_SMAPE = 18.383  # official M4 Hourly Naive2 (Evaluation and Ranks.xlsx)
NAIVE2_MASE = 2.395
SEASON = 24


def score(train: dict, test: dict, fc: dict) -> dict[str, float]:
    smapes, mases, cov80, cov95 = [], [], [], []
    for uid, y in test.items():
        f = fc[uid]
        smapes.append(smape(y, f["y"]))
        mases.append(mase(y, f["y"], train[uid], season_length=SEASON))
        cov80.append(coverage(y, f["y_lo_80"], f["y_hi_80"]))
        cov95.append(coverage(y, f["y_lo_95"], f["y_hi_95"]))
    s, m = float(np.mean(smapes)), float(np.mean(mases))
    return {
        "smape": round(s, 3),
        "mase": round(m, 3),
        "owa": round(owa(s, m, NAIVE2_SMAPE, NAIVE2_MASE), 4),
        "coverage_80": round(float(np.mean(cov80)), 3),
        "coverage_95": round(float(np.mean(cov95)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="lstm,bilstm,seq2seq")
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds per model")
    parser.add_argument("--long-budget", type=float, default=600.0, help="0: skip the long run")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--auto-budget",
        type=float,
        default=840.0,
        help="seconds for tsforecast.forecast(model='auto') on the same data (0: skip)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = datasets.load("m4_hourly")
    train = {k: g["y"].to_numpy() for k, g in data.train.groupby("unique_id", sort=False)}
    test = {k: g["y"].to_numpy() for k, g in data.test.groupby("unique_id", sort=False)}
    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores visible, torch threads {args.threads}"
        if not torch.cuda.is_available()
        else torch.cuda.get_device_name()
    )
    print(f"M4 Hourly: {len(train)} series, horizon 48; machine: {machine}; budget {args.budget}s")

    def run(name: str, budget: float) -> dict:
        model = tm.build(
            name,
            horizon=48,
            levels=(80, 95),
            time_budget_s=budget,
            seed=args.seed,
            progress=False,
        )
        start = time.perf_counter()
        model.fit(data.train)
        train_s = time.perf_counter() - start
        forecasts = model.predict()
        fc = {k: g for k, g in forecasts.groupby("unique_id", sort=False)}
        row = score(train, test, fc)
        result = model.training_result_
        row.update(
            {
                "budget_s": budget,
                "train_s": round(train_s, 1),
                "steps": result.history[-1]["step"],
                "best_step": result.best_step,
                "stopped": result.stopped_reason,
                "params": model.params_,
            }
        )
        print(
            f"{name:8s} budget {budget:5.0f}s  sMAPE {row['smape']:7.3f}  MASE {row['mase']:6.3f}  "
            f"OWA {row['owa']:.4f}  cov80 {row['coverage_80']:.3f}  "
            f"cov95 {row['coverage_95']:.3f}  train {row['train_s']:6.1f}s  "
            f"steps {row['steps']} ({row['stopped']})",
            flush=True,
        )
        return row

    models = [name for name in args.models.split(",") if name]
    results = {name: run(name, args.budget) for name in models}
    best = min(results, key=lambda k: results[k]["owa"]) if results else None
    long_run = run(best, args.long_budget) if best and args.long_budget > 0 else None
    auto = None
    if args.auto_budget > 0:
        # the one-call API, untuned: goal OWA <= 0.55 in under 15 minutes (m4_hourly_auto.py)
        from m4_hourly_auto import run as run_auto

        auto = run_auto(args.auto_budget)
        print(
            f"auto     budget {args.auto_budget:5.0f}s  sMAPE {auto['smape']:7.3f}  "
            f"MASE {auto['mase']:6.3f}  OWA {auto['owa']:.4f}  cov80 {auto['coverage_80']:.3f}  "
            f"cov95 {auto['coverage_95']:.3f}  wall {auto['wall_s']:6.1f}s  "
            f"chose {auto['choice']}",
            flush=True,
        )
    if best is None:
        print(json.dumps({"benchmark": "m4_hourly", "machine": machine, "auto": auto}))
        return
    best_owa = min([results[best]["owa"], *([long_run["owa"]] if long_run else [])])
    print(
        json.dumps(
            {
                "benchmark": "m4_hourly",
                "machine": machine,
                "budget_s": args.budget,
                "naive2": {"smape": NAIVE2_SMAPE, "mase": NAIVE2_MASE},
                "metrics_from": "tsforecast.metrics",
                "models": results,
                "long_run": {"model": best, **long_run} if long_run else None,
                "best_model": best,
                "best_owa_budget": results[best]["owa"],
                "best_owa": best_owa,
                "auto": auto,
            }
        )
    )


if __name__ == "__main__":
    main()
