"""Frequency inference, regular time grids and the seasonal period of a panel."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import torch

from tsforecast.data.panel import Panel
from tsforecast.errors import InputError

if TYPE_CHECKING:
    from tsforecast.data.validation import FillPolicy

__all__ = [
    "MAX_FILLED_STEPS",
    "infer_season_length",
    "infer_step",
    "on_calendar_grid",
    "on_fixed_grid",
    "regularise",
    "season_of_frequency",
]

# filling gaps may grow a series to this many stamps (or to 100 times its length)
MAX_FILLED_STEPS = 10_000_000
# the seasonal period, in steps of one unit, of calendar frequencies (by pandas rule code,
# anchors dropped): the weekly cycle of days, the yearly cycle of weeks, months and quarters;
# business and semi-month calendars included (pandas 2 and 3 spellings)
_SEASONS = {
    "D": 7,
    "B": 5,
    "C": 5,
    "W": 52,
    **dict.fromkeys(("MS", "ME", "M", "BMS", "BME", "BM", "CBMS", "CBME", "CBM"), 12),
    **dict.fromkeys(("SMS", "SME", "SM"), 24),
    **dict.fromkeys(("QS", "QE", "Q", "BQS", "BQE", "BQ"), 4),
}


def season_of_frequency(freq: str) -> int:
    """The seasonal period, in steps, of a pandas frequency (1: none).

    A multiple of a unit divides the unit's period ("2MS": 6, "2h": 12; "7D" and "14D" are
    "W" and "2W": 52 and 26); where it does not divide it ("5h", "2D", "3W") no whole number
    of steps spans the cycle, and the period is 1,
    as in GluonTS: a season of 4 for 5-hourly data would compare 20 hours apart, not the same
    hour of the day.
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        # sub-daily steps follow the daily cycle, steps of a day or more the weekly one
        # (pandas 2 counts "D" as a Tick, pandas 3 does not: both give 7)
        seconds = round(pd.Timedelta(offset).total_seconds())
        week = 7 * 86400
        if seconds >= week and seconds % week == 0:
            # "7D" is "W" and "14D" is "2W": steps of whole weeks follow the yearly cycle of
            # weeks, as "W" does (the weekly cycle is one step; it gave 1, no season)
            return season_of_frequency(f"{seconds // week}W")
        cycle = 86400 if seconds < 86400 else week
        return cycle // seconds if seconds > 0 and cycle % seconds == 0 else 1
    code = offset.rule_code.split("-")[0]
    multiple = abs(int(offset.n)) or 1
    if code == "D" and multiple % 7 == 0:  # pandas 3's "7D" (no Tick): whole weeks, as above
        return season_of_frequency(f"{multiple // 7}W")
    base = _SEASONS.get(code, 1)
    return base // multiple if base % multiple == 0 else 1


# aliases pandas 3 removed, with what they meant then: the message names the new spelling
_RENAMED_ALIASES = {
    "M": "'ME' (month end) or 'MS' (month start)",
    "Q": "'QE' (quarter end) or 'QS' (quarter start)",
    "Y": "'YE' (year end) or 'YS' (year start)",
    "A": "'YE' (year end) or 'YS' (year start)",
    "BM": "'BME' (business month end) or 'BMS'",
    "BQ": "'BQE' (business quarter end) or 'BQS'",
    "BY": "'BYE' (business year end) or 'BYS'",
    "SM": "'SME' (semi-month end) or 'SMS'",
    "H": "'h' (hours)",
    "T": "'min' (minutes)",
    "S": "'s' (seconds)",
    "L": "'ms' (milliseconds)",
    "U": "'us' (microseconds)",
    "N": "'ns' (nanoseconds)",
}


def not_a_frequency(freq: Any) -> str:
    """The message for a `freq` pandas cannot read, naming the new spelling of a removed alias
    ("M" meant month end before pandas 3)."""
    msg = f"`freq` {freq!r} is not a pandas frequency (e.g. 'h', 'D', 'MS', '15min')."
    head = str(freq).split("-")[0].lstrip("0123456789")
    if head in _RENAMED_ALIASES:
        msg = msg[:-1] + f"; pandas 3 renamed {head!r}: did you mean {_RENAMED_ALIASES[head]}?"
    return msg


def infer_season_length(panel: Panel, lengths: torch.Tensor | None = None) -> int:
    """The seasonal period: from the frequency for datetimes, else from the autocorrelation.

    For integer time stamps every lag is scored by the mean autocorrelation of the differenced
    series there (over the series at least 3 lags long). A lag is a cycle where that is clearly
    positive (> 0.2), the highest from half the lag below to half above (within two standard
    errors), and where it dips by 0.2 or more in the half-lag before it. The dip and the peak
    refuse aliases: a cycle of 10 steps also correlates at 0.31 with itself 12 steps on
    (cos(2 pi 12 / 10)), below the 0.81 of lag 11, and the calendar candidates alone once took
    that lag, a season worse than none. The best of the calendar periods (4, 7, 12, 24, 52) that
    are cycles wins (or its shortest divisor that is a cycle as strong: 6 for a cycle of 6,
    which repeats at 12); where none is, the best cycle of any lag from 3 to a third of the
    series (400 at most); else 1 (no season). `lengths` [S]: read only the first `lengths[s]`
    observations of each series (default: all of them).
    """
    if isinstance(panel.freq, str):
        return season_of_frequency(panel.freq)
    n_read = (panel.lengths if lengths is None else lengths).to("cpu").numpy()
    sample = [panel.series_values(s)[: n_read[s], 0] for s in range(min(panel.n_series, 200))]
    acf, n_values = _mean_autocorrelation(sample, max_lag=_MAX_SCANNED_LAG)  # -> (L,), int
    noise = 2.0 / math.sqrt(max(n_values, 1))  # two standard errors of a mean autocorrelation

    def is_cycle(lag: int) -> bool:
        if lag + 1 >= len(acf) or not acf[lag] > 0.2:
            return False
        # from lag 2: the lag-1 autocorrelation of differenced noise is -0.5, not a cycle's dip
        low, high = max(2, lag - lag // 2), lag + lag // 2 + 1
        peak = acf[lag] >= np.nanmax(acf[low:high]) - noise
        dip = acf[lag] - np.nanmin(acf[low : lag + 1]) >= 0.2
        return bool(peak and dip)

    for candidates in (_CALENDAR_SEASONS, range(3, len(acf) - 1)):
        cycles = [lag for lag in candidates if is_cycle(lag)]
        if cycles:
            best = max(cycles, key=lambda lag: (acf[lag], -lag))
            # a cycle of 6 repeats at 12 as strongly: take the shortest period that does
            divisors = [d for d in range(3, best) if best % d == 0 and is_cycle(d)]
            return next((d for d in divisors if acf[d] >= acf[best] - noise), best)
    return 1


_CALENDAR_SEASONS = (4, 7, 12, 24, 52)
_MAX_SCANNED_LAG = 400  # past a year of weeks and two weeks of hours; longer cycles: give one


def _mean_autocorrelation(sample: list[np.ndarray], max_lag: int) -> tuple[np.ndarray, int]:
    """(L,) the mean over `sample` of each differenced series' autocorrelation at lags 0..L-1,
    a lag read from the series at least 3 lags long (NaN where none is), L <= max_lag + 2; and
    the number of differences read."""
    longest = max((len(y) - 1 for y in sample), default=0)
    n_lags = min(max_lag + 2, longest // 3 + 1)
    total, count = np.zeros(max(n_lags, 0)), np.zeros(max(n_lags, 0))
    n_values = 0
    for y in sample:
        x = np.diff(np.asarray(y, dtype=np.float64))
        x = x - x.mean() if len(x) else x
        denominator = float(np.dot(x, x))
        usable = min(n_lags, len(x) // 3 + 1)
        if denominator <= 0 or usable < 3:
            continue
        # the autocorrelation at every lag at once: the power spectrum's inverse transform
        spectrum = np.fft.rfft(x, n=2 * len(x))
        lags = np.fft.irfft(spectrum * np.conj(spectrum))[:usable] / denominator  # -> (usable,)
        total[:usable] += lags
        count[:usable] += 1
        n_values += len(x)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), n_values


def infer_step(
    times: pd.Series,
    bounds: np.ndarray,
    ids: list[Any],
    is_datetime: bool,
    freq: str | int | None,
    time_col: str,
) -> str | int:
    """The common frequency of all series: a pandas alias, or an int step for integer time.

    `times` holds the series one after the other; series `s` is `times[bounds[s]:bounds[s+1]]`.
    """
    if not is_datetime:
        if freq is not None:
            if isinstance(freq, str) or int(freq) <= 0:
                msg = (
                    f"`freq` must be a positive integer step for integer time stamps, got {freq!r}."
                )
                raise InputError(msg)
            return int(freq)
        return _common_integer_step(times.to_numpy(dtype=np.int64), bounds, ids)
    if freq is not None:
        if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq > 0:
            # "2" is no pandas alias: say what an integer step is for, and its pandas spelling
            msg = (
                f"`freq` {int(freq)} is an integer step, which is for integer time stamps, but "
                f"column {time_col!r} holds datetimes; pass a pandas frequency instead, e.g. "
                f"'{freq}D' (every {freq} days) or '{freq}h', or leave `freq` out to infer it."
            )
            raise InputError(msg)
        try:
            offset = pd.tseries.frequencies.to_offset(str(freq))
        except ValueError as error:
            raise InputError(not_a_frequency(freq)) from error
        return str(offset.freqstr)
    uniform = _uniform_sub_daily_step(times, bounds)
    if uniform is not None:
        return uniform
    uniform = _uniform_calendar_step(times, bounds)
    if uniform is not None:
        return uniform
    inferred: dict[str, list[Any]] = {}
    for s, series_id in enumerate(ids):
        lo, hi = bounds[s], bounds[s + 1]
        if hi - lo >= 3:
            _add_inferred(inferred, times.iloc[lo:hi], series_id)
    if len(inferred) > 1:
        described = {alias: members[:3] for alias, members in inferred.items()}
        msg = (
            f"series have different frequencies: {described}; split them into separate frames "
            "or resample them to one frequency."
        )
        raise InputError(msg)
    if inferred:
        return next(iter(inferred))
    return _step_of_gappy_series(times, bounds, ids, time_col)


def _uniform_sub_daily_step(times: pd.Series, bounds: np.ndarray) -> str | None:
    """Fast path: every step inside every series is one fixed period of at most a day.

    pandas infers the same alias for every such series (a fixed period up to a day is never
    anchored, unlike a week or a month), so one series tells it: no loop over the series.
    None when the steps differ or exceed a day (the per-series inference decides then).
    """
    ticks, unit = _ticks(times)
    head = min(len(ticks), 4097)
    diffs = np.diff(ticks[:head])
    across = np.zeros(len(diffs), dtype=bool)  # the step from one series to the next
    across[bounds[1:-1][bounds[1:-1] < head] - 1] = True
    inside = np.flatnonzero(~across)
    if len(inside) == 0:
        return None
    step = diffs[inside[0]]
    if step <= 0 or not steps_all_equal(ticks, bounds, int(step)):
        return None
    if pd.Timedelta(int(step), unit=unit or "ns") > pd.Timedelta(days=1):
        return None
    return _first_series_alias(times, bounds)


def _first_series_alias(times: pd.Series, bounds: np.ndarray) -> str | None:
    """The frequency pandas infers for the first series of 3 stamps or more (None: no such
    series, or none inferred)."""
    long_enough = np.flatnonzero(np.diff(bounds) >= 3)
    if len(long_enough) == 0:
        return None
    s = int(long_enough[0])
    inferred: dict[str, list[Any]] = {}
    _add_inferred(inferred, times.iloc[bounds[s] : bounds[s + 1]], s)
    return next(iter(inferred)) if inferred else None


def _uniform_calendar_step(times: pd.Series, bounds: np.ndarray) -> str | None:
    """Fast path for steps of more than a day: the frequency pandas infers for the first
    series of 3 stamps or more, when every series is on its grid (`on_calendar_grid`). Each
    series inferred on its own cost 10,000 monthly series 1.7 s. None otherwise (the series
    are inferred one by one, which names the ones that differ)."""
    alias = _first_series_alias(times, bounds)
    return alias if alias is not None and on_calendar_grid(times, bounds, alias) else None


def on_calendar_grid(times: pd.Series | pd.Index, bounds: np.ndarray, step: str | int) -> bool:
    """Fast path for a calendar frequency ("MS", "W-SUN", "B", "QS-OCT", ...): True when every
    series with two stamps or more starts on the frequency and each stamp is the one before
    plus one step, as `regularise` would find it one series at a time (10,000 monthly series:
    2.9 s). False for a fixed period (`on_fixed_grid` checks those), and for the frequencies
    pandas cannot add to many stamps at once (custom business days, business hours), which
    take the slow check."""
    if not isinstance(step, str) or not pd.api.types.is_datetime64_any_dtype(times.dtype):
        return False
    offset = pd.tseries.frequencies.to_offset(step)
    if isinstance(offset, pd.offsets.Tick) or len(times) < 2:
        return False
    stamps = pd.DatetimeIndex(times)
    lengths = np.diff(bounds)
    firsts = stamps[bounds[:-1][lengths >= 1]]  # a one-row series too: it has a grid
    try:
        with warnings.catch_warnings():
            # a non-vectorised offset (a Python loop over the stamps) is no fast path
            warnings.simplefilter("error", pd.errors.PerformanceWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            following = stamps[:-1] + offset  # [N - 1] each stamp plus one step
            # on the frequency: one step forward and back is the same stamp (Jan 15 + MS - MS
            # is Jan 1)
            on_offset = (firsts + offset) - offset == firsts
    except Exception:  # out of bounds, a DST gap: the slow check says what is wrong
        return False
    if not bool(np.all(on_offset)):
        return False
    equal = np.asarray(following == stamps[1:])
    equal[bounds[1:-1] - 1] = True  # the step from one series to the next is not checked
    return bool(equal.all())


def _add_inferred(inferred: dict[str, list[Any]], stamps: pd.Series, series_id: Any) -> None:
    """Add `series_id` to the members of the frequency pandas infers for `stamps`, if any."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
            found = pd.infer_freq(pd.DatetimeIndex(stamps))
    except (ValueError, TypeError):
        found = None
    if found is not None:
        alias = str(getattr(found, "freqstr", found))
        inferred.setdefault(alias, []).append(series_id)


def _step_of_gappy_series(
    times: pd.Series, bounds: np.ndarray, ids: list[Any], time_col: str
) -> str:
    """Every series has gaps: the frequency of their gap-free stretches (runs of 5 stamps), or,
    with no regular stretch at all, the most common step inside a series."""
    inferred: dict[str, list[Any]] = {}
    for s, series_id in enumerate(ids[:50]):
        lo, hi = bounds[s], bounds[s + 1]
        for start in range(lo, max(lo + 1, hi - 4), 5):
            run = times.iloc[start : start + 5]
            if len(run) >= 3:
                _add_inferred(inferred, run, series_id)
    if inferred:
        return max(inferred, key=lambda alias: len(inferred[alias]))
    ticks, unit = _ticks(times)
    steps, counts = np.unique(_steps_inside(ticks, bounds), return_counts=True)
    if len(steps) and steps[np.argmax(counts)] > 0:
        common = pd.Timedelta(int(steps[np.argmax(counts)]), unit=unit or "ns")
        stamps = pd.DatetimeIndex(times)
        calendar = _calendar_step(stamps, bounds, common, time_col)
        if calendar is not None:
            return calendar
        # the grid every step is a whole number of, as for integer stamps: steps of 2 and 3
        # weeks are on a weekly grid, where the most common step (2 weeks, '336h') put the
        # others off it. Not for steps of 13-18 days: semi-months, a calendar period whose
        # frequency ('SMS', 'SME') the off-grid error names, would become a daily grid
        every = int(np.gcd.reduce(steps[steps > 0]))
        day_steps = steps / (pd.Timedelta(days=1) / pd.Timedelta(1, unit=unit or "ns"))
        semi_months = bool(np.all((day_steps >= 13) & (day_steps <= 18)))
        if int(steps[np.argmax(counts)]) // every <= _MAX_GAP_STEPS and not semi_months:
            common = pd.Timedelta(every, unit=unit or "ns")
        weekdays = bool((stamps.day_of_week < 5).all()) and len(stamps) >= 10
        if common == pd.Timedelta(days=1) and weekdays and _at_one_time_of_day(stamps):
            return "B"  # no stamp on a weekend: business days, whose weekends are no gaps
        return str(pd.tseries.frequencies.to_offset(common).freqstr)
    msg = (
        f"cannot infer the frequency of column {time_col!r} (no series has three evenly "
        "spaced time stamps); pass `freq`, e.g. freq='h'."
    )
    raise InputError(msg)


# the most steps of the common grid that the most common step may span (a grid of hours
# under steps of weeks would be a guess, and filling it would make up most of the values)
_MAX_GAP_STEPS = 24


def _at_one_time_of_day(stamps: pd.DatetimeIndex) -> bool:
    return bool((stamps - stamps.normalize() == stamps[0] - stamps[0].normalize()).all())


def _calendar_step(
    times: pd.DatetimeIndex, bounds: np.ndarray, common: pd.Timedelta, time_col: str
) -> str | None:
    """The calendar frequency of stamps too few or too gappy for pandas to infer one, when the
    most common step is 28 days or more: month starts or ends give 'MS'/'ME', 'QS'/'QE' or
    'YS'/'YE' (anchored, with the multiple that every step is made of). Other stamps a month,
    quarter or year (28-31, 89-92, 365-366 days) apart are refused: a fixed step of 31 days put
    the forecasts of 2021-01-01, 2021-02-01 on 2021-03-04, 04-04, 05-05. None otherwise (a
    fixed period is right for it)."""
    days = common / pd.Timedelta(days=1)
    if days < 28:
        return None
    midnight = bool((times == times.normalize()).all())
    months = np.asarray(times.year * 12 + times.month - 1, dtype=np.int64)
    month_steps = _steps_inside(months, bounds)
    for kind, on_it in (("MS", times.is_month_start), ("ME", times.is_month_end)):
        if not (midnight and bool(np.all(on_it)) and len(month_steps)):
            continue
        every = int(np.gcd.reduce(month_steps))
        first = int(times.month[0])
        # the largest period whose months hold every stamp of every series
        for period, freq in ((12, "Y"), (3, "Q"), (1, "M")):
            if every % period == 0 and bool(np.all((months - months[0]) % period == 0)):
                alias = _anchored(f"{freq}{kind[1]}", first)
                multiple = every // period
                return alias if multiple == 1 else f"{multiple}{alias}"
    if not any(least <= days <= most for least, most, *_ in _CALENDAR_PERIODS):
        return None
    longest = int(np.argmax(np.diff(bounds)))
    hint = _calendar_hint(times[bounds[longest] : bounds[longest + 1]], time_col)
    msg = (
        f"cannot infer the frequency of column {time_col!r}: no series has three evenly spaced "
        f"time stamps, and the most common step, {days:g} days, is a calendar period (a month, "
        "quarter or year) that a fixed step would drift from; pass `freq` (e.g. freq='MS' for "
        f"month starts).{hint}"
    )
    raise InputError(msg)


def _common_integer_step(ticks: np.ndarray, bounds: np.ndarray, ids: list[Any]) -> int:
    """The step of integer stamps: each series' grid is the gcd of its own steps (a larger
    step is a gap, found by `regularise`), and the series must share it. A gcd over all series
    put a step-2 and a step-3 series on a step-1 grid: "missing stamps" that were none, and with
    `fill` each forecast off its own grid. Series of one stamp have no step and take any."""
    steps = _steps_inside(ticks, bounds)
    n_steps = np.diff(bounds) - 1  # [S] steps inside each series
    has_steps = np.flatnonzero(n_steps > 0)
    if len(has_steps) == 0:
        return 1
    starts = np.r_[0, np.cumsum(n_steps[has_steps])[:-1]]
    own = np.gcd.reduceat(steps, starts)  # -> [S'] each series' own grid
    grids = np.unique(own)
    if len(grids) > 1:
        described = {int(g): [ids[int(i)] for i in has_steps[own == g][:3]] for g in grids[:5]}
        msg = (
            f"series have different integer time steps: {described}; split them into separate "
            "frames, or pass `freq=` (an integer step) to put them all on one grid (with "
            "`fill=` for the stamps that grid adds)."
        )
        raise InputError(msg)
    return int(grids[0])


def _steps_inside(ticks: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The differences between consecutive stamps of the same series (none across series)."""
    diffs = np.diff(ticks)
    inside = np.ones(len(diffs), dtype=bool)
    inside[bounds[1:-1] - 1] = False
    return diffs[inside]


def _ticks(times: pd.Series | pd.Index) -> tuple[np.ndarray, Any]:
    """The stamps as int64 counts, with their unit: integers as they are, datetimes in their own
    unit (not converted to ns, which cannot hold stamps outside 1677-2262)."""
    if pd.api.types.is_datetime64_any_dtype(times.dtype):
        index = pd.DatetimeIndex(times)
        return index.asi8, str(index.unit)
    return np.asarray(times, dtype=np.int64), None


def _fixed_period(step: str | int, unit: Any) -> int | None:
    """`step` as a whole number of ticks of `unit`; None for a calendar frequency ('MS', 'B')
    or a period that is not a whole number of the stamps' unit."""
    if unit is None:
        return int(step)
    offset = pd.tseries.frequencies.to_offset(str(step))
    if not isinstance(offset, pd.offsets.Tick):
        return None
    period, one = pd.Timedelta(offset), pd.Timedelta(1, unit=unit)
    if period < one or period % one != pd.Timedelta(0):
        return None
    return int(period // one)


def on_fixed_grid(times: pd.Series, bounds: np.ndarray, step: str | int) -> bool:
    """Fast path: True when every step inside every series is exactly one fixed period.

    Calendar frequencies ("MS", "B", ...) have no fixed duration and take the slow check.
    """
    ticks, unit = _ticks(times)
    period = _fixed_period(step, unit)
    if period is None:
        return False
    return steps_all_equal(ticks, bounds, period)


_BLOCK = 1 << 20  # rows a block: its temporaries stay in cache and reuse the same pages


def steps_all_equal(ticks: np.ndarray, bounds: np.ndarray, period: int) -> bool:
    """True when every step inside every series (`ticks[bounds[s]:bounds[s + 1]]`) is `period`.

    Checked a block of rows at a time: on 10**8 rows, [N] temporaries (the steps, the mask)
    cost more in fresh pages than the comparison itself.
    """
    across = bounds[1:-1] - 1  # [S - 1] the step from one series to the next is not checked
    n_steps = len(ticks) - 1
    for start in range(0, max(n_steps, 0), _BLOCK):
        stop = min(start + _BLOCK, n_steps)
        equal = (ticks[start + 1 : stop + 1] - ticks[start:stop]) == period  # -> (block,)
        lo, hi = np.searchsorted(across, [start, stop])
        equal[across[lo:hi] - start] = True
        if not bool(equal.all()):
            return False
    return True


# the periods a calendar stamp is usually one of: (least, most days between stamps, name, the
# pandas period whose start to stamp with, the frequency of its starts, of its ends)
_CALENDAR_PERIODS = (
    (28, 31, "month", "M", "MS", "ME"),
    (89, 92, "quarter", "Q", "QS", "QE"),
    (365, 366, "year", "Y", "YS", "YE"),
)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _anchored(freq: str, month: int) -> str:
    """`freq` ('QS', 'QE', 'YS', 'YE') anchored so that `month` (1-12) is one of its months;
    monthly frequencies have no anchor. The default anchors (QS-JAN, QE-DEC, YS-JAN, YE-DEC)
    are left out, as the user would write them."""
    if freq in ("MS", "ME"):
        return freq
    if freq.startswith("Q"):
        # a quarter start's first months are month, month + 3, ...: the anchor is the first
        # of them in the year; a quarter end's the last of them
        month = (month - 1) % 3 + 1 if freq == "QS" else (month - 1) % 3 + 10
    default = 1 if freq.endswith("S") else 12
    return freq if month == default else f"{freq}-{_MONTHS[month - 1]}"


def _calendar_hint(times: pd.Index, time_col: str) -> str:
    """For off-grid stamps that are on a calendar grid after all, the frequency to pass:
    semi-month stamps ('SMS', 'SME'), stamps on the first or last day of every month (quarter,
    year) with the wrong `freq`; for stamps on one day of every month other than its first or
    last, which no pandas frequency describes, how to restamp them; otherwise ''."""
    if not isinstance(times, pd.DatetimeIndex) or len(times) < 2:
        return ""
    if not bool((times == times.normalize()).all()):
        return ""  # a time of day: no calendar frequency stamps at midnight
    days = np.asarray((times[1:] - times[:-1]) / pd.Timedelta(days=1))
    infer = " (or leave `freq` out to infer it)"
    if bool(np.all((days >= 13) & (days <= 18))):
        # pandas does not infer semi-months: the frequency must be passed
        if bool(np.isin(times.day, (1, 15)).all()):
            return " Its stamps are semi-month starts (the 1st and 15th): pass freq='SMS'."
        if bool((times.is_month_end | (times.day == 15)).all()):
            return " Its stamps are semi-month ends (the 15th and month-end): pass freq='SME'."
        return ""
    for least, most, name, period, starts, ends in _CALENDAR_PERIODS:
        if not bool(np.all((days >= least) & (days <= most))):
            continue
        if bool(times.is_month_end.all()):
            freq = _anchored(ends, int(times.month[0]))
            return f" Its stamps are {name}-end stamps: pass freq='{freq}'{infer}."
        if bool(times.is_month_start.all()):
            freq = _anchored(starts, int(times.month[0]))
            return f" Its stamps are {name}-start stamps: pass freq='{freq}'{infer}."
        if times.day.nunique() > 3 or bool(times.is_month_start.any()):
            return ""  # not one day of the month (the 30th is the 28th or 29th in February)
        return (
            f" Its stamps are one {name} apart but on day {int(times.day[0])} of their month, "
            f"which no pandas frequency describes: stamp each {name} at its start "
            f"(`df[{time_col!r}] = df[{time_col!r}].dt.to_period('{period}').dt.to_timestamp()`)"
            f" and pass freq='{starts}'."
        )
    return ""


def _weekend_hint(off_grid: pd.Index, step: str | int) -> str:
    """For business-day data with weekend stamps, that these are what is off the grid."""
    if not (isinstance(step, str) and step.lstrip("0123456789") == "B"):
        return ""
    if not isinstance(off_grid, pd.DatetimeIndex) or not bool((off_grid.day_of_week >= 5).all()):
        return ""
    return " They fall on weekends, which 'B' (business days) skips: drop those rows first."


def _on_calendar_offset(stamp: Any, step: str | int) -> bool:
    """Whether one stamp lies on the calendar frequency `step` (one step forward and back
    is the same stamp: Jan 15 + MS - MS is Jan 1). True for an int step or a fixed period."""
    if not isinstance(step, str) or not isinstance(stamp, pd.Timestamp):
        return True
    offset = pd.tseries.frequencies.to_offset(step)
    if isinstance(offset, pd.offsets.Tick):
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool((stamp + offset) - offset == stamp)
    except Exception:  # out of bounds: the forecast's own stamps will say what is wrong
        return True


def regularise(
    times: pd.Index,
    values: np.ndarray,
    step: str | int,
    series_id: Any,
    fill: FillPolicy | None,
    time_col: str,
) -> tuple[pd.Index, np.ndarray]:
    """Check that a series sits on the regular grid; insert missing stamps when filling.

    On a fixed period the grid positions are computed, never the whole grid before it is known
    to be small enough: a stray stamp far away must give an error, not exhaust the memory.
    """
    if len(times) == 0:
        return times, values
    ticks, unit = _ticks(times)
    period = _fixed_period(step, unit)
    if len(times) == 1:
        # one stamp has no step of its own, but a calendar frequency still has a grid: a
        # series of one row on March 31 in a month-start panel was forecast from April 1
        if period is None and not _on_calendar_offset(times[0], step):
            on_grid = pd.tseries.frequencies.to_offset(str(step)).rollback(times[0])
            msg = (
                f"series {series_id!r} has its one time stamp in column {time_col!r} off the "
                f"{step!r} grid of the panel ({times[0]}; the grid stamp before it is "
                f"{on_grid}); restamp it onto the grid, or pass the right `freq`."
            )
            raise InputError(msg)
        return times, values
    calendar: pd.Index | None = None
    if period is None:
        calendar = pd.date_range(times[0], times[-1], freq=str(step))
        position = calendar.get_indexer(times)
    else:
        offsets = ticks - ticks[0]
        position = np.where(offsets % period == 0, offsets // period, -1)
    off_grid = position < 0
    if off_grid.any():
        msg = (
            f"series {series_id!r} has {int(off_grid.sum())} time stamps off the {step!r} grid "
            f"(first: {times[off_grid][0]}); resample it or pass the right `freq`."
            f"{_weekend_hint(times[off_grid], step) or _calendar_hint(times, time_col)}"
        )
        raise InputError(msg)
    n_grid = int(position[-1]) + 1
    if n_grid == len(times):
        return times, values
    if fill is None:
        first = int(np.flatnonzero(position != np.arange(len(position)))[0])
        missing = calendar[first] if calendar is not None else _grid_stamp(times, step, first)
        msg = (
            f"series {series_id!r} has {n_grid - len(times)} missing time stamps in column "
            f"{time_col!r} (first: {missing}); pass `fill='ffill'|'interpolate'|'zero'` "
            "(CLI: `--fill`; config: `data.fill`) to fill them or fill the gaps yourself."
        )
        raise InputError(msg)
    if n_grid > MAX_FILLED_STEPS and n_grid > 100 * len(times):
        msg = (
            f"filling the gaps of series {series_id!r} would make {n_grid} time stamps from "
            f"{len(times)} (from {times[0]} to {times[-1]} every {step!r}); check column "
            f"{time_col!r} for stray stamps or pass the right `freq`."
        )
        raise InputError(msg)
    grid = calendar if calendar is not None else _grid(times, step, n_grid)
    full = np.full((n_grid, values.shape[1]), np.nan)
    full[position] = values
    return grid, full


def _grid_stamp(times: pd.Index, step: str | int, k: int) -> Any:
    """The k-th stamp of the fixed-period grid that starts at `times[0]`."""
    if isinstance(step, str):
        tick = cast(pd.offsets.Tick, pd.tseries.frequencies.to_offset(step))  # a fixed period
        return times[0] + k * pd.Timedelta(tick)
    return int(times[0]) + k * int(step)


def _grid(times: pd.Index, step: str | int, n: int) -> pd.Index:
    if isinstance(step, str):
        return pd.date_range(times[0], periods=n, freq=step, unit=pd.DatetimeIndex(times).unit)
    return pd.Index(int(times[0]) + int(step) * np.arange(n, dtype=np.int64))
