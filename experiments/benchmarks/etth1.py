"""ETTh1, the standard long-horizon protocol (Informer / Autoformer / LTSF-Linear).

Run under the shared lock:
    flock /tmp/tsforecast-bench.lock python experiments/benchmarks/etth1.py

Protocol: rows [0, 8640) train, [8640, 11520) validation, [11520, 14400) test; every column is
z-scaled with the mean / standard deviation of the train rows only (sklearn StandardScaler,
ddof 0) and MSE / MAE are reported on that scale; multivariate, all 7 columns in and out;
stride-1 test windows: every cutoff from row 11519 to row 14399 - H (2,785 windows at H = 96),
whose inputs may reach back into the validation rows. The model is fitted on rows [0, 11520)
with `val_size=2880`, so early stopping scores exactly the validation windows of the protocol
and no training window's future reaches row 8640. Test windows are scored with
`predict_cutoffs`, which uses only the rows up to each cutoff. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import pandas as pd
import torch

import tsforecast.models as tm
from tsforecast import datasets

TRAIN_END, VAL_END, TEST_END = 8640, 11520, 14400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--horizons", default="96,336")
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--input-size", type=int, default=336)
    parser.add_argument("--budget", type=float, default=150.0, help="training seconds per horizon")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--patience-after",
        type=float,
        default=0.5,
        help="share of the schedule from which early stopping counts (0: from the start)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = datasets.load("etth1")
    df = data.df.iloc[:TEST_END].reset_index(drop=True)
    cols = list(data.target_cols)
    mean = df[cols].iloc[:TRAIN_END].mean()
    std = df[cols].iloc[:TRAIN_END].std(ddof=0)
    scaled = df.copy()
    scaled[cols] = (df[cols] - mean) / std
    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores visible, torch threads {args.threads}"
        if not torch.cuda.is_available()
        else torch.cuda.get_device_name()
    )
    print(f"ETTh1 multivariate ({len(cols)} columns), model {args.model}; machine: {machine}")

    results: dict[str, dict] = {}
    for horizon in [int(h) for h in args.horizons.split(",")]:
        model = tm.build(
            args.model,
            horizon=horizon,
            input_size=args.input_size,
            target_col=cols,
            scaler="none",  # the protocol's train-fitted z-scaling is already applied
            loss="mse",
            calendar=True,
            val_size=VAL_END - TRAIN_END,
            time_budget_s=args.budget,
            seed=args.seed,
            patience_after=args.patience_after,
            progress=False,
        )
        start = time.perf_counter()
        model.fit(scaled.iloc[:VAL_END])
        train_s = time.perf_counter() - start
        cutoffs = scaled["ds"].iloc[VAL_END - 1 : TEST_END - horizon].tolist()
        start = time.perf_counter()
        fc = model.predict_cutoffs(scaled, cutoffs)
        predict_s = time.perf_counter() - start
        actual = scaled[["ds", *cols]]
        joined = fc[["ds", "cutoff", *cols]].merge(actual, on="ds", suffixes=("_hat", ""))
        y_hat = joined[[f"{c}_hat" for c in cols]].to_numpy()
        y = joined[cols].to_numpy()
        n_windows = int(fc["cutoff"].nunique())
        assert len(joined) == n_windows * horizon
        mse = float(np.mean((y_hat - y) ** 2))
        mae = float(np.mean(np.abs(y_hat - y)))
        result = model.training_result_
        row = {
            "mse": round(mse, 4),
            "mae": round(mae, 4),
            "n_test_windows": n_windows,
            "train_s": round(train_s, 1),
            "predict_s": round(predict_s, 1),
            "steps": result.history[-1]["step"],
            "best_step": result.best_step,
            "stopped": result.stopped_reason,
            "best_val_mse": round(float(result.best_val_loss or np.nan), 4),
            "params": model.params_,
        }
        results[str(horizon)] = row
        print(
            f"H={horizon:4d}  MSE {mse:.4f}  MAE {mae:.4f}  windows {n_windows}  "
            f"train {train_s:6.1f}s  steps {row['steps']} ({row['stopped']})",
            flush=True,
        )
    print(
        json.dumps(
            {
                "benchmark": "etth1",
                "machine": machine,
                "model": args.model,
                "input_size": args.input_size,
                "budget_s": args.budget,
                "results": results,
                "mse_96": results.get("96", {}).get("mse"),
                "timestamp": pd.Timestamp.now("UTC").isoformat(),
            }
        )
    )


if __name__ == "__main__":
    main()
