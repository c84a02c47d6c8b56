"""Property: any frame through `to_panel` gives an `InputError` or a valid Panel, nothing else.

The frames are random in everything a user can get wrong: id, time and value column types
(numbers, strings, booleans, categoricals, complex, nullable, durations), NaN and ±inf,
duplicated rows, gaps, duplicated column names, time-zone mixtures, integers mixed with
datetimes, pandas or polars.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest
import torch
from hypothesis import event, given
from hypothesis import strategies as st

from tsforecast.data.panel import Panel
from tsforecast.data.validation import to_panel
from tsforecast.errors import InputError

ID_KINDS = ["str", "int", "categorical", "bool", "float_with_nan", "mixed_objects"]
TIME_KINDS = [
    "int",
    "float",
    "datetime",
    "datetime_tz",
    "zones_mixed",
    "aware_and_naive",
    "iso_strings",
    "offset_strings",
    "int_and_datetime",
    "with_nat",
    "not_dates",
    "bool",
    "durations",
    "nullable_ints",
]
CLEAN_TIME_KINDS = ["int", "float", "datetime", "datetime_tz", "iso_strings", "offset_strings"]
VALUE_KINDS = ["float", "int", "bool", "str", "categorical", "complex", "nullable_floats"]
BASE = pd.Timestamp("2021-03-27 22:00")  # a DST change in Europe/Paris within a few hours


def _ids(kind: str, n: int) -> list[Any]:
    return {
        "str": [f"s{k}" for k in range(n)],
        "int": [10 * k - 3 for k in range(n)],
        "categorical": [f"c{k}" for k in range(n)],
        "bool": [bool(k % 2) for k in range(n)],
        "float_with_nan": [float("nan") if k == 1 else k + 0.5 for k in range(n)],
        "mixed_objects": [k if k % 2 else f"{k}" for k in range(n)],
    }[kind]


def _stamp(kind: str, tick: int, row: int) -> Any:
    hour = pd.Timedelta(hours=tick)
    if kind == "int":
        return 3 * tick - 5
    if kind == "float":
        return float(tick) + (0.5 if row == 7 else 0.0)
    if kind == "datetime":
        return BASE + hour
    if kind == "datetime_tz":
        return (BASE + hour).tz_localize("Europe/Paris", nonexistent="shift_forward")
    if kind == "zones_mixed":
        return (BASE + hour).tz_localize("UTC").tz_convert("Asia/Tokyo" if row % 2 else "UTC")
    if kind == "aware_and_naive":
        return (BASE + hour).tz_localize("UTC") if row % 3 == 0 else BASE + hour
    if kind == "iso_strings":
        return (BASE + hour).isoformat()
    if kind == "offset_strings":
        return (BASE + hour).tz_localize("UTC").tz_convert("Europe/Paris").isoformat()
    if kind == "int_and_datetime":
        return tick if row % 2 else BASE + hour
    if kind == "with_nat":
        return pd.NaT if row == 2 else BASE + hour
    if kind == "not_dates":
        return f"day {tick}"
    if kind == "durations":
        return hour
    if kind == "nullable_ints":
        return pd.NA if row == 3 else tick
    return tick % 2 == 0  # "bool"


def _values(kind: str, draw: Any, n: int, clean: bool) -> Any:
    specials = st.sampled_from([np.nan, 0.0] if clean else [np.nan, np.inf, -np.inf, 0.0])
    floats = st.one_of(st.floats(-1e6, 1e6), specials) if draw(st.booleans()) else st.floats(-9, 9)
    raw = draw(st.lists(floats, min_size=n, max_size=n))
    if kind == "float":
        return np.array(raw, dtype=np.float64)
    if kind == "int":
        return np.arange(n, dtype=np.int64)
    if kind == "bool":
        return np.arange(n) % 2 == 0
    if kind == "str":
        return [f"v{k}" for k in range(n)]
    if kind == "complex":
        return np.array(raw, dtype=np.complex128)
    if kind == "nullable_floats":
        return pd.array([None if np.isnan(v) else v for v in raw], dtype="Float64")
    return pd.Categorical([f"k{k % 3}" for k in range(n)])


@st.composite
def frames(draw: Any) -> tuple[Any, dict[str, Any]]:
    # half the cases are plausible frames (so that valid panels are common), half anything goes
    clean = draw(st.booleans())
    id_kind = draw(st.sampled_from(ID_KINDS[:3] if clean else ID_KINDS))
    time_kind = draw(st.sampled_from(CLEAN_TIME_KINDS if clean else TIME_KINDS))
    rows: list[tuple[Any, int]] = []
    for series_id in _ids(id_kind, draw(st.integers(1, 4))):
        # a random subset of a 12-step grid: gaps wherever a tick is left out
        if clean and draw(st.booleans()):  # no gap
            start = draw(st.integers(0, 5))
            ticks = list(range(start, start + draw(st.integers(1, 7))))
        else:
            grid = st.integers(0, 11)
            ticks = draw(st.lists(grid, min_size=int(clean), max_size=8, unique=True))
        rows += [(series_id, tick) for tick in sorted(ticks)]
    if rows and not clean:
        rows += [rows[draw(st.integers(0, len(rows) - 1))] for _ in range(draw(st.integers(0, 2)))]
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))
    frame = _frame(rows, id_kind, time_kind)
    value_kinds = VALUE_KINDS[:1] if clean else VALUE_KINDS
    frame["y"] = _values(draw(st.sampled_from(value_kinds)), draw, len(rows), clean)
    for k in range(draw(st.integers(0, 2))):
        frame[f"x{k}"] = _values(draw(st.sampled_from(value_kinds)), draw, len(rows), clean)
    if not clean and draw(st.booleans()):  # a repeated column name
        frame.columns = [*frame.columns[:-1], draw(st.sampled_from(list(frame.columns[:-1])))]
    elif draw(st.booleans()):
        # a column polars cannot hold keeps the case a pandas one
        with contextlib.suppress(Exception):
            frame = pl.from_pandas(frame)
    kwargs = {"fill": draw(st.sampled_from([None, "ffill", "interpolate", "zero"]))}
    return frame, kwargs


def _frame(rows: list[tuple[Any, int]], id_kind: str, time_kind: str) -> pd.DataFrame:
    ids = np.empty(len(rows), dtype=object)
    ids[:] = [r[0] for r in rows]
    stamps = np.empty(len(rows), dtype=object)
    stamps[:] = [_stamp(time_kind, tick, k) for k, (_, tick) in enumerate(rows)]
    frame = pd.DataFrame({"unique_id": ids, "ds": stamps})
    if id_kind != "mixed_objects":
        frame["unique_id"] = frame["unique_id"].infer_objects()
    if id_kind == "categorical":
        frame["unique_id"] = frame["unique_id"].astype("category")
    if time_kind in ("int", "float", "datetime", "datetime_tz", "with_nat", "bool", "durations"):
        frame["ds"] = frame["ds"].infer_objects()
    if time_kind == "nullable_ints":
        frame["ds"] = frame["ds"].astype("Int64")
    return frame


def _assert_valid(panel: Panel, frame: Any, fill: str | None) -> None:
    n_series, t_max, n_channels = panel.values.shape
    assert panel.values.dtype == torch.float32 and panel.lengths.dtype == torch.int64
    lengths = panel.lengths.tolist()
    assert len(lengths) == len(panel.ids) == len(panel.times) == n_series >= 1
    assert min(lengths) >= 1 and max(lengths) == t_max
    assert n_channels == len(panel.columns) >= 1
    assert len(set(map(repr, panel.ids))) == n_series  # every id once
    for s, n in enumerate(lengths):
        times = panel.times[s]
        assert len(times) == n and times.is_unique and times.is_monotonic_increasing
        assert torch.isfinite(panel.values[s, :n]).all()
        assert torch.all(panel.values[s, n:] == 0)
        assert np.isfinite(panel.series_values(s)).all()
        future = panel.future_times(s, 2)
        assert future[0] > times[-1] and len(future) == 2
    n_rows = len(frame)
    if fill is None:
        assert sum(lengths) == n_rows  # nothing inserted
    back = panel.to_pandas()
    assert len(back) == sum(lengths)
    assert back[panel.id_col].dtype == panel.id_dtype


@given(frames())
def test_any_frame_gives_an_input_error_or_a_valid_panel(case: tuple[Any, dict[str, Any]]) -> None:
    frame, kwargs = case
    before = frame.clone() if isinstance(frame, pl.DataFrame) else frame.copy()
    try:
        panel = to_panel(frame, **kwargs)
    except InputError as error:
        event(f"refused: {str(error)[:40]}")
        return
    finally:
        if isinstance(frame, pl.DataFrame):
            assert frame.equals(before)
        else:
            pd.testing.assert_frame_equal(frame, before)  # the input is never modified
    event("a valid panel")
    _assert_valid(panel, frame, kwargs["fill"])


@given(
    lengths=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6),
    bad_row=st.integers(min_value=0, max_value=80),
    block=st.integers(min_value=1, max_value=9),
)
def test_the_blockwise_grid_and_order_checks_equal_the_whole_array_ones(
    lengths: list[int], bad_row: int, block: int
) -> None:
    import tsforecast.data.frequency as frequency
    import tsforecast.data.validation as validation

    bounds = np.r_[0, np.cumsum(lengths)]
    ticks = np.concatenate(
        [np.arange(n, dtype=np.int64) * 5 + 100 * s for s, n in enumerate(lengths)]
    )
    if bad_row < len(ticks):
        ticks[bad_row] -= 7  # off the grid and back in time (unless at a series' start)
    codes = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    across = np.zeros(max(len(ticks) - 1, 0), dtype=bool)
    across[bounds[1:-1] - 1] = True
    steps = np.diff(ticks)
    on_grid = bool(np.all((steps == 5) | across))
    in_order = bool(np.all(codes[1:] >= codes[:-1]) and np.all((steps > 0) | across))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frequency, "_BLOCK", block)
        patch.setattr(validation, "_BLOCK", block)
        assert frequency.steps_all_equal(ticks, bounds, 5) == on_grid
        assert validation._in_series_order(codes, ticks) == in_order
