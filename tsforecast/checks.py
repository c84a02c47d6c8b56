"""Argument checks shared by every entry point (estimators, `forecast()`, `backtest()`, configs,
the CLI): one function per kind of argument, each raising `InputError` that names the argument,
shows what was received and says how to fix it.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tsforecast.errors import InputError

__all__ = [
    "FILL_POLICIES",
    "check_fill",
    "check_forecast_columns",
    "check_levels",
    "check_seed",
    "check_time_budget",
    "fraction",
    "level_tag",
    "non_negative_int",
    "one_of",
    "positive_int",
    "positive_int_or_none",
]

FILL_POLICIES = ("ffill", "interpolate", "zero")


def positive_int(name: str, value: Any) -> int:
    """`value` as an int > 0, or `InputError` naming the argument."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or int(value) <= 0:
        msg = f"`{name}` must be a positive integer, got {value!r}."
        raise InputError(msg)
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    """`value` as an int >= 0, or `InputError` naming the argument."""
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or int(value) < 0:
        msg = f"`{name}` must be a non-negative integer, got {value!r}."
        raise InputError(msg)
    return int(value)


def positive_int_or_none(name: str, value: Any) -> int | None:
    """`value` as an int > 0, None as None, or `InputError` naming the argument."""
    if value is None:
        return None
    is_int = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not is_int or int(value) <= 0:
        msg = f"`{name}` must be a positive integer or None, got {value!r}."
        raise InputError(msg)
    return int(value)


def fraction(name: str, value: Any) -> float:
    """`value` as a float in [0, 1) (a dropout rate, a share held out), or `InputError`."""
    is_real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not is_real or not 0.0 <= float(value) < 1.0:
        msg = f"`{name}` must be a number in [0, 1), got {value!r}."
        raise InputError(msg)
    return float(value)


def one_of(name: str, value: Any, choices: Sequence[str]) -> str:
    """`value` if it is one of `choices`, else `InputError` naming the closest choice."""
    if isinstance(value, str) and value in choices:
        return value
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    msg = f"`{name}` must be one of {list(choices)}, got {value!r}{hint}"
    raise InputError(msg)


def level_tag(level: float) -> str:
    """How a level is written in column names: 80 -> '80', 99.5 -> '99.5'."""
    return f"{float(level):g}"


def check_levels(levels: Any) -> tuple[float, ...]:
    """`levels` as percentages strictly between 0 and 100, without duplicates (None: none).

    Levels are percentages: (80, 95). Fractions such as (0.8, 0.95) are refused with the
    percentage they most likely meant, because a 0.8 % interval is almost never what was wanted.
    """
    if levels is None:
        return ()
    if isinstance(levels, (numbers.Real, np.number)) and not isinstance(levels, bool):
        levels = [levels]
    if isinstance(levels, (str, bytes)) or not isinstance(levels, (Sequence, np.ndarray)):
        msg = f"`levels` must be a list of percentages such as (80, 95), got {levels!r}."
        raise InputError(msg)
    out: list[float] = []
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, (numbers.Real, np.number)):
            msg = f"`levels` must be percentages such as (80, 95), got {levels!r}."
            raise InputError(msg)
        if not 0.0 < float(level) < 100.0:
            msg = f"every level must lie strictly between 0 and 100, got {level!r} in `levels`."
            raise InputError(msg)
        out.append(float(level))
    if out and all(lvl < 1.0 for lvl in out):
        meant = ", ".join(level_tag(100 * lvl) for lvl in out)
        msg = (
            f"`levels` are percentages, got {list(levels)!r}: did you mean ({meant})? "
            "Pass levels=(80, 95) for 80 % and 95 % intervals."
        )
        raise InputError(msg)
    tags = [level_tag(lvl) for lvl in out]
    if len(set(tags)) != len(tags):
        msg = f"`levels` has duplicates: {list(levels)!r}."
        raise InputError(msg)
    return tuple(out)


def check_forecast_columns(
    id_col: str,
    time_col: str,
    target_cols: Sequence[str],
    levels: Sequence[float],
    with_cutoff: bool = False,
) -> None:
    """Refuse data whose column names the forecast frame would give to two of its columns.

    The frame holds the id, the time, (`predict_cutoffs`) the cutoff and, per target T, T and
    `T_lo_<level>` / `T_hi_<level>`: a second target named `y_lo_80` next to `y` with level 80
    would overwrite y's bound (a frame with one column fewer, its bound another target's point
    forecast), a target named `cutoff` the cutoffs.
    """
    held: dict[str, str] = {}
    columns = [(id_col, "the id column"), (time_col, "the time column")]
    if with_cutoff:
        columns.append(("cutoff", "the cutoff of each forecast"))
    for target in target_cols:
        columns.append((target, f"the point forecast of target {target!r}"))
        for level in levels:
            tag = level_tag(level)
            columns.append((f"{target}_lo_{tag}", f"the lower {tag} % bound of target {target!r}"))
            columns.append((f"{target}_hi_{tag}", f"the upper {tag} % bound of target {target!r}"))
    for name, what in columns:
        if name in held:
            msg = (
                f"the forecast frame would name two of its columns {name!r}: {held[name]} and "
                f"{what} (its columns are the id, the time, {'the cutoff, ' if with_cutoff else ''}"
                "and per target T: T, T_lo_<level>, T_hi_<level>); rename that column of the "
                f"data first (e.g. `df.rename(columns={{{name!r}: '{name}_'}})`)."
            )
            raise InputError(msg)
        held[name] = what


def check_seed(seed: Any) -> int:
    """A seed: a non-negative integer."""
    is_int = isinstance(seed, numbers.Integral) and not isinstance(seed, bool)
    if not is_int or int(seed) < 0:
        msg = f"`seed` must be a non-negative integer, got {seed!r}."
        raise InputError(msg)
    return int(seed)


def check_time_budget(value: Any, name: str = "time_budget_s") -> float | None:
    """A wall-clock budget in seconds: a positive number, or None for no budget."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(float(value))
        or float(value) <= 0
    ):
        msg = f"`{name}` must be a positive number of seconds or None, got {value!r}."
        raise InputError(msg)
    return float(value)


def check_fill(fill: Any) -> str | None:
    """How gaps and missing values are filled: None (refuse them) or one of FILL_POLICIES."""
    if fill is not None and fill not in FILL_POLICIES:
        msg = f"`fill` must be None or one of {list(FILL_POLICIES)}, got {fill!r}."
        raise InputError(msg)
    return fill
