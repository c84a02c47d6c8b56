"""What an engine is: something that maps one function over chunks of work, in order.

The engine only schedules; the work itself (`tsforecast.engines.work`) is the same in-process
code the local path runs. `LocalEngine` is today's path: no chunking, the statistical models
keep their process pool (`tsforecast.stats.forecast_many`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Engine", "LocalEngine"]


class Engine(ABC):
    """Runs `fn(shared, item)` for every item, possibly on other processes or machines.

    chunks_per_worker: how many chunks of series each worker gets (several, so that a chunk of
        long series at the end does not leave the other workers idle).
    """

    name: str = ""

    def __init__(self, chunks_per_worker: int = 4) -> None:
        from tsforecast.checks import positive_int

        self.chunks_per_worker = positive_int("chunks_per_worker", chunks_per_worker)

    @abstractmethod
    def n_workers(self) -> int:
        """How many tasks can run at once (the CPUs of the cluster)."""

    @abstractmethod
    def map(self, fn: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]) -> list[Any]:
        """`[fn(shared, item) for item in items]`, in the items' order; `shared` is sent once."""

    def n_chunks(self, n_series: int) -> int:
        """Chunks for `n_series` series: `chunks_per_worker` per worker, at most one per series."""
        return max(1, min(n_series, self.n_workers() * self.chunks_per_worker))

    @property
    def is_local(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LocalEngine(Engine):
    """The default: everything in this process (the slow baselines use their process pool)."""

    name = "local"

    def n_workers(self) -> int:
        return 1

    def map(self, fn: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]) -> list[Any]:
        return [fn(shared, item) for item in items]

    @property
    def is_local(self) -> bool:
        return True
