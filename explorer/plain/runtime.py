"""Plain code's threads as greenlets, and the one place where they hand the scheduler a step.

Each thread of a plain program (``main``, a started ``threading.Thread``, a task on an
executor's worker) runs in a :class:`ThreadGreenlet` on the exploring OS thread. To the
engine it is an ordinary thread body: :meth:`Call.__call__` returns a generator that
switches into the greenlet and yields whatever step the greenlet hands back, so the
engine, the strategies and the detectors see the same steps as from a generator
scenario. Inside the greenlet, :func:`step` is the only function that ever switches back
to the scheduler: the patched ``threading`` objects and the tracked attributes call it
at each shared access, and everything between two of its calls runs atomically.
"""

from __future__ import annotations

import sys

from greenlet import GreenletExit, getcurrent, greenlet

from .._text import shown
from ..errors import ScenarioError

__all__ = ["Call", "NotModelled", "ThreadGreenlet", "current", "maker", "outside", "step", "taking"]


class NotModelled(ScenarioError):
    """A part of ``threading``'s API that explorer does not model (yet): said where the
    program calls it, as an error finding that names the thread."""


class ThreadGreenlet(greenlet):
    """One thread of a plain program, or one task on a pool's worker.

    ``label`` names it for what it creates (objects made by ``main`` are ``Lock#1``,
    those made by thread ``T0`` are ``Lock#1@T0``); ``clock`` is its virtual time;
    ``handle`` is what ``threading.current_thread()`` returns in it; ``dying`` is set
    while a run closes it, when a step no longer reaches the scheduler.
    """

    def __init__(self, run, body, label: str, clock: float, handle) -> None:
        super().__init__(body, parent=getcurrent())
        self.runtime = run
        self.label = label
        self.clock = clock
        self.handle = handle
        self.dying = False
        self.internal = 0  # > 0 while threading's own code makes its private objects (real ones)


def current() -> ThreadGreenlet | None:
    """The plain program's thread running now, or None outside one (another OS thread,
    or explorer's own code)."""
    here = getcurrent()
    return here if here.__class__ is ThreadGreenlet else None


def maker(depth: int = 2) -> ThreadGreenlet | None:
    """The program's thread that is making a threading object now, by a call from the
    program's own code; None when the object must be a real one: outside a program's
    thread, or made by the standard library for its own use (logging's handler locks
    live on after the run; ``threading.Timer``'s event is the program's, and modelled)."""
    here = getcurrent()
    if here.__class__ is not ThreadGreenlet or here.internal:
        return None
    module = sys._getframe(depth).f_globals.get("__name__", "")
    top = module.partition(".")[0]
    if top in _STDLIB and module not in _PROGRAMS_OWN:
        return None
    return here


_STDLIB = sys.stdlib_module_names
#: Standard modules whose objects made in a program's thread are the program's, and modelled:
#: ``threading``'s own (a ``Timer``'s event, a ``Condition``'s lock) and a ``Future`` made with
#: ``concurrent.futures.Future()``, whose condition its threads wait on and notify.
_PROGRAMS_OWN = frozenset({"threading", "concurrent.futures._base"})


def step(what: tuple, here: ThreadGreenlet | None = None):
    """Hand ``what`` to the scheduler and wait until it has run; returns the value the
    step sends back, or raises what it throws into the thread."""
    if here is None:
        here = getcurrent()
        if here.__class__ is not ThreadGreenlet:
            raise outside(what)
    if here.dying:  # the run is over: finally blocks run, but their steps reach no one
        raise GreenletExit
    return here.parent.switch(what)


def taking(what: tuple) -> ThreadGreenlet:
    """The program's thread about to take step ``what``: the one running now; outside one,
    the error :func:`step` raises."""
    here = getcurrent()
    if here.__class__ is not ThreadGreenlet:
        raise outside(what)
    return here


def outside(what: tuple) -> ScenarioError:
    return ScenarioError(
        f"{what!r} was asked of an object made by an explored program, outside that program's run "
        f"(after it, or from another thread); the objects a program makes live only as long as its run")


class Call:
    """A callable to run as a thread body (``spawn``) or a pool's task (``submit``):
    ``fn(*args, **kwargs)`` in a greenlet of its own.

    Two calls are the same step argument when they call the same code with arguments
    that look the same, so that the step of a run compares equal to the previous run's
    (whose objects are other, equal, instances). Shown as ``FakeDatabase.update(0)``.
    """

    __slots__ = ("args", "fn", "handle", "kwargs", "label", "runtime", "start_clock")

    def __init__(self, runtime, fn, args: tuple, kwargs: dict, label: str | None, handle, start_clock: float):
        self.runtime = runtime
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.label = label  # a task's label is its future's name, known once submit returns
        self.handle = handle
        self.start_clock = start_clock

    def __call__(self):
        runtime = self.runtime
        if self.handle is not None:
            glet = ThreadGreenlet(runtime, self._body, self.label or "?", self.start_clock, self.handle)
            return drive(glet)
        # a task starts once its worker is free: its clock, the later of its submission and
        # the end of the worker's task before it (two 1 s tasks on one worker take 2 s)
        handle = runtime.task_handle(self.label)
        start = max(self.start_clock, runtime.ended_at.get(handle.name, self.start_clock))
        return drive(ThreadGreenlet(runtime, self._body, self.label or "?", start, handle), handle.name)

    def _body(self):
        return self.fn(*self.args, **self.kwargs)

    @property
    def __code__(self):  # steps compare functions by their code (steps.Op)
        return getattr(self.fn, "__code__", None) or self.fn

    def describe(self) -> str:
        name = getattr(self.fn, "__qualname__", None) or getattr(self.fn, "__name__", None) or repr(self.fn)
        parts = [shown(a) for a in self.args] + [f"{k}={shown(v)}" for k, v in self.kwargs.items()]
        return f"{name}({', '.join(parts)})"

    def __repr__(self) -> str:
        return self.describe()

    def __reduce__(self):
        """Sent from a worker of a parallel exploration as what a step shows of it: its
        code (what equality looks at) and its description; it cannot be run there."""
        return CallShown, (self.__code__, self.describe())


class CallShown:
    """A :class:`Call` as a step from another process shows it: equal as a step argument
    (steps compare it by ``__code__``), shown the same, not runnable."""

    __slots__ = ("__code__", "text")

    def __init__(self, code, text: str) -> None:
        self.__code__ = code
        self.text = text

    def describe(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def drive(glet: ThreadGreenlet, worker: str | None = None):
    """The generator the engine drives: each step the greenlet hands back is yielded, each
    value sent in is switched into the greenlet, each exception thrown in is raised at
    the greenlet's step; what the greenlet's function returns, this returns. When it has
    ended, its clock is noted under its label (and its pool ``worker``'s name, for a task)."""
    try:
        out = glet.switch()
        while not glet.dead:
            try:
                sent = yield out
            except GeneratorExit:
                kill(glet)
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown into the thread at its step
                out = glet.throw(exc)
            else:
                out = glet.switch(sent)
        return out
    finally:
        if glet.dead:  # its time, for whoever joins it (a join passes virtual time on)
            glet.runtime.ended_at[glet.label] = glet.clock
            if worker is not None:
                glet.runtime.ended_at[worker] = glet.clock


def kill(glet: ThreadGreenlet) -> None:
    """End a suspended greenlet now, running its ``finally`` blocks and ``with`` exits (their
    steps reach no one), so that nothing of it outlives the run."""
    if glet.dead:
        return
    glet.dying = True
    try:
        glet.throw(GreenletExit)
    except GreenletExit:
        pass
