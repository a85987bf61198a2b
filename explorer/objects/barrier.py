"""``threading.Barrier(parties)``: threads wait until ``parties`` of them have arrived.

``wait`` is two steps: the arrival (which takes the next arrival index; the last party
to arrive releases everyone and passes at once), and, for the others, the departure
(``pass``), enabled once their generation is complete, which sends back the arrival
index as ``Barrier.wait`` returns it. A timeout that fires breaks the barrier:
``threading.BrokenBarrierError`` is thrown into that thread and every other waiter.
Happens-before: every arrival publishes on the generation; every departure absorbs it.
Twin: a real ``threading.Barrier`` whose inner condition is a :class:`WaitingCondition`.
A thread that arrives for the next generation while the last one is still leaving
waits inside ``threading.Barrier`` until it has left, where the model lets it arrive at
once: turn runs of such schedules (a barrier used again before every party passed) do
not follow the model there.
"""

from __future__ import annotations

import threading

from ..errors import ScenarioError
from ..steps import Op
from .base import Continue, Declaration, Model, Throw, Twin
from .condition import WaitingCondition


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
        # a wait on a barrier with an action (a fourth item) waits while the action runs
        return step[0] == "pass" or (step[0] == "wait" and len(step) > 3 and bool(step[3]))

    def model(self, name: str, run) -> BarrierModel:
        return BarrierModel(name, run, self.parties)

    def twin(self, name: str, real) -> BarrierTwin:
        return BarrierTwin(name, real, self.parties)


class BarrierModel(Model):
    """``releasing``: the last party has arrived and runs the barrier's action (plain code's
    ``Barrier(parties, action=...)``, which ``threading`` runs under the barrier's lock):
    nobody passes or arrives until its ``release`` (or, if the action raised, ``break``)."""

    __slots__ = ("arrived", "broken", "generation", "parties", "releasing", "reset_at")
    accepts = frozenset({"wait", "pass", "release", "break", "reset", "broken", "n_waiting"})

    def __init__(self, name: str, run, parties: int) -> None:
        super().__init__(name, run)
        self.parties = parties
        self.arrived = 0
        self.generation = 0
        self.broken = False
        self.releasing = False
        self.reset_at: frozenset = frozenset()  # generations a reset() ended: their waiters are broken

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "pass":
            return self.generation > step[2] or self.broken or step[4] is not None
        return kind != "wait" or not self.releasing

    def step(self, thread: int, step: tuple):
        run = self.run
        kind = step[0]
        if kind == "wait":
            if self.broken:
                raise Throw(threading.BrokenBarrierError())
            index = self.arrived
            generation = self.generation
            run.sync(thread, publish=(self.name, generation))
            if index + 1 == self.parties:
                if len(step) > 3 and step[3]:  # an action to run first: the thread releases after it
                    self.releasing = True
                    return index
                self.arrived = 0
                self.generation += 1
                run.sync(thread, absorb=(self.name, generation))
                return index
            self.arrived += 1
            return Continue(Op("pass", self.name, generation, index, step[2] if len(step) > 2 else None))
        if kind == "release":  # the action returned: everyone passes
            run.sync(thread, publish=(self.name, self.generation))
            self.releasing, self.arrived = False, 0
            self.generation += 1
            return None
        if kind == "break":  # the action raised, or abort(): every waiter gets BrokenBarrierError
            self.releasing, self.broken = False, True
            return None
        if kind == "reset":  # reset(): the waiters get BrokenBarrierError; the barrier is new again
            if self.arrived:
                self.reset_at |= {self.generation}
                self.generation += 1
                self.arrived = 0
            self.broken = False
            return None
        if kind == "broken":
            return self.broken
        if kind == "n_waiting":  # as threading counts them: the last one too while its action runs
            return 0 if self.broken else self.arrived + self.releasing
        if self.generation > step[2] and step[2] not in self.reset_at:
            run.sync(thread, absorb=(self.name, step[2]))
            return step[3]
        if step[2] in self.reset_at:
            raise Throw(threading.BrokenBarrierError())
        self.broken = True  # its timeout fired, or another's did
        raise Throw(threading.BrokenBarrierError())

    def key(self) -> object:
        return (self.arrived, self.generation, self.broken, self.releasing, self.reset_at)

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        return (f"barrier {self.name!r}, where {self.arrived} of {self.parties} parties have arrived",
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
