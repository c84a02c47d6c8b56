"""The time column: datetimes or integers, parsed from strings or objects, mixtures refused.

One rule for every way time stamps arrive, so that a CSV read as strings gives the same panel
as the frame a Python user builds: naive stamps stay naive; stamps of one time zone (or one UTC
offset) keep it; stamps with different zones or offsets (e.g. `2021-03-28T01:00:00+01:00` then
`2021-03-28T03:00:00+02:00` across a DST change) become UTC; aware mixed with naive is refused.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
import warnings
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from tsforecast.errors import InputError

__all__ = ["MAX_INT_TIME", "time_stamps"]

# integer stamps beyond this could overflow the int64 differences the frequency is taken from
MAX_INT_TIME = 2**62


def time_stamps(column: pd.Series, time_col: str) -> pd.Series:
    """The time column as datetimes or int64, without missing stamps."""
    _check_present(column, time_col)
    stamps = _normalise(column, time_col)
    _check_present(stamps, time_col)  # strings such as "NaT" parse to missing stamps
    return stamps


def _check_present(column: pd.Series, time_col: str) -> None:
    missing = column.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        msg = (
            f"column {time_col!r} has {int(missing.sum())} missing time stamps (first at row "
            f"{row}); drop those rows or give them their time stamps."
        )
        raise InputError(msg)


def _normalise(column: pd.Series, time_col: str) -> pd.Series:
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object)  # the categories' values are the stamps
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    if pd.api.types.is_bool_dtype(column.dtype):
        msg = f"column {time_col!r} is boolean; time stamps must be datetimes or integers."
        raise InputError(msg)
    if pd.api.types.is_timedelta64_dtype(column.dtype):
        _refuse_durations(time_col)
    if isinstance(column.dtype, pd.PeriodDtype):
        _refuse_periods(time_col, f"`df[{time_col!r}].dt.to_timestamp()`")
    if pd.api.types.is_integer_dtype(column.dtype):
        return _checked_ints(column, time_col)
    if pd.api.types.is_float_dtype(column.dtype):
        return _floats_as_ints(column, time_col)
    # an object or string column: the Python types present decide
    non_null = column.dropna()
    kinds = {_kind(v) for v in non_null.to_numpy()}
    if len(kinds) > 1:
        msg = (
            f"column {time_col!r} mixes time stamp types {sorted(kinds)}; "
            "use one type: all datetimes or all integers."
        )
        raise InputError(msg)
    kind = kinds.pop() if kinds else "datetime"
    if kind == "timedelta":
        _refuse_durations(time_col)
    if kind == "int":
        return _checked_ints(column.astype("int64"), time_col)
    if kind == "datetime":
        return _datetime_objects(column, non_null, time_col)
    if kind == "str":
        return _parsed_strings(column, non_null, time_col)
    if kind == "Period":  # Period objects in an object column: no `.dt` accessor
        _refuse_periods(time_col, f"`pd.PeriodIndex(df[{time_col!r}]).to_timestamp()`")
    msg = (
        f"column {time_col!r} holds values of type {kind}; "
        "time stamps must be datetimes or integers."
    )
    raise InputError(msg)


def _refuse_periods(time_col: str, conversion: str) -> NoReturn:
    """pandas Periods (a month, a day) are spans, not stamps: say how to make stamps of them."""
    msg = (
        f"column {time_col!r} holds pandas Periods; time stamps must be datetimes or integers: "
        f"convert the periods to their start times with {conversion}."
    )
    raise InputError(msg)


def _kind(value: Any) -> str:
    # timedelta64 is an integer type to numpy: it must be told apart first
    if isinstance(value, (pd.Timedelta, np.timedelta64, dt.timedelta)):
        return "timedelta"
    if isinstance(value, (pd.Timestamp, np.datetime64, dt.date)):
        return "datetime"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _checked_ints(column: pd.Series, time_col: str) -> pd.Series:
    ints = column.astype("int64")
    values = ints.to_numpy()
    if len(values) and int(np.abs(values).max()) >= MAX_INT_TIME:
        msg = (
            f"column {time_col!r} holds integer time stamps as large as {int(values.max())} / "
            f"{int(values.min())}; integer stamps must lie within ±2**62 (shift them)."
        )
        raise InputError(msg)
    return ints


def _floats_as_ints(column: pd.Series, time_col: str) -> pd.Series:
    """Whole-number floats (1.0, 2.0, ...) are integer stamps; anything else is refused."""
    values = column.to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    whole = finite & (values == np.round(values)) & (np.abs(values) < MAX_INT_TIME)
    if whole.all():
        return column.astype("int64")
    bad = float(values[~whole][0])
    msg = (
        f"column {time_col!r} holds non-integer, infinite or missing floats (e.g. {bad!r}); "
        "time stamps must be datetimes or integers."
    )
    raise InputError(msg)


def _datetime_objects(column: pd.Series, non_null: pd.Series, time_col: str) -> pd.Series:
    zones = {_zone(v) for v in non_null.to_numpy()}
    if None in zones and len(zones) > 1:
        _refuse_aware_and_naive(time_col)
    if zones == {None} or not zones:
        return _to_datetime(column)
    parsed = _to_datetime(column, utc=True)
    # one zone (e.g. stamps concatenated into an object column) keeps it, several become UTC
    if len(zones) == 1 and isinstance(first := non_null.iloc[0], (pd.Timestamp, dt.datetime)):
        return parsed.dt.tz_convert(first.tzinfo)
    return parsed


def _first_not_a_date(non_null: pd.Series) -> Any:
    """The first string that does not parse as a time stamp (the first one if each does alone:
    then only their mix fails)."""
    for value in pd.unique(non_null.to_numpy()):
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            return value
    return non_null.iloc[0]


def _zone(value: Any) -> str | None:
    zone = getattr(value, "tzinfo", None)
    if zone is None:
        return None
    return str(zone)


def _parsed_strings(column: pd.Series, non_null: pd.Series, time_col: str) -> pd.Series:
    dayfirst = _day_first(pd.unique(non_null.to_numpy()), time_col)
    as_written = _parsed_as_written(column, dayfirst)
    if as_written is not None:
        return as_written
    # different offsets, or offsets mixed with none, or not dates: each distinct string tells
    try:
        zones = {_zone(pd.Timestamp(s)) for s in pd.unique(non_null.to_numpy())}
        parsed = _to_datetime(column, utc=True, format="mixed", dayfirst=dayfirst)
    except (ValueError, TypeError, OverflowError) as error:
        msg = (
            f"column {time_col!r} holds strings that are not dates (first: "
            f"{_first_not_a_date(non_null)!r}); pass datetimes or integers."
        )
        raise InputError(msg) from error
    if None in zones and len(zones) > 1:
        _refuse_aware_and_naive(time_col)
    if len(zones) == 1 and None not in zones:
        # one offset, beyond what pandas 2 parses as written (after 2262): it keeps the offset
        return parsed.dt.tz_convert(pd.Timestamp(non_null.iloc[0]).tzinfo)
    wall_clock = _one_time_of_day(non_null, dayfirst)
    if wall_clock is not None:
        # Local midnights (or noons) whose offset changes with DST: in UTC they fall at 22:00
        # or 23:00 and off any daily grid, so days, weeks and months keep their wall-clock
        # stamps (without the offset, which no longer says anything a day does not)
        return column.map(wall_clock).astype("datetime64[ns]")
    return parsed


def _one_time_of_day(non_null: pd.Series, dayfirst: bool) -> dict[str, pd.Timestamp] | None:
    """string -> its wall-clock stamp (offset dropped), when every stamp is at one time of
    day (a day-or-coarser grid in local time); else None (sub-daily stamps stay in UTC)."""
    if dayfirst:
        return None
    local = {s: pd.Timestamp(s).tz_localize(None) for s in pd.unique(non_null.to_numpy())}
    times = {stamp.time() for stamp in local.values()}
    return local if len(times) == 1 and len(local) > 1 else None


# a date written with the day and the month as numbers before the year: 01/02/2021, 1.2.21
_DAY_MONTH_YEAR = re.compile(r"\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.\-])")


def _day_first(strings: np.ndarray, time_col: str) -> bool:
    """Whether dates such as 01/02/2021 are written day-first, decided once for the column.

    pandas' mixed-format parser decides string by string (month-first where the string allows
    it, day-first where the day is over 12), so 31 days written 04/01/2021 ... 04/02/2021 would
    read as April, then May, ... then January. A value over 12 in the first place says
    day-first, one in the second month-first, both is refused; with neither, the reading that
    gives regular time stamps is taken (day-first 01/01/2021 ... 01/12/2024 are months; read
    month-first they are 12 days of four Januaries), and where both or neither do, the column
    is refused rather than guessed.
    """
    matches = [m for s in strings if (m := _DAY_MONTH_YEAR.match(s)) is not None]
    if not matches:
        return False
    by_day = next((m for m in matches if int(m.group(1)) > 12), None)
    by_month = next((m for m in matches if int(m.group(3)) > 12), None)
    if by_day is not None and by_month is not None:
        msg = (
            f"column {time_col!r} writes some dates day-first ({by_day.string!r}) and some "
            f"month-first ({by_month.string!r}); write them all one way, or year-first "
            "('2021-02-01')."
        )
        raise InputError(msg)
    if by_day is not None or by_month is not None:
        return by_day is not None
    readings = {}
    for dayfirst in (False, True):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                readings[dayfirst] = pd.to_datetime(
                    pd.Series(strings), format="mixed", dayfirst=dayfirst
                )
        except (ValueError, TypeError, OverflowError):
            return False  # not all dates: refused later, with the first that is not one
    if readings[False].equals(readings[True]):
        return False
    regular = [dayfirst for dayfirst, stamps in readings.items() if _regular(stamps)]
    if len(regular) == 1:
        return regular[0]
    n_distinct = int(readings[False].nunique())
    if n_distinct < 3:  # two stamps are regular either way: no reading can be preferred
        why = f"{n_distinct} distinct stamps are too few to tell which reading is regular"
    else:
        why = f"{'both readings give' if regular else 'neither reading gives'} regular time stamps"
    differ = int(np.flatnonzero((readings[False] != readings[True]).to_numpy())[0])
    example = _DAY_MONTH_YEAR.match(strings[differ]) or matches[0]
    sep = example.group(2)
    year = "%Y" if len(example.group(4)) == 4 else "%y"
    msg = (
        f"column {time_col!r} writes dates with the day and the month as numbers (e.g. "
        f"{example.string!r}) and no value tells which comes first: read month-first it is "
        f"{readings[False].iloc[differ]:%Y-%m-%d}, day-first "
        f"{readings[True].iloc[differ]:%Y-%m-%d}, and {why}. "
        "Write the dates year-first ('2021-02-01'), or parse the column before passing it: "
        f"pd.to_datetime(df[{time_col!r}], format='%d{sep}%m{sep}{year}') (day-first) or "
        f"format='%m{sep}%d{sep}{year}' (month-first)."
    )
    raise InputError(msg)


def _regular(stamps: pd.Series) -> bool:
    """Whether the distinct stamps lie on one pandas frequency (at least 3 of them)."""
    distinct = pd.DatetimeIndex(stamps.drop_duplicates().sort_values())
    if len(distinct) < 3:
        return False
    try:
        return pd.infer_freq(distinct) is not None
    except (TypeError, ValueError):
        return False


def _parsed_as_written(column: pd.Series, dayfirst: bool = False) -> pd.Series | None:
    """Naive stamps, or stamps that all have one UTC offset, parsed as they are; else None.

    Different offsets (or offsets mixed with none) make pandas 3 raise, while pandas 2 returns
    an object column of `datetime.datetime` with a FutureWarning: both mean "not one zone", so
    that the caller parses them the same way on either version.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "(?s).*mixed time zones", FutureWarning)
        try:
            parsed = _to_datetime(column, format="mixed", dayfirst=dayfirst)
        except (ValueError, TypeError, OverflowError):
            return None
    return parsed if pd.api.types.is_datetime64_any_dtype(parsed.dtype) else None


def _to_datetime(column: pd.Series, *, utc: bool = False, **options: Any) -> pd.Series:
    """`pd.to_datetime`, also for stamps outside 1677-2262 on pandas 2.

    pandas 2 parses into nanoseconds, which cannot hold such stamps, and refuses them; pandas 3
    parses into microseconds. They are parsed into microseconds on pandas 2 too, so that a
    column means the same stamps on either version.
    """
    try:
        return pd.to_datetime(column, utc=utc, **options)
    except pd.errors.OutOfBoundsDatetime:
        return column.astype("datetime64[us, UTC]" if utc else "datetime64[us]")


def _refuse_durations(time_col: str) -> None:
    msg = (
        f"column {time_col!r} holds durations (timedelta); time stamps must be datetimes or "
        "integers: add them to a start date, or count them in steps (e.g. `// pd.Timedelta('1h')`)."
    )
    raise InputError(msg)


def _refuse_aware_and_naive(time_col: str) -> None:
    msg = (
        f"column {time_col!r} mixes time-zone-aware and naive time stamps; "
        "localise them all (`tz_localize`) or strip the zone (`tz_localize(None)`)."
    )
    raise InputError(msg)
