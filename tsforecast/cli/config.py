"""Experiment configs: a TOML file -> a validated `ExperimentConfig`, refused before any work.

A config names the data, the backtest and the models::

    name = "air_passengers"          # optional, defaults to the file's stem
    seed = 0
    device = "auto"                  # "auto" | "cpu" | "cuda" | "cuda:N" | "mps"
    engine = "local"                 # "local" | "ray" | "dask": where the baselines run

    [data]
    dataset = "air_passengers"       # a shipped data set (`tsforecast datasets`), or
    # path = "sales.csv"             # a CSV / parquet file, relative to this config's folder,
    # id_col = "unique_id"           # with its column names
    # time_col = "ds"
    # target_col = "y"               # or a list of targets
    # covariates = ["price"]         # the covariate columns to keep ([] for none; default:
    #                                # every other numeric or boolean column)
    # fill = "ffill"                 # gaps and missing values: "ffill" | "interpolate" | "zero"
    # freq = "h"                     # the time step (a pandas alias, or an integer step)
    # sep = ";"                      # a CSV's column separator, decimal and thousands marks
    # decimal = ","                  # (default: "," and "."; a German or French CSV: ";", ",")
    # thousands = "."

    [backtest]
    horizon = 12                     # defaults to the data set's horizon
    n_windows = 3
    step = 12                        # defaults to horizon
    season_length = 12               # defaults to the data set's season length
    levels = [80, 95]                # percentages
    metrics = ["smape", "mase", "mae"]
    intervals = "conformal"          # "model" (default) | "auto" | "conformal" | "calibrated"

    [models.seasonal_naive]          # one table per model; its keys are the model's parameters
    [models.lstm]
    max_steps = 300

Every key is checked: an unknown key is named with its file and the closest known key, a value
of the wrong type is named with what was received, a data file that does not exist is named with
the path it was looked for at. The models and their parameters are the registry's
(`tsforecast.cli.config_models`); each model is built once to check its values. All of it raises
`ConfigError` (an `InputError`) before any data is read.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tsforecast.checks import check_fill, check_levels
from tsforecast.cli import toml_checks as is_
from tsforecast.cli.config_models import ModelConfig, parse_models
from tsforecast.cli.csv_format import CsvFormat, check_csv_format, spell_config
from tsforecast.cli.toml_checks import Checker, ConfigError, Table
from tsforecast.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "BacktestConfig",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "load_config",
    "parse_config",
]

_DATA_SUFFIXES = (".csv", ".parquet", ".pq")  # those of `tsforecast.cli.data`, which imports this


@dataclass(frozen=True)
class DataConfig:
    """Where the series come from: a shipped data set by name, or a CSV / parquet file."""

    dataset: str | None = None
    path: Path | None = None  # absolute, resolved against the config's folder
    part: str = "full"  # shipped data sets: "full" (train + test) or "train"
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str | list[str] = "y"
    # the covariate columns kept (None: every other numeric or boolean column; []: none)
    covariates: list[str] | None = None
    fill: str | None = None  # as `backtest(fill=...)`: None refuses gaps and missing values
    freq: str | int | None = None  # as `backtest(freq=...)`: None infers it
    csv: CsvFormat = field(default_factory=CsvFormat)  # how a CSV file writes its values


@dataclass(frozen=True)
class BacktestConfig:
    """The rolling-origin protocol; None means "the data set's default" or "the engine's"."""

    horizon: int | None = None
    n_windows: int = 1
    step: int | None = None
    season_length: int | None = None
    levels: list[float] = field(default_factory=list)
    metrics: list[str] | None = None
    refit: bool | int = True
    train_size: int | None = None
    n_jobs: int | None = None
    intervals: str | dict[str, str] = "model"  # as `backtest(intervals=...)`


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment config (see the module docstring for the file format)."""

    name: str
    source: Path  # the config file
    data: DataConfig
    backtest: BacktestConfig
    models: list[ModelConfig]
    seed: int = 0
    device: str = "auto"
    engine: str = "local"  # as `backtest(engine=...)`
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict)  # the TOML as read, for the manifest

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain JSON-able values."""
        out = asdict(self)
        out.pop("raw")
        out["source"] = str(self.source)
        if self.data.path is not None:
            out["data"]["path"] = str(self.data.path)
        return out


# --------------------------------------------------------------------------- entry points
def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment config file; raise `ConfigError` naming what is wrong."""
    source = Path(path)
    if not source.is_file():
        msg = f"config file {str(path)!r} does not exist (looked in {str(source.resolve())!r})."
        raise ConfigError(msg)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        msg = f"{source}: not valid TOML: {error}."
        raise ConfigError(msg) from None
    except UnicodeDecodeError:
        msg = f"{source}: not a text file (it is not UTF-8); pass a .toml experiment config."
        raise ConfigError(msg) from None
    return parse_config(raw, source)


def parse_config(raw: Mapping[str, Any], source: str | Path) -> ExperimentConfig:
    """Validate an already parsed TOML mapping (`source` names the file in messages)."""
    check = Checker(Path(source))
    top = check.table(raw, "", _TOP_KEYS)
    name = top.value("name", is_.is_name, "a name of letters, digits, '_', '-' or '.'")
    data = _data(check, top.get("data", {}))
    backtest = _backtest(check, top.get("backtest", {}))
    seed = top.value("seed", is_.is_non_negative_int, "a non-negative integer")
    device = top.value("device", is_.is_device, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    device = "auto" if device is None else device
    top.checked("device", _available_device)
    engine = top.value("engine", _is_engine, "'local', 'ray' or 'dask'")
    description = top.value("description", is_.is_str, "a string")
    shared = {
        # the values a model is checked with; a data set's own horizon is only known once the
        # data is read, and no model's parameter check depends on the horizon's value
        "horizon": backtest.horizon or 1,
        "levels": backtest.levels or None,
        "season_length": backtest.season_length,
        "n_jobs": backtest.n_jobs,
        "fill": data.fill,
        "freq": data.freq,
        "device": device,
        "seed": 0 if seed is None else seed,
        "id_col": data.id_col,
        "time_col": data.time_col,
        "target_col": data.target_col,
        "progress": False,  # as `backtest()` builds them
    }
    models = parse_models(check, top.get("models"), shared)
    _check_intervals(check, backtest, [m.name for m in models])
    return ExperimentConfig(
        name=name if name is not None else _stem_name(check),
        source=check.source,
        data=data,
        backtest=backtest,
        models=models,
        seed=0 if seed is None else seed,
        device=device,
        engine="local" if engine is None else engine,
        description=description or "",
        raw=dict(raw),
    )


# --------------------------------------------------------------------------- sections
_TOP_KEYS = ("name", "description", "seed", "device", "engine", "data", "backtest", "models")
_DATA_KEYS = (
    "dataset",
    "path",
    "part",
    "id_col",
    "time_col",
    "target_col",
    "covariates",
    "fill",
    "freq",
    "sep",
    "decimal",
    "thousands",
)
_BACKTEST_KEYS = (
    "horizon",
    "n_windows",
    "step",
    "season_length",
    "levels",
    "metrics",
    "refit",
    "train_size",
    "n_jobs",
    "intervals",
)


def _data(check: Checker, raw: Any) -> DataConfig:
    table = check.table(raw, "data", _DATA_KEYS)
    dataset = table.value("dataset", is_.is_str, "the name of a shipped data set")
    path_text = table.value("path", is_.is_str, "a path to a CSV or parquet file")
    if (dataset is None) == (path_text is None):
        msg = (
            f"{check.source}: [data] needs exactly one of `dataset` (a shipped data set, see "
            "`tsforecast datasets`) or `path` (a CSV / parquet file)"
            + (", got both." if dataset is not None else ", got neither.")
        )
        raise ConfigError(msg)
    part = table.value("part", lambda v: v in ("full", "train"), "'full' or 'train'")
    id_col = table.value("id_col", is_.is_str, "a column name")
    time_col = table.value("time_col", is_.is_str, "a column name")
    target_col = table.value(
        "target_col", is_.is_str_or_str_list, "a column name or a list of column names"
    )
    covariates = table.value(
        "covariates",
        lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
        'a list of column names (`[]` for none), e.g. ["price", "promo"]',
    )
    for key, names in (("target_col", target_col), ("covariates", covariates)):
        _check_named_once(check, key, names)
    csv = _csv_format(check, table, dataset, path_text)
    path = None
    if dataset is not None:
        from tsforecast import datasets

        if _normalise(dataset) not in {_normalise(n) for n in datasets.names()}:
            check.unknown("data.dataset", dataset, datasets.names(), what="data set")
    elif path_text is not None:
        path = _data_path(check, path_text, part)
    return DataConfig(
        dataset=dataset,
        path=path,
        part=part or "full",
        id_col=id_col or "unique_id",
        time_col=time_col or "ds",
        target_col=target_col if target_col is not None else "y",
        covariates=covariates,
        fill=table.checked("fill", check_fill),
        freq=table.checked("freq", check_freq),
        csv=csv,
    )


def _csv_format(check: Checker, table: Table, dataset: Any, path_text: Any) -> CsvFormat:
    """`data.sep`, `data.decimal` and `data.thousands`, for a CSV `path` only: a shipped data
    set or a parquet file would not use them."""
    raw = {}
    for key in ("sep", "decimal", "thousands"):
        raw[key] = table.value(key, is_.is_str, 'a string, e.g. ";" or ","')
    given = [f"data.{k}" for k, v in raw.items() if v is not None]
    if given:
        if dataset is not None:
            msg = f"{check.source}: `{given[0]}` is for a CSV `path`, not a shipped `dataset`."
            raise ConfigError(msg)
        if not str(path_text).lower().endswith(".csv"):
            msg = f"{check.source}: `{given[0]}` is for a CSV file, and {path_text!r} is not one."
            raise ConfigError(msg)
    try:
        return check_csv_format(raw["sep"], raw["decimal"], raw["thousands"], spell_config)
    except InputError as error:
        raise ConfigError(f"{check.source}: {error}") from None


def _check_named_once(check: Checker, key: str, names: Any) -> None:
    """A list of `[data] key` naming a column twice is refused here, with the file and key:
    once the data is read, the frame cut to these columns has the name twice, and the refusal
    blamed the data's column names."""
    if not isinstance(names, list):
        return
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        msg = (
            f"{check.source}: `data.{key}` names {twice} more than once, got {names!r}; "
            "name each column once."
        )
        raise ConfigError(msg)


def _data_path(check: Checker, path_text: str, part: Any) -> Path:
    path = (check.source.parent / path_text).resolve()
    if path.suffix.lower() not in _DATA_SUFFIXES:
        msg = (
            f"{check.source}: `data.path` must be a .csv, .parquet or .pq file, got {path_text!r}."
        )
        raise ConfigError(msg)
    if not path.is_file():
        msg = (
            f"{check.source}: data file {path_text!r} does not exist (looked for "
            f"{str(path)!r}); fix `data.path` (a relative path is relative to the config "
            "file's folder)."
        )
        raise ConfigError(msg)
    if part is not None:
        msg = f"{check.source}: `data.part` only applies to a shipped `dataset`; remove it."
        raise ConfigError(msg)
    return path


def _backtest(check: Checker, raw: Any) -> BacktestConfig:
    table = check.table(raw, "backtest", _BACKTEST_KEYS)
    positive = "a positive integer"
    levels = table.checked("levels", _config_levels)
    refit = table.value(
        "refit",
        lambda v: isinstance(v, bool) or is_.is_positive_int(v),
        "true (refit at every cutoff), false (fit once) or a positive integer k (every k)",
    )
    return BacktestConfig(
        horizon=table.value("horizon", is_.is_positive_int, positive),
        n_windows=table.value("n_windows", is_.is_positive_int, positive) or 1,
        step=table.value("step", is_.is_positive_int, positive),
        season_length=table.value("season_length", is_.is_positive_int, positive),
        levels=[float(v) if not float(v).is_integer() else int(v) for v in (levels or [])],
        metrics=_metrics(check, table),
        refit=True if refit is None else refit,
        train_size=table.value("train_size", is_.is_positive_int, positive),
        n_jobs=table.checked("n_jobs", _n_jobs),
        intervals=table.checked("intervals", _config_intervals) or "model",
    )


def _check_intervals(check: Checker, backtest: BacktestConfig, labels: list[str]) -> None:
    """`backtest.intervals` names only configured models, and conformal ones need levels."""
    modes = backtest.intervals
    if isinstance(modes, dict):
        unknown = [k for k in modes if k not in labels]
        if unknown:
            msg = f"{check.source}: `backtest.intervals` names {unknown}, not in [models] {labels}."
            raise ConfigError(msg)
    asked = modes.values() if isinstance(modes, dict) else [modes]
    conformal = any(m not in ("model", "auto") for m in asked)
    if conformal and not backtest.levels:
        msg = (
            f"{check.source}: conformal / calibrated `backtest.intervals` need `backtest.levels`, "
            "e.g. [80, 95]."
        )
        raise ConfigError(msg)


def _metrics(check: Checker, table: Table) -> list[str] | None:
    metrics = table.value("metrics", is_.is_str_list, "a list of metric names")
    if metrics is None:
        return None
    metrics = [m.lower() for m in metrics]
    from tsforecast.metrics import METRICS

    for metric in metrics:
        if metric in ("pinball", "coverage", "msis") or re.match(r"^(coverage|msis)_\d+", metric):
            msg = (
                f"{check.source}: `backtest.metrics` lists {metric!r}; drop it: pinball "
                "loss, coverage and MSIS are reported for every level in `levels`."
            )
            raise ConfigError(msg)
        if metric not in METRICS:
            check.unknown(f"backtest.metrics[{metric!r}]", metric, list(METRICS), what="metric")
    return metrics


# --------------------------------------------------------------------------- value checks
def _config_intervals(value: Any) -> str | dict[str, str]:
    """`intervals` as `backtest(intervals=...)` takes it: a mode, or a table model -> mode."""
    from tsforecast.estimators.conformal import check_intervals

    if isinstance(value, dict):
        return {str(k): check_intervals(v, f"intervals.{k}") for k, v in value.items()}
    return check_intervals(value)


def _config_levels(value: Any) -> tuple[float, ...]:
    """`levels` as `backtest(levels=...)` takes them: a TOML list of percentages."""
    if not isinstance(value, list):
        msg = f"`levels` must be a list of percentages such as [80, 95], got {value!r}."
        raise InputError(msg)
    return check_levels(value)


def _n_jobs(value: Any) -> int:
    """Processes for the statistical models, as `backtest(n_jobs=...)` takes them."""
    from tsforecast.stats import resolve_n_jobs

    resolve_n_jobs(value)
    return int(value)


def check_freq(value: Any) -> str | int:
    """A `freq` as `to_panel` takes it: a pandas frequency alias or a positive integer step."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value in ("", 0):
        msg = (
            "`freq` must be a pandas frequency such as 'h', 'D' or '15min', or a positive "
            f"integer step for integer time stamps, got {value!r}."
        )
        raise InputError(msg)
    if isinstance(value, int):
        if value < 0:
            msg = f"`freq` as an integer step must be positive, got {value}."
            raise InputError(msg)
        return value
    import pandas as pd

    from tsforecast.data.frequency import not_a_frequency

    try:
        pd.tseries.frequencies.to_offset(value)
    except ValueError:
        raise InputError(not_a_frequency(value)) from None
    return value


def _is_engine(value: Any) -> bool:
    from tsforecast.engines import ENGINE_NAMES

    return isinstance(value, str) and value in ENGINE_NAMES


def _available_device(value: str) -> str:
    """Refuse a device this machine lacks (`cuda` without a GPU) before any data is read."""
    from tsforecast.devices import resolve_device

    resolve_device(value)
    return value


def _stem_name(check: Checker) -> str:
    stem = check.source.stem
    if not is_.is_name(stem):
        msg = (
            f"{check.source}: the file name {stem!r} cannot name the results folder; add "
            "`name = \"...\"` (letters, digits, '_', '-', '.')."
        )
        raise ConfigError(msg)
    return stem


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
