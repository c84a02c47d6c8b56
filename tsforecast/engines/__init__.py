"""Engines: where a backtest's or a forecast's per-series work runs.

`engine="local"` (the default) runs in this process, the slower baselines on its process pool;
`engine="ray"` and `engine="dask"` fan chunks of whole series out over Ray or Dask, each chunk
running the same in-process unit of work as the local path (`tsforecast.engines.work`), so the
results are the same. Independent fits run as one task each (`tsforecast.engines.fits`: a
backtest's refitted folds of a neural model, `auto`'s candidates); a neural global model fitted
once trains in the driver. Ray and Dask are optional extras (`pip install 'tsforecast[ray]'`,
`'tsforecast[dask]'`), imported only when used.
"""

from __future__ import annotations

from typing import Any

from tsforecast.engines.base import Engine, LocalEngine
from tsforecast.engines.dask_engine import DaskEngine
from tsforecast.engines.ray_engine import RayEngine
from tsforecast.errors import InputError

__all__ = ["ENGINE_NAMES", "DaskEngine", "Engine", "LocalEngine", "RayEngine", "resolve_engine"]

ENGINE_NAMES = ("local", "ray", "dask")


def resolve_engine(engine: Any) -> Engine:
    """ "local" | "ray" | "dask" | an `Engine` object -> the engine (checked before any work)."""
    if isinstance(engine, Engine):
        return engine
    if engine == "local":
        return LocalEngine()
    if engine == "ray":
        return RayEngine()
    if engine == "dask":
        return DaskEngine()
    msg = (
        f"`engine` must be one of {list(ENGINE_NAMES)} or an engine object "
        f"(tsf.engines.RayEngine(...), tsf.engines.DaskEngine(client)), got {engine!r}."
    )
    raise InputError(msg)
