"""Experiment configs: a TOML file -> a validated `ExperimentConfig`, refused before any work.

A config names the data, the backtest and the models::

    name = "air_passengers"          # optional, defaults to the file's stem
    seed = 0
    device = "auto"                  # "auto" | "cpu" | "cuda" | "cuda:N" | "mps"

    [data]
    dataset = "air_passengers"       # a shipped data set (`tsforecast datasets`), or
    # path = "sales.csv"             # a CSV / parquet file, relative to this config's folder,
    # id_col = "unique_id"           # with its column names
    # time_col = "ds"
    # target_col = "y"               # or a list of targets

    [backtest]
    horizon = 12                     # defaults to the data set's horizon
    n_windows = 3
    step = 12                        # defaults to horizon
    season_length = 12               # defaults to the data set's season length
    levels = [80, 95]
    metrics = ["smape", "mase", "mae"]

    [models.seasonal_naive]          # one table per model; its keys are the model's parameters
    [models.lstm]
    max_steps = 300

Every key is checked: an unknown key is named with its file and the closest known key, a value
of the wrong type is named with what was received, a data file that does not exist is named with
the path it was looked for at. All of it raises `ConfigError` (an `InputError`) before any data is
read or any model built.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tsforecast.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "BASELINE_MODELS",
    "NEURAL_MODELS",
    "BacktestConfig",
    "ConfigError",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "load_config",
    "parse_config",
]

BASELINE_MODELS = ("naive", "seasonal_naive", "drift", "naive2", "ets", "arima", "theta")
NEURAL_MODELS = ("lstm", "bilstm", "seq2seq")
_DATA_SUFFIXES = (".csv", ".parquet", ".pq")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(InputError):
    """An experiment config cannot be used as written (the message names file and key)."""


@dataclass(frozen=True)
class DataConfig:
    """Where the series come from: a shipped data set by name, or a CSV / parquet file."""

    dataset: str | None = None
    path: Path | None = None  # absolute, resolved against the config's folder
    part: str = "full"  # shipped data sets: "full" (train + test) or "train"
    id_col: str = "unique_id"
    time_col: str = "ds"
    target_col: str | list[str] = "y"


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


@dataclass(frozen=True)
class ModelConfig:
    """One model of the experiment: its registered name and its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


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
    check = _Checker(Path(source))
    top = check.table(raw, "", _TOP_KEYS)
    name = top.value("name", _is_name, "a name of letters, digits, '_', '-' or '.'")
    data = _data(check, top.get("data", {}))
    backtest = _backtest(check, top.get("backtest", {}))
    models = _models(check, top.get("models"))
    seed = top.value("seed", _is_non_negative_int, "a non-negative integer")
    device = top.value("device", _is_device, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    description = top.value("description", _is_str, "a string")
    return ExperimentConfig(
        name=name if name is not None else _stem_name(check),
        source=check.source,
        data=data,
        backtest=backtest,
        models=models,
        seed=0 if seed is None else seed,
        device="auto" if device is None else device,
        description=description or "",
        raw=dict(raw),
    )


# --------------------------------------------------------------------------- sections
_TOP_KEYS = ("name", "description", "seed", "device", "data", "backtest", "models")
_DATA_KEYS = ("dataset", "path", "part", "id_col", "time_col", "target_col")
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
)


def _data(check: _Checker, raw: Any) -> DataConfig:
    table = check.table(raw, "data", _DATA_KEYS)
    dataset = table.value("dataset", _is_str, "the name of a shipped data set")
    path_text = table.value("path", _is_str, "a path to a CSV or parquet file")
    if (dataset is None) == (path_text is None):
        msg = (
            f"{check.source}: [data] needs exactly one of `dataset` (a shipped data set, see "
            "`tsforecast datasets`) or `path` (a CSV / parquet file)"
            + (", got both." if dataset is not None else ", got neither.")
        )
        raise ConfigError(msg)
    part = table.value("part", lambda v: v in ("full", "train"), "'full' or 'train'")
    id_col = table.value("id_col", _is_str, "a column name")
    time_col = table.value("time_col", _is_str, "a column name")
    target_col = table.value(
        "target_col", _is_str_or_str_list, "a column name or a list of column names"
    )
    path = None
    if dataset is not None:
        from tsforecast import datasets

        if _normalise(dataset) not in {_normalise(n) for n in datasets.names()}:
            check.unknown("data.dataset", dataset, datasets.names(), what="data set")
    elif path_text is not None:
        path = (check.source.parent / path_text).resolve()
        if path.suffix.lower() not in _DATA_SUFFIXES:
            msg = f"{check.source}: `data.path` must be a .csv or .parquet file, got {path_text!r}."
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
    return DataConfig(
        dataset=dataset,
        path=path,
        part=part or "full",
        id_col=id_col or "unique_id",
        time_col=time_col or "ds",
        target_col=target_col if target_col is not None else "y",
    )


def _backtest(check: _Checker, raw: Any) -> BacktestConfig:
    table = check.table(raw, "backtest", _BACKTEST_KEYS)
    positive = "a positive integer"
    levels = table.value(
        "levels", _is_levels, "a list of numbers strictly between 0 and 100, e.g. [80, 95]"
    )
    metrics = table.value("metrics", _is_str_list, "a list of metric names")
    if metrics is not None:
        metrics = [m.lower() for m in metrics]
        known = _known_metrics()
        for metric in metrics:
            if metric == "pinball" or re.match(r"^coverage_\d+", metric):
                msg = (
                    f"{check.source}: `backtest.metrics` lists {metric!r}; drop it: pinball "
                    "loss and coverage are reported for every level in `levels`."
                )
                raise ConfigError(msg)
            if known and metric not in known:
                check.unknown(f"backtest.metrics[{metric!r}]", metric, known, what="metric")
    refit = table.value(
        "refit",
        lambda v: isinstance(v, bool) or _is_positive_int(v),
        "true (refit at every cutoff), false (fit once) or a positive integer k (every k)",
    )
    return BacktestConfig(
        horizon=table.value("horizon", _is_positive_int, positive),
        n_windows=table.value("n_windows", _is_positive_int, positive) or 1,
        step=table.value("step", _is_positive_int, positive),
        season_length=table.value("season_length", _is_positive_int, positive),
        levels=[float(v) if not float(v).is_integer() else int(v) for v in (levels or [])],
        metrics=metrics,
        refit=True if refit is None else refit,
        train_size=table.value("train_size", _is_positive_int, positive),
        n_jobs=table.value("n_jobs", lambda v: _is_int(v) and v != 0, "an integer != 0"),
    )


def _models(check: _Checker, raw: Any) -> list[ModelConfig]:
    if raw is None:
        msg = (
            f"{check.source}: no models; add one table per model, e.g. `[models.seasonal_naive]`"
            f" (known models: {', '.join(_known_models())})."
        )
        raise ConfigError(msg)
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        raw = {name: {} for name in raw}  # `models = ["naive", "ets"]`: defaults for all
    if not isinstance(raw, Mapping) or not raw:
        msg = (
            f"{check.source}: `models` must be tables such as `[models.seasonal_naive]` or a "
            f"list of names, got {_describe(raw)}."
        )
        raise ConfigError(msg)
    known = _known_models()
    out = []
    for name, params in raw.items():
        if name not in known:
            check.unknown(f"models.{name}", name, known, what="model")
        if not isinstance(params, Mapping):
            msg = (
                f"{check.source}: `models.{name}` must be a table of parameters "
                f"(`[models.{name}]`), got {_describe(params)}."
            )
            raise ConfigError(msg)
        allowed = _model_parameters(name)
        for key in params:
            if key in _SET_BY_EXPERIMENT:
                msg = (
                    f"{check.source}: `models.{name}.{key}` cannot differ between models; set "
                    f"{_SET_BY_EXPERIMENT[key]} instead."
                )
                raise ConfigError(msg)
            if allowed is not None and key not in allowed:
                check.unknown(f"models.{name}.{key}", key, sorted(allowed), what="parameter")
            if allowed is not None:
                ok, expected = _type_check(allowed[key])
                if key == "season_length":
                    ok, expected = _is_positive_int, "a positive integer"
                if not ok(params[key]):
                    msg = (
                        f"{check.source}: `models.{name}.{key}` must be {expected}, got "
                        f"{_describe(params[key])}."
                    )
                    raise ConfigError(msg)
        out.append(ModelConfig(name=name, params=dict(params)))
    return out


# --------------------------------------------------------------------------- model registry
# model parameters that the experiment sets once for every model
_SET_BY_EXPERIMENT = {
    "horizon": "`backtest.horizon`",
    "levels": "`backtest.levels`",
    "id_col": "`data.id_col`",
    "time_col": "`data.time_col`",
    "target_col": "`data.target_col`",
}


def _known_models() -> list[str]:
    names = list(BASELINE_MODELS) + list(NEURAL_MODELS)
    try:  # the engine may register more (and is the authority when present)
        from tsforecast.backtest import model_names

        names += [str(n) for n in model_names() if str(n) not in names]
    except ImportError:
        pass
    return names


def _model_parameters(name: str) -> dict[str, str] | None:
    """The parameters a model accepts and their annotations; None: left to the engine."""
    if name in NEURAL_MODELS:
        try:
            from tsforecast.estimators import registry
        except ImportError:
            return None
        return _init_parameters(registry.spec(name).cls)
    if name in BASELINE_MODELS:
        return {"season_length": "int"}  # the baselines choose everything else themselves
    return None


def _init_parameters(cls: type) -> dict[str, str]:
    """Named constructor parameters and their annotations, following `**kwargs` upwards."""
    found: dict[str, str] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[1:]
        for p in params:
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in found:
                annotation = p.annotation
                found[p.name] = annotation if isinstance(annotation, str) else ""
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return found


# TOML value checks for the annotations the estimators use ("int | None", "Sequence[str]", ...)
_ANNOTATION_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "Sequence": (lambda v: isinstance(v, list), "a list"),
}


def _type_check(annotation: str) -> tuple[Callable[[Any], bool], str]:
    """A check of a TOML value against a parameter annotation (unknown parts accept anything)."""
    checks = []
    for part in annotation.split("|"):
        base = part.strip().split("[", 1)[0].split(".")[-1]
        if base == "None":
            continue  # TOML has no null: leaving the key out gives the default
        if base not in _ANNOTATION_CHECKS:
            return (lambda v: True), "anything"
        checks.append(_ANNOTATION_CHECKS[base])
    if not checks:
        return (lambda v: True), "anything"
    expected = " or ".join(dict.fromkeys(text for _, text in checks))
    return (lambda v: any(ok(v) for ok, _ in checks)), expected


def _known_metrics() -> list[str]:
    try:
        from tsforecast import metrics
    except ImportError:
        return []
    return list(metrics.METRICS)


# --------------------------------------------------------------------------- checking helpers
class _Checker:
    def __init__(self, source: Path) -> None:
        self.source = source

    def table(self, raw: Any, where: str, keys: tuple[str, ...]) -> _Table:
        if not isinstance(raw, Mapping):
            msg = f"{self.source}: `{where}` must be a table (`[{where}]`), got {_describe(raw)}."
            raise ConfigError(msg)
        for key in raw:
            if key not in keys:
                full = f"{where}.{key}" if where else key
                self.unknown(full, key, list(keys), what="key")
        return _Table(self, where, raw)

    def unknown(self, where: str, key: str, known: list[str], what: str) -> None:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" did you mean {close[0]!r}?" if close else ""
        msg = f"{self.source}: unknown {what} `{where}`;{hint} known: {', '.join(known)}."
        raise ConfigError(msg)


@dataclass(frozen=True)
class _Table:
    check: _Checker
    where: str
    raw: Mapping[str, Any]

    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def value(self, key: str, ok: Callable[[Any], bool], expected: str) -> Any:
        """The value of `key` (None when absent), refused unless `ok(value)`."""
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not ok(value):
            full = f"{self.where}.{key}" if self.where else key
            msg = f"{self.check.source}: `{full}` must be {expected}, got {_describe(value)}."
            raise ConfigError(msg)
        return value


def _stem_name(check: _Checker) -> str:
    stem = check.source.stem
    if not _is_name(stem):
        msg = (
            f"{check.source}: the file name {stem!r} cannot name the results folder; add "
            "`name = \"...\"` (letters, digits, '_', '-', '.')."
        )
        raise ConfigError(msg)
    return stem


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({kind})"


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_positive_int(value: Any) -> bool:
    return _is_int(value) and value > 0


def _is_non_negative_int(value: Any) -> bool:
    return _is_int(value) and value >= 0


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_str(v) for v in value)


def _is_str_or_str_list(value: Any) -> bool:
    return _is_str(value) or _is_str_list(value)


def _is_device(value: Any) -> bool:
    return isinstance(value, str) and bool(_DEVICE.match(value))


def _is_levels(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 < float(v) < 100
        for v in value
    )
