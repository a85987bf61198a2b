"""``threading.Barrier(parties)``: threads wait until ``parties`` of them have arrived.

The model is ``threading.Barrier``'s own state machine: its state (filling, draining,
resetting, broken) and ``count``, the threads inside ``wait``. ``wait`` is two steps: the
arrival (which takes the next arrival index; the last party to arrive releases
everyone and passes at once), and, for the others, the departure (``pass``), enabled
once the barrier is no longer filling, which sends back the arrival index as
``Barrier.wait`` returns it, or throws ``threading.BrokenBarrierError`` if the barrier
was broken or reset before the thread left: an ``abort()`` just after the last arrival
breaks the threads that have not left yet, as in ``threading``. A timeout that fires
while the barrier fills breaks it for every waiter. An arrival waits while the last
generation drains (its threads have not all left) or a reset's waiters leave. Plain
code's barrier ``action`` runs in the last thread to arrive, between its arrival and a
``release`` step (a ``break`` if the action raised), with the barrier's lock held:
nobody else arrives, leaves, resets or aborts meanwhile. ``reset``, ``abort``,
``broken`` and ``n_waiting`` are plain code's.
Happens-before: every arrival publishes on the generation, and the last absorbs it (it
runs the action knowing what every party did); the action's end publishes again, and
every departure absorbs it. Twin: a real ``threading.Barrier`` whose inner condition is a
:class:`WaitingCondition`.
"""

from __future__ import annotations

import threading

from ..errors import ScenarioError
from ..steps import Op
from .base import Continue, Declaration, Model, Throw, Twin, timed_out
from .condition import WaitingCondition

_MAY_BLOCK = frozenset({"wait", "pass", "reset", "abort"})


class Barrier(Declaration):
    """``Barrier(parties)``: ``parties`` threads must call ``wait`` before any passes.

    >>> Barrier(3)
    Barrier(3)
    """

    __slots__ = ("parties",)
    _fields = ("parties",)
    kind = "Barrier"

    def __init__(self, parties: int) -> None:
        if isinstance(parties, bool) or not isinstance(parties, int) or parties < 1:
            raise ScenarioError(f"Barrier({parties!r}): parties must be an int >= 1; a barrier lets "
                                f"threads pass once that many have called wait()")
        self.parties = parties
        self._frozen = True

    def may_block(self, name: str, step: tuple) -> bool:
        # an arrival waits while the last generation drains or another's action runs, and a
        # reset or an abort while an action runs
        return step[0] in _MAY_BLOCK

    def may_yield(self, name: str, step: tuple) -> bool:
        return step[0] == "pass" and bool(step[4])

    def model(self, name: str, run) -> BarrierModel:
        return BarrierModel(name, run, self.parties)

    def twin(self, name: str, real) -> BarrierTwin:
        return BarrierTwin(name, real, self.parties)


#: ``threading.Barrier``'s states (its ``_state``).
FILLING, DRAINING, RESETTING, BROKEN = 0, 1, -1, -2


class BarrierModel(Model):
    """``state`` and ``count`` as ``threading.Barrier`` keeps them (``_state``, ``_count``);
    ``generation``, how many times it released (a departure names its own); ``releasing``,
    the last party while it runs the barrier's action (plain code's ``Barrier(parties,
    action=...)``, which ``threading`` runs under the barrier's lock), or None;
    ``timed_out_at``, the position of the last step at which a waiter's own timeout broke
    it, or None (plain code moves that waiter's clock past its deadline; no other step
    reads it, so it is no part of the key)."""

    __slots__ = ("count", "generation", "parties", "releasing", "state", "timed_out_at")
    accepts = frozenset({"wait", "pass", "release", "break", "abort", "reset", "broken", "n_waiting"})

    def __init__(self, name: str, run, parties: int) -> None:
        super().__init__(name, run)
        self.parties = parties
        self.state = FILLING
        self.count = 0
        self.generation = 0
        self.releasing: int | None = None
        self.timed_out_at: int | None = None

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "broken" or kind == "n_waiting":  # properties that take no lock
            return True
        if self.releasing is not None:  # the action runs under the lock: only its thread goes on
            return kind == "release" or kind == "break"
        if kind == "wait":  # Barrier._enter: an arrival waits while the last generation drains
            return self.state != DRAINING and self.state != RESETTING
        if kind == "pass":  # wait_for(lambda: state != filling, timeout): a timeout may fire
            return self.state != FILLING or step[4] is not None
        return True

    def step(self, thread: int, step: tuple):
        run = self.run
        kind = step[0]
        if kind == "wait":
            if self.state == BROKEN:
                raise Throw(threading.BrokenBarrierError())
            index = self.count
            self.count += 1
            run.sync(thread, publish=(self.name, self.generation))
            if index + 1 < self.parties:
                return Continue(Op("pass", self.name, self.generation, index, step[2] if len(step) > 2 else None))
            run.sync(thread, absorb=(self.name, self.generation))  # the last knows what all did
            if len(step) > 3 and step[3]:  # an action to run first: the thread releases after it
                self.releasing = thread
                return index
            self._release()
            return index
        if kind == "release":  # the action returned: everyone passes, knowing what it did
            self.releasing = None
            run.sync(thread, publish=(self.name, self.generation))
            self._release()
            return None
        if kind == "break":  # the action raised: every waiter gets BrokenBarrierError
            self.releasing = None
            self.state = BROKEN
            self._leave()
            return None
        if kind == "abort":  # abort(): every waiter that has not left gets BrokenBarrierError
            self.state = BROKEN
            return None
        if kind == "reset":  # its waiters get BrokenBarrierError; it fills anew once they have left
            if self.count == 0:
                self.state = FILLING
            elif self.state == FILLING or self.state == BROKEN:
                self.state = RESETTING
            return None
        if kind == "broken":
            return self.state == BROKEN
        if kind == "n_waiting":  # as threading counts them: the last one too while its action runs
            return self.count if self.state == FILLING else 0
        # pass: the waiter leaves
        if self.state == FILLING:  # its timeout fired: it breaks the barrier, as threading does
            self.state = BROKEN
            self.timed_out_at = run.position
            timed_out(run, thread, step[4])
        state = self.state
        self._leave()
        if state != DRAINING:
            raise Throw(threading.BrokenBarrierError())
        run.sync(thread, absorb=(self.name, step[2]))
        return step[3]

    def _release(self) -> None:
        """The last party lets everyone pass (Barrier._release), and leaves."""
        self.generation += 1
        self.state = DRAINING
        self._leave()

    def _leave(self) -> None:
        """A thread leaves ``wait`` (Barrier._exit): the last to leave a draining or reset
        barrier lets it fill again."""
        self.count -= 1
        if self.count == 0 and (self.state == DRAINING or self.state == RESETTING):
            self.state = FILLING

    def key(self) -> object:
        return (self.state, self.count, self.generation, self.releasing)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        if self.releasing is not None:
            return f"barrier {self.name!r}, whose action runs", self.releasing
        if step[0] == "wait":
            return f"barrier {self.name!r}, whose last {self.count} parties have not left", None
        return (f"barrier {self.name!r}, where {self.count} of {self.parties} parties have arrived",
                None)


class BarrierTwin(Twin):
    __slots__ = ("barrier",)
    accepts = frozenset({"wait", "pass"})

    def __init__(self, name: str, real, parties: int) -> None:
        super().__init__(name, real)
        self.barrier = _Barrier(parties, name, real)

    def step(self, thread: int, step: tuple):
        try:
            return self.barrier.wait(step[2] if len(step) > 2 else None)
        except threading.BrokenBarrierError as broken:
            raise Throw(broken) from None


class _Barrier(threading.Barrier):
    """``threading.Barrier`` waiting on a :class:`WaitingCondition` (CPython keeps its
    condition in ``_cond``), counting generations so a departure names its own."""

    def __init__(self, parties: int, name: str, real) -> None:
        super().__init__(parties)
        self._cond = WaitingCondition(threading.Lock(), real)
        self._name = name
        self._real = real
        self.generation = 0

    def _release(self) -> None:
        self.generation += 1
        super()._release()

    def _wait(self, timeout: float | None) -> None:
        # Barrier._wait with one wait instead of wait_for's loop: this condition never
        # wakes spuriously, and a second wait must not park the step twice.
        self._real.local.follow = Op("pass", self._name, self.generation, self._count - 1, timeout)
        if self._state == 0:
            self._cond.wait(timeout)
        self._real.local.follow = None
        if self._state == 0:  # the timeout fired: it breaks the barrier, as threading does
            self._break()
            raise threading.BrokenBarrierError
        if self._state < 0:
            raise threading.BrokenBarrierError
