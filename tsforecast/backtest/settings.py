"""A backtest's arguments, checked once: what every step of the engine reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from tsforecast.data.panel import Panel

__all__ = ["BacktestSettings"]


@dataclass
class BacktestSettings:
    """A backtest's arguments, checked: what every step below reads."""

    horizon: int
    n_windows: int
    step: int
    season_length: int | None
    levels: tuple[float, ...]
    refit: bool | int
    refit_every: int
    train_size: int | None
    metrics: list[str]
    id_col: str
    time_col: str
    target_col: str | Sequence[str]
    freq: str | int | None
    fill: str | None
    n_jobs: int | None
    device: str
    seed: int
    engine: str = "local"  # the engine's name ("local", "ray", "dask")
    intervals: dict[str, str] = field(default_factory=dict)  # label -> "model"/"conformal"/...

    def shared(self) -> dict[str, Any]:
        """The arguments every model of the registry is built with."""
        return {
            "horizon": self.horizon,
            "levels": self.levels or None,
            "season_length": self.season_length,
            "n_jobs": self.n_jobs,
            "device": self.device,
            "seed": self.seed,
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
            "fill": self.fill,
            "freq": self.freq,
            "progress": False,
        }

    def record(self, labels: list[str], panel: Panel, timings: dict[str, float]) -> dict:
        from tsforecast.stats import resolve_n_jobs

        out = {k: v for k, v in asdict(self).items() if k not in ("refit_every", "target_col")}
        out.update(
            models=labels,
            levels=list(self.levels),
            window="expanding" if self.train_size is None else "sliding",
            target_cols=list(panel.target_cols),
            n_series=panel.n_series,
            n_jobs=resolve_n_jobs(self.n_jobs),
            timings_s=timings,
        )
        return out
