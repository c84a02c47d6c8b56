"""The `[models.NAME]` tables of an experiment config, read from the model registry only.

The models a config may name and the parameters each takes are the registry's
(`registry.names()`, `registry.spec(name).user_param_names()`); nothing here lists them. A
value's TOML type is checked against the annotation of the model class's constructor (so a
string where a number belongs is named as such), then the whole table is checked by building
the model with `registry.build`, so a value the model itself refuses is refused at config load,
with the file and the table named, before any data is read.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tsforecast.cli.toml_checks import Checker, ConfigError, describe, is_int
from tsforecast.errors import InputError
from tsforecast.estimators import registry

__all__ = ["ModelConfig", "parse_models", "type_check"]

# What a model table may not set, because the experiment sets it once for every model: the
# registry's entry-point arguments, and where the config sets each.
_CONFIG_KEY = {
    "horizon": "`backtest.horizon`",
    "levels": "`backtest.levels`",
    "id_col": "`data.id_col`",
    "time_col": "`data.time_col`",
    "target_col": "`data.target_col`",
}


@dataclass(frozen=True)
class ModelConfig:
    """One model of the experiment: its registered name and its parameters."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


def parse_models(check: Checker, raw: Any, shared: Mapping[str, Any]) -> list[ModelConfig]:
    """The `models` section: one table per model, or a list of names (defaults for all).

    `shared` holds the experiment's own arguments (horizon, levels, device, seed, ...), with
    which each model is built once here to check its parameters' values.
    """
    known = registry.names()
    if raw is None:
        msg = (
            f"{check.source}: no models; add one table per model, e.g. `[models.seasonal_naive]`"
            f" (known models: {', '.join(known)})."
        )
        raise ConfigError(msg)
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        raw = {name: {} for name in raw}  # `models = ["naive", "ets"]`: defaults for all
    if not isinstance(raw, Mapping) or not raw:
        msg = (
            f"{check.source}: `models` must be tables such as `[models.seasonal_naive]` or a "
            f"list of names, got {describe(raw)}."
        )
        raise ConfigError(msg)
    for name, params in raw.items():
        if name not in known:
            check.unknown(f"models.{name}", name, known, what="model")
        if not isinstance(params, Mapping):
            msg = (
                f"{check.source}: `models.{name}` must be a table of parameters "
                f"(`[models.{name}]`), got {describe(params)}."
            )
            raise ConfigError(msg)
    # every name first: reading a model's class imports its libraries (torch, statsmodels),
    # which a misspelt model name should not wait for
    for name, params in raw.items():
        _check_table(check, name, params)
        try:
            registry.build(name, dict(params), **shared)
        except InputError as error:
            check.refuse(f"models.{name}", error)
    return [ModelConfig(name=name, params=dict(params)) for name, params in raw.items()]


def _check_table(check: Checker, name: str, params: Mapping[str, Any]) -> None:
    """Names and TOML types of one model's parameters (values are left to the model)."""
    spec = registry.spec(name)
    allowed = spec.user_param_names()
    signature = inspect.signature(spec.cls.__init__).parameters
    for key, value in params.items():
        if key in registry.ENTRY_POINT_ARGS:
            where = _CONFIG_KEY.get(key, "it in the config's own tables")
            msg = (
                f"{check.source}: `models.{name}.{key}` cannot differ between models; set "
                f"{where} instead."
            )
            raise ConfigError(msg)
        if key not in allowed:
            check.unknown(f"models.{name}.{key}", key, sorted(allowed), what="parameter")
        ok, expected = type_check(signature[key].annotation)
        if not ok(value):
            msg = (
                f"{check.source}: `models.{name}.{key}` must be {expected}, got {describe(value)}."
            )
            raise ConfigError(msg)


# TOML value checks for the annotations the estimators use ("int | None", "Sequence[str]", ...)
_ANNOTATION_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "int": (is_int, "an integer"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "Sequence": (lambda v: isinstance(v, list), "a list"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "tuple": (lambda v: isinstance(v, list), "a list"),
}


def _anything(value: Any) -> bool:
    return True


def type_check(annotation: Any) -> tuple[Callable[[Any], bool], str]:
    """A check of a TOML value against a parameter's annotation (unknown parts accept anything;
    the model's own value check at `registry.build` still sees the value)."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    checks = []
    for part in text.split("|"):
        base = part.strip().split("[", 1)[0].split(".")[-1]
        if base == "None":
            continue  # TOML has no null: leaving the key out gives the default
        if base not in _ANNOTATION_CHECKS:
            return _anything, "anything"
        checks.append(_ANNOTATION_CHECKS[base])
    if not checks:
        return _anything, "anything"
    expected = " or ".join(dict.fromkeys(text for _, text in checks))
    return (lambda v: any(ok(v) for ok, _ in checks)), expected
