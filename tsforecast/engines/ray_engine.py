"""Ray: chunks of series as Ray tasks, on a local Ray or an existing cluster.

`RayEngine()` uses Ray as it is when it is initialised already (`ray.init(...)` by the user);
otherwise it calls `ray.init(address=...)`: the given address, else `RAY_ADDRESS`, else a new
local Ray with `num_cpus` CPUs. The workers import tsforecast: on a cluster it must be installed
on every node (or shipped with `ray.init(runtime_env=...)`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from tsforecast.engines.base import THREADS_PER_TASK, Engine, in_worker
from tsforecast.errors import InputError

__all__ = ["RayEngine", "import_ray"]


def import_ray() -> Any:
    """The `ray` module, or a clear error naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        msg = (
            "engine='ray' needs Ray, which is not installed; install it with "
            "`pip install 'tsforecast[ray]'` (or use engine='local')."
        )
        raise InputError(msg) from exc
    return ray


class RayEngine(Engine):
    """Fan chunks of series out as Ray tasks (one CPU each).

    address: a Ray cluster to connect to ("auto", "ray://host:10001", ...); None: RAY_ADDRESS,
        else a new local Ray. Ignored when Ray is initialised already.
    num_cpus: CPUs of a new local Ray (None: all of this machine's); not for a cluster.
    chunks_per_worker: chunks of series per CPU of the cluster.
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        chunks_per_worker: int = 4,
    ) -> None:
        super().__init__(chunks_per_worker)
        import_ray()
        if address is not None and num_cpus is not None:
            msg = (
                f"`num_cpus` sizes a new local Ray, but `address={address!r}` connects to an "
                "existing cluster, whose size is its own; drop `num_cpus` or `address`."
            )
            raise InputError(msg)
        if num_cpus is not None:
            from tsforecast.checks import positive_int

            positive_int("num_cpus", num_cpus)
        self.address = address
        self.num_cpus = num_cpus

    def _ray(self) -> Any:
        """Ray, initialised: as the user left it, or connected / started here."""
        ray = import_ray()
        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS") or None
            if address is not None:
                _check_reachable(address, "address" if self.address else "RAY_ADDRESS")
            local = {"num_cpus": self.num_cpus} if address is None else {}
            # Ray's own INFO lines ("Started a local Ray instance.") are not the user's business;
            # its warnings still show, as tsforecast's do under the CLI's --quiet
            ray.init(
                address=address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.WARNING,
                **local,
            )
        return ray

    def n_workers(self) -> int:
        return max(1, int(self._ray().cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any]) -> list[Any]:
        ray = self._ray()
        task = ray.remote(num_cpus=1, max_retries=0)(in_worker)
        shared_ref = ray.put(shared)  # sent to the object store once, read by every task
        # a top-level ObjectRef argument reaches the task as its value
        refs = [task.remote(fn, THREADS_PER_TASK, shared_ref, item) for item in items]
        return self.collect(ray.get(refs))

    def __repr__(self) -> str:
        return f"RayEngine(address={self.address!r}, num_cpus={self.num_cpus!r})"


# how long a cluster's port may take to accept a connection before it is called unreachable
_CONNECT_TIMEOUT_S = 5.0


def _check_reachable(address: str, source: str) -> None:
    """Refuse a `host:port` (or `ray://host:port`) nothing answers at: `ray.init` retries
    such an address for minutes, printing only its own connection warnings."""
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return  # "auto", "local" and the like: Ray's own to resolve
    try:
        with socket.create_connection((host.strip("[]"), int(port)), _CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        msg = (
            f"cannot reach a Ray cluster at {address!r} (from `{source}`): {error}; start "
            "one there (`ray start --head`), fix the address, or leave it unset for a local Ray."
        )
        raise InputError(msg) from error
