"""A fitted model's history panel in a saved-model folder: tensors plus JSON metadata."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from tsforecast.data.panel import Panel
from tsforecast.data.ragged import ragged_from_padded

__all__ = ["panel_from_saved", "panel_to_saved"]


def _json_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def panel_to_saved(panel: Panel, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors named `<prefix>.*`, JSON metadata) that `panel_from_saved` turns back."""
    # ragged, as in memory: the file follows the number of observations too
    tensors = {
        f"{prefix}.data": panel.data.detach().to("cpu").contiguous(),
        f"{prefix}.offsets": panel.offsets.detach().to("cpu").contiguous(),
    }
    if panel.exact is not None:
        tensors[f"{prefix}.exact"] = torch.from_numpy(np.ascontiguousarray(panel.exact))
    meta = {
        "ids": [_json_value(i) for i in panel.ids],
        "last_times": [_json_value(t[-1]) for t in panel.times],
        "freq": _json_value(panel.freq),
        "is_datetime": panel.is_datetime,
        "id_col": panel.id_col,
        "time_col": panel.time_col,
        "frame_kind": panel.frame_kind,
        "target_cols": panel.target_cols,
        "covariate_cols": panel.covariate_cols,
    }
    return tensors, meta


def _times_ending_at(last: Any, n: int, freq: str | int, is_datetime: bool) -> pd.Index:
    if is_datetime:
        return pd.date_range(end=pd.Timestamp(last), periods=n, freq=str(freq))
    step = int(freq)
    return pd.Index(int(last) - step * np.arange(n - 1, -1, -1, dtype=np.int64))


def panel_from_saved(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str, device: torch.device
) -> Panel:
    """The panel saved by `panel_to_saved` (on `device`); also reads the padded layout
    (`<prefix>.values` [S, T, C] and `.lengths`) that models saved before the ragged one have."""
    if f"{prefix}.data" in tensors:
        data, offsets = tensors[f"{prefix}.data"], tensors[f"{prefix}.offsets"]
    else:
        data, offsets = ragged_from_padded(
            tensors[f"{prefix}.values"], tensors[f"{prefix}.lengths"]
        )
    lengths = offsets[1:] - offsets[:-1]
    times = [
        _times_ending_at(last, int(n), meta["freq"], meta["is_datetime"])
        for last, n in zip(meta["last_times"], lengths.tolist(), strict=True)
    ]
    exact = tensors[f"{prefix}.exact"].numpy() if f"{prefix}.exact" in tensors else None
    return Panel(
        data=data.to(device),
        offsets=offsets.to(device),
        ids=meta["ids"],
        times=times,
        freq=meta["freq"],
        target_cols=meta["target_cols"],
        covariate_cols=meta["covariate_cols"],
        id_col=meta["id_col"],
        time_col=meta["time_col"],
        frame_kind=meta["frame_kind"],
        exact=exact,
    )
