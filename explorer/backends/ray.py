"""The Ray backend: exploration units run as Ray tasks, on a private Ray instance on this
machine or on a Ray cluster that is already running.

It needs Ray (``pip install 'explorer[ray]'``, which is plain ``ray``, without the
dashboard extras), imported when a backend is made, never before: ``import explorer``
stays as fast as it is without Ray.
"""

from __future__ import annotations

import concurrent.futures
import logging
import numbers
import os
import socket
import sys
import threading

from ..errors import ExplorerError, InvalidArgument

__all__ = ["MissingExtra", "RayBackend", "RayBackendError"]


class MissingExtra(ExplorerError, ImportError):
    """An optional part of explorer was asked for, but the package it needs is not installed."""


class RayBackendError(ExplorerError, RuntimeError):
    """Ray is installed but cannot run explorer's units as asked."""


def _call(fn, args):
    """The one Ray task: ``fn(*args)``. A single remote function for every unit means Ray
    exports it once; ``fn`` travels as an argument, pickled by Ray's cloudpickle (by
    reference if its module is importable, by value if it lives in ``__main__``)."""
    return fn(*args)


class RayBackend:
    """Runs each unit as a Ray task (one CPU, never retried) and hands back a
    :class:`concurrent.futures.Future` for it.

    ``address=None`` starts a private Ray instance on this machine: ``workers`` CPUs (``None``:
    every core), its servers bound to 127.0.0.1 only, no dashboard, no usage statistics sent,
    Ray's log lines below errors and the workers' printed output kept out of the terminal
    (they stay in Ray's session folder under ``/tmp/ray``). :meth:`close` stops it again. ``address="local"``
    means the same.

    Any other ``address`` (``"auto"``, ``"host:6379"``, ``"ray://host:10001"``) connects to a
    running cluster, and :meth:`close` only disconnects from it. If this process has already
    called ``ray.init``, that session is used whatever ``address`` says, and :meth:`close`
    leaves it connected. ``workers`` is how many units run at once: the number given, or
    else the cluster's CPU count when the backend is made.

    What a worker of a real cluster needs: the same Python minor version and Ray version as
    this process, ``explorer`` itself, and every module the scenario's code lives in,
    importable under the same names (install them on every node, or pass Ray a
    ``runtime_env`` through your own ``ray.init`` before exploring). Ray sends functions
    defined in ``__main__`` or a notebook by value, so those need nothing installed. On a
    private instance the workers run this process's Python with this process's ``sys.path``
    (folders added at run time too), so nothing more is needed; but
    Ray puts the driver's working directory and script folder first on each worker's
    ``sys.path``, so an ``explorer`` checkout in the folder you run from is the one the
    workers import.

    A unit that raises hands its own exception to the future, the Ray error with the
    remote traceback as its ``__cause__``; a unit whose worker dies (killed, out of memory)
    hands Ray's ``WorkerCrashedError``. Cancelling a future kills its task.

    Example (needs Ray)::

        import operator
        backend = RayBackend(workers=2, address=None)
        assert backend.submit(operator.add, 2, 3).result() == 5
        backend.close()
    """

    name = "ray"

    def __init__(self, workers: int | None, address: str | None) -> None:
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, numbers.Integral)
                                    or workers < 1):
            raise InvalidArgument(f"workers must be a positive whole number (how many units run at once) "
                                  f"or None for every CPU Ray has, got {workers!r}")
        if address is not None and not isinstance(address, str):
            raise InvalidArgument(f"address must be a Ray address such as 'auto', 'host:6379' or "
                                  "'ray://host:10001', or None for a private Ray on this machine, "
                                  f"got {address!r}")
        ray = self.load()
        _wait_for_teardowns()  # a previous backend's Ray may still be stopping: never adopt it
        self._address = address
        self._lock = threading.Lock()
        self._outstanding: set[concurrent.futures.Future] = set()
        self._closed = False
        self._teardown: threading.Thread | None = None
        self._owns_session = not ray.is_initialized()
        if self._owns_session:
            if address in (None, "local"):
                _start_private_ray(ray, None if workers is None else int(workers))
            else:
                _check_reachable(address)
                try:
                    ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
                except (ConnectionError, OSError, RuntimeError, ValueError) as error:
                    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                    raise RayBackendError(
                        f"could not connect to the Ray cluster at {address!r}: {message} (check the address, "
                        "that its head node runs, and that this machine may reach it; address=None (no "
                        "--address) starts a private Ray here)") from error
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if workers is None and cpus < 1:
            self._stop_session(ray)
            where = f"at {address!r}" if address else "this process is connected to"
            raise RayBackendError(f"the Ray cluster {where} has no CPUs now, so no unit could start (each "
                                  "takes one); pass workers=N (-j N) if it adds CPU nodes on demand, add nodes with "
                                  "CPUs, or pass address=None (no --address) for a private Ray on this machine")
        self.workers = int(workers) if workers is not None else cpus
        self._task = ray.remote(num_cpus=1, max_retries=0)(_call)

    @staticmethod
    def load():
        """Ray, imported (before plain code's patches are in place), or a clear error."""
        try:
            import ray
        except ImportError as error:
            raise MissingExtra("backend='ray' needs Ray, which is not installed: pip install 'explorer[ray]' "
                               "(or use backend='processes', the default without --backend, which needs nothing more)") from error
        return ray

    def __repr__(self) -> str:
        return f"RayBackend(workers={self.workers}, address={self._address!r})"

    def submit(self, fn, /, *args) -> concurrent.futures.Future:
        """Runs ``fn(*args)`` as a Ray task. ``fn`` and ``args`` must pickle; the result
        comes back through the returned future, which is never marked running."""
        assert not self._closed, "[explorer internal bug] a unit was submitted to a closed ray backend"
        ref = self._task.remote(fn, args)
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._outstanding.add(future)
        future.add_done_callback(lambda done: self._forget(done, ref))
        ref.future().add_done_callback(lambda ray_future: _settle(future, ray_future))
        return future

    def close(self, *, cancel: bool = False) -> None:
        """Stops the backend. Without ``cancel``, waits for every unit submitted so far to
        finish, then stops the private Ray or disconnects (see the class docstring).

        With ``cancel``, every unfinished unit's future is cancelled and its task killed at
        once, and the call returns at once: Ray's own shutdown (1 to 2 s, while it waits for
        its processes to exit) goes on in a background thread, which the next ``RayBackend``
        and a second ``close()`` wait for. Closing twice is harmless."""
        import ray

        with self._lock:
            already, self._closed = self._closed, True
            outstanding = list(self._outstanding)
        if already:
            if self._teardown is not None:
                self._teardown.join()
            return
        if cancel:
            for future in outstanding:
                future.cancel()  # its done-callback kills the task
            if self._owns_session:
                self._teardown = threading.Thread(target=self._stop_session, args=(ray,),
                                                  name="explorer-ray-shutdown", daemon=True)
                with _teardowns_lock:
                    _teardowns.append(self._teardown)
                self._teardown.start()
        else:
            concurrent.futures.wait(outstanding)
            self._stop_session(ray)

    def _forget(self, future: concurrent.futures.Future, ref) -> None:
        with self._lock:
            self._outstanding.discard(future)
        if future.cancelled():
            import ray

            # force: a unit is a plain function call with nothing to clean up, and a running
            # task is only stopped by killing its worker process
            ray.cancel(ref, force=True)

    def _stop_session(self, ray) -> None:
        if self._owns_session:
            ray.shutdown()  # a private Ray is stopped; a connection to a cluster only closed


#: Seconds to wait for a cluster's head to accept a connection before calling it unreachable.
REACH_TIMEOUT = 5.0


def _check_reachable(address: str) -> None:
    """A clear error at once when nothing listens at a ``host:port`` address (``ray://``
    too): Ray itself retries such a connection for a minute or, for an address on this
    machine, for ever, printing a warning every few seconds, whatever the time limit."""
    where = address.removeprefix("ray://")
    host, colon, port = where.rpartition(":")
    if not colon or not port.isdigit() or not host:
        return  # "auto", or a form Ray resolves itself
    host = host.strip("[]")  # an IPv6 address in brackets
    try:
        socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT).close()
    except OSError as error:
        reason = "timed out" if isinstance(error, TimeoutError) else (error.strerror or type(error).__name__)
        raise RayBackendError(
            f"could not connect to the Ray cluster at {address!r}: nothing answered at {host} port {port} "
            f"({reason}) (check the address, that its head node runs, and that this machine may reach it; "
            "address=None (no --address) starts a private Ray here)") from error


def _settle(future: concurrent.futures.Future, ray_future: concurrent.futures.Future) -> None:
    """Copies a Ray task's outcome to the future handed out, unless that was cancelled first."""
    import ray

    error = ray_future.exception()
    if isinstance(error, ray.exceptions.RayTaskError) and isinstance(error.cause, BaseException):
        cause = error.cause
        cause.__cause__ = error  # the remote traceback, as ProcessPoolExecutor shows it
        error = cause
    try:
        if error is None:
            future.set_result(ray_future.result())
        else:
            future.set_exception(error)
    except concurrent.futures.InvalidStateError:
        pass  # cancelled while the task was finishing: the cancellation stands


def _start_private_ray(ray, workers: int | None) -> None:
    """``ray.init`` for a Ray instance that only this process uses, reachable on 127.0.0.1
    only. Ray turns a node address of 127.0.0.1 into the machine's outward address unless
    told it is a single-machine instance (its switch for Windows and macOS); with 127.0.0.1
    kept, every Ray server listens on loopback alone."""
    try:
        from ray._private import ray_constants  # private: a later Ray may move it; the check below stays
    except ImportError:
        ray_constants = None
    saved_environ = {name: os.environ.get(name)
                     for name in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "RAY_USAGE_STATS_ENABLED", "PYTHONPATH")}
    saved_switch = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read by Ray's processes as they start
    # the workers import the scenario's module as this process does: with this process's
    # sys.path, folders it added at run time too (a test's tmp_path, a notebook's sys.path.append)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [path for path in sys.path if path and os.path.isdir(path)]
        + ([saved_environ["PYTHONPATH"]] if saved_environ["PYTHONPATH"] else []))
    if saved_environ["RAY_USAGE_STATS_ENABLED"] is None:  # a user's explicit choice stands
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if saved_switch is not None:
        ray_constants.ENABLE_RAY_CLUSTER = False  # read by this process, which imported Ray already
    try:
        ray.init(address="local", num_cpus=workers, include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False)
    finally:
        if saved_switch is not None:
            ray_constants.ENABLE_RAY_CLUSTER = saved_switch
        for name, value in saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    node = ray.util.get_node_ip_address()
    if node != "127.0.0.1":
        ray.shutdown()
        raise RayBackendError(f"Ray {ray.__version__} put its private instance on {node}, not on 127.0.0.1 "
                              "alone, so it was stopped again: this Ray release ignores the single-machine "
                              "switch explorer uses to keep it on loopback. Install an earlier Ray release, "
                              "or start Ray yourself, bound as you choose, and pass its address")


# Ray's shutdowns still under way after close(cancel=True); a new backend waits for them,
# so that it never takes a session that is about to be shut down for one the user made.
_teardowns: list[threading.Thread] = []
_teardowns_lock = threading.Lock()


def _wait_for_teardowns() -> None:
    with _teardowns_lock:
        pending = list(_teardowns)
        _teardowns.clear()
    for thread in pending:
        thread.join()
