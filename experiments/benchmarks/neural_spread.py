"""Seed-to-seed spread of auto's neural candidate, with and without weight averaging.

`auto` trains bilstm once, on the data before its two inner folds, with `target_transform="log"`
(positive data) and 45 % of the default budget (107 s of the 240 s on M4 Hourly and Weekly),
and reuses that fit for the final forecast. This script trains it the same way for each seed
and each `--ema-decay` ("none": off), forecasts the test part from the whole training history,
and prints the test sMAPE / MASE / OWA of bilstm alone and of 0.75 bilstm + 0.25 arima (the
combination auto chose on both sets), with arima fitted once per data set in the same run.
OWA is against Naive2 forecast in the same run. Last output line: one JSON object.

    python experiments/benchmarks/neural_spread.py --datasets m4_hourly --seeds 0 1 2 3 4
    python experiments/benchmarks/neural_spread.py --datasets m4_weekly --seeds 0 1 2

Each fit is time-budgeted, so the figures move with the machine's load: run it alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling `default_forecast`

from default_forecast import score, split  # noqa: E402

import tsforecast as tsf  # noqa: E402
from tsforecast.data.frequency import infer_season_length  # noqa: E402
from tsforecast.data.validation import to_panel  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402
from tsforecast.estimators import registry  # noqa: E402
from tsforecast.estimators.auto_selection import NEURAL_CANDIDATE  # noqa: E402
from tsforecast.metrics import owa  # noqa: E402

INNER_FOLDS = 2  # auto's default n_windows


def _decay(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def bench(
    name: str, seeds: list[int], decays: list[float | None], budget: float, extra: dict[str, Any]
) -> list[dict]:
    train, test, horizon, mase_season = split(name)
    season = int(infer_season_length(to_panel(train)))  # as auto infers it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)
        naive2 = tsf.forecast(train, horizon, model="naive2", season_length=mase_season)
        arima = tsf.forecast(train, horizon, model="arima", season_length=season)
    ref_smape, ref_mase = score(train, test, naive2, mase_season)
    steps_left = train.groupby("unique_id", sort=False).cumcount(ascending=False)
    before_folds = train[steps_left >= INNER_FOLDS * horizon].reset_index(drop=True)
    arima_y = arima.set_index(["unique_id", "ds"])["y"]
    rows = []
    for decay in decays:
        for seed in seeds:
            model = registry.build(
                NEURAL_CANDIDATE,
                {"target_transform": "log", "ema_decay": decay, **extra},
                horizon=horizon,
                season_length=season,
                seed=seed,
                time_budget_s=budget,
                progress=False,
            )
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TsforecastWarning)
                model.fit(before_folds)
                fc = model.predict(train)
            seconds = time.perf_counter() - started
            keys = pd.MultiIndex.from_frame(fc[["unique_id", "ds"]])
            combined = fc.assign(y=0.75 * fc["y"].to_numpy() + 0.25 * arima_y.loc[keys].to_numpy())
            row: dict[str, Any] = {
                "dataset": name,
                "ema_decay": decay,
                "seed": seed,
                "seconds": round(seconds, 1),
                "steps": int(model.history_[-1]["step"]),
                "stopped_by": (model.training_ or {}).get("stopped_by"),
            }
            for label, frame in (("bilstm", fc), ("combined", combined)):
                s, m = score(train, test, frame, mase_season)
                row[f"{label}_smape"], row[f"{label}_mase"] = round(s, 3), round(m, 3)
                row[f"{label}_owa"] = round(owa(s, m, ref_smape, ref_mase), 4)
            print(
                f"{name}: ema_decay {decay} {extra or ''} seed {seed}  {seconds:.0f} s  "
                f"{row['steps']} steps ({row['stopped_by']})  "
                f"bilstm {row['bilstm_smape']:.3f} / {row['bilstm_mase']:.3f} / OWA "
                f"{row['bilstm_owa']:.4f}  0.75 bilstm + 0.25 arima OWA {row['combined_owa']:.4f}",
                flush=True,
            )
            rows.append(row)
    for decay in decays:
        mine = [r for r in rows if r["dataset"] == name and r["ema_decay"] == decay]
        alone = [r["bilstm_owa"] for r in mine]
        both = [r["combined_owa"] for r in mine]
        print(
            f"{name}: ema_decay {decay}  {len(mine)} seeds  bilstm OWA mean {np.mean(alone):.4f} "
            f"(range {min(alone):.4f}-{max(alone):.4f})  combined mean {np.mean(both):.4f} "
            f"(worst {max(both):.4f})"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["m4_hourly", "m4_weekly"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--ema-decay", nargs="+", type=_decay, default=[None, 0.999])
    parser.add_argument("--budget", type=float, default=107.0, help="training seconds per fit")
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        help="more bilstm parameters, e.g. '{\"patience\": null}'",
    )
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        rows += bench(name, args.seeds, args.ema_decay, args.budget, args.params)
    summary = {"benchmark": "neural_spread", "budget_s": args.budget, "params": args.params}
    print(json.dumps({**summary, "runs": rows}))


if __name__ == "__main__":
    main()
