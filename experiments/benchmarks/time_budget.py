"""Does `time_budget_s` bound the whole `forecast()` call?

Synthetic monthly panels (trend + yearly season + noise, 120-240 points) of 200 and 1,000 series
through the default `forecast(df, horizon=12, time_budget_s=B)`; prints the wall time, the
overshoot over the budget and the goal (overshoot <= 10 % of the budget + 5 s), what `auto`
chose and how many series fell back because the budget ran out; then an LSTM with a quarter
of the budget, alone and with calibrated intervals (whose calibration fit shares the budget).
Then ETS on many short series (10,000 daily series of 30 values, h = 7, 80/95 % intervals),
where most of ETS's work follows its optimiser: under budgets of 1, 2, 5 and 10 s, with the
same goal, how many series it fitted, and the default `auto` under 3 s; the references in the
same run are the unbounded ETS call and seasonal naive (the floor: what every series falls
back to). Ends with one JSON line.

    python experiments/benchmarks/time_budget.py [--series 200 1000] [--budget 20]
        [--ets-series 10000] [--ets-budgets 1 2 5 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.estimators.auto_selection import option_name


def monthly_panel(n_series: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(n_series):
        n = int(rng.integers(120, 241))
        t = np.arange(n)
        level = rng.uniform(100, 5000)
        y = level * (1 + 0.002 * t) * (1 + 0.15 * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6)))
        y = y * (1 + rng.normal(0, 0.03, n))
        ds = pd.date_range(end="2024-12-01", periods=n, freq="MS")
        parts.append(pd.DataFrame({"unique_id": f"s{s}", "ds": ds, "y": y}))
    return pd.concat(parts, ignore_index=True)


# (label, forecast() arguments, share of --budget): the default call, then a neural model whose
# preparation and calibration fits must come out of the same budget (the first neural fit of
# the process also builds torch's first optimizer, about 2 s, inside the budget)
CASES: list[tuple[str, dict[str, Any], float]] = [
    ("auto", {}, 1.0),
    ("lstm", {"model": "lstm"}, 0.25),
    (
        "lstm, calibrated 80/95",
        {"model": "lstm", "levels": (80, 95), "intervals": "calibrated"},
        0.25,
    ),
]


def daily_panel(n_series: int, length: int = 30, seed: int = 0) -> pd.DataFrame:
    """Short daily series: a level, a weekly cycle and noise, all positive."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    values = (
        100
        + rng.uniform(0, 50, (n_series, 1))
        + 10 * np.sin(2 * np.pi * t / 7)
        + rng.normal(0, 3, (n_series, length))
    )  # -> (n_series, length)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n_series), length),
            "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="D"), n_series),
            "y": values.ravel(),
        }
    )


def ets_cases(n_series: int, budgets: list[float]) -> list[dict[str, Any]]:
    df = daily_panel(n_series)
    rows = []
    cases = [("seasonal_naive", None), ("ets", None)] + [("ets", b) for b in budgets]
    # auto past its budget runs no further inner backtest (each costs 2-4 s here)
    cases.append(("auto", 3.0))
    for model, budget in cases:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = tsf.forecast(
                df, horizon=7, model=model, levels=(80, 95), time_budget_s=budget, progress=False
            )
        wall = time.perf_counter() - started
        failures = pd.DataFrame(fc.attrs.get("failures", []))
        reasons = failures.get("reason", pd.Series(dtype=str))
        n_budget = int((reasons == "time budget reached").sum())
        fitted = n_series - len(failures)
        if budget is None:
            print(
                f"{n_series:>6} short daily series, {model}, no budget: wall {wall:6.1f} s"
                f" (reference); {fitted} fitted"
            )
        else:
            overshoot, goal = wall - budget, 0.1 * budget + 5.0
            print(
                f"{n_series:>6} short daily series, {model}, budget {budget:g} s: wall "
                f"{wall:6.1f} s, overshoot {overshoot:+6.1f} s (goal <= {goal:.1f} s: "
                f"{'met' if overshoot <= goal else 'NOT met'}); {fitted} fitted, {n_budget} "
                "fell back at the deadline"
            )
        rows.append(
            {
                "series": n_series,
                "case": f"short daily, {model}",
                "budget_s": budget,
                "wall_s": round(wall, 2),
                "overshoot_s": None if budget is None else round(wall - budget, 2),
                "goal_met": None if budget is None else bool(wall - budget <= 0.1 * budget + 5),
                "fitted": fitted,
                "budget_fallbacks": n_budget,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--ets-series", type=int, default=10_000, help="0: skip the ETS part")
    parser.add_argument("--ets-budgets", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0])
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    rows = []
    for n_series in args.series:
        df = monthly_panel(n_series)
        for label, kwargs, share in CASES:
            budget = args.budget * share
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fc = tsf.forecast(df, horizon=12, time_budget_s=budget, progress=False, **kwargs)
            wall = time.perf_counter() - started
            selection = fc.attrs.get("auto_selection")
            chosen = list(selection.chosen) if selection is not None else [kwargs["model"]]
            weights = list(selection.get("weights", [])) if selection is not None else []
            failures = pd.DataFrame(fc.attrs.get("failures", []))
            reasons = failures.get("reason", pd.Series(dtype=str))
            n_budget = int((reasons == "time budget reached").sum())
            overshoot = wall - budget
            goal = 0.1 * budget + 5.0
            print(
                f"{n_series:>6} series, {label}, budget {budget:.0f} s: wall {wall:6.1f} s, "
                f"overshoot {overshoot:+6.1f} s (goal <= {goal:.1f} s: "
                f"{'met' if overshoot <= goal else 'NOT met'}"
                ")"
                f"; chose {option_name(chosen, weights)}; {n_budget} series fell back at the "
                "deadline"
            )
            rows.append(
                {
                    "series": n_series,
                    "case": label,
                    "budget_s": budget,
                    "wall_s": round(wall, 2),
                    "overshoot_s": round(overshoot, 2),
                    "goal_met": bool(overshoot <= goal),
                    "chosen": chosen,
                    "budget_fallbacks": n_budget,
                }
            )
    if args.ets_series:
        rows += ets_cases(args.ets_series, args.ets_budgets)
    print(json.dumps({"benchmark": "time_budget", "runs": rows}))


if __name__ == "__main__":
    main()
