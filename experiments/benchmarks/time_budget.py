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
back to). Then theta and naive2 on 20,000 hourly series of 300 values (h = 24, season 24),
unbounded and under budgets of 2 and 4 s, next to seasonal naive. Ends with one JSON line.

    python experiments/benchmarks/time_budget.py [--series 200 1000] [--budget 20]
        [--ets-series 10000] [--ets-budgets 1 2 5 10] [--theta-series 20000]
        [--theta-budgets 2 4]
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


def cyclic_panel(
    n_series: int, stamps: Any, period: int, noise: float, seed: int = 0
) -> pd.DataFrame:
    """Positive series, one per row of the result: a level, a cycle of `period` steps and
    noise, at `stamps` (the same for every series)."""
    rng = np.random.default_rng(seed)
    length = len(stamps)
    t = np.arange(length)
    values = (
        100
        + rng.uniform(0, 50, (n_series, 1))
        + 10 * np.sin(2 * np.pi * t / period)
        + rng.normal(0, noise, (n_series, length))
    )  # -> (n_series, length)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(n_series), length),
            "ds": np.tile(stamps, n_series),
            "y": values.ravel(),
        }
    )


def daily_panel(n_series: int, length: int = 30) -> pd.DataFrame:
    """Short daily series with a weekly cycle."""
    return cyclic_panel(n_series, pd.date_range("2024-01-01", periods=length, freq="D"), 7, 3.0)


def hourly_panel(n_series: int, length: int = 300) -> pd.DataFrame:
    """Hourly series with a daily cycle, at integer steps."""
    return cyclic_panel(n_series, np.arange(length), 24, 1.0)


def budget_cases(
    df: pd.DataFrame,
    what: str,
    horizon: int,
    cases: list[tuple[str, float | None]],
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Each (model, budget) of `cases` on `df`: wall time, overshoot and series fitted."""
    n_series = int(df["unique_id"].nunique())
    rows = []
    for model, budget in cases:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = tsf.forecast(
                df, horizon=horizon, model=model, time_budget_s=budget, progress=False, **kwargs
            )
        wall = time.perf_counter() - started
        failures = pd.DataFrame(fc.attrs.get("failures", []))
        reasons = failures.get("reason", pd.Series(dtype=str))
        n_budget = int((reasons == "time budget reached").sum())
        fitted = n_series - len(failures)
        if budget is None:
            print(
                f"{n_series:>6} {what}, {model}, no budget: wall {wall:6.1f} s"
                f" (reference); {fitted} fitted"
            )
        else:
            overshoot, goal = wall - budget, 0.1 * budget + 5.0
            print(
                f"{n_series:>6} {what}, {model}, budget {budget:g} s: wall "
                f"{wall:6.1f} s, overshoot {overshoot:+6.1f} s (goal <= {goal:.1f} s: "
                f"{'met' if overshoot <= goal else 'NOT met'}); {fitted} fitted, {n_budget} "
                "fell back at the deadline"
            )
        rows.append(
            {
                "series": n_series,
                "case": f"{what}, {model}",
                "budget_s": budget,
                "wall_s": round(wall, 2),
                "overshoot_s": None if budget is None else round(wall - budget, 2),
                "goal_met": None if budget is None else bool(wall - budget <= 0.1 * budget + 5),
                "fitted": fitted,
                "budget_fallbacks": n_budget,
            }
        )
    return rows


def ets_cases(n_series: int, budgets: list[float]) -> list[dict[str, Any]]:
    """ETS on short daily series, whose work follows its optimiser, and auto under 3 s (past
    its budget it runs no further inner backtest, each costing 2-4 s here)."""
    cases: list[tuple[str, float | None]] = [("seasonal_naive", None), ("ets", None)]
    cases += [("ets", b) for b in budgets] + [("auto", 3.0)]
    return budget_cases(daily_panel(n_series), "short daily series", 7, cases, levels=(80, 95))


def decomposing_cases(n_series: int, budgets: list[float]) -> list[dict[str, Any]]:
    """theta and naive2, which test every series for a season and decompose it (the naive
    methods cost what their fallback costs and ignore the clock), on long hourly series."""
    cases: list[tuple[str, float | None]] = [("seasonal_naive", None)]
    for model in ("theta", "naive2"):
        cases += [(model, None)] + [(model, b) for b in budgets]
    return budget_cases(hourly_panel(n_series), "hourly series of 300", 24, cases, season_length=24)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="*", default=[200, 1000], help="none: skip")
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--ets-series", type=int, default=10_000, help="0: skip the ETS part")
    parser.add_argument("--ets-budgets", type=float, nargs="+", default=[1.0, 2.0, 5.0, 10.0])
    parser.add_argument(
        "--theta-series", type=int, default=20_000, help="0: skip the theta/naive2 part"
    )
    parser.add_argument("--theta-budgets", type=float, nargs="+", default=[2.0, 4.0])
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
    if args.theta_series:
        rows += decomposing_cases(args.theta_series, args.theta_budgets)
    print(json.dumps({"benchmark": "time_budget", "runs": rows}))


if __name__ == "__main__":
    main()
