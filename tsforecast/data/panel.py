"""The Panel: validated series as one padded tensor on the training device.

`tsforecast.data.validation.to_panel` builds it; downstream code (windows, scaling, models,
backtests) trusts the `Panel` it receives.

Layout: `values[s, t, c]` holds series `s` LEFT-aligned (its first observation at `t = 0`,
zeros after its end at `lengths[s]`), with the target channels first and the covariates after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.frames import FrameKind, FrameSchema, restore_dtypes
from tsforecast.devices import resolve_device

__all__ = ["Panel"]


@dataclass(frozen=True)
class Panel:
    """Validated series as one padded tensor on the training device.

    values: [S, T_max, C] float32, left-aligned, zero-padded after each series' end.
    lengths: [S] int64, the number of observations of each series.
    times: per series, its time stamps (a DatetimeIndex or an integer Index), len == lengths[s].
    freq: a pandas offset alias ("h", "MS", ...) for datetime stamps, an int step for integers.
    ids: in the order of their first appearance in the input frame.
    schema: the input's id and time dtypes, which output frames get back (`id_column`,
        `frames.from_pandas(pdf, panel.frame_kind, schema=panel.schema)`); None when unknown.
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
    schema: FrameSchema | None = None

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
        lengths = np.array([int(n) for n in self.lengths.to("cpu").tolist()], dtype=np.int64)
        if self.n_series == 0:
            values = np.zeros((0, self.n_channels))
            times: pd.Index = pd.Index([])
        else:
            values = np.concatenate([self.series_values(s) for s in range(self.n_series)])
            times = (
                self.times[0].append(list(self.times[1:])) if self.n_series > 1 else self.times[0]
            )
        frame = pd.DataFrame(values, columns=self.columns)
        frame.insert(0, self.time_col, times)
        frame.insert(0, self.id_col, self.id_column(np.repeat(np.arange(self.n_series), lengths)))
        return frame if self.schema is None else restore_dtypes(frame, self.schema)
