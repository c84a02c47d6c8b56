"""How auto chooses on small panels: its choice with and without the median-of-three prior.

`auto` scores its options on two inner folds and takes the lowest score, except that the median
of the three best candidates is kept unless an option beats it by more than
`_PRIOR_MARGIN / sqrt(inner series-folds)` (`tsforecast/estimators/auto.py`). On one series two
folds choose by noise: AirPassengers' default chose median(seasonal_naive, theta), test OWA
1.0482, worse than Naive2.

This script measures the rule on the statistical candidates (seasonal_naive, theta, ets,
arima; auto's default candidates below 50,000 observations) for panels of 1, 3 and 10 series
drawn from each data set (AirPassengers, 1,000 monthly-like series, M4 Weekly, M4 Hourly) and
for the whole panel:
1. each candidate's inner-backtest forecasts (the last 2 folds of `horizon` steps of every
   training series, fitted once on the first, as auto does) and its test forecasts (the M4
   split) come from `tsf.backtest`, once per data set;
2. auto's choice is replayed on every group from those forecasts, with the margin `c` of
   `--margins` (0: no prior, the rule before; auto's own is `_PRIOR_MARGIN`);
3. the chosen option's test forecasts are scored: sMAPE and MASE means over all series, OWA
   against Naive2 (M4's definitions; MASE with the data set's season, 1 for Weekly).
The replay is checked against the real thing: `tsf.forecast` on `--check N` single series of
each data set (and AirPassengers) must choose what the replay chose with auto's own margin; the
count of agreements is printed. The last line is one JSON object.

    python experiments/benchmarks/selection_prior.py [--datasets ...] [--margins 0 0.1 0.2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import tsforecast as tsf
from tsforecast.estimators import auto as auto_module
from tsforecast.estimators.auto_selection import option_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baselines import load

CANDIDATES = ["seasonal_naive", "theta", "ets", "arima"]
N_WINDOWS = 2
GROUP_SIZES = (1, 3, 10)
# an option: (members, weights); empty weights: the members' median
Option = tuple[tuple[str, ...], tuple[float, ...]]


def data_set(name: str) -> tuple[pd.DataFrame, int, int]:
    if name == "air_passengers":
        df = tsf.datasets.load("air_passengers").df
        return df.assign(unique_id="AirPassengers"), 12, 12
    df, horizon, m = load(name)
    return df.sort_values(["unique_id", "ds"]).reset_index(drop=True), horizon, m


def every_option() -> list[Option]:
    options: list[Option] = [((c,), ()) for c in CANDIDATES]
    for a, b in itertools.permutations(CANDIDATES, 2):
        options += [((a, b), ()), ((a, b), (0.75, 0.25))]
    options += [(tuple(t), ()) for t in itertools.combinations(CANDIDATES, 3)]
    return options


def canonical(option: Option) -> Option:
    """One key per distinct forecast: medians in CANDIDATES order, 0.25 / 0.75 as 0.75 / 0.25."""
    members, weights = option
    if len(members) == 1:
        return option
    if not weights:
        return tuple(sorted(members, key=CANDIDATES.index)), ()
    if weights[0] < 0.5:
        return (members[1], members[0]), (weights[1], weights[0])
    return option


def window_scores(
    forecasts: pd.DataFrame, history: pd.DataFrame, m: int
) -> dict[Option, pd.DataFrame]:
    """Per option, sMAPE and MASE of every (series, cutoff) window."""
    wide = forecasts.pivot_table(
        index=["unique_id", "cutoff", "ds"], columns="model", values="y_hat"
    )
    actual = forecasts.drop_duplicates(["unique_id", "cutoff", "ds"]).set_index(
        ["unique_id", "cutoff", "ds"]
    )["y"]
    y = actual.loc[wide.index].to_numpy()
    windows = wide.index.droplevel("ds")
    keys = pd.MultiIndex.from_tuples(sorted(set(windows)), names=["unique_id", "cutoff"])
    values = {u: (g["ds"].to_numpy(), g["y"].to_numpy()) for u, g in history.groupby("unique_id")}
    scales = []
    for uid, cutoff in keys:
        ds, v = values[uid]
        seen = v[ds <= cutoff]
        lag = m if len(seen) > m else 1
        scales.append(np.abs(seen[lag:] - seen[:-lag]).mean())
    out = {}
    options = every_option() + ([(("naive2",), ())] if "naive2" in wide else [])
    for option in options:
        members, weights = option
        stacked = np.stack([wide[c].to_numpy() for c in members])
        point = np.median(stacked, axis=0) if not weights else np.tensordot(weights, stacked, 1)
        errors = pd.DataFrame(
            {
                "smape": 200 * np.abs(y - point) / (np.abs(y) + np.abs(point)),
                "ae": np.abs(y - point),
            },
            index=windows,
        )
        means = errors.groupby(level=[0, 1]).mean().reindex(keys)
        out[canonical(option)] = pd.DataFrame(
            {"smape": means["smape"].to_numpy(), "mase": means["ae"].to_numpy() / scales},
            index=keys,
        )
    return out


def replay(inner: dict[Option, pd.DataFrame], ids: list[str], margin: float) -> Option:
    """auto's choice for the panel `ids` (AutoForecaster._select and _inner_scores)."""
    pooled = {o: s.loc[ids].mean() for o, s in inner.items() if o != (("naive2",), ())}
    single = {c: pooled[((c,), ())] for c in CANDIDATES}
    reference = single[min(single, key=lambda c: single[c]["mase"])]

    def owa(o: Option) -> float:
        s = pooled[canonical(o)]
        return 0.5 * (s["mase"] / reference["mase"] + s["smape"] / reference["smape"])

    ranked = sorted(CANDIDATES, key=lambda c: owa(((c,), ())))
    a, b = ranked[:2]
    options = [((a,), ()), ((a, b), ()), ((a, b), (0.75, 0.25)), ((a, b), (0.25, 0.75))]
    options.append((tuple(ranked[:3]), ()))
    score = {o: owa(o) for o in options}
    best = min(score, key=score.__getitem__)
    near = [o for o in score if len(o[0]) > 1 and score[o] <= score[best] * auto_module._NEAR]
    if len(best[0]) == 1 and near:
        best = min(near, key=score.__getitem__)
    median3 = options[-1]
    limit = margin / math.sqrt(len(ids) * N_WINDOWS)
    if margin > 0 and best != median3 and score[best] >= score[median3] * (1 - limit):
        best = median3
    return canonical(best)


def bench(name: str, margins: list[float], n_check: int) -> dict:
    df, horizon, m = data_set(name)
    from_end = df.groupby("unique_id").cumcount(ascending=False)
    train = df[from_end >= horizon].reset_index(drop=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inner_fc = tsf.backtest(
            train,
            CANDIDATES,
            horizon=horizon,
            n_windows=N_WINDOWS,
            step=horizon,
            refit=False,
            season_length=m,
        ).forecasts
        test_fc = tsf.backtest(
            df, [*CANDIDATES, "naive2"], horizon=horizon, n_windows=1, season_length=m
        ).forecasts
    seconds = time.perf_counter() - started
    inner = window_scores(inner_fc, train, m)
    test = {o: s.groupby(level=0).mean() for o, s in window_scores(test_fc, df, m).items()}
    naive2 = test[(("naive2",), ())].mean()
    ids = sorted(df["unique_id"].unique())
    order = list(np.random.default_rng(0).permutation(ids))
    rows = []
    for k in [*GROUP_SIZES, len(ids)] if len(ids) > max(GROUP_SIZES) else [1]:
        groups = [order[i : i + k] for i in range(0, len(order), k)]
        for c in margins:
            chosen = [replay(inner, g, c) for g in groups]
            scored = pd.concat([test[o].loc[g] for o, g in zip(chosen, groups, strict=True)])
            smape, mase = scored["smape"].mean(), scored["mase"].mean()
            owa = 0.5 * (smape / naive2["smape"] + mase / naive2["mase"])
            counts = pd.Series([option_name(*o) for o in chosen]).value_counts()
            top = ", ".join(f"{n} {v}" for n, v in counts.head(3).items())
            print(
                f"{name}: groups of {k} series, margin {c:g}  sMAPE {smape:.3f}  MASE {mase:.3f}"
                f"  OWA {owa:.4f}  chose {top}",
                flush=True,
            )
            rows.append({"group": k, "margin": c, "smape": smape, "mase": mase, "owa": owa})
    agree, checked = 0, ids[:: max(1, len(ids) // n_check)][:n_check] if n_check else []
    for uid in checked:
        one = train[train["unique_id"] == uid]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = tsf.forecast(one, horizon, season_length=m, time_budget_s=None, progress=False)
        selection = fc.attrs["auto_selection"]
        real = canonical((tuple(selection["chosen"]), tuple(selection["weights"])))
        agree += real == replay(inner, [uid], auto_module._PRIOR_MARGIN)
    if checked:
        print(
            f"{name}: replay with margin {auto_module._PRIOR_MARGIN:g} = tsf.forecast's choice on "
            f"{agree} of {len(checked)} single series",
            flush=True,
        )
    return {
        "dataset": name,
        "backtest_s": round(seconds, 1),
        "rows": rows,
        "checked": len(checked),
        "agree": agree,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["air_passengers", "monthly_like", "m4_weekly", "m4_hourly"],
    )
    parser.add_argument(
        "--margins", nargs="+", type=float, default=[0.0, auto_module._PRIOR_MARGIN]
    )
    parser.add_argument("--check", type=int, default=10, help="single series checked per data set")
    args = parser.parse_args()
    results = [bench(name, args.margins, args.check) for name in args.datasets]
    print(json.dumps({"benchmark": "selection_prior", "results": results}))


if __name__ == "__main__":
    main()
