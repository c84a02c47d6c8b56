"""The Panel: validated series in ragged storage on the training device.

`tsforecast.data.validation.to_panel` builds it; downstream code (windows, scaling, models,
backtests) trusts the `Panel` it receives.

Layout (CSR-like): `data[offsets[s] : offsets[s + 1]]` holds series `s`, oldest first, with the
target channels first and the covariates after. Memory follows the number of observations, not
series x the longest series. `values`, the left-aligned padded `[S, T_max, C]` copy, is built
on first use only, for the code that needs a rectangle (and costs S x T_max x C cells).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.frames import FrameKind, FrameSchema, restore_dtypes
from tsforecast.data.ragged import (
    SeriesTimes,
    concat_times,
    padded_from_ragged,
    ragged_from_padded,
    take_spans,
)
from tsforecast.devices import resolve_device

__all__ = ["Panel"]


@dataclass(frozen=True)
class Panel:
    """Validated series in ragged storage on the training device.

    data: [N_obs, C] float32, every series' observations one after the other.
    offsets: [S + 1] int64 (on data's device): series s is `data[offsets[s]:offsets[s + 1]]`.
    times: per series, its time stamps (a DatetimeIndex or an integer Index), len == lengths[s]
        (a `SeriesTimes` from `to_panel`, or any sequence of indexes).
    freq: a pandas offset alias ("h", "MS", ...) for datetime stamps, an int step for integers.
    ids: in the order of their first appearance in the input frame.
    exact: the validated values in float64 on the host, [N_obs, C] with the same offsets, for
        the statistical models and the metrics (`data` is float32). None when unknown.
    schema: the input's id and time dtypes, which output frames get back (`id_column`,
        `frames.from_pandas(pdf, panel.frame_kind, schema=panel.schema)`); None when unknown.
    filled: [N_obs, C] bool on the host, True where `fill` made the value up (a time stamp the
        input lacked, or a NaN it held); None when nothing was filled. The models see the
        filled values; a backtest scores only the observed ones (`observed_values`).
    """

    data: torch.Tensor
    offsets: torch.Tensor
    ids: list[Any]
    times: Sequence[pd.Index]
    freq: str | int
    target_cols: list[str]
    covariate_cols: list[str]
    id_col: str
    time_col: str
    frame_kind: FrameKind
    exact: np.ndarray | None = None
    schema: FrameSchema | None = None
    filled: np.ndarray | None = None

    @classmethod
    def from_padded(
        cls,
        values: torch.Tensor,
        lengths: torch.Tensor,
        *,
        exact: Sequence[np.ndarray] | np.ndarray | None = None,
        **fields: Any,
    ) -> Panel:
        """A panel from a left-aligned padded tensor [S, T, C] and its lengths [S]; `exact`
        may be one float64 array per series (or already flat)."""
        data, offsets = ragged_from_padded(values, lengths)
        if exact is not None and not isinstance(exact, np.ndarray):
            n_channels = values.shape[2]
            exact = np.concatenate(list(exact)) if len(exact) else np.zeros((0, n_channels))
        return cls(data=data, offsets=offsets, exact=exact, **fields)

    @cached_property
    def lengths(self) -> torch.Tensor:
        """[S] int64, the number of observations of each series (on the panel's device)."""
        return self.offsets[1:] - self.offsets[:-1]

    @cached_property
    def values(self) -> torch.Tensor:
        """[S, T_max, C] float32, left-aligned, zero after each series' end: built on first
        use, S x T_max x C cells; prefer `data` / `offsets` or `series_values`."""
        return padded_from_ragged(self.data, self.offsets)

    @cached_property
    def _host_offsets(self) -> np.ndarray:
        return self.offsets.to("cpu").numpy()

    @property
    def n_series(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @property
    def n_obs(self) -> int:
        return int(self.data.shape[0])

    @property
    def n_targets(self) -> int:
        return len(self.target_cols)

    @property
    def n_channels(self) -> int:
        return int(self.data.shape[1])

    @property
    def device(self) -> torch.device:
        return self.data.device

    @property
    def is_datetime(self) -> bool:
        return isinstance(self.freq, str)

    @property
    def id_dtype(self) -> Any:
        """The pandas dtype of the input's id column (None when unknown)."""
        return None if self.schema is None else self.schema.pandas.get(self.id_col)

    @property
    def time_dtype(self) -> Any:
        """The pandas dtype output time stamps take (the input's; None when unknown)."""
        return None if self.schema is None else self.schema.pandas.get(self.time_col)

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
        lo, hi = self._host_offsets[series], self._host_offsets[series + 1]
        if self.exact is not None:
            return self.exact[lo:hi]
        return self.data[lo:hi].detach().to("cpu", torch.float64).numpy()

    def observed_values(self, series: int) -> np.ndarray:
        """`series_values(series)` with NaN where `fill` made the value up (a copy if so)."""
        values = self.series_values(series)
        if self.filled is None:
            return values
        lo, hi = self._host_offsets[series], self._host_offsets[series + 1]
        return np.where(self.filled[lo:hi], np.nan, values)

    def to(self, device: str | torch.device) -> Panel:
        target = resolve_device(device)
        return replace(self, data=self.data.to(target), offsets=self.offsets.to(target))

    def select(self, series: Sequence[int]) -> Panel:
        """A panel of the given series (by position), keeping their order."""
        positions = torch.as_tensor(list(series), dtype=torch.long, device=self.offsets.device)
        lengths = self.lengths.index_select(0, positions)
        return self._spans(positions, torch.zeros_like(lengths), lengths, list(series))

    def steps(self, start_idx: Any, end_idx: Any) -> Panel:
        """Each series s cut to its positions start_idx[s]..end_idx[s] (inclusive); [S] each."""
        start = torch.as_tensor(np.asarray(start_idx), dtype=torch.long)
        end = torch.as_tensor(np.asarray(end_idx), dtype=torch.long)
        positions = torch.arange(self.n_series, device=self.offsets.device)
        return self._spans(positions, start, end - start + 1, None)

    def channels(self, n: int) -> Panel:
        """The panel with its first `n` channels only (e.g. the targets)."""
        exact = None if self.exact is None else self.exact[:, :n]
        filled = None if self.filled is None else self.filled[:, :n]
        return replace(self, data=self.data[:, :n].contiguous(), exact=exact, filled=filled)

    def _spans(
        self,
        positions: torch.Tensor,
        start: torch.Tensor,
        counts: torch.Tensor,
        series: list[int] | None,
    ) -> Panel:
        """Series `positions`, each from its step `start` for `counts` steps."""
        device = self.offsets.device
        start, counts = start.to(device), counts.to(device)
        # take_spans reads where each series starts (`base[:-1]`) only
        base = torch.cat([self.offsets[:-1][positions], self.offsets[-1:]])
        data, offsets = take_spans(self.data, base, start, counts)

        def host_spans(rows: np.ndarray | None) -> np.ndarray | None:
            """The same spans of a host array with the panel's rows (exact values, filled)."""
            if rows is None:
                return None
            taken, _ = take_spans(
                torch.from_numpy(np.ascontiguousarray(rows)), base.cpu(), start.cpu(), counts.cpu()
            )
            return taken.numpy()

        exact, filled = host_spans(self.exact), host_spans(self.filled)
        host_start, host_counts = start.cpu().numpy(), counts.cpu().numpy()
        times = self.times
        if series is not None:
            times = (
                times.select(series)
                if isinstance(times, SeriesTimes)
                else [times[i] for i in series]
            )
        else:
            times = (
                times.spans(host_start, host_counts)
                if isinstance(times, SeriesTimes)
                else [
                    t[a : a + n]
                    for t, a, n in zip(
                        times, host_start.tolist(), host_counts.tolist(), strict=True
                    )
                ]
            )
        ids = self.ids if series is None else [self.ids[i] for i in series]
        return replace(
            self, data=data, offsets=offsets, ids=ids, times=times, exact=exact, filled=filled
        )

    def id_column(self, series_positions: Any) -> pd.Series:
        """The ids of the series at `series_positions` (one per output row), in the input's dtype.

        A categorical id comes back categorical with the input's categories, integers as their
        integer dtype, strings as strings: `frame[panel.id_col] = panel.id_column(positions)`.
        """
        ids = np.empty(self.n_series, dtype=object)
        ids[:] = self.ids
        positions = np.asarray(series_positions, dtype=np.int64).reshape(-1)
        column = pd.Series(ids[positions], dtype=object, name=self.id_col)
        dtype = self.id_dtype
        if dtype is None:
            # a panel without a schema (built by hand): one Python type -> its natural dtype
            if len({type(i) for i in self.ids}) != 1:
                return column
            dtype = pd.Series(self.ids).dtype
        return column.astype(dtype)

    def to_pandas(self) -> pd.DataFrame:
        """The panel back as a long pandas frame (id, time, targets, covariates).

        Values are float64: the exact validated inputs when the panel knows them (`exact`). The
        id and time columns have the input's dtypes; rows come series by series, in panel order.
        """
        lengths = np.diff(self._host_offsets)
        if self.exact is not None:
            values = self.exact
        else:
            values = self.data.detach().to("cpu", torch.float64).numpy()
        times = concat_times(self.times)
        frame = pd.DataFrame(values, columns=self.columns)
        frame.insert(0, self.time_col, times)
        frame.insert(0, self.id_col, self.id_column(np.repeat(np.arange(self.n_series), lengths)))
        return frame if self.schema is None else restore_dtypes(frame, self.schema)
