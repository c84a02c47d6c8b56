"""One machine, many series: does time and memory follow the number of observations?

Synthetic ragged hourly panels of 1k, 10k and 100k series (lengths uniform 20-2,000, seeded:
level + daily season + noise, categorical string ids, all series ending at the same hour).
Every (size, step) runs in a fresh subprocess, so peaks do not mix; the peak RSS is the
child's own `ru_maxrss` (from `os.wait4`). Steps:

    frame           build the synthetic frame only (the reference every other step includes)
    panel           + `tsf.to_panel(df)` (validation, ragged storage)
    seasonal_naive  + `tsf.forecast(df, horizon=24, model="seasonal_naive")`
    theta           + `tsf.forecast(df, horizon=24, model="theta")`
    lstm            + `tsf.forecast(df, horizon=24, model="lstm", time_budget_s=B)` (global fit)

Printed per step: wall time of the step itself (frame building excluded), its time per
observation and peak RSS; then the growth of the time per observation from the smallest to the
largest size (goal: <= 1.2x), the peak RSS at the largest size (goal: <= 8 GB), and the reference
line: the bytes of the panel in the ragged layout against the padded [S, T_max, C] layout it
replaces, and of the training window source (ragged segments against the padded copy).
Ends with one JSON line.

    flock /tmp/bench.lock python experiments/benchmarks/scale.py \\
        [--sizes 1000 10000 100000] [--steps panel seasonal_naive theta lstm] [--lstm-budget 60]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

HORIZON = 24
MIN_LENGTH, MAX_LENGTH = 20, 2000
STEPS = ("frame", "panel", "seasonal_naive", "theta", "lstm")
GROWTH_GOAL = 1.2
RSS_GOAL_GB = 8.0


def ragged_frame(n_series: int, seed: int = 0, block: int = 4096) -> pd.DataFrame:
    """A long frame of `n_series` hourly series of uniform lengths 20-2,000 (no Python loop
    over series). Built block by block into the final arrays, so that making it peaks at little
    more than the frame itself (its peak is the reference every step includes)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_LENGTH, MAX_LENGTH + 1, n_series)
    level = rng.uniform(50, 500, n_series)
    amplitude = rng.uniform(0.05, 0.3, n_series)
    bounds = np.r_[0, np.cumsum(lengths)]
    n_obs = int(bounds[-1])
    codes = np.empty(n_obs, dtype=np.int32)
    ds = np.empty(n_obs, dtype="datetime64[ns]")
    y = np.empty(n_obs, dtype=np.float64)
    end = np.datetime64("2024-12-31T23:00", "ns")
    hour_ns = np.timedelta64(3600 * 10**9, "ns")
    for lo in range(0, n_series, block):
        hi = min(lo + block, n_series)
        rows = slice(int(bounds[lo]), int(bounds[hi]))
        n = lengths[lo:hi]
        series = np.repeat(np.arange(lo, hi, dtype=np.int32), n)
        # hours before the common last hour, counted back from each series' end
        from_end = np.repeat(bounds[lo + 1 : hi + 1] - 1, n) - np.arange(bounds[lo], bounds[hi])
        ds[rows] = end - from_end * hour_ns
        hour = (23 - from_end % 24).astype(np.float64)  # the last hour is 23:00
        season = np.sin(2 * np.pi * hour / 24)
        y[rows] = level[series] * (1 + amplitude[series] * season) + rng.normal(0, 1, len(hour))
        codes[rows] = series
    categories = pd.Index([f"id_{s:06d}" for s in range(n_series)])
    ids = pd.Categorical.from_codes(codes, categories=categories)
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": y}, copy=False)


def run_step(step: str, n_series: int, lstm_budget: float) -> dict[str, Any]:
    """One step in this process (the child): its own wall time and what it made."""
    import torch

    import tsforecast as tsf

    torch.manual_seed(0)
    started = time.perf_counter()
    df = ragged_frame(n_series)
    out: dict[str, Any] = {"n_obs": len(df)}
    if step != "frame":  # the other steps' times exclude building the frame
        started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if step == "panel":
            panel = tsf.to_panel(df)
            out["ragged_bytes"] = panel.data.numel() * 4 + panel.offsets.numel() * 8
            t_max = int(panel.lengths.max())
            out["padded_bytes"] = panel.n_series * t_max * panel.n_channels * 4
        elif step in ("seasonal_naive", "theta"):
            fc = tsf.forecast(df, horizon=HORIZON, model=step, season_length=24)
            out["rows_out"] = len(fc)
        elif step == "lstm":
            fc = tsf.forecast(
                df,
                horizon=HORIZON,
                model="lstm",
                input_size=48,
                hidden_size=32,
                batch_size=1024,
                time_budget_s=lstm_budget,
                progress=False,
            )
            out["rows_out"] = len(fc)
    out["wall_s"] = time.perf_counter() - started
    return out


def in_child(step: str, n_series: int, lstm_budget: float) -> dict[str, Any]:
    """`run_step` in a fresh interpreter; adds its peak RSS (its own, not the parent's)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        result_path = handle.name
    command = [sys.executable, __file__, "--child", step, str(n_series), result_path]
    command += ["--lstm-budget", str(lstm_budget)]
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        msg = f"step {step} at {n_series} series failed (exit code {process.returncode})"
        raise RuntimeError(msg)
    with open(result_path) as handle:
        result = json.load(handle)
    os.unlink(result_path)
    result["peak_rss_gb"] = usage.ru_maxrss * 1024 / 1e9  # Linux reports KiB
    return result


def window_source_bytes(n_series: int, n_obs: int, t_max: int, input_size: int = 48) -> dict:
    """Flat copy bytes for one channel: ragged segments against the padded layout's copy."""
    ragged = (n_obs + n_series * (input_size - 1 + HORIZON)) * 4
    padded = n_series * (input_size - 1 + t_max + HORIZON) * 4
    return {"ragged": ragged, "padded": padded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--steps", nargs="+", default=list(STEPS[1:]), choices=STEPS)
    parser.add_argument("--lstm-budget", type=float, default=60.0)
    parser.add_argument("--child", nargs=3, metavar=("STEP", "N_SERIES", "RESULT"))
    args = parser.parse_args()
    if args.child:
        step, n_series, result_path = args.child
        result = run_step(step, int(n_series), args.lstm_budget)
        with open(result_path, "w") as handle:
            json.dump(result, handle)
        return

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores (shared: figures include load)")
    steps = ["frame", *[s for s in args.steps if s != "frame"]]
    results: dict[str, dict[int, dict[str, Any]]] = {step: {} for step in steps}
    for n_series in args.sizes:
        for step in steps:
            result = in_child(step, n_series, args.lstm_budget)
            results[step][n_series] = result
            per_obs = result["wall_s"] / result["n_obs"] * 1e9
            print(
                f"{step:>15} {n_series:>7} series {result['n_obs']:>11,} obs: "
                f"{result['wall_s']:8.2f} s  {per_obs:8.1f} ns/obs  "
                f"peak RSS {result['peak_rss_gb']:5.2f} GB",
                flush=True,
            )
    small, large = min(args.sizes), max(args.sizes)
    summary: dict[str, Any] = {"sizes": args.sizes, "steps": {}}
    for step in steps:
        if step == "frame":
            continue
        lo, hi = results[step][small], results[step][large]
        growth = (hi["wall_s"] / hi["n_obs"]) / (lo["wall_s"] / lo["n_obs"])
        peak = hi["peak_rss_gb"]
        verdict = "met" if growth <= GROWTH_GOAL else "NOT met"
        if step == "lstm":  # a fixed time budget: its time per observation is no goal
            verdict = "time-budgeted, not a goal"
        print(
            f"{step:>15}: time per observation {small} -> {large} series: x{growth:.2f} "
            f"(goal <= {GROWTH_GOAL}: {verdict}); "
            f"peak RSS at {large}: {peak:.2f} GB "
            f"(goal <= {RSS_GOAL_GB}: {'met' if peak <= RSS_GOAL_GB else 'NOT met'})"
        )
        summary["steps"][step] = {
            "wall_s": {str(n): results[step][n]["wall_s"] for n in args.sizes},
            "peak_rss_gb": {str(n): results[step][n]["peak_rss_gb"] for n in args.sizes},
            "growth_per_obs": growth,
        }
    frame_peak = results["frame"][large]["peak_rss_gb"]
    print(f"{'frame':>15}: the synthetic frame alone peaks at {frame_peak:.2f} GB ({large} series)")
    summary["frame_peak_rss_gb"] = frame_peak
    if "panel" in results:
        panel = results["panel"][large]
        source = window_source_bytes(large, panel["n_obs"], MAX_LENGTH)
        print(
            f"reference: panel storage at {large} series: ragged {panel['ragged_bytes'] / 1e9:.2f} "
            f"GB vs padded [S, T_max, C] {panel['padded_bytes'] / 1e9:.2f} GB "
            f"(x{panel['padded_bytes'] / panel['ragged_bytes']:.2f}); window source (L=48): "
            f"ragged {source['ragged'] / 1e9:.2f} GB vs padded {source['padded'] / 1e9:.2f} GB"
        )
        summary["panel_bytes"] = {"ragged": panel["ragged_bytes"], "padded": panel["padded_bytes"]}
        summary["window_source_bytes"] = source
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
