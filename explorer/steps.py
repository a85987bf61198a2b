"""The step vocabulary: these are the only values a scenario may yield.

A thread body is a generator. Each ``yield`` hands the scheduler exactly one
step, which it executes atomically; the value sent back is the value read
(for :func:`read`), what the ``threading`` call it models returns, or ``None``.
Python code between two yields runs atomically together with the step before it.

Besides the four steps on variables and locks, the vocabulary has one function per
``threading`` operation on the objects a scenario declares in ``objects=``
(:mod:`explorer.objects`): ``wait``, ``notify``, ``notify_all``, ``set_event``,
``clear_event``, ``is_set``, ``put``, ``get``, ``task_done``, ``join``, ``spawn``,
``submit``, ``result``, ``shutdown`` and the atomic ``update``. What a step does
is decided by the kind of object its name declares, never by this module.

>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> read("x"), write("x", 1), acquire("l"), release("l")
(read('x'), write('x', 1), acquire('l'), release('l'))

Steps are immutable tuples tagged with their kind, so two steps are equal
exactly when they do the same thing. Anything else a thread yields is an
``error`` finding that names the thread, the step and the value.
"""

from __future__ import annotations

import inspect

__all__ = [
    "Acquire", "Op", "Read", "Release", "Step", "Write",
    "acquire", "clear_event", "get", "is_set", "join", "notify", "notify_all", "put", "read", "release",
    "result", "set_event", "shutdown", "sleep", "spawn", "submit", "task_done", "update", "wait", "write",
]


class Step(tuple):
    """Base of the four step types; ``step.kind`` and ``step.target`` name what it does."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        return self[0]

    @property
    def target(self) -> str:
        """The variable or lock the step operates on."""
        return self[1]

    def __repr__(self) -> str:
        return f"{self[0]}({', '.join(map(repr, self[1:]))})"

    def __reduce__(self):
        """Pickled as its items (a parallel exploration's events travel between processes)."""
        return _rebuilt, (self.__class__, tuple(self))


def _rebuilt(cls: type, items: tuple) -> Step:
    return tuple.__new__(cls, items)


class Read(Step):
    """Read a shared variable; the scheduler sends its current value back."""

    __slots__ = ()

    def __new__(cls, var: str) -> Read:
        return tuple.__new__(cls, ("read", var))


class Write(Step):
    """Write ``value`` to a shared variable."""

    __slots__ = ()

    def __new__(cls, var: str, value: object) -> Write:
        return tuple.__new__(cls, ("write", var, value))

    @property
    def value(self) -> object:
        return self[2]


class Acquire(Step):
    """Acquire a lock, semaphore or condition's lock; the thread blocks while it is taken.

    ``acquire("l", blocking=False)`` and ``acquire("l", timeout=t)`` carry their options
    as a third item: ``(blocking, timeout)``; they send back True or False, as
    ``threading`` does.
    """

    __slots__ = ()

    def __new__(cls, lock: str, blocking: bool = True, timeout: float | None = None) -> Acquire:
        if blocking and timeout is None:
            return tuple.__new__(cls, ("acquire", lock))
        return tuple.__new__(cls, ("acquire", lock, (bool(blocking), timeout)))

    def __repr__(self) -> str:
        if len(self) == 2:
            return f"acquire({self[1]!r})"
        blocking, timeout = self[2]
        return f"acquire({self[1]!r}, {'timeout=' + repr(timeout) if blocking else 'blocking=False'})"


class Release(Step):
    """Release a lock the thread holds."""

    __slots__ = ()

    def __new__(cls, lock: str) -> Release:
        return tuple.__new__(cls, ("release", lock))


# Name-only steps are interned: a thread yields them at every step, and a dict
# lookup is far cheaper than building a tuple each time.
_reads: dict[str, Read] = {}
_acquires: dict[str, Acquire] = {}
_releases: dict[str, Release] = {}


def _check_name(function: str, what: str, name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(
            f"{function}() takes the name of a {what} as a string, got {name!r} "
            f"({type(name).__name__}); write {function}('x') with the name you declared "
            f"in the Scenario"
        )


def read(var: str) -> Read:
    """The step that reads shared variable ``var``: ``value = yield read("x")``."""
    try:
        return _reads[var]
    except (KeyError, TypeError):
        _check_name("read", "shared variable", var)
        step = _reads[var] = Read(var)
        return step


def write(var: str, value: object) -> Write:
    """The step that writes ``value`` to shared variable ``var``: ``yield write("x", 1)``."""
    if var.__class__ is not str:
        _check_name("write", "shared variable", var)
    return Write(var, value)


def acquire(lock: str, blocking: bool = True, timeout: float | None = None) -> Acquire:
    """The step that acquires ``lock`` (a lock, a semaphore, or a condition's lock),
    blocking while it is taken. With ``blocking=False`` or a ``timeout`` it sends back
    True or False, as ``threading`` does: when the lock is taken, both giving up and
    waiting are explored."""
    if blocking is True and timeout is None:
        try:
            return _acquires[lock]
        except (KeyError, TypeError):
            _check_name("acquire", "lock", lock)
            step = _acquires[lock] = Acquire(lock)
            return step
    _check_name("acquire", "lock", lock)
    _check_timeout("acquire", timeout)
    return Acquire(lock, blocking, timeout)


def release(lock: str) -> Release:
    """The step that releases ``lock``, which the thread must hold."""
    try:
        return _releases[lock]
    except (KeyError, TypeError):
        _check_name("release", "lock", lock)
        step = _releases[lock] = Release(lock)
        return step


class Op(Step):
    """A step on a declared object other than a variable or a lock's acquire and release:
    ``(kind, target, *arguments)``. The object's kind (``explorer.objects``) says what it
    does; steps that carry a function compare by the function's code, so a lambda made
    afresh in every execution is the same step each time."""

    __slots__ = ()

    def __new__(cls, kind: str, target: str, *arguments: object) -> Op:
        return tuple.__new__(cls, (kind, target) + arguments)

    def _identity(self) -> tuple:
        return tuple(_same(item) for item in self)

    def __eq__(self, other: object) -> bool:
        if self.__class__ is not other.__class__:
            return False
        return self._identity() == other._identity()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"{self[0]}({', '.join(map(_argument, self[1:]))})"


def _same(item: object) -> object:
    """What of a step's item decides equality: a function by its code (within a tuple too:
    a spawn's arguments), else the item."""
    if item.__class__ is tuple:
        return ("tuple",) + tuple(_same(part) for part in item)
    code = getattr(item, "__code__", None)
    if code is None:
        func = getattr(item, "func", None)  # functools.partial
        if func is not None and callable(item):
            return ("partial", _same(func), tuple(_same(a) for a in getattr(item, "args", ())))
        return item
    return ("function", code)


def _argument(item: object) -> str:
    if isinstance(item, type) or inspect.isroutine(item):
        return getattr(item, "__qualname__", None) or repr(item)
    return repr(item)  # a plain program's Call shows as FakeDatabase.update(0)


def _check_names(function: str, what: str, name: object) -> None:
    if name.__class__ is not str:
        _check_name(function, what, name)


def _check_timeout(function: str, timeout: object) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValueError(
            f"{function}() takes timeout=None or a number of seconds >= 0, got {timeout!r}; "
            f"time itself is not modelled: a timeout may fire at any point while the thread waits"
        )


def wait(name: str, timeout: float | None = None) -> Op:
    """Wait on a condition (holding its lock), an event, or a barrier, as ``threading`` does.

    A condition's and an event's wait send back True, or False when a ``timeout``
    fires (it may fire at any point while the thread waits); a barrier's sends back
    the arrival index.
    """
    _check_names("wait", "condition, event or barrier", name)
    _check_timeout("wait", timeout)
    return Op("wait", name) if timeout is None else Op("wait", name, timeout)


def notify(name: str, n: int = 1) -> Op:
    """Wake up to ``n`` threads waiting on a condition, first come first woken."""
    _check_names("notify", "condition", name)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"notify() takes a count n >= 0, got {n!r}")
    return Op("notify", name, n)


def notify_all(name: str) -> Op:
    """Wake every thread waiting on a condition."""
    _check_names("notify_all", "condition", name)
    return Op("notify_all", name)


def set_event(name: str) -> Op:
    """``Event.set()``: set the flag and wake every waiter."""
    _check_names("set_event", "event", name)
    return Op("set_event", name)


def clear_event(name: str) -> Op:
    """``Event.clear()``: reset the flag."""
    _check_names("clear_event", "event", name)
    return Op("clear_event", name)


def is_set(name: str) -> Op:
    """``Event.is_set()``: sends back the flag."""
    _check_names("is_set", "event", name)
    return Op("is_set", name)


def put(name: str, item: object, block: bool = True, timeout: float | None = None) -> Op:
    """``Queue.put(item)``: blocks while the queue is full; the non-blocking and timed forms
    throw ``queue.Full`` into the thread when they give up."""
    _check_names("put", "queue", name)
    _check_timeout("put", timeout)
    if block and timeout is None:
        return Op("put", name, item)
    return Op("put", name, item, (bool(block), timeout))


def get(name: str, block: bool = True, timeout: float | None = None) -> Op:
    """``Queue.get()``: blocks while the queue is empty, sends back the item; the
    non-blocking and timed forms throw ``queue.Empty`` into the thread when they give up."""
    _check_names("get", "queue", name)
    _check_timeout("get", timeout)
    if block and timeout is None:
        return Op("get", name)
    return Op("get", name, (bool(block), timeout))


def task_done(name: str) -> Op:
    """``Queue.task_done()``: one item taken from the queue is fully processed."""
    _check_names("task_done", "queue", name)
    return Op("task_done", name)


def join(name: str) -> Op:
    """Join a thread (block until it finishes) or a queue (until every item is done)."""
    _check_names("join", "thread or queue", name)
    return Op("join", name)


def spawn(name: str, fn: object, *args: object) -> Op:
    """Start a new thread called ``name`` running ``fn(*args)`` (a generator function
    yielding steps, like a thread body); ``join(name)`` waits for it."""
    _check_names("spawn", "new thread", name)
    if not callable(fn):
        raise TypeError(f"spawn({name!r}, ...) takes a function to run as the thread, got {fn!r}")
    return Op("spawn", name, fn, args)


def submit(pool: str, fn: object, *args: object) -> Op:
    """``ThreadPoolExecutor.submit(fn, *args)``: sends back the name of a future that
    ``result`` reads; ``fn`` may yield steps like a thread body."""
    _check_names("submit", "thread pool", pool)
    if not callable(fn):
        raise TypeError(f"submit({pool!r}, ...) takes a function to run in the pool, got {fn!r}")
    return Op("submit", pool, fn, args)


def result(future: str) -> Op:
    """``Future.result()``: blocks until the task ends, sends back its value or throws its
    exception into the caller."""
    _check_names("result", "future", future)
    return Op("result", future)


def shutdown(pool: str) -> Op:
    """``ThreadPoolExecutor.shutdown(wait=True)``: blocks until every submitted task ends."""
    _check_names("shutdown", "thread pool", pool)
    return Op("shutdown", pool)


def sleep(seconds: float) -> Op:
    """``time.sleep(seconds)``: a point where the other threads may run, as every step is,
    and nothing else (time is not modelled, so how long does not matter to a search).
    Under fair schedules (``explore(fair=True)``) a thread that sleeps lets every thread
    that can run take a step first, so a loop that polls and sleeps ends. On real
    threads (``crosscheck``) the thread sleeps that long, at most 2 ms (as plain code's
    ``time.sleep`` there).
    """
    if (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
            or not 0 <= seconds < float("inf")):
        raise ValueError(f"sleep() takes a number of seconds >= 0, got {seconds!r}")
    return Op("sleep", "time", seconds)


def update(var: str, fn: object) -> Op:
    """One atomic read-modify-write of a variable (``list.append`` or ``next(counter)``
    under the GIL): writes ``fn(old)`` and sends back ``old``."""
    _check_names("update", "shared variable", var)
    if not callable(fn):
        raise TypeError(f"update({var!r}, fn) takes a function from the old value to the new one, got {fn!r}")
    return Op("update", var, fn)
