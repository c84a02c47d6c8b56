"""frame -> Panel: validation at the boundary, frequency, column roles, one device tensor.

Everything a user can get wrong about a frame is checked here, once, before any work starts.
Downstream code (windows, scaling, models, backtests) trusts the `Panel` it receives.

Layout: `values[s, t, c]` holds series `s` LEFT-aligned (its first observation at `t = 0`,
zeros after its end at `lengths[s]`), with the target channels first and the covariates after.
"""

from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from tsforecast.devices import resolve_device
from tsforecast.errors import InputError, TsforecastWarning
from tsforecast.frames import FrameKind, to_pandas

__all__ = [
    "FillPolicy",
    "Panel",
    "drop_short_series",
    "infer_season_length",
    "to_panel",
]

FillPolicy = Literal["ffill", "interpolate", "zero"]
_FILL_POLICIES = ("ffill", "interpolate", "zero")
# the seasonal period of calendar frequencies (by pandas rule code, anchors dropped)
_SEASONS = {"D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "M": 12, "QS": 4, "QE": 4, "Q": 4}


@dataclass(frozen=True)
class Panel:
    """Validated series as one padded tensor on the training device.

    values: [S, T_max, C] float32, left-aligned, zero-padded after each series' end.
    lengths: [S] int64, the number of observations of each series.
    times: per series, its time stamps (a DatetimeIndex or an integer Index), len == lengths[s].
    freq: a pandas offset alias ("h", "MS", ...) for datetime stamps, an int step for integers.
    """

    values: torch.Tensor
    lengths: torch.Tensor
    ids: list[Any]
    times: list[pd.Index]
    freq: str | int
    target_cols: list[str]
    covariate_cols: list[str]
    id_col: str
    time_col: str
    frame_kind: FrameKind
    # The validated values in float64 on the host, one [n_s, C] array per series, for the
    # statistical models and the metrics (the device tensor is float32). None when unknown.
    exact: tuple[np.ndarray, ...] | None = None

    @property
    def n_series(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_targets(self) -> int:
        return len(self.target_cols)

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[2])

    @property
    def device(self) -> torch.device:
        return self.values.device

    @property
    def is_datetime(self) -> bool:
        return isinstance(self.freq, str)

    @property
    def columns(self) -> list[str]:
        """Every channel's column name, in channel order (targets first)."""
        return [*self.target_cols, *self.covariate_cols]

    def future_times(self, series: int, horizon: int) -> pd.Index:
        """The `horizon` time stamps that follow the end of series number `series`."""
        last = self.times[series][-1]
        if isinstance(self.freq, str):
            return pd.date_range(start=last, periods=horizon + 1, freq=self.freq)[1:]
        return pd.Index(int(last) + self.freq * np.arange(1, horizon + 1, dtype=np.int64))

    def series_values(self, series: int) -> np.ndarray:
        """Series number `series` as a float64 array [n_s, C] (exact input values if known)."""
        n = int(self.lengths[series].item())
        if self.exact is not None and self.exact[series].shape[0] == n:
            return self.exact[series]
        return self.values[series, :n].detach().to("cpu", torch.float64).numpy()

    def to(self, device: str | torch.device) -> Panel:
        target = resolve_device(device)
        return replace(self, values=self.values.to(target), lengths=self.lengths.to(target))

    def select(self, series: Sequence[int]) -> Panel:
        """A panel of the given series (by position), keeping their order."""
        index = torch.as_tensor(list(series), dtype=torch.long, device=self.device)
        lengths = self.lengths.index_select(0, index)
        t_max = int(lengths.max().item()) if len(index) else 0
        return replace(
            self,
            values=self.values.index_select(0, index)[:, :t_max].contiguous(),
            lengths=lengths,
            ids=[self.ids[i] for i in series],
            times=[self.times[i] for i in series],
            exact=None if self.exact is None else tuple(self.exact[i] for i in series),
        )

    def to_pandas(self) -> pd.DataFrame:
        """The panel back as a long pandas frame (id, time, targets, covariates), in float64.

        The values are the exact validated inputs when the panel knows them (`exact`).
        """
        lengths = [int(n) for n in self.lengths.to("cpu").tolist()]
        values = np.concatenate([self.series_values(s) for s in range(self.n_series)])
        frame = pd.DataFrame(values, columns=self.columns)
        times = self.times[0].append(list(self.times[1:])) if self.n_series > 1 else self.times[0]
        frame.insert(0, self.time_col, times)
        ids = np.empty(self.n_series, dtype=object)
        ids[:] = self.ids
        frame.insert(0, self.id_col, np.repeat(ids, lengths))
        id_types = {type(i) for i in self.ids}
        if len(id_types) == 1 and not id_types <= {str}:
            frame[self.id_col] = frame[self.id_col].astype(pd.Series(self.ids).dtype)
        return frame


def to_panel(
    df: Any,
    *,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str | Sequence[str] = "y",
    covariate_cols: Sequence[str] | None = None,
    freq: str | int | None = None,
    fill: FillPolicy | None = None,
    device: str | torch.device = "cpu",
) -> Panel:
    """Validate a long frame and turn it into a `Panel`.

    `covariate_cols=None` takes every other numeric column as a covariate. Rows may come in any
    order (they are sorted). The frame is never modified. `fill` fills missing target/covariate
    values and missing time stamps inside a series; without it they are errors.
    """
    pdf, kind = to_pandas(df)
    if len(pdf) == 0:
        msg = "`df` is empty (0 rows); pass a frame with at least one series."
        raise InputError(msg)
    if fill is not None and fill not in _FILL_POLICIES:
        msg = f"`fill` must be one of {list(_FILL_POLICIES)} or None, got {fill!r}."
        raise InputError(msg)
    # a list/tuple names several targets; any other value (a str, an int label) names one
    target_cols: list[str] = (
        list(target_col) if isinstance(target_col, (list, tuple)) else [target_col]  # type: ignore[list-item]
    )
    if not target_cols:
        msg = "`target_col` is an empty list; name at least one target column."
        raise InputError(msg)
    _check_distinct(id_col, time_col, target_cols, covariate_cols)
    _check_columns_exist(pdf, {"id_col": [id_col], "time_col": [time_col]})
    _check_columns_exist(pdf, {"target_col": target_cols})
    covariates = _resolve_covariates(pdf, id_col, time_col, target_cols, covariate_cols)
    for col in target_cols:
        _check_numeric(pdf, col, role="target")
    for col in covariates:
        _check_numeric(pdf, col, role="covariate")

    if pdf[id_col].isna().any():
        n_null = int(pdf[id_col].isna().sum())
        msg = f"column {id_col!r} has {n_null} null ids; every row needs a series id."
        raise InputError(msg)
    pdf[time_col] = _normalise_time(pdf[time_col], time_col)
    if pdf[time_col].isna().any():
        row = int(np.flatnonzero(pdf[time_col].isna().to_numpy())[0])
        msg = (
            f"column {time_col!r} has missing time stamps (first at row {row}); drop or fill them."
        )
        raise InputError(msg)

    data_cols = [*target_cols, *covariates]
    pdf = pdf[[id_col, time_col, *data_cols]]
    for col in data_cols:
        pdf[col] = pdf[col].astype("float64")
    _check_finite(pdf, id_col, time_col, data_cols)
    pdf = pdf.sort_values([id_col, time_col], kind="stable").reset_index(drop=True)
    _check_duplicates(pdf, id_col, time_col)

    is_datetime = pd.api.types.is_datetime64_any_dtype(pdf[time_col])
    ids_array = pdf[id_col].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids_array[1:] != ids_array[:-1]])
    bounds = np.r_[starts, len(pdf)]
    ids = [ids_array[i] for i in starts]
    times_all = pdf[time_col]
    step = _infer_step(times_all, bounds, ids, is_datetime, freq, time_col)

    series_values: list[np.ndarray] = []
    series_times: list[pd.Index] = []
    raw_values = pdf[data_cols].to_numpy(dtype=np.float64)
    all_regular = _all_on_fixed_grid(times_all, bounds, step)
    for s, series_id in enumerate(ids):
        lo, hi = bounds[s], bounds[s + 1]
        times = pd.Index(times_all.iloc[lo:hi])
        values = raw_values[lo:hi]
        if not all_regular:
            times, values = _regularise(times, values, step, series_id, fill, time_col)
        values = _fill_missing(values, series_id, times, data_cols, fill)
        series_values.append(values)
        series_times.append(times)

    lengths = np.array([len(v) for v in series_values], dtype=np.int64)
    padded = np.zeros((len(ids), int(lengths.max()), len(data_cols)), dtype=np.float32)
    for s, values in enumerate(series_values):
        padded[s, : len(values)] = values
    target_device = resolve_device(device)
    return Panel(
        values=torch.from_numpy(padded).to(target_device),
        lengths=torch.from_numpy(lengths).to(target_device),
        ids=ids,
        times=series_times,
        freq=step,
        target_cols=target_cols,
        covariate_cols=covariates,
        id_col=id_col,
        time_col=time_col,
        frame_kind=kind,
        exact=tuple(series_values),
    )


def infer_season_length(panel: Panel) -> int:
    """The seasonal period: from the frequency for datetimes, else from the autocorrelation.

    For integer time stamps the candidate periods (4, 7, 12, 24, 52) are scored by the mean
    autocorrelation of the differenced series at that lag; the best wins if it is clearly
    positive (> 0.2), otherwise 1 (no season).
    """
    if isinstance(panel.freq, str):
        offset = pd.tseries.frequencies.to_offset(panel.freq)
        if isinstance(offset, pd.offsets.Tick):
            seconds = pd.Timedelta(offset).total_seconds()
            if seconds < 86400:
                return max(1, int(86400 // seconds))  # the daily cycle
            return max(1, int(7 * 86400 // seconds))  # the weekly cycle (1 beyond a week)
        return _SEASONS.get(offset.rule_code.split("-")[0], 1)
    values = panel.values[..., 0].detach().to("cpu", torch.float64).numpy()
    lengths = panel.lengths.to("cpu").numpy()
    best, best_acf = 1, 0.2
    for lag in (4, 7, 12, 24, 52):
        scores = []
        for s in range(min(panel.n_series, 200)):
            x = np.diff(values[s, : lengths[s]])
            if len(x) < 3 * lag:
                continue
            x = x - x.mean()
            denominator = float(np.dot(x, x))
            if denominator > 0:
                scores.append(float(np.dot(x[lag:], x[:-lag])) / denominator)
        if scores and float(np.mean(scores)) > best_acf:
            best, best_acf = lag, float(np.mean(scores))
    return best


def drop_short_series(panel: Panel, min_length: int, reason: str) -> Panel:
    """Drop series with fewer than `min_length` observations, warning with their ids.

    Raises `InputError` when no series is long enough.
    """
    lengths = panel.lengths.to("cpu").numpy()
    short = np.flatnonzero(lengths < min_length)
    if len(short) == 0:
        return panel
    short_ids = [panel.ids[i] for i in short]
    if len(short) == panel.n_series:
        msg = (
            f"every series is shorter than {reason} = {min_length} (longest: {int(lengths.max())}"
            f" observations); reduce `input_size`/`horizon` or pass longer series."
        )
        raise InputError(msg)
    shown = short_ids[:10] + (["..."] if len(short_ids) > 10 else [])
    msg = (
        f"{len(short)} series are shorter than {reason} = {min_length} and are dropped: {shown}; "
        "reduce `input_size`/`horizon` to keep them."
    )
    warnings.warn(msg, TsforecastWarning, stacklevel=3)
    keep = [i for i in range(panel.n_series) if lengths[i] >= min_length]
    return panel.select(keep)


def _check_columns_exist(pdf: pd.DataFrame, wanted: dict[str, list[str]]) -> None:
    for argument, columns in wanted.items():
        for col in columns:
            if col in pdf.columns:
                continue
            found = [str(c) for c in pdf.columns]
            close = difflib.get_close_matches(str(col), found, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            msg = (
                f"column {col!r} is missing from `df` (found: {found}); {hint}"
                f"pass `{argument}=` with the right column name."
            )
            raise InputError(msg)


def _check_distinct(
    id_col: Any, time_col: Any, target_cols: list[Any], covariate_cols: Sequence[Any] | None
) -> None:
    """Every column has one role: no repeats, no column both id/time and a target/covariate."""
    covariates = [] if covariate_cols is None else list(covariate_cols)
    roles = [("id_col", id_col), ("time_col", time_col)]
    roles += [("target_col", c) for c in target_cols]
    roles += [("covariate_cols", c) for c in covariates]
    seen: dict[Any, str] = {}
    for argument, col in roles:
        if col in seen:
            msg = (
                f"column {col!r} is given twice (as `{seen[col]}` and `{argument}`); "
                "each column can have only one role."
            )
            raise InputError(msg)
        seen[col] = argument


def _resolve_covariates(
    pdf: pd.DataFrame,
    id_col: str,
    time_col: str,
    target_cols: list[str],
    covariate_cols: Sequence[str] | None,
) -> list[str]:
    reserved = {id_col, time_col, *target_cols}
    if covariate_cols is None:
        return [
            str(c)
            for c in pdf.columns
            if c not in reserved
            and pd.api.types.is_numeric_dtype(pdf[c])
            and not pd.api.types.is_bool_dtype(pdf[c])
        ]
    covariates = list(covariate_cols)
    _check_columns_exist(pdf, {"covariate_cols": covariates})
    clash = [c for c in covariates if c in reserved]
    if clash:
        msg = f"`covariate_cols` may not include the id, time or target columns, got {clash}."
        raise InputError(msg)
    return covariates


def _check_numeric(pdf: pd.DataFrame, col: str, role: str) -> None:
    dtype = pdf[col].dtype
    if pd.api.types.is_bool_dtype(dtype):
        msg = (
            f"{role} column {col!r} is boolean; cast it to a number first "
            f"(e.g. `df[{col!r}].astype(float)`)."
        )
        raise InputError(msg)
    if not pd.api.types.is_numeric_dtype(dtype):
        example = pdf[col].dropna().iloc[0] if pdf[col].notna().any() else None
        msg = (
            f"{role} column {col!r} must be numeric, got dtype {dtype} (e.g. {example!r}); "
            "convert it with `pd.to_numeric` or choose another column."
        )
        raise InputError(msg)


def _normalise_time(column: pd.Series, time_col: str) -> pd.Series:
    """Datetime or integer time stamps; parse strings; refuse mixtures."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    if pd.api.types.is_bool_dtype(column.dtype):
        msg = f"column {time_col!r} is boolean; time stamps must be datetimes or integers."
        raise InputError(msg)
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.astype("int64")
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy()
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)) and not np.isnan(values).any():
            return column.astype("int64")
        msg = (
            f"column {time_col!r} holds non-integer floats or NaN (e.g. "
            f"{finite[finite != np.round(finite)][:1]}); time stamps must be datetimes or integers."
        )
        raise InputError(msg)
    # object or string column: inspect the Python types present.
    non_null = column.dropna()
    kinds = {_time_kind(v) for v in non_null.to_numpy()}
    if len(kinds) > 1:
        msg = (
            f"column {time_col!r} mixes time stamp types {sorted(kinds)}; "
            "use one type: all datetimes or all integers."
        )
        raise InputError(msg)
    kind = kinds.pop() if kinds else "datetime"
    if kind == "int":
        return column.astype("int64")
    if kind == "datetime":
        zones = {getattr(v, "tzinfo", None) is not None for v in non_null.to_numpy()}
        if len(zones) > 1:
            msg = (
                f"column {time_col!r} mixes time-zone-aware and naive time stamps; "
                "localise them all (`tz_localize`) or strip the zone (`tz_localize(None)`)."
            )
            raise InputError(msg)
        if zones == {True}:
            return pd.to_datetime(column, utc=True)
        return pd.to_datetime(column)
    if kind == "str":
        try:
            try:
                parsed = pd.to_datetime(column, format="mixed")
            except ValueError:
                # stamps with different UTC offsets ("+01:00" and "+02:00"): one UTC column
                parsed = pd.to_datetime(column, format="mixed", utc=True)
        except (ValueError, TypeError) as error:
            msg = (
                f"column {time_col!r} holds strings that are not dates (e.g. "
                f"{non_null.iloc[0]!r}); pass datetimes or integers."
            )
            raise InputError(msg) from error
        return parsed
    msg = (
        f"column {time_col!r} holds values of type {kind}; "
        "time stamps must be datetimes or integers."
    )
    raise InputError(msg)


def _time_kind(value: Any) -> str:
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "tzinfo"):
        return "datetime"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, str):
        return "str"
    return type(value).__name__


def _check_finite(pdf: pd.DataFrame, id_col: str, time_col: str, data_cols: list[str]) -> None:
    for col in data_cols:
        values = pdf[col].to_numpy()
        bad = np.isinf(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            msg = (
                f"column {col!r} has {int(bad.sum())} infinite values (first: series "
                f"{pdf[id_col].iloc[row]!r} at {pdf[time_col].iloc[row]}); replace them with "
                "finite numbers or NaN and a `fill` policy."
            )
            raise InputError(msg)


def _check_duplicates(pdf: pd.DataFrame, id_col: str, time_col: str) -> None:
    duplicated = pdf.duplicated([id_col, time_col], keep="first").to_numpy()
    if not duplicated.any():
        return
    row = int(np.flatnonzero(duplicated)[0])
    series_id = pdf[id_col].iloc[row]
    n_in_series = int(duplicated[(pdf[id_col] == series_id).to_numpy()].sum())
    msg = (
        f"series {series_id!r} has {n_in_series} duplicated timestamps (first: "
        f"{pdf[time_col].iloc[row]}); aggregate or deduplicate the rows of each (id, time) pair."
    )
    raise InputError(msg)


def _infer_step(
    times: pd.Series,
    bounds: np.ndarray,
    ids: list[Any],
    is_datetime: bool,
    freq: str | int | None,
    time_col: str,
) -> str | int:
    """The common frequency of all series: a pandas alias, or an int step for integer time."""
    if not is_datetime:
        if freq is not None:
            if isinstance(freq, str) or int(freq) <= 0:
                msg = (
                    f"`freq` must be a positive integer step for integer time stamps, got {freq!r}."
                )
                raise InputError(msg)
            return int(freq)
        ticks = times.to_numpy(dtype=np.int64)
        diffs = np.diff(ticks)
        inside = np.ones(len(diffs), dtype=bool)
        inside[bounds[1:-1] - 1] = False  # a diff across two series is not a step
        steps = diffs[inside]
        if len(steps) == 0:
            return 1
        # the gcd of all steps is the grid; larger steps are gaps, found by _regularise.
        return int(np.gcd.reduce(steps))
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(str(freq))
        except ValueError as error:
            msg = f"`freq` {freq!r} is not a pandas frequency (e.g. 'h', 'D', 'MS', '15min')."
            raise InputError(msg) from error
        return str(offset.freqstr)
    inferred: dict[str, list[Any]] = {}
    for s, series_id in enumerate(ids):
        lo, hi = bounds[s], bounds[s + 1]
        if hi - lo < 3:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pandas 3 announces an offset return type
                found = pd.infer_freq(pd.DatetimeIndex(times.iloc[lo:hi]))
        except (ValueError, TypeError):
            found = None
        if found is not None:
            alias = str(getattr(found, "freqstr", found))
            inferred.setdefault(alias, []).append(series_id)
    if len(inferred) > 1:
        described = {alias: members[:3] for alias, members in inferred.items()}
        msg = (
            f"series have different frequencies: {described}; split them into separate frames "
            "or resample them to one frequency."
        )
        raise InputError(msg)
    if not inferred:
        # every series has gaps: the frequency of its gap-free stretches (short runs of stamps)
        for s, series_id in enumerate(ids[:50]):
            lo, hi = bounds[s], bounds[s + 1]
            for start in range(lo, max(lo + 1, hi - 4), 5):
                run = pd.DatetimeIndex(times.iloc[start : start + 5])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    found = pd.infer_freq(run) if len(run) >= 3 else None
                if found is not None:
                    alias = str(getattr(found, "freqstr", found))
                    inferred.setdefault(alias, []).append(series_id)
        if inferred:
            return max(inferred, key=lambda alias: len(inferred[alias]))
        # no regular stretch at all: the most common step inside a series is the frequency.
        ticks = pd.DatetimeIndex(times).as_unit("ns").asi8
        diffs = np.diff(ticks)
        inside = np.ones(len(diffs), dtype=bool)
        inside[bounds[1:-1] - 1] = False
        steps, counts = np.unique(diffs[inside], return_counts=True)
        if len(steps) and steps[np.argmax(counts)] > 0:
            offset = pd.tseries.frequencies.to_offset(pd.Timedelta(int(steps[np.argmax(counts)])))
            return str(offset.freqstr)
        msg = (
            f"cannot infer the frequency of column {time_col!r} (no series has three evenly "
            "spaced time stamps); pass `freq`, e.g. freq='h'."
        )
        raise InputError(msg)
    return next(iter(inferred))


def _all_on_fixed_grid(times: pd.Series, bounds: np.ndarray, step: str | int) -> bool:
    """Fast path: True when every step inside every series is exactly one fixed period.

    Calendar frequencies ("MS", "B", ...) have no fixed duration and take the slow check.
    """
    if isinstance(step, str):
        offset = pd.tseries.frequencies.to_offset(step)
        if not isinstance(offset, pd.offsets.Tick):
            return False
        ticks = pd.DatetimeIndex(times).as_unit("ns").asi8
        period = int(pd.Timedelta(offset).value)
    else:
        ticks = times.to_numpy(dtype=np.int64)
        period = step
    diffs = np.diff(ticks)
    inside = np.ones(len(diffs), dtype=bool)
    inside[bounds[1:-1] - 1] = False
    return bool(np.all(diffs[inside] == period))


def _regularise(
    times: pd.Index,
    values: np.ndarray,
    step: str | int,
    series_id: Any,
    fill: FillPolicy | None,
    time_col: str,
) -> tuple[pd.Index, np.ndarray]:
    """Check that a series sits on the regular grid; insert missing stamps when filling."""
    if len(times) <= 1:
        return times, values
    if isinstance(step, str):
        expected: pd.Index = pd.date_range(times[0], times[-1], freq=step)
    else:
        expected = pd.Index(np.arange(int(times[0]), int(times[-1]) + 1, step, dtype=np.int64))
    if len(expected) == len(times) and expected.equals(times):
        return times, values
    off_grid = times.difference(expected)
    if len(off_grid):
        msg = (
            f"series {series_id!r} has {len(off_grid)} time stamps off the {step!r} grid "
            f"(first: {off_grid[0]}); resample it or pass the right `freq`."
        )
        raise InputError(msg)
    missing = expected.difference(times)
    if fill is None:
        msg = (
            f"series {series_id!r} has {len(missing)} missing time stamps in column "
            f"{time_col!r} (first: {missing[0]}); pass `fill='ffill'|'interpolate'|'zero'` to "
            "fill them or fill the gaps yourself."
        )
        raise InputError(msg)
    position = expected.get_indexer(times)
    full = np.full((len(expected), values.shape[1]), np.nan)
    full[position] = values
    return expected, full


def _fill_missing(
    values: np.ndarray,
    series_id: Any,
    times: pd.Index,
    data_cols: list[str],
    fill: FillPolicy | None,
) -> np.ndarray:
    missing = np.isnan(values)
    if not missing.any():
        return values
    if fill is None:
        row, col = np.argwhere(missing)[0]
        msg = (
            f"column {data_cols[col]!r} of series {series_id!r} has {int(missing[:, col].sum())} "
            f"missing values (first at {times[row]}); pass `fill='ffill'|'interpolate'|'zero'` "
            "or fill them yourself."
        )
        raise InputError(msg)
    if fill == "zero":
        return np.where(missing, 0.0, values)
    frame = pd.DataFrame(values)
    if fill == "ffill":
        # leading gaps have nothing before them: they take the first observed value.
        frame = frame.ffill().bfill()
    else:
        frame = frame.interpolate(method="linear", limit_direction="both")
    if frame.isna().any().any():
        col = int(np.flatnonzero(frame.isna().any().to_numpy())[0])
        msg = (
            f"column {data_cols[col]!r} of series {series_id!r} has no observed value at all; "
            "drop the series or the column."
        )
        raise InputError(msg)
    return frame.to_numpy()
