"""Dask: chunks of series as `distributed` tasks on the current client or a LocalCluster.

`DaskEngine()` uses the current `distributed.Client` (the one a user created last) when there
is one, else starts a `LocalCluster` on this machine (one single-threaded worker process per
core) and leaves its client current, so that later calls reuse it. `DaskEngine(client)` uses
the given client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tsforecast.engines.base import THREADS_PER_TASK, Engine, in_worker
from tsforecast.errors import InputError

__all__ = ["DaskEngine", "import_distributed"]


def import_distributed() -> Any:
    """The `distributed` module, or a clear error naming the extra to install."""
    try:
        import distributed
    except ImportError as exc:
        msg = (
            "engine='dask' needs dask.distributed, which is not installed; install it with "
            "`pip install 'tsforecast[dask]'` (or use engine='local')."
        )
        raise InputError(msg) from exc
    return distributed


class DaskEngine(Engine):
    """Fan chunks of series out as Dask tasks.

    client: a `distributed.Client`; None: the current one, else a new LocalCluster's.
    chunks_per_worker: chunks of series per worker thread of the cluster.
    """

    name = "dask"

    def __init__(self, client: Any | None = None, chunks_per_worker: int = 4) -> None:
        super().__init__(chunks_per_worker)
        distributed = import_distributed()
        if client is not None and not isinstance(client, distributed.Client):
            msg = f"`client` must be a distributed.Client or None, got {type(client).__name__}."
            raise InputError(msg)
        self.client = client

    def _client(self) -> Any:
        distributed = import_distributed()
        if self.client is None or self.client.status != "running":
            try:
                self.client = distributed.get_client()
            except ValueError:  # no client yet: a local cluster, left current for later calls
                # one single-threaded worker process per core: the fits hold the GIL
                cluster = distributed.LocalCluster(threads_per_worker=1)
                self.client = distributed.Client(cluster)
        return self.client

    def n_workers(self) -> int:
        return max(1, sum(self._client().nthreads().values()))

    def map(self, fn: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]) -> list[Any]:
        client = self._client()
        # sent once to every worker, not once per task
        (shared_future,) = client.scatter([shared], broadcast=True)
        futures = [
            client.submit(in_worker, fn, THREADS_PER_TASK, shared_future, item, pure=False)
            for item in items
        ]
        return self.collect(client.gather(futures))

    def __repr__(self) -> str:
        return f"DaskEngine(client={self.client!r})"
