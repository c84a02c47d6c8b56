"""Checks of TOML values for the experiment configs: tables with known keys, typed values.

Every refusal is a `ConfigError` whose message starts with the config file, names the key (as
`table.key`), shows what was received and, for an unknown name, the closest known one.
"""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from tsforecast.errors import InputError

__all__ = ["Checker", "ConfigError", "Table", "describe"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class ConfigError(InputError):
    """An experiment config cannot be used as written (the message names file and key)."""


class Checker:
    """Refusals that name the config file `source`."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def table(self, raw: Any, where: str, keys: tuple[str, ...]) -> Table:
        """`raw` as a table whose keys are all among `keys`."""
        if not isinstance(raw, Mapping):
            msg = f"{self.source}: `{where}` must be a table (`[{where}]`), got {describe(raw)}."
            raise ConfigError(msg)
        for key in raw:
            if key not in keys:
                full = f"{where}.{key}" if where else key
                self.unknown(full, key, list(keys), what="key")
        return Table(self, where, raw)

    def unknown(self, where: str, key: str, known: list[str], what: str) -> NoReturn:
        """Refuse the unknown `what` named `key` at `where`, with the closest of `known`."""
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" did you mean {close[0]!r}?" if close else ""
        msg = f"{self.source}: unknown {what} `{where}`;{hint} known: {', '.join(known)}."
        raise ConfigError(msg)

    def refuse(self, where: str, error: InputError) -> NoReturn:
        """Re-raise an argument check's `error` with the file and the config key in front."""
        msg = f"{self.source}: `{where}`: {error}"
        raise ConfigError(msg) from None


@dataclass(frozen=True)
class Table:
    """One TOML table of a config, read key by key."""

    check: Checker
    where: str
    raw: Mapping[str, Any]

    def __contains__(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def full(self, key: str) -> str:
        """The key as written in messages: `table.key`."""
        return f"{self.where}.{key}" if self.where else key

    def value(self, key: str, ok: Callable[[Any], bool], expected: str) -> Any:
        """The value of `key` (None when absent), refused unless `ok(value)`."""
        if key not in self.raw:
            return None
        value = self.raw[key]
        if not ok(value):
            where = self.full(key)
            msg = f"{self.check.source}: `{where}` must be {expected}, got {describe(value)}."
            raise ConfigError(msg)
        return value

    def checked(self, key: str, check: Callable[[Any], Any]) -> Any:
        """`check(value)` of `key` (None when absent); its `InputError` names the file and key."""
        if key not in self.raw:
            return None
        try:
            return check(self.raw[key])
        except InputError as error:
            self.check.refuse(self.full(key), error)


def describe(value: Any) -> str:
    """A value as a message shows it: its repr (shortened) and its TOML type."""
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


def is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_positive_int(value: Any) -> bool:
    return is_int(value) and value > 0


def is_non_negative_int(value: Any) -> bool:
    return is_int(value) and value >= 0


def is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(_NAME.match(value))


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(is_str(v) for v in value)


def is_str_or_str_list(value: Any) -> bool:
    return is_str(value) or is_str_list(value)


def is_device(value: Any) -> bool:
    return isinstance(value, str) and bool(_DEVICE.match(value))
