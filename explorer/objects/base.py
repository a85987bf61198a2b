"""The protocol every kind of shared object follows, and the values its steps hand back.

A *declaration* (``Semaphore(2)``, ``Queue(maxsize=1)``) is what a scenario writes in
``objects=``: frozen, validated when made. For each execution the engine asks the
declaration for a *model*: a small mutable object holding that object's state for one
run. The engine knows nothing else about a kind; everything it needs it asks the
model (is this step enabled? do it) or the declaration (which steps are dependent,
what the real ``threading`` twin is):

========================  ===============================================================
``Model.accepts``         the step kinds the object takes (``acquire``, ``wait``, ...)
``Model.enabled``         whether a thread's pending step can run now
``Model.run``             do the step; returns the value sent back, or :class:`Continue`,
                          or raises :class:`Throw` (into the thread) / :class:`Misuse`
``Model.key``             the object's part of a state key (``stateful``), hashable
``Model.waiting``         for a deadlock: what a blocked step waits for, and on whom
``Model.idle``            a blocked step that is no deadlock (a pool worker with no task)
``Declaration.footprint`` the objects a step touches: steps with disjoint footprints are
                          independent (DPOR); steps touching a common one are dependent
``Declaration.twin``      a :class:`Twin`: the real ``threading`` / ``queue`` /
                          ``concurrent.futures`` object doing the same steps on real threads
========================  ===============================================================

Synchronisation (happens-before) is recorded by the model while it runs a step, through
``run.sync(thread, absorb=..., publish=...)``: publishing joins the thread's clock into a
*channel*, absorbing joins a channel into the thread's clock (release/acquire). The race
detector reads those annotations and never learns what a kind is.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "HIDDEN", "REACQUIRE", "RELEASE", "RELEASE_ALL", "Continue", "Declaration", "Misuse", "Model",
           "Raised", "Recorded", "Throw", "Twin", "edges", "timed", "timed_out"]

#: A step's part in a lock's life (``Declaration.lock_role``): it takes the lock, gives it
#: back once, gives it up entirely (a condition's wait), or takes it back at the depth it
#: had (the wake-up after that wait).
ACQUIRE, RELEASE, RELEASE_ALL, REACQUIRE = range(4)


_ABSORB = {}
_PUBLISH = {}


def edges(syncs: dict | None, position: int, step: tuple):
    """The happens-before edges of the step at ``position``: ``(publishes, channel)`` pairs.

    Those its model recorded (``run.sync``), else a lock's, which are left unrecorded to
    keep the hot path plain: an ``acquire`` absorbs its target, a ``release`` publishes on
    it (a model records ``[]`` for an acquire that gave up). Real-thread runs record none.
    """
    if syncs is not None:
        recorded = syncs.get(position)
        if recorded is not None:
            return recorded
    kind = step[0]
    if kind == "acquire":
        found = _ABSORB.get(step[1])
        if found is None:
            found = _ABSORB[step[1]] = ((False, step[1]),)
        return found
    if kind == "release":
        found = _PUBLISH.get(step[1])
        if found is None:
            found = _PUBLISH[step[1]] = ((True, step[1]),)
        return found
    return ()


def timed(options: tuple) -> bool:
    """Whether a step's ``(blocking, timeout)`` options wait a positive time."""
    return bool(options[0] and options[1])


def timed_out(run, thread: int, timeout: object) -> None:
    """A step of ``thread`` gave up waiting after ``timeout`` seconds (None or 0: it never
    waited): time passed for the thread, which fair schedules count as a yield
    (``run.gave_up``; explorer/_engine/fairness.py). Every model whose steps take a timeout
    says so here, and nowhere else."""
    if timeout:
        run.gave_up(thread)


class _Hidden:
    """The return value of a thread that is not part of an outcome: one not started in
    the run, or a pool's worker."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "HIDDEN"

    def __reduce__(self):
        return "HIDDEN"


HIDDEN = _Hidden()


class Raised:
    """The value an event records for a step that threw an exception into its thread
    (``queue.Full`` from a ``put``): equal to another for the same exception class, so
    runs compare and state keys tell it from a step that went through."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception

    def __eq__(self, other: object) -> bool:
        return other.__class__ is Raised and type(other.exception) is type(self.exception)

    def __hash__(self) -> int:
        return hash(type(self.exception).__name__)

    def __repr__(self) -> str:
        return f"raised {type(self.exception).__name__}"


class Recorded:
    """What a step sends back when the event log should record something else: an
    ``update`` sends the old value to the thread and records ``(old, new)``."""

    __slots__ = ("sent", "shown")

    def __init__(self, sent: object, shown: object) -> None:
        self.sent = sent
        self.shown = shown


class Continue:
    """What a two-phase step sends back instead of a value: the thread stays at its
    ``yield`` and its pending step becomes ``step`` (a condition's wait releases the
    lock, then waits for a notify and the lock in a second step). The thread gets no
    value yet; the event log records ``shown`` (a timed wait's ``expire``: whether a
    notify came before the timeout)."""

    __slots__ = ("shown", "step")

    def __init__(self, step: tuple, shown: object = None) -> None:
        self.step = step
        self.shown = shown


class Throw(Exception):
    """Raised by a model to throw ``exception`` into the thread at its ``yield``, as the
    ``threading`` call would raise it there (``queue.Empty``, a task's own exception)."""

    def __init__(self, exception: BaseException) -> None:
        super().__init__(exception)
        self.exception = exception


class Misuse(Exception):
    """Raised by a model for a step ``threading`` would refuse: an ``error`` finding in
    ``threading``'s own words (``exception``) that ends the execution."""

    def __init__(self, message: str, exception: BaseException, key: tuple = ()) -> None:
        super().__init__(message)
        self.message = message
        self.exception = exception
        self.key = key


class Declaration:
    """A declared object of some kind; subclasses are frozen once made."""

    __slots__ = ("_frozen",)
    #: the attributes that make two declarations equal (and show in the repr)
    _fields: tuple[str, ...] = ()
    #: the name users know it by, used in messages: "Semaphore", "Condition", ...
    kind = "object"
    #: whether a scenario with this object has a serial baseline (serializability)
    serializable = False
    #: Whether the model's :meth:`Model.key_relabelled` renumbers the threads its key names,
    #: so stateful search may treat interchangeable threads as one (symmetry).
    relabels = False

    def check(self, name: str, declared: dict, where: str) -> None:
        """Validate against the rest of the scenario; raise ScenarioError naming ``name``."""

    def model(self, name: str, run) -> Model:
        raise NotImplementedError

    def footprint(self, name: str, step: tuple) -> tuple:
        """The objects ``step`` touches (by name)."""
        return (name,)

    def may_block(self, name: str, step: tuple) -> bool:
        """Whether ``step`` can wait for another thread's step (DPOR reverses races of such
        steps with care: the reversal could plan a run that cannot happen)."""
        return False

    def may_yield(self, name: str, step: tuple) -> bool:
        """Whether ``step`` may let time pass for its thread: a sleep, or a wait with a positive
        timeout (:func:`timed_out`). Under fair schedules such a step may be a yield, which
        decides whom its thread owes; dpor then takes it as dependent with every step."""
        return False

    def lock_role(self, name: str, step: tuple) -> tuple | None:
        """``(ACQUIRE | RELEASE | RELEASE_ALL | REACQUIRE, lock name)`` for a step that takes
        or gives a lock by blocking (DPOR treats those like lock acquires), else None."""
        return None

    def twin(self, name: str, real) -> Twin:
        """The object's :class:`Twin` for one run on real threads (``real`` is that run)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(getattr(self, f)) for f in self._fields)})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(getattr(self, f) == getattr(other, f) for f in self._fields)

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(getattr(self, f) for f in self._fields))

    def __setattr__(self, attr: str, value: object) -> None:
        if hasattr(self, "_frozen"):
            raise AttributeError(f"a {self.kind} declaration is read-only once made")
        object.__setattr__(self, attr, value)


class Model:
    """One object's state during one execution."""

    __slots__ = ("name", "run")
    accepts: frozenset = frozenset()

    def __init__(self, name: str, run) -> None:
        self.name = name
        self.run = run

    def enabled(self, thread: int, step: tuple) -> bool:
        return True

    def step(self, thread: int, step: tuple):
        raise NotImplementedError

    def key(self) -> object:
        return None

    #: Whether :meth:`key_relabelled` renumbers the threads the key names (symmetry).
    relabels = False

    def key_relabelled(self, perm: list[int]) -> object:
        """:meth:`key` with thread ``i`` called ``perm[i]``; only for kinds whose declaration
        says ``relabels = True`` (symmetry reduction asks no other)."""
        return self.key()

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        """``(what the blocked step waits for, in words; the thread it waits on or None)``."""
        return f"{step[0]} on {self.name!r}", None

    def idle(self, thread: int, step: tuple) -> bool:
        return False

    def marks(self, thread: int, step: tuple) -> dict[int, str]:
        """For a deadlock: the earlier steps that explain why ``step`` waits (a lost notify)."""
        return {}

    def at_end(self) -> None:
        """Called once when every thread has finished; may add findings."""


class Twin:
    """One object during one run on real threads (``explorer/real_threads.py``): the real
    ``threading`` object and the code that does each step with it.

    ``step(thread, step)`` makes the real call and returns what it returned (a
    :class:`Recorded` for an ``update``). It raises :class:`Throw` for an exception the
    call throws into the thread at its ``yield`` (``queue.Empty``, a task's exception);
    anything else it raises is the thread's error, as ``threading`` raised it. A call that
    may block goes through ``real.block(attempt, timeout, ready)``, which polls
    ``attempt(seconds)`` so that the run can be stopped and tells the supervisor, through
    ``ready()``, whether the call could go on now (a deadlock is every thread blocked and
    none ready). A two-phase step (a condition's ``wait`` then ``wake``) sets
    ``real.local.follow`` to its second step before the real call; the real wait calls
    ``real.park()`` once it has let go of the lock, which ends the first phase there.
    """

    __slots__ = ("name", "real")
    accepts: frozenset = frozenset()

    def __init__(self, name: str, real) -> None:
        self.name = name
        self.real = real

    def step(self, thread: int, step: tuple):
        raise NotImplementedError

    def close(self) -> None:
        """End whatever the twin started (a pool's worker threads) once the run is over."""
