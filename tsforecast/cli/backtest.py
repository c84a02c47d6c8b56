"""`tsforecast backtest CONFIG`: run an experiment config and write its results and dashboard.

The config is validated (`tsforecast.cli.config`) before any data is read, then the data, then
the backtest runs and writes

    results/NAME/forecasts.parquet   the forecasts frame (one row per series, cutoff, model, step)
    results/NAME/metrics.csv         the metrics frame (model, target, metric, value)
    results/NAME/failures.csv        the fallbacks, when a model fell back on some series
    results/NAME/manifest.json       the config, seed, sha256 of the data, package versions,
                                     device and timings (`tsforecast.cli.manifest`)
    dashboards/NAME.html             the dashboard (`tsforecast.report`)

then prints the leaderboard and the paths. Nothing is ever half-written (`tsforecast.atomic`):
the results folder replaces `results/NAME` in one step once every file is complete, and the
dashboard goes through a temporary file. A run that fails leaves the previous results as they
were. `--smoke` runs the same experiment shrunk to seconds (`tsforecast.cli.smoke`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from tsforecast.atomic import atomic_dir, atomic_path, check_writable
from tsforecast.cli import manifest
from tsforecast.cli.config import ConfigError, ExperimentConfig, load_config
from tsforecast.cli.data import LoadedData, load_data
from tsforecast.cli.smoke import shrink_config, shrink_data

__all__ = ["backtest_kwargs", "cmd_backtest", "run_backtest"]


def cmd_backtest(args: argparse.Namespace) -> int:
    """The `backtest` command: run the config, print the leaderboard and the paths."""
    config = load_config(args.config)
    if args.engine is not None:  # the command line overrides the config's `engine`
        config = replace(config, engine=args.engine)
    outcome = run_backtest(
        config,
        results_dir=Path(args.results_dir),
        dashboards_dir=Path(args.dashboards_dir),
        log=None if args.quiet else log,
        smoke=args.smoke,
    )
    print(f"\nleaderboard ({outcome['name']}):")
    print(board_text(outcome["leaderboard"]))
    print(f"\nresults:   {outcome['results']}")
    print(f"dashboard: {outcome['dashboard']}")
    return 0


def run_backtest(
    config: ExperimentConfig,
    *,
    results_dir: Path = Path("results"),
    dashboards_dir: Path = Path("dashboards"),
    log: Any = None,
    smoke: bool = False,
) -> dict[str, Any]:
    """Run `config`'s backtest and write its files (see the module docstring).

    Returns a dict with the run's name, the result, the leaderboard frame, the paths written
    and the timings.
    """
    from tsforecast.backtest import backtest
    from tsforecast.report import render

    say = log or (lambda _: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    smoke_info = None
    if smoke:
        config = shrink_config(config)
    _check_outputs(results_dir, dashboards_dir, config.name)
    data = load_data(config)
    kwargs = backtest_kwargs(config, data)
    if smoke:
        data, smoke_info = shrink_data(data, kwargs, _input_sizes(config))
    timings["load_s"] = time.perf_counter() - started
    say(
        f"{config.name}: {data.frame[data.id_col].nunique()} series, {len(data.frame)} rows "
        f"({data.source}); models {[m.name for m in config.models]}, horizon "
        f"{kwargs['horizon']}, {kwargs['n_windows']} window(s)"
    )

    t0 = time.perf_counter()
    result = backtest(data.frame, **kwargs)
    timings["backtest_s"] = time.perf_counter() - t0
    say(f"backtest done in {timings['backtest_s']:.1f} s; writing results")

    t0 = time.perf_counter()
    # the dashboard draws the history from the result's own validated copy of the data
    page = render(result, title=f"tsforecast backtest — {config.name}")
    timings["report_s"] = time.perf_counter() - t0

    final_dir = results_dir / config.name
    dashboard = dashboards_dir / f"{config.name}.html"
    with atomic_dir(final_dir) as stage:
        result.forecasts.to_parquet(stage / "forecasts.parquet", index=False)
        result.metrics.to_csv(stage / "metrics.csv", index=False)
        if len(result.failures):
            result.failures.to_csv(stage / "failures.csv", index=False)
        with atomic_path(dashboard) as tmp_page:
            tmp_page.write_text(page, encoding="utf-8")
            timings["total_s"] = time.perf_counter() - started
            written = manifest.build(config, data, result, timings, dashboard, smoke_info)
            (stage / "manifest.json").write_text(
                json.dumps(written, indent=2, default=str) + "\n", encoding="utf-8"
            )
        # the dashboard is in place; leaving `atomic_dir` moves the results folder in place

    return {
        "name": config.name,
        "result": result,
        "leaderboard": result.leaderboard(),
        "results": final_dir,
        "dashboard": dashboard,
        "timings": timings,
    }


def _check_outputs(results_dir: Path, dashboards_dir: Path, name: str) -> None:
    """Refuse output paths that cannot be written, before the backtest runs (writing them
    afterwards would fail with an OSError once the work is done)."""
    for flag, folder in (("--results-dir", results_dir), ("--dashboards-dir", dashboards_dir)):
        check_writable(folder, f"`{flag}`", folder=True)
    check_writable(results_dir / name, "the results folder", folder=True)
    check_writable(dashboards_dir / f"{name}.html", "the dashboard")


def backtest_kwargs(config: ExperimentConfig, data: LoadedData) -> dict[str, Any]:
    """The arguments of `tsforecast.backtest`, with the data set's defaults filled in."""
    bt = config.backtest
    horizon = bt.horizon or data.horizon
    if horizon is None:
        msg = f"{config.source}: set `backtest.horizon` (the file's data has no default horizon)."
        raise ConfigError(msg)
    kwargs: dict[str, Any] = {
        "models": [(m.name, dict(m.params)) if m.params else m.name for m in config.models],
        "horizon": horizon,
        "n_windows": bt.n_windows,
        "step": bt.step,
        "season_length": bt.season_length or data.season_length,
        "levels": list(bt.levels),
        "refit": bt.refit,
        "train_size": bt.train_size,
        "metrics": bt.metrics,
        "id_col": data.id_col,
        "time_col": data.time_col,
        "target_col": data.target,
        "freq": config.data.freq,
        "fill": config.data.fill,
        "n_jobs": bt.n_jobs,
        "device": config.device,
        "seed": config.seed,
        "engine": config.engine,
        "intervals": bt.intervals,
    }
    return kwargs


def _input_sizes(config: ExperimentConfig) -> list[int]:
    sizes = [m.params.get("input_size") for m in config.models]
    return [int(s) for s in sizes if isinstance(s, int)]


def board_text(board: pd.DataFrame) -> str:
    """The leaderboard as printed: four significant digits."""
    if board is None or board.empty:
        return "(no metrics)"
    return board.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def log(message: str) -> None:
    """A progress line on stderr (stdout holds the results)."""
    print(f"[tsforecast] {message}", file=sys.stderr, flush=True)
