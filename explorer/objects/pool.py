"""``concurrent.futures.ThreadPoolExecutor`` and its futures.

``submit(pool, fn, *args)`` queues a task and sends back the name of its future
(``"pool#1"``, ``"pool#2"``, ...); like ``ThreadPoolExecutor`` it starts a worker thread
(``"pool-0"``, ``"pool-1"``, ...) when no worker is idle and fewer than ``max_workers``
exist. A worker is a thread of its own, so which worker takes which task, and when, is
explored: its steps ``take`` (a task from the pool, blocking while there is none) and
``finish`` (the task's end, storing its value or exception in the future) show in
traces. ``result(future)`` blocks until the task ends, then sends back its value or
throws its exception into the caller. ``shutdown(pool)`` refuses further tasks, puts
a wake-up after them in the queue, as ``concurrent.futures`` puts None, and waits until
every worker is done (each worker that takes the wake-up puts it back and ends). A
plain program's pool may have an ``initializer``, which each worker calls first; if it
raises, that worker fails the tasks queued (and throws away a wake-up it meets, as
CPython's does: a shutdown then waits for ever) and ends, and ``submit`` raises
``BrokenThreadPool``. A worker waiting for a task when everything else has
finished is no deadlock (the interpreter's exit shuts the pool down); a task whose
exception nobody read is an ``error`` finding, since ``concurrent.futures`` keeps it
silently. Happens-before: ``submit`` before the task, the task's end before ``result``.
Twin: a real ``ThreadPoolExecutor`` of ``max_workers`` threads (``explorer-pool_0``, ...,
standing for ``pool-0``, ...) running each task as the run runs a thread body
(``real.run_task``), and the real ``Future`` behind each future's name.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.thread
import threading
import types

from ..errors import ScenarioError
from ..steps import Op
from .arbitrary import shuffle
from .base import HIDDEN, Continue, Declaration, Misuse, Model, Recorded, Throw, Twin, timed_out

AFTER_SHUTDOWN = "cannot schedule new futures after shutdown"
#: What a pool whose worker's initializer raised says, as concurrent.futures' does.
BROKEN = "A thread initializer failed, the thread pool is not usable anymore"
#: What shutdown puts in a pool's queue after the tasks, as concurrent.futures puts None:
#: a worker that takes it puts it back for the next and ends. Whatever else takes it
#: from the queue (a broken pool failing the tasks queued) leaves a worker waiting for
#: a task for ever, and a shutdown that waits for the workers with it: a deadlock that
#: CPython has too.
WAKE_UP = None
#: How a trace shows it.
WAKE_UP_SHOWN = "wake-up"

#: What a pool's name is followed by in the footprints of a cancelling shutdown and of the
#: steps on its futures that see it (ThreadPool.footprint).
CANCELS = "/cancel"
_SEES_CANCEL = frozenset({"done", "cancelled", "result", "exception", "add_done_callback"})
#: The pool's steps that end futures still queued (shutdown(cancel_futures=True) too).
_ENDS_QUEUED = frozenset({"cancel_next", "broken", "break_next"})


class ThreadPool(Declaration):
    """``ThreadPool(max_workers)``, as ``ThreadPoolExecutor(max_workers)``.

    >>> ThreadPool(max_workers=2)
    ThreadPool(max_workers=2)
    """

    __slots__ = ("max_workers",)
    _fields = ("max_workers",)
    kind = "ThreadPool"
    #: Between the pool's name and a worker's number: ``pool-0`` (plain code's executor
    #: names them as ``concurrent.futures`` does, ``ThreadPoolExecutor-0_0``).
    separator = "-"

    def __init__(self, max_workers: int) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise ScenarioError(f"ThreadPool(max_workers={max_workers!r}): max_workers must be an int >= 1 "
                                f"(ThreadPoolExecutor raises ValueError otherwise); each worker is a thread "
                                f"the explorer schedules, so keep it small")
        self.max_workers = max_workers
        self._frozen = True

    def __repr__(self) -> str:
        return f"ThreadPool(max_workers={self.max_workers})"

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "take" or step[0] == "drain"

    def model(self, name: str, run) -> PoolModel:
        return PoolModel(name, run, self.max_workers, self.separator)

    def footprint(self, name: str, step: tuple) -> tuple:
        # A submit reads how many workers are idle (to start one or not), a task's finish
        # adds one: those touch "<pool>/idle". The queue of tasks ("<pool>") is what
        # submit, take and shutdown touch; a take and another task's finish commute. A
        # shutdown that cancels (a fourth item) cancels the futures queued when it runs,
        # which may have been submitted after the step was asked for: it touches
        # "<pool>/cancel", which every step that sees whether a future was cancelled touches.
        if step[0] == "submit":
            return (name, name + "/idle")
        # A broken pool's worker failing the queued tasks ends futures as a cancel does.
        cancels = step[0] in _ENDS_QUEUED or (step[0] == "shutdown" and len(step) > 3)
        return (name, name + "/idle", name + CANCELS) if cancels else (name,)

    def twin(self, name: str, real) -> PoolTwin:
        return PoolTwin(name, real, self.max_workers)


class PoolModel(Model):
    __slots__ = ("broken", "draining", "idle_count", "initializer", "max_workers", "separator", "shown", "shut",
                 "submitted", "tasks", "workers")
    accepts = frozenset({"submit", "take", "shutdown", "cancel_next", "drain", "broken", "break_next"})

    def __init__(self, name: str, run, max_workers: int, separator: str = "-") -> None:
        super().__init__(name, run)
        self.max_workers = max_workers
        self.separator = separator
        self.tasks: list[str] = []  # futures of tasks not taken yet
        self.workers: list[int] = []
        self.idle_count = 0
        self.shut = False
        self.submitted = 0
        self.shown: dict[str, str] = {}  # a worker named apart from a thread of the same name -> its name
        # plain code's ThreadPoolExecutor(initializer=...): (worker, its name shown, the clock
        # of the submit that starts it) -> the call each worker makes first (plain/executor.py)
        self.initializer = None
        self.broken = False  # an initializer raised: submit raises BrokenThreadPool
        # the worker whose initializer raised fails the tasks queued, one at a time, holding
        # the pool's shutdown lock: submit and shutdown wait meanwhile, as in concurrent.futures
        self.draining = False

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "take":
            return bool(self.tasks)
        if kind == "drain":
            return all(self.run.finished(worker) for worker in self.workers)
        # while a broken pool's worker fails the tasks queued, under the shutdown lock
        return not (self.draining and (kind == "submit" or kind == "shutdown" or kind == "cancel_next"))

    def idle(self, thread: int, step: tuple) -> bool:
        return step[0] == "take" and not self.tasks and not self.shut

    def step(self, thread: int, step: tuple):
        kind = step[0]
        run = self.run
        if kind == "submit":
            if self.broken:  # concurrent.futures looks at this first
                raise Throw(concurrent.futures.thread.BrokenThreadPool(BROKEN))
            if self.shut:
                raise Misuse(f"submitted a task to pool {self.name!r} after its shutdown; "
                             f"ThreadPoolExecutor raises RuntimeError('{AFTER_SHUTDOWN}') here",
                             RuntimeError(AFTER_SHUTDOWN), ("submit-after-shutdown", self.name))
            self.submitted += 1
            future = f"{self.name}#{self.submitted}"
            run.add_object(future, FutureModel(future, run, step[2], step[3], run.name(thread), self.name))
            self.tasks.append(future)
            run.sync(thread, publish=("task", future))
            if self.idle_count > 0:
                self.idle_count -= 1
            elif len(self.workers) < self.max_workers:
                worker = wanted = f"{self.name}{self.separator}{len(self.workers)}"
                n = 1
                while worker in run.objects:  # plain code named a thread of its own so: one
                    n += 1                    # name was one thread to the engine
                    worker = self.shown_as(f"{wanted}#{n}", wanted)
                first = None if self.initializer is None else \
                    self.initializer(worker, self.shown.get(worker, worker), getattr(step[2], "start_clock", 0.0))
                self.workers.append(run.start_thread(worker, lambda: _worker(self.name, first), thread))
            return future
        if kind == "broken" or kind == "break_next":
            # a worker's initializer raised (the exception, a third item): concurrent.futures
            # logs it, marks the pool broken and, under its shutdown lock, fails each task
            # still queued with BrokenThreadPool, calling its done-callbacks, while the other
            # workers may take the next; the worker hands back (future, callbacks) to call
            if kind == "broken":
                self.broken = self.draining = True
                self._initializer_raised(thread, step[2])
            if not self.tasks:
                self.draining = False
                return None
            future = self.tasks.pop(0)
            if future is WAKE_UP:  # a shutdown's, thrown away as CPython's worker does
                return Recorded((None, ()), WAKE_UP_SHOWN)
            task = run.objects[future]
            task.error = concurrent.futures.thread.BrokenThreadPool(BROKEN)
            task.worker = run.name(thread)  # its done-callbacks run there, as that thread
            task._end()
            run.sync(thread, publish=("done", future))
            callbacks, task.callbacks = task.callbacks, ()
            return Recorded((future, callbacks), future)
        if kind == "take":
            future = self.tasks.pop(0)
            if future is WAKE_UP:  # shut down: put back for the next worker, and end
                self.tasks.append(WAKE_UP)
                return None
            run.sync(thread, absorb=("task", future))
            task = run.objects[future]
            task.worker = run.name(thread)
            if task.cancelled:  # its worker skips it and is idle again, as concurrent.futures' is
                self.idle_count += 1
                # and only now do wait() and as_completed() count it as ended: CPython's worker
                # moves it from CANCELLED to CANCELLED_AND_NOTIFIED (set_running_or_notify_cancel)
                task.notify()
                run.sync(thread, publish=("done", future))
                return Recorded(CANCELLED, future)
            # the log records the future's name only: the function may be a method of an object
            # made afresh in each execution, which compares unequal to the last one's
            return Recorded((future, task.fn, task.args), future)
        if kind == "shutdown" or kind == "cancel_next":
            # shutdown(wait=False) (a third item, False) returns at once
            wait = step[2] if kind == "cancel_next" else len(step) == 2 or step[2]
            if kind == "shutdown":
                self.shut = True
            if (kind == "cancel_next" or len(step) > 3) and self.tasks:
                # shutdown(cancel_futures=True): CPython takes the tasks no worker has taken
                # from the queue one at a time, and cancels each; a worker may take the next
                # one meanwhile, and runs it
                future = self.tasks.pop(0)
                if future is not WAKE_UP:  # (an earlier shutdown's: thrown away)
                    task = run.objects[future]
                    # cancelled as cancel() does: no worker takes it, so wait() and
                    # as_completed() never count it ended (CPython's stays CANCELLED)
                    task.cancelled = task.done = True
                    run.sync(thread, publish=("done", future))
                if self.tasks:  # the trace shows which one it cancelled
                    return Continue(Op("cancel_next", self.name, wait), future)
                self.tasks.append(WAKE_UP)  # then, still under its lock, the wake-up
                return Continue(Op("drain", self.name), future) if wait else Recorded(future, None)
            self.tasks.append(WAKE_UP)
            return Continue(Op("drain", self.name)) if wait else None
        for worker in self.workers:  # drain: every worker has ended
            run.sync(thread, absorb=("thread", worker))
        return None

    def shown_as(self, worker: str, wanted: str) -> str:
        self.shown[worker] = wanted
        return worker

    def _initializer_raised(self, thread: int, error: BaseException) -> None:
        run = self.run
        run.note("error", "error", thread, ("initializer-raised", self.name, type(error).__name__),
                 f"scenario {run.program.scenario.name!r}: the initializer of pool {self.name} raised "
                 f"{type(error).__name__}: {_text(error)} in worker {run.name(thread)}; concurrent.futures logs "
                 f"it and the pool is broken: every task still queued fails with BrokenThreadPool, and so "
                 f"does every submit", {"exception": error})

    def key(self) -> object:
        return (tuple(self.tasks), len(self.workers), self.idle_count, self.shut, self.broken, self.draining)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        if step[0] == "take":
            return f"a task from pool {self.name!r}", None
        if step[0] != "drain":  # submit or shutdown while a worker fails the queued tasks
            return f"the shutdown lock of pool {self.name!r}", None
        running = [w for w in self.workers if not self.run.finished(w)]
        return f"the workers of pool {self.name!r} to finish", running[0] if running else None


class FutureModel(Model):
    """One submitted task: its function, and once it ends its value or exception; or, if
    ``cancel`` came before a worker took it, cancelled (its task never runs)."""

    __slots__ = ("args", "callbacks", "cancelled", "done", "ended", "error", "fn", "pool", "read", "submitter",
                 "value", "worker")
    accepts = frozenset({"result", "exception", "finish", "done", "cancel", "cancelled", "running", "wait_any",
                         "shuffle", "add_done_callback", "callback_raised"})

    def __init__(self, name: str, run, fn, args: tuple, submitter: str, pool: str) -> None:
        super().__init__(name, run)
        self.fn, self.args, self.submitter, self.pool = fn, args, submitter, pool
        self.done = self.cancelled = False
        self.value = self.error = None
        self.read = False
        self.worker: str | None = None
        self.ended: int | None = None  # the how-manieth future of the run to end (wait_any's order)
        self.callbacks: tuple = ()  # add_done_callback's, till the task ends or is cancelled

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "result" or kind == "exception":
            return self.done or len(step) > 2  # with a timeout (a third item) it may give up
        if kind == "wait_any" and len(step) == 3:  # with a timeout (a fourth item) it may give up
            objects = self.run.objects
            return any(objects[name].ended is not None for name in step[2])
        return True

    def _end(self) -> None:
        self.done = True
        self.notify()

    def notify(self) -> None:
        """Count it ended for ``wait_any``: the task's end, or, cancelled, a worker taking it."""
        self.ended = 1 + max((other.ended for other in self.run.objects.values()
                              if other.__class__ is FutureModel and other.ended is not None), default=0)

    def step(self, thread: int, step: tuple):
        run = self.run
        if step[0] == "finish":
            self._end()
            self.value, self.error = step[2], step[3]
            run.objects[self.pool].idle_count += 1
            run.sync(thread, publish=("done", self.name))
            return self._handed_over(None)  # its worker calls them next, as concurrent.futures does
        if step[0] == "done":  # Future.done(): whether the task has ended (or was cancelled)
            if self.done:
                run.sync(thread, absorb=("done", self.name))
            return self.done
        if step[0] == "cancel":  # Future.cancel(): only a task no worker has taken yet
            if self.cancelled:
                return True
            if self.done or self.worker is not None:
                return False
            # done() and result() see it at once; wait() and as_completed() once a worker has
            # taken it from the pool's queue (take), as CPython's look for CANCELLED_AND_NOTIFIED
            self.cancelled = self.done = True
            run.sync(thread, publish=("done", self.name))
            return self._handed_over(True)  # the thread that cancelled calls them next
        if step[0] == "add_done_callback":  # kept till the task ends; True: it has, call it now
            if self.done:
                run.sync(thread, absorb=("done", self.name))
                return True
            self.callbacks += (step[2],)
            return False
        if step[0] == "callback_raised":  # concurrent.futures logs it and goes on; explorer says so
            error = step[2]
            run.note("error", "error", thread, ("callback-raised", self.name, type(error).__name__),
                     f"scenario {run.program.scenario.name!r}: a done-callback of future {self.name} "
                     f"({_call(self.fn, self.args)}) raised {type(error).__name__}: {_text(error)} in "
                     f"{run.name(thread)}; concurrent.futures logs it and goes on",
                     {"exception": error, "future": self.name})
            return None
        if step[0] == "running":  # Future.running(): a worker has taken it, and it has not ended
            return self.worker is not None and not self.done
        if step[0] == "cancelled":  # Future.cancelled()
            if self.cancelled:
                run.sync(thread, absorb=("done", self.name))
            return self.cancelled
        if step[0] == "shuffle":  # as_completed's first batch, in any order (objects/arbitrary.py)
            return shuffle(run, thread, step[2])
        if step[0] == "wait_any":  # concurrent.futures.wait() and as_completed(): the futures
            objects = run.objects   # of step[2] that have ended, in the order they ended
            ended = sorted((name for name in step[2] if objects[name].ended is not None),
                           key=lambda name: objects[name].ended)
            for name in ended:
                run.sync(thread, absorb=("done", name))
            if not ended and len(step) > 3:
                timed_out(run, thread, step[3])
            return tuple(ended)
        if not self.done:  # result(timeout) gave up: the task runs on
            timed_out(run, thread, step[2])
            raise Throw(TimeoutError())
        run.sync(thread, absorb=("done", self.name))
        if self.cancelled:
            raise Throw(concurrent.futures.CancelledError())
        if step[0] == "exception":  # Future.exception(): the task's exception, handed back
            self.read = self.read or self.error is not None
            return self.error
        if self.error is not None:
            self.read = True
            raise Throw(self.error)
        return self.value

    def _handed_over(self, shown):
        """What finish and cancel send back: ``shown`` as before, or, with callbacks waiting,
        ``(shown, callbacks)`` to the thread, which calls them (the log shows ``shown``: a
        callback's code compares across runs, the callback itself does not)."""
        callbacks, self.callbacks = self.callbacks, ()
        return Recorded((shown, callbacks), shown) if callbacks else shown

    def key(self) -> object:
        # the task's call, which only this model holds until a worker takes it; its value and
        # exception (by type, arguments and attributes: its text may hide them); whether the
        # exception was read, and the worker: one nobody reads is reported as the worker's
        error = self.error
        if error is not None:
            error = (error.__class__, error.args, tuple(sorted(getattr(error, "__dict__", {}).items())))
        callbacks = tuple(getattr(callback, "__code__", callback) for callback in self.callbacks)
        return (self.done, self.value, error, self.read, self.worker, self.fn, self.args, self.cancelled, self.ended,
                callbacks)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        worker = self.run.index_of(self.worker) if self.worker is not None else None
        if step[0] == "wait_any":
            return f"any of futures {', '.join(map(repr, step[2]))} to finish", worker
        return f"future {self.name!r} ({_call(self.fn, self.args)}) to finish", worker

    def at_end(self) -> None:
        if self.error is None or self.read:
            return
        run = self.run
        error = self.error
        run.note("error", "error", None,  # one finding per future, whichever worker ran it
                 ("unread-exception", self.name, type(error).__name__),
                 f"scenario {run.program.scenario.name!r}: task {self.name} ({_call(self.fn, self.args)}, "
                 f"submitted by {self.submitter}) raised {type(error).__name__}: {_text(error)} in worker "
                 f"{self.worker}, and nobody read its result; concurrent.futures keeps the exception in "
                 f"the future, so the program never sees it: call result() on every future",
                 {"exception": error, "future": self.name})


class PoolTwin(Twin):
    """A real executor; ``running`` counts its tasks under way (the run keeps it, under ``lock``)."""

    __slots__ = ("executor", "futures", "lock", "running")
    accepts = frozenset({"submit", "shutdown"})

    def __init__(self, name: str, real, max_workers: int) -> None:
        super().__init__(name, real)
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers,
                                                              thread_name_prefix=f"explorer-{name}")
        self.futures: list[concurrent.futures.Future] = []
        self.running = 0
        self.lock = threading.Lock()

    def step(self, thread: int, step: tuple):
        real = self.real
        futures = self.futures
        if step[0] == "submit":
            with self.lock:  # one step, as in the model: two threads never share a name
                future = f"{self.name}#{len(futures) + 1}"
                real.queue_task(future, self.has_room)
                try:
                    task = self.executor.submit(real.run_task, self, future, step[2], step[3])
                except RuntimeError:  # cannot schedule new futures after shutdown
                    real.drop_task(future)
                    raise
                real.objects[future] = FutureTwin(future, real, task)
                futures.append(task)
            return future
        self.executor.shutdown(wait=False)
        real.park(Op("drain", self.name))
        real.block(lambda s: not concurrent.futures.wait(futures, s).not_done, None,
                   lambda: all(task.done() for task in futures))
        self.executor.shutdown(wait=True)  # every task has ended: its threads are leaving
        return None

    def has_room(self) -> bool:
        """Whether a task waiting in the executor's queue can start now."""
        return self.running < len(self.executor._threads)  # CPython's set of worker threads

    def close(self) -> None:
        executor = self.executor
        executor.shutdown(wait=False, cancel_futures=True)
        for worker in list(executor._threads):
            worker.join(1.0)


class FutureTwin(Twin):
    __slots__ = ("future",)
    accepts = frozenset({"result"})

    def __init__(self, name: str, real, future: concurrent.futures.Future) -> None:
        super().__init__(name, real)
        self.future = future

    def step(self, thread: int, step: tuple):
        future = self.future
        self.real.block(lambda s: not concurrent.futures.wait((future,), s).not_done, None, future.done)
        error = future.exception()
        if error is None:
            return future.result()
        if isinstance(error, Exception):
            raise Throw(error)
        raise error  # the task's worker failed (its error is recorded) or the run was stopped


#: What a worker's ``take`` sends back for a task cancelled before it was taken.
CANCELLED = "cancelled"


def _worker(pool: str, initializer=None):
    """The body of a pool's worker thread: take a task, run it, store how it ended; first,
    given one, call the pool's ``initializer`` (plain code's); if it raises, the pool is
    broken: fail the tasks queued, calling their done-callbacks, and end."""
    if initializer is not None:
        try:
            out = initializer()
            if isinstance(out, types.GeneratorType):
                yield from out
        except (Exception, SystemExit) as exc:  # concurrent.futures catches BaseException here
            if exc.__class__ is not SystemExit and not isinstance(exc, Exception):
                raise  # explorer's own (os._exit): a finding
            failed = yield Op("broken", pool, exc)
            while failed is not None:
                future, callbacks = failed
                yield from call_back(future, callbacks)
                failed = yield Op("break_next", pool)
            return HIDDEN
    while True:
        task = yield Op("take", pool)
        if task is None:
            return HIDDEN  # a worker's end is no part of the outcome
        if task is CANCELLED:
            continue  # a task cancelled before this worker took it: never run
        future, fn, args = task
        try:
            out = fn(*args)
            if isinstance(out, types.GeneratorType):
                out = yield from out
        except (Exception, SystemExit) as exc:  # the future holds whatever the task raised
            if exc.__class__ is not SystemExit and not isinstance(exc, Exception):
                raise  # a subclass of SystemExit is explorer's own (os._exit in a task): a finding
            ended = yield Op("finish", future, None, exc)  # sys.exit() too, as concurrent.futures keeps it
        else:
            ended = yield Op("finish", future, out, None)
        if ended is not None:  # (None, the done-callbacks plain code added): called here, in turn
            yield from call_back(future, ended[1])


def call_back(future: str, callbacks: tuple):
    """Call a future's done-callbacks (plain code's), each in turn; one that raises is
    reported, and the rest are still called, as concurrent.futures logs it and goes on."""
    for callback in callbacks:
        try:
            out = callback()
            if isinstance(out, types.GeneratorType):
                yield from out
        except Exception as exc:  # noqa: BLE001 - the callback's own error: reported, not raised
            yield Op("callback_raised", future, exc)


def _call(fn, args: tuple) -> str:
    if not args and not callable(getattr(fn, "__get__", None)) and hasattr(fn, "describe"):
        return fn.describe()  # a plain program's task: it shows its own arguments
    name = getattr(fn, "__qualname__", None) or repr(fn)
    return f"{name}({', '.join(map(repr, args))})"


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001
        return "<str() failed>"


class Futures(Declaration):
    """What a future's name (``"pool#1"``) declares: ``result`` waits for the task's
    ``finish``, which also touches the pool it came from (a worker becomes idle)."""

    __slots__ = ()
    kind = "future"

    def footprint(self, name: str, step: tuple) -> tuple:
        kind = step[0]
        if kind == "finish":
            return (name, name.rpartition("#")[0] + "/idle")
        if kind == "wait_any":  # waits for any of its futures, which a cancelled one ends
            # by a worker's take from its pool (which task a take takes is known only then)
            return step[2] + tuple({future.rpartition("#")[0]: None for future in step[2]})
        # a cancel and running() read whether a worker has taken the task from its pool
        if kind == "cancel" or kind == "running":
            return (name, name.rpartition("#")[0])
        # what these see, a shutdown(cancel_futures=True) of its pool changes (ThreadPool.footprint)
        return (name, name.rpartition("#")[0] + CANCELS) if kind in _SEES_CANCEL else (name,)

    def may_block(self, name: str, step: tuple) -> bool:
        kind = step[0]
        if kind == "result" or kind == "exception":
            return len(step) == 2  # with a timeout it never waits: it may give up
        if kind == "wait_any":
            return len(step) == 3
        return kind == "done"

    def may_yield(self, name: str, step: tuple) -> bool:
        kind = step[0]
        return ((kind == "result" or kind == "exception") and len(step) > 2 and bool(step[2])) or (
            kind == "wait_any" and len(step) > 3 and bool(step[3]))


FUTURES = Futures()
