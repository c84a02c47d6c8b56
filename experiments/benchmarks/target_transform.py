"""The neural forecasters on raw and on log values (`target_transform`), same run, same budget.

For M4 Hourly and M4 Weekly (the M4 test split), `tsf.forecast(train, h, model=MODEL,
target_transform=T, levels=(80, 95), time_budget_s=BUDGET)` for T in "none" and "log": sMAPE,
MASE and OWA (M4 definitions, against Naive2 forecast in the same run) and the coverage of the
80 % and 95 % intervals, averaged over series. The last output line is one JSON object.

    flock /tmp/bench.lock python experiments/benchmarks/target_transform.py --budget 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from default_forecast import score, split  # noqa: E402

import tsforecast as tsf  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402
from tsforecast.metrics import coverage, owa  # noqa: E402


def interval_coverage(test: pd.DataFrame, fc: pd.DataFrame, level: int) -> float:
    """Mean over series of the share of test values inside the `level` % interval, in %."""
    shares = []
    for uid, actual in test.groupby("unique_id", sort=False):
        f = fc[fc["unique_id"] == uid]
        shares.append(
            coverage(
                actual["y"].to_numpy(),
                f[f"y_lo_{level}"].to_numpy(),
                f[f"y_hi_{level}"].to_numpy(),
            )
        )
    return round(100.0 * float(np.mean(shares)), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="m4_hourly,m4_weekly")
    parser.add_argument("--model", default="bilstm")
    parser.add_argument("--budget", type=float, default=100.0, help="seconds per fit")
    args = parser.parse_args()
    warnings.simplefilter("ignore", TsforecastWarning)
    rows = []
    for name in args.datasets.split(","):
        train, test, horizon, season = split(name)
        naive2 = tsf.forecast(train, horizon, model="naive2", season_length=season, progress=False)
        ref_smape, ref_mase = score(train, test, naive2, season)
        for transform in ("none", "log"):
            started = time.perf_counter()
            fc = pd.DataFrame(
                tsf.forecast(
                    train,
                    horizon,
                    model=args.model,
                    target_transform=transform,
                    levels=(80, 95),
                    time_budget_s=args.budget,
                    progress=False,
                )
            )
            seconds = time.perf_counter() - started
            s, m = score(train, test, fc, season)
            row = {
                "dataset": name,
                "target_transform": transform,
                "seconds": round(seconds, 1),
                "smape": round(s, 3),
                "mase": round(m, 3),
                "owa": round(owa(s, m, ref_smape, ref_mase), 4),
                "coverage_80": interval_coverage(test, fc, 80),
                "coverage_95": interval_coverage(test, fc, 95),
            }
            rows.append(row)
            print(
                f"{name} {args.model} target_transform={transform}: {row['seconds']} s  "
                f"sMAPE {row['smape']}  MASE {row['mase']}  OWA {row['owa']}  "
                f"coverage 80/95 {row['coverage_80']} / {row['coverage_95']}",
                flush=True,
            )
    print(json.dumps({"benchmark": "target_transform", "model": args.model, "results": rows}))


if __name__ == "__main__":
    main()
