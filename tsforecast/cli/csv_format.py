"""How a CSV file writes its values (column separator, decimal and thousands marks), as the
command line (`--sep`, `--decimal`, `--thousands`) and a config (`data.sep`, ...) give it.

The Python API user reads a file themselves (`pd.read_csv(path, sep=';', decimal=',')`); the
command line and a config read it for their user, who has no `pd.read_csv` to call, so the
library's advice to call it is said here as the command's own options (`as_reading_advice`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tsforecast.errors import InputError

__all__ = [
    "CsvFormat",
    "Spell",
    "as_reading_advice",
    "check_csv_format",
    "spell_config",
    "spell_flag",
]

# How a refusal says to set a CSV option: (option, value) -> "`--sep ';'`" on the command
# line, "`data.sep = \";\"`" in a config.
Spell = Callable[[str, str], str]


def spell_flag(option: str, value: str) -> str:
    """A CSV option as the command line gives it: `--decimal ,`."""
    shown = {"\t": "tab", " ": "' '", ";": "';'", "|": "'|'", "'": '"\'"'}.get(value, value)
    return f"`--{option} {shown}`"


def spell_config(option: str, value: str) -> str:
    """A CSV option as a config gives it: `data.decimal = ","`."""
    return f"`data.{option} = {json.dumps(value)}`"


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file writes its values: pandas' `sep`, `decimal` and `thousands`."""

    sep: str = ","
    decimal: str = "."
    thousands: str | None = None

    def options(self) -> dict[str, Any]:
        """The `pd.read_csv` keywords."""
        return {"sep": self.sep, "decimal": self.decimal, "thousands": self.thousands}

    def given(self) -> list[str]:
        """The options that differ from a plain CSV's, by name."""
        plain = CsvFormat()
        return [k for k in ("sep", "decimal", "thousands") if getattr(self, k) != getattr(plain, k)]


_SEPARATORS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|", " ": " "}
_DECIMALS = (".", ",")
_THOUSANDS = (".", ",", " ", "'", "_")


def check_csv_format(
    sep: str | None, decimal: str | None, thousands: str | None, spell: Spell
) -> CsvFormat:
    """The CSV options as given (None: the plain CSV's), refused unless pandas reads them as
    meant: one separator, '.' or ',' as the decimal mark, a thousands mark that is neither."""
    fmt = CsvFormat()
    if sep is not None:
        if sep not in _SEPARATORS:
            shown = ", ".join(spell("sep", v) for v in (",", ";", "\t", "|"))
            msg = f"{spell('sep', sep)}: the column separator must be one of {shown}."
            raise InputError(msg)
        fmt = replace(fmt, sep=_SEPARATORS[sep])
    if decimal is not None:
        if decimal not in _DECIMALS:
            msg = f"{spell('decimal', decimal)}: the decimal mark must be '.' or ','."
            raise InputError(msg)
        fmt = replace(fmt, decimal=decimal)
    if thousands is not None:
        if thousands not in _THOUSANDS:
            allowed = list(_THOUSANDS)
            msg = f"{spell('thousands', thousands)}: the thousands mark must be one of {allowed}."
            raise InputError(msg)
        if thousands == fmt.decimal:
            msg = (
                f"{spell('thousands', thousands)}: the thousands mark is also the decimal mark; "
                f"give {spell('decimal', ',' if thousands == '.' else '.')} with it."
            )
            raise InputError(msg)
        fmt = replace(fmt, thousands=thousands)
    return fmt


# the fix `validation` gives for numbers written with a decimal comma, in the Python API's words
_PANDAS_READING = re.compile(r"`pd\.read_csv\(path, ([^)`]*)\)`")
_PANDAS_OPTION = re.compile(r"(\w+)='([^']*)'")


def as_reading_advice(message: str, spell: Spell) -> str:
    """A refusal's `pd.read_csv(path, decimal=',')` said as the command's own options: the
    command line and a config read the file themselves, and their user has no `pd.read_csv`
    to call."""

    def spelled(match: re.Match[str]) -> str:
        options = _PANDAS_OPTION.findall(match.group(1))
        return " and ".join(spell(name, value) for name, value in options)

    if not _PANDAS_READING.search(message):
        return message
    message = message.replace("read the file with `pd.read_csv", "give `pd.read_csv")
    return _PANDAS_READING.sub(spelled, message)
