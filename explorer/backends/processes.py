"""Work units on this machine's cores: the standard library's process pool.

Workers are started by a fork server (``multiprocessing``'s ``forkserver``): a clean
single-threaded process, so a caller's threads (a notebook kernel's, a watchdog) are
never forked mid-lock. They are all started at once, without the caller's main
module: units need nothing from it (a scenario travels by value, with cloudpickle), and
a script that calls ``explore(workers=2)`` at its top level, without an
``if __name__ == "__main__":`` guard, would otherwise run again in every worker. A
worker ignores Ctrl-C: the coordinator stops it, and keeps what finished.
"""

from __future__ import annotations

import concurrent.futures.process  # noqa: F401 - imported before plain code's patches can be in place
import multiprocessing
import multiprocessing.forkserver  # noqa: F401
import multiprocessing.popen_forkserver  # noqa: F401
import multiprocessing.queues  # noqa: F401
import multiprocessing.synchronize  # noqa: F401
import os
import signal
import site
import sys
import threading
import time
import types
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import contextmanager

from .._engine.watchdog import ctrl_c_held

#: Seconds a cancelled unit under way has to end before its worker is killed.
GRACE = 0.5


def _quiet() -> None:
    """A worker leaves Ctrl-C and SIGTERM to the coordinator (a terminal's Ctrl-C and a CI
    job's timeout signal the whole process group), which stops it; and it ends when the
    coordinator does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent,), name="explorer: end with the coordinator",
                         daemon=True).start()


def _end_with(parent) -> None:
    """Wait for the coordinator's end (the pipe it started this worker through closes); if
    it ends without stopping this worker (killed outright: SIGKILL, the out-of-memory
    killer), end too. A pool's worker waits for its next task forever otherwise, holding
    its memory and the fork server, and with them the resource tracker, which removes
    the search's semaphores and shared-memory files only once all of them are gone."""
    parent.join()
    os._exit(1)


def _ready() -> int:
    return os.getpid()


@contextmanager
def _without_main():
    """The caller's ``__main__`` out of sight while workers start (see the module docstring)."""
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def start_fork_server() -> None:
    """Start the fork server now, without waiting for it: it imports explorer while the
    coordinator explores alone, and the workers fork from it at once when the coordinator
    needs them. A search that never splits leaves it idle, as any parallel search does
    (it ends with this process)."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(["explorer._engine.units"])
    with _without_main(), _this_explorer():
        multiprocessing.forkserver.ensure_running()


@contextmanager
def _this_explorer():
    """The directory this explorer was imported from first on the fork server's path.

    The fork server is a new interpreter, which finds modules on its own path, not on this
    process's ``sys.path`` (Python passes it, and the fork server leaves it unused): an
    explorer imported from a source tree this process put on ``sys.path`` (a checkout of
    another version, a benchmark's worktree) would otherwise run its coordinator beside
    workers of whatever explorer is installed (the workers get this process's path, but
    fork from a server that imported explorer before). An installed explorer is found
    alike by both, and its directory is left where it is."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # above explorer/
    installed = {os.path.abspath(path) for path in site.getsitepackages() + [site.getusersitepackages()]}
    if root in installed:
        yield
        return
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = root if not before else root + os.pathsep + before
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


class ProcessBackend:
    """``workers`` processes of this machine (None: one per core)."""

    name = "processes"

    def __init__(self, workers: int | None) -> None:
        self.workers = workers or os.cpu_count() or 1
        context = multiprocessing.get_context("forkserver")
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context, initializer=_quiet)
        try:
            # each submit starts a worker while fewer than ``workers`` are idle
            with ctrl_c_held(), _without_main():
                start_fork_server()
                started = [self.pool.submit(_ready) for _ in range(self.workers)]
                # a submit starts no worker while one is idle (one whose _ready is done takes
                # the next): the rest start here, not on a later submit that would show the
                # worker the caller's __main__ (which it would then run)
                spawn = getattr(self.pool, "_spawn_process", None)
                while spawn is not None and len(getattr(self.pool, "_processes", None) or ()) < self.workers:
                    spawn()
            wait(started)
        except BaseException:
            # Ctrl-C while they start: let them start and end now, while the pool's queues
            # exist; a worker still starting would otherwise find them gone (a traceback)
            self.close(cancel=True)
            raise

    def submit(self, fn, /, *args) -> Future:
        return self.pool.submit(fn, *args)

    def close(self, *, cancel: bool = False) -> None:
        """Stop the workers: once every unit submitted has ended, or, with ``cancel``, at
        once: units not started are dropped, and a unit under way has :data:`GRACE`
        seconds to end (the coordinator has raised the hunger flag, so it hands back what
        it has left at its next execution) before its worker is killed. Not killed at
        once: a worker killed while it writes its result leaves half a message in the
        pool's pipe, which the pool's reader thread then waits for forever, and with it
        the interpreter's exit."""
        if not cancel:
            self.pool.shutdown(wait=True)
            return
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        end = time.monotonic() + GRACE
        for process in processes:
            process.join(timeout=max(end - time.monotonic(), 0))
        for process in processes:
            if process.is_alive():
                process.kill()
        for process in processes:
            process.join(timeout=1)
