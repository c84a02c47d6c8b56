"""The `tsforecast` command line: `backtest CONFIG`, `forecast DATA --horizon H`, `datasets`.

`tsforecast backtest experiments/NAME.toml` validates the config (see `tsforecast.config`) and
its data before any work, runs the backtest, and writes

    results/NAME/forecasts.parquet   the forecasts frame (one row per series, cutoff, model, step)
    results/NAME/metrics.csv         the metrics frame (model, target, metric, value)
    results/NAME/failures.csv        the fallbacks, when a model fell back on some series
    results/NAME/manifest.json       the config, seed, sha256 of the data, package versions,
                                     device and timings
    dashboards/NAME.html             the dashboard (`tsforecast.report`)

then prints the leaderboard and the dashboard's path. Nothing is ever half-written: the results
are written into a hidden staging folder next to `results/NAME`, which replaces it in one rename
once every file is complete, and the dashboard goes through a temporary file and `os.replace`.
A run that fails leaves the previous results as they were.

Exit status: 0 on success, 2 when the input is refused (config, data, arguments; the message
names what and where, with no traceback), 1 when the run itself fails, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import inspect
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tsforecast.config import ConfigError, ExperimentConfig, load_config
from tsforecast.errors import InputError

__all__ = ["load_data", "main", "run_backtest"]

_VERSIONED = (
    "tsforecast",
    "torch",
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "statsmodels",
    "scipy",
    "plotly",
    "safetensors",
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except InputError as error:  # ConfigError included: the user's input, refused up front
        print(f"tsforecast: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tsforecast: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`tsforecast forecast ... | head`): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# --------------------------------------------------------------------------- argument parser
def _parser() -> argparse.ArgumentParser:
    from tsforecast import __version__

    parser = argparse.ArgumentParser(
        prog="tsforecast",
        description="Time-series forecasting on PyTorch: backtests, forecasts, dashboards.",
    )
    parser.add_argument("--version", action="version", version=f"tsforecast {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bt = commands.add_parser(
        "backtest",
        help="run the experiment of a TOML config; write results/NAME/ and dashboards/NAME.html",
        description="Run a backtest experiment described by a TOML config "
        "(see experiments/*.toml).",
    )
    bt.add_argument("config", help="the experiment config, e.g. experiments/air_passengers.toml")
    bt.add_argument("--results-dir", default="results", help="folder for results/NAME/")
    bt.add_argument("--dashboards-dir", default="dashboards", help="folder for NAME.html")
    bt.add_argument("--quiet", action="store_true", help="print only the leaderboard and paths")
    bt.set_defaults(run=_cmd_backtest)

    fc = commands.add_parser(
        "forecast",
        help="forecast the future of a data set or a CSV/parquet file",
        description="Forecast HORIZON steps after the end of every series of DATA.",
    )
    fc.add_argument("data", help="a shipped data set name (see `tsforecast datasets`) or a file")
    fc.add_argument("--horizon", "-H", type=int, required=True, help="steps to forecast")
    fc.add_argument("--model", "-m", default="auto", help="model name (default: auto)")
    fc.add_argument("--out", "-o", help="write the forecasts here (.csv or .parquet); else stdout")
    fc.add_argument("--levels", type=float, nargs="*", default=[], help="interval levels, e.g. 80")
    fc.add_argument("--id-col", help="series id column (default: unique_id)")
    fc.add_argument("--time-col", help="time column (default: ds)")
    fc.add_argument("--target-col", nargs="+", help="target column(s) (default: y)")
    fc.add_argument("--season-length", type=int, help="seasonal period (default: from the data)")
    fc.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    fc.add_argument("--seed", type=int, default=0)
    fc.set_defaults(run=_cmd_forecast)

    ds = commands.add_parser("datasets", help="list the shipped data sets")
    ds.set_defaults(run=_cmd_datasets)
    return parser


# --------------------------------------------------------------------------- backtest
def _cmd_backtest(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    outcome = run_backtest(
        config,
        results_dir=Path(args.results_dir),
        dashboards_dir=Path(args.dashboards_dir),
        log=(lambda _: None) if args.quiet else _log,
    )
    board = outcome["leaderboard"]
    print(f"\nleaderboard ({config.name}):")
    print(_board_text(board))
    print(f"\nresults:   {outcome['results']}")
    print(f"dashboard: {outcome['dashboard']}")
    return 0


def run_backtest(
    config: ExperimentConfig,
    *,
    results_dir: Path = Path("results"),
    dashboards_dir: Path = Path("dashboards"),
    log: Any = None,
) -> dict[str, Any]:
    """Run `config`'s backtest and write its files (see the module docstring).

    Returns a dict with the result, the leaderboard frame, and the paths written.
    """
    from tsforecast.backtest import backtest
    from tsforecast.report import atomic_path, render

    say = log or (lambda _: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    data = load_data(config)
    kwargs = _backtest_kwargs(config, data)
    timings["load_s"] = time.perf_counter() - started
    n_series = data.frame[data.id_col].nunique()
    say(
        f"{config.name}: {n_series} series, {len(data.frame)} rows ({data.source}); "
        f"models {[m.name for m in config.models]}, horizon {kwargs['horizon']}, "
        f"{kwargs['n_windows']} window(s)"
    )

    t0 = time.perf_counter()
    result = backtest(data.frame, **kwargs)
    timings["backtest_s"] = time.perf_counter() - t0
    say(f"backtest done in {timings['backtest_s']:.1f} s; writing results")

    t0 = time.perf_counter()
    page = render(
        result,
        history_df=data.frame,
        title=f"tsforecast backtest — {config.name}",
    )
    timings["report_s"] = time.perf_counter() - t0

    final_dir = results_dir / config.name
    dashboard = dashboards_dir / f"{config.name}.html"
    results_dir.mkdir(parents=True, exist_ok=True)
    with _staging_dir(results_dir, config.name) as stage:
        forecasts = _pandas(result.forecasts)
        forecasts.to_parquet(stage / "forecasts.parquet", index=False)
        _pandas(result.metrics).to_csv(stage / "metrics.csv", index=False)
        failures = _pandas(getattr(result, "failures", None))
        if failures is not None and len(failures):
            failures.to_csv(stage / "failures.csv", index=False)
        with atomic_path(dashboard) as tmp_page:
            tmp_page.write_text(page, encoding="utf-8")
            timings["total_s"] = time.perf_counter() - started
            manifest = _manifest(config, data, result, timings, dashboard)
            (stage / "manifest.json").write_text(
                json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
            )
            _swap_in(stage, final_dir)
        # leaving the `atomic_path` block moves the dashboard in place

    return {
        "result": result,
        "leaderboard": _pandas(result.leaderboard()),
        "results": final_dir,
        "dashboard": dashboard,
        "timings": timings,
    }


class LoadedData:
    """The frame a config names, with its column roles and a hash of its content."""

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        source: str,
        id_col: str,
        time_col: str,
        target_cols: list[str],
        horizon: int | None = None,
        season_length: int | None = None,
        file_sha256: str | None = None,
    ) -> None:
        self.frame = frame
        self.source = source
        self.id_col = id_col
        self.time_col = time_col
        self.target_cols = target_cols
        self.horizon = horizon
        self.season_length = season_length
        self.file_sha256 = file_sha256

    def frame_sha256(self) -> str:
        """sha256 over the column names, dtypes and pandas' per-row hashes of the frame."""
        digest = hashlib.sha256()
        digest.update(json.dumps([[str(c), str(t)] for c, t in self.frame.dtypes.items()]).encode())
        rows = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
        digest.update(rows.tobytes())
        return digest.hexdigest()


def load_data(config: ExperimentConfig) -> LoadedData:
    """Read the data a config names; raise `ConfigError` naming the file and the column."""
    spec = config.data
    if spec.dataset is not None:
        from tsforecast import datasets

        loaded = datasets.load(spec.dataset)
        if not isinstance(loaded, datasets.ForecastingDataset):
            msg = (
                f"{config.source}: `data.dataset` {spec.dataset!r} is a classification data set;"
                " a backtest needs a forecasting one (see `tsforecast datasets`)."
            )
            raise ConfigError(msg)
        frame = loaded.df if spec.part == "full" else loaded.train
        explicit = config.raw.get("data", {})
        targets = (
            _as_list(spec.target_col) if "target_col" in explicit else list(loaded.target_cols)
        )
        data = LoadedData(
            frame.reset_index(drop=True),
            source=f"data set {loaded.name!r} ({spec.part})",
            id_col=loaded.id_col,
            time_col=loaded.time_col,
            target_cols=targets,
            horizon=loaded.horizon,
            season_length=loaded.season_length,
        )
    else:
        assert spec.path is not None  # the config checked that exactly one is set
        data = _read_file(config, spec.path)
    missing = [
        c for c in [data.id_col, data.time_col, *data.target_cols] if c not in data.frame.columns
    ]
    if missing:
        msg = (
            f"{config.source}: the data ({data.source}) has no column {missing[0]!r} "
            f"(found: {list(data.frame.columns)}); set `data.id_col`, `data.time_col` or "
            "`data.target_col` to the right names."
        )
        raise ConfigError(msg)
    return data


def _read_file(config: ExperimentConfig, path: Path) -> LoadedData:
    spec = config.data
    raw_bytes = path.read_bytes()
    try:
        frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
    except Exception as error:  # a parser's own error: name the file, keep its reason
        msg = f"{config.source}: cannot read the data file {str(path)!r}: {error}"
        raise ConfigError(msg) from None
    id_col = spec.id_col
    if id_col not in frame.columns and "id_col" not in config.raw.get("data", {}):
        # a file with one series and no id column: the file's name is the series' id
        frame.insert(0, id_col, path.stem)
    time_col = spec.time_col
    if time_col in frame.columns and not pd.api.types.is_numeric_dtype(frame[time_col]):
        try:
            frame[time_col] = pd.to_datetime(frame[time_col])
        except (ValueError, TypeError) as error:
            msg = (
                f"{config.source}: column {time_col!r} of {str(path)!r} holds values that are "
                f"neither numbers nor dates ({error}); fix the file or `data.time_col`."
            )
            raise ConfigError(msg) from None
    return LoadedData(
        frame,
        source=str(path),
        id_col=id_col,
        time_col=time_col,
        target_cols=_as_list(spec.target_col),
        file_sha256=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _backtest_kwargs(config: ExperimentConfig, data: LoadedData) -> dict[str, Any]:
    """The arguments of `tsforecast.backtest`, with the data set's defaults filled in."""
    from tsforecast.backtest import backtest

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
        "target_col": data.target_cols[0] if len(data.target_cols) == 1 else data.target_cols,
        "n_jobs": bt.n_jobs,
        "device": config.device,
        "seed": config.seed,
    }
    accepted = inspect.signature(backtest).parameters
    for key, value in list(kwargs.items()):
        if key not in accepted:
            if value is None or key in ("metrics",):
                kwargs.pop(key)
                continue
            msg = f"{config.source}: this version of tsforecast.backtest does not take `{key}`."
            raise ConfigError(msg)
    return kwargs


def _manifest(
    config: ExperimentConfig,
    data: LoadedData,
    result: Any,
    timings: dict[str, float],
    dashboard: Path,
) -> dict[str, Any]:
    settings = dict(getattr(result, "settings", {}) or {})
    failures = _pandas(getattr(result, "failures", None))
    return {
        "name": config.name,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "config_file": str(config.source),
        "config": config.raw,
        "resolved": config.to_dict(),
        "seed": config.seed,
        "data": {
            "source": data.source,
            "rows": len(data.frame),
            "series": int(data.frame[data.id_col].nunique()),
            "columns": [str(c) for c in data.frame.columns],
            "sha256": data.frame_sha256(),
            "sha256_of": "column names, dtypes and pandas' per-row hashes of the frame",
            "file_sha256": data.file_sha256,
        },
        "settings": settings,
        "device": _device_info(config.device),
        "versions": _versions(),
        "timings_s": {**{k: round(v, 3) for k, v in timings.items()}},
        "model_timings_s": settings.get("timings_s", {}),
        "n_failures": 0 if failures is None else len(failures),
        "dashboard": str(dashboard),
    }


def _device_info(requested: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "requested": requested,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        import torch

        from tsforecast.devices import resolve_device

        device = resolve_device(requested)
        info["resolved"] = str(device)
        if device.type == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
        info["torch_threads"] = torch.get_num_threads()
    except Exception as error:  # the manifest describes the machine; it must not fail the run
        info["resolved"] = f"unknown ({error})"
    return info


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _VERSIONED:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    if out.get("tsforecast") is None:
        from tsforecast import __version__

        out["tsforecast"] = __version__
    return out


@contextlib.contextmanager
def _staging_dir(parent: Path, name: str) -> Iterator[Path]:
    """A hidden folder next to the final one; removed unless `_swap_in` moved it."""
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent))
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.chmod(stage, 0o777 & ~mask)  # mkdtemp makes 0700; results are an ordinary folder
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _swap_in(stage: Path, final: Path) -> None:
    """Replace `final` by the complete `stage` folder (renames on one file system)."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{time.time_ns()}")
        os.replace(final, old)
    os.replace(stage, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- forecast
def _cmd_forecast(args: argparse.Namespace) -> int:
    from tsforecast.api import forecast

    if args.horizon <= 0:
        msg = f"`--horizon` must be a positive integer, got {args.horizon}."
        raise InputError(msg)
    if args.out is not None and Path(args.out).suffix.lower() not in (".csv", ".parquet", ".pq"):
        msg = f"`--out` must end in .csv or .parquet, got {args.out!r}."
        raise InputError(msg)
    frame, id_col, time_col, targets, season = _forecast_data(args)
    kwargs: dict[str, Any] = {
        "model": args.model,
        "id_col": id_col,
        "time_col": time_col,
        "target_col": targets[0] if len(targets) == 1 else targets,
        "levels": [int(v) if float(v).is_integer() else v for v in args.levels],
        "season_length": args.season_length or season,
        "device": args.device,
        "seed": args.seed,
    }
    if kwargs["season_length"] is None:
        kwargs.pop("season_length")
    started = time.perf_counter()
    out = _pandas(forecast(frame, args.horizon, **kwargs))
    took = time.perf_counter() - started
    if args.out is None:
        out.to_csv(sys.stdout, index=False)
    else:
        from tsforecast.report import atomic_path

        with atomic_path(args.out) as tmp:
            if Path(args.out).suffix.lower() == ".csv":
                out.to_csv(tmp, index=False)
            else:
                out.to_parquet(tmp, index=False)
        n_series = out[id_col].nunique() if id_col in out else "?"
        _log(f"{len(out)} rows ({n_series} series x {args.horizon} steps) in {took:.1f} s")
        print(f"forecasts: {args.out}")
    return 0


def _forecast_data(
    args: argparse.Namespace,
) -> tuple[pd.DataFrame, str, str, list[str], int | None]:
    from tsforecast import datasets

    path = Path(args.data)
    if path.suffix.lower() in (".csv", ".parquet", ".pq") or path.exists():
        if not path.is_file():
            msg = f"data file {args.data!r} does not exist (looked for {str(path.resolve())!r})."
            raise InputError(msg)
        if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
            msg = f"data file {args.data!r} must be a .csv or .parquet file."
            raise InputError(msg)
        try:
            frame = pd.read_csv(path) if path.suffix.lower() == ".csv" else pd.read_parquet(path)
        except Exception as error:  # a parser's own error: name the file, keep its reason
            msg = f"cannot read the data file {args.data!r}: {error}"
            raise InputError(msg) from None
        id_col = args.id_col or "unique_id"
        time_col = args.time_col or "ds"
        if id_col not in frame.columns and args.id_col is None:
            frame.insert(0, id_col, path.stem)
        if time_col in frame.columns and not pd.api.types.is_numeric_dtype(frame[time_col]):
            try:
                frame[time_col] = pd.to_datetime(frame[time_col])
            except (ValueError, TypeError) as error:
                msg = f"column {time_col!r} of {args.data!r} is neither numbers nor dates: {error}"
                raise InputError(msg) from None
        return frame, id_col, time_col, args.target_col or ["y"], None
    if args.data not in datasets.names() and not _looks_like_dataset(args.data):
        msg = (
            f"{args.data!r} is neither a file nor a shipped data set; pass a .csv / .parquet "
            f"path or one of {datasets.names()}."
        )
        raise InputError(msg)
    loaded = datasets.load(args.data)
    if not isinstance(loaded, datasets.ForecastingDataset):
        msg = f"{args.data!r} is a classification data set; pass a forecasting one."
        raise InputError(msg)
    return (
        loaded.df,
        loaded.id_col,
        loaded.time_col,
        args.target_col or list(loaded.target_cols),
        loaded.season_length,
    )


def _looks_like_dataset(name: str) -> bool:
    from tsforecast import datasets

    try:
        datasets.load(name)
    except InputError:
        return False
    return True


# --------------------------------------------------------------------------- datasets
def _cmd_datasets(args: argparse.Namespace) -> int:
    from tsforecast import datasets

    rows = []
    for name in datasets.names():
        loaded = datasets.load(name)
        if isinstance(loaded, datasets.ForecastingDataset):
            n_series = loaded.df[loaded.id_col].nunique()
            kind = f"forecasting, {n_series} series, freq {loaded.freq}, horizon {loaded.horizon}"
        else:
            n_cases = len(loaded.X_train) + len(loaded.X_test)
            kind = f"classification, {n_cases} cases, {len(loaded.classes)} classes"
        rows.append((name, kind, loaded.description))
    width = max(len(r[0]) for r in rows)
    for name, kind, description in rows:
        print(f"{name:<{width}}  {description} [{kind}]")
    return 0


# --------------------------------------------------------------------------- helpers
def _pandas(frame: Any) -> Any:
    if frame is None:
        return None
    from tsforecast.data.frames import to_pandas

    return to_pandas(frame)[0]


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _board_text(board: pd.DataFrame) -> str:
    if board is None or board.empty:
        return "(no metrics)"
    return board.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _log(message: str) -> None:
    print(f"[tsforecast] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
