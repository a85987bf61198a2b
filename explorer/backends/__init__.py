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

from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

from ..errors import InvalidArgument

__all__ = ["BACKENDS", "Backend", "prepare"]

#: The backends ``explore(backend=...)`` accepts by name.
BACKENDS = ("processes", "ray")


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
