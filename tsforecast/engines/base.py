"""What an engine is: something that maps one function over chunks of work, in order.

The engine only schedules; the work itself (`tsforecast.engines.work`, `.fits`) is the same
in-process code the local path runs. `LocalEngine` is today's path: no chunking, the
statistical models keep their process pool (`tsforecast.stats.forecast_many`).

On a worker every task runs through `in_worker`: torch gets the task's CPU share as its thread
count (one slot: a Ray task takes `num_cpus=1`, a Dask task one worker thread), so that two
tasks on one machine do not each start a thread per core; an exception is sent back as a
value and raised again in the caller as itself (`Engine.collect`), not as Ray's or Dask's
wrapper with a remote traceback. Each task leaves a `TaskRecord` in `engine.tasks`.
"""

from __future__ import annotations

import os
import pickle
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Engine", "LocalEngine", "TaskRecord", "in_worker"]

# The torch threads of one task: every task holds one CPU slot of the cluster.
THREADS_PER_TASK = 1


@dataclass(frozen=True)
class TaskRecord:
    """Where and how one task ran: the worker's process id, its torch threads, its seconds."""

    pid: int
    threads: int
    seconds: float


def in_worker(
    fn: Callable[[Any, Any], Any], threads: int, shared: Any, item: Any
) -> tuple[TaskRecord, bool, Any]:
    """`fn(shared, item)` on a worker with `threads` torch threads: (record, ok, result or the
    exception it raised)."""
    import torch

    torch.set_num_threads(threads)
    started = time.perf_counter()
    ok = True
    try:
        out = fn(shared, item)
    except Exception as exc:  # sent back to be raised in the caller as itself
        ok, out = False, _picklable(exc)
    record = TaskRecord(os.getpid(), torch.get_num_threads(), time.perf_counter() - started)
    return record, ok, out


def _picklable(exc: Exception) -> Exception:
    try:
        pickle.dumps(exc)
    except Exception:  # an exception that cannot travel back: its type and message do
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class Engine(ABC):
    """Runs `fn(shared, item)` for every item, possibly on other processes or machines.

    chunks_per_worker: how many chunks of series each worker gets (several, so that a chunk of
        long series at the end does not leave the other workers idle).
    """

    name: str = ""

    def __init__(self, chunks_per_worker: int = 4) -> None:
        from tsforecast.checks import positive_int

        self.chunks_per_worker = positive_int("chunks_per_worker", chunks_per_worker)
        self.tasks: list[TaskRecord] = []  # every task this engine ran, in the items' order

    def collect(self, outcomes: Sequence[tuple[TaskRecord, bool, Any]]) -> list[Any]:
        """The tasks' results in order, their records kept; the first task that raised (in the
        items' order, as the local loop would have met it) raises its exception here."""
        self.tasks += [record for record, _, _ in outcomes]
        for _, ok, out in outcomes:
            if not ok:
                raise out
        return [out for _, _, out in outcomes]

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
