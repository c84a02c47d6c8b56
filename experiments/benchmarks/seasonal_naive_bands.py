"""Seasonal naive's own 80 / 95 % bands on M4 Hourly, per day ahead: which band shape to ship.

Three shapes of the band around the value one season back, k seasons ahead (k = 1, 2 for the
48-hour horizon, m = 24):
- `normal` (shipped, as R's `snaive` and statsforecast): z * RMS(y_t - y_{t-m}) * sqrt(k);
- `rank_sqrtk`: the ceil((n + 1) l)-th smallest |y_t - y_{t-m}| (conformal's rank) * sqrt(k);
- `lag_k`: the same rank of the k-season differences |y_t - y_{t-km}| (the in-sample errors
  of the same forecast k seasons ahead; no growth assumed).

Each is scored on the 8 windows of 48 hours one horizon apart that end with the M4 test split
(oldest first, the last one the test), from the values before each window only. Printed per
shape and level: the coverage of day 1 / day 2 in each window, then over all 8 windows per day
and overall. A shape whose overall coverage is nominal only because its two days miss in
opposite directions is not calibrated. The last line is one JSON object.

    python experiments/benchmarks/seasonal_naive_bands.py
"""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np

from tsforecast import datasets

HORIZON, SEASON, WINDOWS, LEVELS = 48, 24, 8, (80, 95)


def rank_quantile(values: np.ndarray, level: float) -> float:
    """The ceil((n + 1) level / 100)-th smallest |value| (NaN when the rank exceeds n)."""
    ordered = np.sort(np.abs(values))
    rank = math.ceil((len(ordered) + 1) * level / 100)
    return float(ordered[rank - 1]) if rank <= len(ordered) else math.nan


def half_widths(history: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """(H,) half-width of each shape after `history`."""
    steps = np.arange(HORIZON)
    seasons_ahead = steps // SEASON + 1  # k
    one = history[SEASON:] - history[:-SEASON]
    z = NormalDist().inv_cdf(0.5 + level / 200)
    lag_k = [rank_quantile(history[k * SEASON :] - history[: -k * SEASON], level) for k in (1, 2)]
    return {
        "normal": z * np.sqrt(np.mean(one**2)) * np.sqrt(seasons_ahead),
        "rank_sqrtk": rank_quantile(one, level) * np.sqrt(seasons_ahead),
        "lag_k": np.array(lag_k)[seasons_ahead - 1],
    }


def main() -> None:
    data = datasets.load("m4_hourly")
    test = {k: g["y"].to_numpy() for k, g in data.test.groupby("unique_id")}
    series = [
        np.concatenate([g["y"].to_numpy(), test[k]]) for k, g in data.train.groupby("unique_id")
    ]
    inside: dict[tuple[str, int, int], list[np.ndarray]] = {}
    for values in series:
        for w in range(WINDOWS):
            end = len(values) - (WINDOWS - w) * HORIZON
            history, actual = values[:end], values[end : end + HORIZON]
            steps = np.arange(HORIZON)
            point = history[len(history) - SEASON + steps % SEASON]
            for level in LEVELS:
                for shape, half in half_widths(history, level).items():
                    inside.setdefault((shape, level, w), []).append(np.abs(actual - point) <= half)
    print(f"M4 Hourly seasonal naive: {len(series)} series, {WINDOWS} windows of {HORIZON} h")
    out = {}
    for shape in ("normal", "rank_sqrtk", "lag_k"):
        for level in LEVELS:
            per_window = [np.array(inside[(shape, level, w)]) for w in range(WINDOWS)]
            days = " ".join(
                f"{100 * c[:, :SEASON].mean():.1f}/{100 * c[:, SEASON:].mean():.1f}"
                for c in per_window
            )
            every = np.concatenate(per_window)
            day1, day2 = 100 * every[:, :SEASON].mean(), 100 * every[:, SEASON:].mean()
            print(
                f"{shape:<11} {level}  day 1/day 2 per window: {days}  all windows: day 1 "
                f"{day1:.1f} day 2 {day2:.1f} both {100 * every.mean():.1f}"
            )
            out[f"{shape}_{level}"] = {
                "day1": round(day1, 1),
                "day2": round(day2, 1),
                "test_day1": round(100 * per_window[-1][:, :SEASON].mean(), 1),
                "test_day2": round(100 * per_window[-1][:, SEASON:].mean(), 1),
            }
    print(json.dumps({"benchmark": "seasonal_naive_bands", "coverage": out}))


if __name__ == "__main__":
    main()
