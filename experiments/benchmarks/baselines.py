"""Statistical baselines on M4 Hourly, M4 Weekly and a monthly-like panel: accuracy and wall time.

Every model runs through `tsforecast.backtest` (the engine users call) with one fold, point
forecasts only, on three data sets:
- M4 Hourly: 414 series, horizon 48, m = 24 (the official train/test split);
- M4 Weekly: 359 series, horizon 13, m = 1 (the official split; the organisers score Weekly with
  a seasonal period of 1, so MASE and Naive2 use m = 1 and the published rows compare);
- monthly-like: 1,000 positive series of 48-240 months generated here with a fixed seed
  (`monthly_like_panel`: a random-walk log-level around piecewise growth, multiplicative
  seasonality in 70% of them, log-normal noise), horizon 18, m = 12 (M4 Monthly's horizon).
  There is no published row for it; it measures speed and the no-negative-forecast rule.

For each model it prints sMAPE, MASE, OWA (against Naive2, M4 definition), the published M4 row
where there is one (from the shipped m4_*/m4_*_published_results.csv; `ets` is shown next to the
published Damped on Weekly, the best single statistical benchmark there), the wall time with all
cores and, unless `--no-serial`, with `n_jobs=1` and the speed-up, the seconds of the model
alone on all cores (`stats.forecast_many` on the training arrays: the backtest engine's own work
excluded) and its CPU seconds (all processes: steadier than wall time on a loaded machine), the
fallbacks, and how many strictly positive series got a negative forecast. The
last line is one JSON object.

When `statsforecast` is importable (and unless `--no-peers`), its AutoETS, AutoTheta and
AutoARIMA run on the same training data in the same run (season length m, same horizon, the
same number of processes, SeasonalNaive as its fallback model as ours fall back to seasonal
naive) and are scored by the same `tsforecast.metrics.evaluate` against the same Naive2.
statsforecast compiles its models with numba on first use: every model first runs once on two
series, that warm-up is timed and printed apart, and the seconds reported are those of the
warm run. statsforecast's AutoARIMA is slow on long seasonal series (on M4 Hourly, 42 series
did not finish in 15 minutes on 2 cores): pass `--peer-every AutoARIMA=k` or `--no-peers`.

`--history N` keeps only the last N training values of every series (the test part as it is):
the short-history regime, where a 3-season history leaves the M4 seasonality test no power
(published rows do not apply and are not shown). `--ets-season-gate acf` runs `ets` with the
M4 autocorrelation test of the series alone as the gate of its seasonal forms (the rule before
"acf_or_detrended", which also tests the series less its line), for a before/after in one
checkout.

A slow model's `n_jobs=1` time can be measured on a subset (`--serial-every arima=4`: every 4th
series); the output then says so, gives the all-cores time on the same subset, and computes the
speed-up on that subset only, never from an extrapolation.

Run under the shared lock:
    flock /tmp/tsforecast-bench.lock \
        python experiments/benchmarks/baselines.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
# Measure this checkout, not whichever tsforecast happens to be installed.
sys.path.insert(0, str(REPO))

import tsforecast as tsf  # noqa: E402
from tsforecast import datasets, stats  # noqa: E402
from tsforecast.errors import TsforecastWarning  # noqa: E402
from tsforecast.stats import ets, ets_fit, parallel  # noqa: E402

MODELS = ["naive", "seasonal_naive", "drift", "naive2", "theta", "ets", "arima"]
DATASETS = ["m4_hourly", "m4_weekly", "monthly_like"]
# model -> published M4 method shown next to it, per data set
PUBLISHED_ID = {
    "m4_hourly": {
        "naive": "Naive",
        "seasonal_naive": "sNaive",
        "naive2": "Naive2",
        "theta": "Theta",
    },
    "m4_weekly": {
        "naive": "Naive",
        "seasonal_naive": "sNaive",
        "naive2": "Naive2",
        "theta": "Theta",
        "ets": "Damped",
    },
}


def monthly_like_panel(n_series: int = 1000, horizon: int = 18, seed: int = 0) -> pd.DataFrame:
    """A reproducible panel of positive monthly-like series (train + the `horizon` test months)."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n_series):
        n = int(rng.integers(48, 241)) + horizon
        # log-level: a random walk around piecewise-linear growth with up to two breaks
        growth = np.full(n, rng.normal(0.0, 0.008))
        for _ in range(int(rng.integers(0, 3))):
            growth[int(rng.integers(n // 4, n)) :] = rng.normal(0.0, 0.012)
        noise_sd = rng.uniform(0.003, 0.03)
        log_level = np.log(rng.uniform(100.0, 10_000.0)) + np.cumsum(
            growth + rng.normal(0.0, noise_sd, n)
        )
        amplitude = 0.0 if rng.random() < 0.3 else rng.uniform(0.05, 0.35)
        shape = np.sin(2 * np.pi * np.arange(12) / 12 + rng.uniform(0, 2 * np.pi))
        shape += rng.normal(0.0, 0.4, 12)
        season = 1.0 + amplitude * shape / np.abs(shape).max()
        noise = np.exp(rng.normal(0.0, rng.uniform(0.01, 0.1), n))
        start = int(rng.integers(0, 12))
        y = np.exp(log_level) * np.resize(np.roll(season, -start), n) * noise
        frames.append(pd.DataFrame({"unique_id": f"M{k}", "ds": np.arange(n), "y": y}))
    return pd.concat(frames, ignore_index=True)


def load(name: str, n_monthly: int = 1000) -> tuple[pd.DataFrame, int, int]:
    """(train + test frame, horizon, season length) of a data set."""
    if name == "monthly_like":
        return monthly_like_panel(n_monthly), 18, 12
    ds = datasets.load(name)
    assert isinstance(ds, datasets.ForecastingDataset)
    return pd.concat([ds.train, ds.test], ignore_index=True), ds.horizon, ds.season_length


def published_rows(name: str) -> dict[str, dict[str, Any]]:
    if name not in PUBLISHED_ID:
        return {}
    freq = name.split("_")[1]
    table = pd.read_csv(datasets.data_dir() / name / f"{name}_published_results.csv")
    id_col = "method_id" if "method_id" in table.columns else "method"
    table[id_col] = table[id_col].astype(str)
    out = {}
    for model, method in PUBLISHED_ID[name].items():
        row = table[table[id_col] == method].iloc[0]
        out[model] = {
            "method": method,
            "smape": float(row[f"{freq}_smape" if f"{freq}_smape" in row else f"smape_{freq}"]),
            "mase": float(row[f"{freq}_mase" if f"{freq}_mase" in row else f"mase_{freq}"]),
            "owa": float(row[f"{freq}_owa" if f"{freq}_owa" in row else f"owa_{freq}"]),
        }
    return out


def run(df: pd.DataFrame, model: str, horizon: int, m: int, n_jobs: int) -> tuple[float, Any]:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TsforecastWarning)  # fallbacks are counted below
        res = tsf.backtest(
            df, [model], horizon=horizon, n_windows=1, season_length=m, n_jobs=n_jobs
        )
    return time.perf_counter() - started, res


def model_seconds(
    df: pd.DataFrame, model: str, horizon: int, m: int, n_jobs: int
) -> tuple[float, float]:
    """Wall time and CPU time (this process and its worker processes, which the pool has
    joined by the end) of the model alone (`stats.forecast_many` on the training arrays),
    without the backtest engine's own work (validation, panel, frames, metrics). On a loaded
    machine the CPU time is the steadier figure: it does not count the waits for a core."""
    import resource

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    train = [g["y"].to_numpy()[:-horizon] for _, g in df.groupby("unique_id", sort=False)]
    started, cpu_started = time.perf_counter(), cpu()
    stats.forecast_many(model, train, horizon, m, n_jobs=n_jobs)
    return time.perf_counter() - started, cpu() - cpu_started


def negative_on_positive(df: pd.DataFrame, res: Any, horizon: int, frame: bool = False) -> int:
    """How many strictly positive training series got a forecast below zero (`res` is a
    backtest result, or a forecasts frame when `frame`)."""
    fc = res if frame else res.forecasts_pd
    train = df.groupby("unique_id")["y"].apply(lambda s: bool((s.iloc[:-horizon] > 0).all()))
    lowest = fc.groupby("unique_id")["y_hat"].min()
    return int(((lowest < 0) & train.reindex(lowest.index).fillna(False)).sum())


# statsforecast model -> our model whose published row (if any) it is shown next to
PEERS = {"AutoETS": "ets", "AutoTheta": "theta", "AutoARIMA": "arima"}


def peers_available() -> bool:
    try:
        import statsforecast  # noqa: F401
    except ImportError:
        return False
    return True


def _peer_forecast(model: Any, train: pd.DataFrame, horizon: int, m: int, n_jobs: int) -> Any:
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    sf = StatsForecast(
        models=[model], freq=1, n_jobs=n_jobs, fallback_model=SeasonalNaive(season_length=m)
    )
    return sf.forecast(df=train, h=horizon)


def bench_peers(
    df: pd.DataFrame,
    horizon: int,
    m: int,
    n_jobs: int,
    published: dict[str, Any],
    ours: dict[str, pd.DataFrame],
    every: dict[str, int],
) -> dict[str, Any]:
    """statsforecast's AutoETS / AutoTheta / AutoARIMA on the same fold, scored as ours.

    `ours` holds our models' forecasts frames (from the backtests above); `every` maps a peer
    to k when it runs on every k-th series only: our models are then also scored on exactly
    those series, next to it.
    """
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    from tsforecast.metrics import evaluate

    makers = {"AutoETS": AutoETS, "AutoTheta": AutoTheta, "AutoARIMA": AutoARIMA}
    ids = sorted(df["unique_id"].unique())
    last = df.groupby("unique_id")["ds"].transform("max")
    train = df[df["ds"] <= last - horizon].reset_index(drop=True)
    # Naive2's forecasts from our engine: the frame (with actuals, cutoff) and the OWA reference
    base = run(df, "naive2", horizon, m, n_jobs)[1].forecasts_pd
    results = {}
    for name, make in makers.items():
        k = every.get(name, 1)
        subset = set(ids[::k])
        two = train[train["unique_id"].isin(ids[:2])]
        started = time.perf_counter()
        _peer_forecast(make(season_length=m), two, horizon, m, 1)  # numba compiles here
        warmup = time.perf_counter() - started
        started = time.perf_counter()
        out = _peer_forecast(
            make(season_length=m), train[train["unique_id"].isin(subset)], horizon, m, n_jobs
        )
        seconds = time.perf_counter() - started
        out = out.rename(columns={name: "peer_hat"})[["unique_id", "ds", "peer_hat"]]
        base_sub = base[base["unique_id"].isin(subset)]
        rows = base_sub.merge(out, on=["unique_id", "ds"], how="left", validate="one_to_one")
        if rows["peer_hat"].isna().any():
            msg = f"statsforecast's {name} returned no forecast for some rows"
            raise RuntimeError(msg)
        peer = rows.assign(model=name, y_hat=rows.pop("peer_hat"))
        frames = [base_sub, peer]
        if k > 1:  # ours on the same series, for a like-for-like comparison
            frames += [fc[fc["unique_id"].isin(subset)] for fc in ours.values()]
        fc = pd.concat(frames, ignore_index=True)
        scores = evaluate(fc, df, season_length=m, metrics=["smape", "mase", "owa"])
        scores = scores.pivot_table(index="model", columns="metric", values="value")
        pub = published.get(PEERS[name]) if k == 1 else None
        row = {
            "smape": round(float(scores.loc[name, "smape"]), 3),
            "mase": round(float(scores.loc[name, "mase"]), 3),
            "owa": round(float(scores.loc[name, "owa"]), 3),
            "published": pub,
            "wall_s_all_cores": round(seconds, 1),
            "n_jobs": n_jobs,
            "numba_warmup_s_two_series": round(warmup, 1),
            "n_series": len(subset),
            "negative_forecasts_on_positive_series": negative_on_positive(
                df, peer, horizon, frame=True
            ),
        }
        note = f"  [numba warm-up on 2 series, not included: {warmup:.1f} s]"
        if k > 1:
            same = {
                model: {
                    metric: round(float(scores.loc[model, metric]), 3)
                    for metric in ("smape", "mase", "owa")
                }
                for model in ours
            }
            row["ours_on_the_same_series"] = same
            note += f"  [on {len(subset)} of {len(ids)} series (every {k}th); ours on those: " + (
                "; ".join(
                    f"{model} {v['smape']:.3f} {v['mase']:.3f} {v['owa']:.3f}"
                    for model, v in same.items()
                )
                + "]"
            )
        results[name] = row
        pub_text = (
            f"{pub['method']:>6s} {pub['smape']:7.3f} {pub['mase']:7.3f} {pub['owa']:7.3f}"
            if pub
            else "-"
        )
        print(
            f"{'sf.' + name:15s} {row['smape']:7.3f} {row['mase']:7.3f} {row['owa']:7.3f} | "
            f"{pub_text:>30s} | {'':8s} {seconds:9.1f} {'':8s} {'':8s}  {'':9s}  "
            f"{row['negative_forecasts_on_positive_series']}{note}",
            flush=True,
        )
    return results


def last_values(df: pd.DataFrame, history: int, horizon: int) -> pd.DataFrame:
    """Every series' last `history` training values and its `horizon` test values."""
    return df.groupby("unique_id", sort=False).tail(history + horizon).reset_index(drop=True)


def bench_dataset(name: str, models: list[str], args: argparse.Namespace) -> dict[str, Any]:
    df, horizon, m = load(name, args.monthly_series)
    ids = sorted(df["unique_id"].unique())
    n_all = stats.resolve_n_jobs(None)
    published = published_rows(name)
    history = ""
    if args.history is not None:
        df = last_values(df, args.history, horizon)
        published = {}  # the published rows are of the whole histories
        history = f", the last {args.history} training values of each series"
    print(f"\n{name}: {len(ids)} series, horizon {horizon}, one fold, m = {m}{history}", flush=True)
    print(
        f"{'model':15s} {'sMAPE':>7s} {'MASE':>7s} {'OWA':>7s} | {'published':>30s} | "
        f"{'1 job s':>8s} {f'{n_all} jobs s':>9s} {'speed-up':>8s} {'model s':>8s} "
        f"{'model cpu':>8s}  fallbacks  neg"
    )
    results: dict[str, Any] = {}
    forecasts: dict[str, pd.DataFrame] = {}
    for model in models:
        wall_all, res = run(df, model, horizon, m, n_all)
        forecasts[model] = res.forecasts_pd
        wall_model, cpu_model = model_seconds(df, model, horizon, m, n_all)
        metrics = res.metrics_pd.set_index("metric")["value"]
        every = args.serial_every.get(model, 1)
        wall_one = wall_all_subset = speedup = float("nan")
        n_serial = 0
        if args.serial:
            subset = df[df["unique_id"].isin(ids[::every])] if every > 1 else df
            wall_one, _ = run(subset, model, horizon, m, 1)
            wall_all_subset = run(subset, model, horizon, m, n_all)[0] if every > 1 else wall_all
            n_serial = len(ids[::every])
            speedup = wall_one / wall_all_subset
        row = {
            "smape": round(float(metrics["smape"]), 3),
            "mase": round(float(metrics["mase"]), 3),
            "owa": round(float(metrics["owa"]), 3),
            "published": published.get(model),
            "wall_s_all_cores": round(wall_all, 1),
            "model_only_s_all_cores": round(wall_model, 2),
            "model_only_cpu_s": round(cpu_model, 2),
            "n_jobs_all": n_all,
            "wall_s_1_job": round(wall_one, 1),
            "wall_s_all_cores_same_series": round(wall_all_subset, 1),
            "serial_measured_on_n_series": n_serial,
            "speedup": round(speedup, 2),
            "fallbacks": len(res.failures_pd),
            "negative_forecasts_on_positive_series": negative_on_positive(df, res, horizon),
            "in_process": stats.BASELINES[model],
        }
        results[model] = row
        pub = published.get(model)
        pub_text = (
            f"{pub['method']:>6s} {pub['smape']:7.3f} {pub['mase']:7.3f} {pub['owa']:7.3f}"
            if pub
            else "-"
        )
        note = ""
        if stats.BASELINES[model]:
            note = "  [runs in the calling process: n_jobs does not apply]"
        if args.serial and n_serial < len(ids):
            note = (
                f"  [1-job time and speed-up on {n_serial} of {len(ids)} series (every "
                f"{every}th); {n_all} jobs on those: {wall_all_subset:.1f} s]"
            )
        print(
            f"{model:15s} {row['smape']:7.3f} {row['mase']:7.3f} {row['owa']:7.3f} | "
            f"{pub_text:>30s} | {wall_one:8.1f} {wall_all:9.1f} {speedup:8.2f} {wall_model:8.2f} "
            f"{cpu_model:8.2f}  "
            f"{row['fallbacks']:9d}  {row['negative_forecasts_on_positive_series']}{note}",
            flush=True,
        )
    out = {"n_series": len(ids), "horizon": horizon, "season_length": m, "models": results}
    if args.peers and peers_available():
        out["statsforecast"] = bench_peers(
            df, horizon, m, n_all, published, forecasts, args.peer_every
        )
    elif args.peers:
        print("statsforecast is not importable: its rows are skipped", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--no-serial", dest="serial", action="store_false", help="skip n_jobs=1")
    parser.add_argument(
        "--no-peers",
        dest="peers",
        action="store_false",
        help="skip statsforecast's AutoETS / AutoTheta / AutoARIMA",
    )
    parser.add_argument(
        "--monthly-series", type=int, default=1000, help="series in the monthly-like panel"
    )
    parser.add_argument(
        "--serial-every",
        default="",
        type=lambda text: {
            k: int(v) for k, v in (pair.split("=") for pair in text.split(",") if pair)
        },
        help="model=k pairs: time n_jobs=1 on every k-th series only (e.g. arima=4)",
    )
    parser.add_argument(
        "--peer-every",
        default="",
        type=lambda text: {
            k: int(v) for k, v in (pair.split("=") for pair in text.split(",") if pair)
        },
        help="statsforecast model=k pairs: run it on every k-th series only, ours scored on "
        "the same series next to it (e.g. AutoARIMA=4)",
    )
    parser.add_argument(
        "--ets-combine",
        choices=ets.COMBINE,
        default=ets.DEFAULT_COMBINE,
        help="how `ets` turns its candidate fits into one forecast (tsforecast.stats.ets)",
    )
    parser.add_argument(
        "--ets-season-gate",
        choices=("acf_or_detrended", "acf"),
        default=ets_fit.SEASON_GATE,
        help="the test that admits ets' seasonal forms (tsforecast.stats.ets_fit)",
    )
    parser.add_argument(
        "--history",
        type=int,
        default=None,
        help="keep only the last N training values of every series (default: all)",
    )
    args = parser.parse_args()
    # read by ets_many in this process and in the (forked) workers
    ets.DEFAULT_COMBINE = args.ets_combine
    ets_fit.SEASON_GATE = args.ets_season_gate
    models = [m for m in args.models.split(",") if m]
    load_avg = os.getloadavg()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} | cores available: "
        f"{stats.resolve_n_jobs(None)} | load average at start: {load_avg[0]:.1f} | "
        f"python {platform.python_version()}"
    )
    print(
        f"tsforecast from {Path(tsf.__file__).parent} | ets combine={ets.DEFAULT_COMBINE}, "
        f"season gate={ets_fit.SEASON_GATE}",
        flush=True,
    )
    for model in models:
        parallel._preload(model)  # imports are not part of the timing
    summary: dict[str, Any] = {
        "benchmark": "baselines",
        "cores": stats.resolve_n_jobs(None),
        "load_average_at_start": round(load_avg[0], 2),
    }
    for name in [d for d in args.datasets.split(",") if d]:
        summary[name] = bench_dataset(name, models, args)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
