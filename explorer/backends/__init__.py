"""Where the work units of a parallel exploration run: a backend per engine.

A backend runs ``fn(*args)`` somewhere and hands back a
:class:`concurrent.futures.Future`; it knows nothing of explorer. The coordinator
(:mod:`explorer._engine.coordinator`) is the only user. ``"processes"`` (the default)
uses the standard library's process pool on this machine; ``"ray"`` runs on a Ray
cluster (``pip install 'explorer[ray]'``). Another engine is one module with a class
that has ``name``, ``workers``, ``submit`` and ``close``: Dask's
``Client.get_executor()`` already is most of one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from ..errors import InvalidArgument

__all__ = ["BACKENDS", "Backend", "prepare", "too_many_workers"]

#: The backends ``explore(backend=...)`` accepts by name.
BACKENDS = ("processes", "ray")
#: The most workers a Ray cluster is asked for: beyond any cluster's CPUs (a typo, 10**11).
MOST_RAY_WORKERS = 65_536


def too_many_workers(workers: int, backend: str) -> str | None:
    """Why ``workers`` is more than ``backend`` can run, or None. Processes of this machine:
    at most 8 per core (64 at least); each is a Python process holding the scenario."""
    cores = os.cpu_count() or 1
    most = max(64, 8 * cores) if backend == "processes" else MOST_RAY_WORKERS
    if workers <= most:
        return None
    if backend == "processes":
        return (f"{workers:,} workers is more processes than this machine can run usefully: it has {cores} "
                f"core{'s' if cores != 1 else ''}; ask for at most {most:,} ('auto': one per core)")
    return f"{workers:,} workers is more than any Ray cluster has CPUs for: at most {most:,}"


class Backend(Protocol):
    """Runs work units: at most ``workers`` at once.

    ``submit(fn, *args)`` runs ``fn(*args)`` (a module-level function, its arguments
    picklable) in a worker and returns its future; the worker process may keep what a
    unit leaves in module globals for the next unit it runs (a job's compiled
    scenario). ``close(cancel=True)`` stops at once, units running or not (within a
    second); ``close()`` lets running units finish first.
    """

    name: str
    workers: int

    def submit(self, fn, /, *args) -> Future: ...

    def close(self, *, cancel: bool = False) -> None: ...


def prepare(name: str, workers: int | None, address: str | None) -> Callable[[], Backend]:
    """What makes the backend called ``name``, for ``workers`` workers (None: every core it
    has), when the coordinator first needs it. Its modules are imported now: plain code's
    patches, in place during a search, would break what they define."""
    if name == "processes":
        if address is not None:
            raise InvalidArgument(f"address= names a Ray cluster; backend='processes' runs on this "
                                  f"machine (got address={address!r}); use backend='ray'")
        from .processes import ProcessBackend, start_fork_server

        start_fork_server()
        return lambda: ProcessBackend(workers)
    if name == "ray":
        from .ray import RayBackend

        RayBackend.load()
        return lambda: RayBackend(workers, address)
    raise InvalidArgument(f"unknown backend {name!r}; the backends are {list(BACKENDS)}")
