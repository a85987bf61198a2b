"""``threading.Condition``: a lock plus a queue of waiters.

``wait`` (holding the lock) releases it completely, as ``threading`` does at any RLock
depth, and parks the thread; a second step, shown as ``wake``, runs once the thread is
notified (or a spurious wakeup is allowed) and the lock is free: it re-takes the lock
at the old depth and sends back True.
A timed wait ends in two steps, as CPython's does: ``expire`` stops waiting for a
notify (False: the timeout fired; True: a notify came first), then ``wake`` re-takes
the lock and sends back what ``expire`` found. In between the waiter is still in the
queue, as in CPython, where it removes itself only once it has the lock back: a notify
made then goes to it and is used up, and ``wait`` still returns False.
With ``spurious_wakeups=True`` each thread may wake without a notify once per condition
and execution: once is enough to show an ``if`` that should be a ``while``, and more
would let a correct ``while`` loop wait and wake forever, so no search would end.
``notify(n)`` wakes the first n waiters, in the order they waited; with no waiter it is
lost, as on real threads, and a deadlock that follows names it a lost wakeup.
Happens-before: a notify publishes on the condition and the wake-up it causes absorbs
it; the lock's own edges come from the lock.
Twin: a real ``threading.Condition`` over the lock's twin, whose ``wait`` polls
(:class:`WaitingCondition`); ``Event`` and ``Barrier`` twins wait on one too.
"""

from __future__ import annotations

import threading
from _thread import allocate_lock

from ..errors import ScenarioError
from ..steps import Op
from .base import (
    ACQUIRE,
    REACQUIRE,
    RELEASE,
    RELEASE_ALL,
    Continue,
    Declaration,
    Misuse,
    Model,
    Twin,
    timed,
    timed_out,
)
from .lock import LockDeclaration, LockModel, LockTwin

_ROLES = {"acquire": ACQUIRE, "release": RELEASE, "wait": RELEASE_ALL, "wake": REACQUIRE}
#: A ``wake`` step's last field after ``expire`` found the timeout fired (else None).
EXPIRED = "expired"
WAIT_UNOWNED = "cannot wait on un-acquired lock"
NOTIFY_UNOWNED = "cannot notify on un-acquired lock"


class Condition(Declaration):
    """``Condition(lock=None)``: over a declared Lock or RLock, or its own RLock.

    >>> Condition("lock"), Condition()
    (Condition('lock'), Condition())
    """

    __slots__ = ("lock",)
    _fields = ("lock",)
    kind = "Condition"

    def __init__(self, lock: str | None = None) -> None:
        if lock is not None and (not isinstance(lock, str) or not lock):
            raise ScenarioError(f"Condition({lock!r}): give the name of a lock declared in locks=, "
                                f"or nothing for a condition with its own RLock")
        self.lock = lock
        self._frozen = True

    def __repr__(self) -> str:
        return "Condition()" if self.lock is None else f"Condition({self.lock!r})"

    def check(self, name: str, declared: dict, where: str) -> None:
        if self.lock is not None and not isinstance(declared.get(self.lock), LockDeclaration):
            raise ScenarioError(
                f"{where}: condition {name!r} is over lock {self.lock!r}, which is not declared "
                f"as a lock; add locks={{{self.lock!r}: 'lock'}} (or 'rlock'), or write Condition() "
                f"for a condition with its own RLock")

    def footprint(self, name: str, step: tuple) -> tuple:
        kind = step[0]
        if kind == "expire":
            # it reads whether a notify marked its own waiter, and nothing else: only a
            # notify conflicts with it (not a lock step, nor another waiter's wait or wake)
            return (name + "/notified",)  # as a pool's "/idle"
        if kind == "notify" or kind == "notify_all":
            return (name, name + "/notified") if self.lock is None else (name, self.lock, name + "/notified")
        return (name,) if self.lock is None else (name, self.lock)

    def may_block(self, name: str, step: tuple) -> bool:
        return step[0] == "wake" or (step[0] == "acquire" and len(step) == 2)

    def may_yield(self, name: str, step: tuple) -> bool:
        kind = step[0]
        return (kind == "expire" and bool(step[3])) or (kind == "acquire" and len(step) == 3 and timed(step[2]))

    def lock_role(self, name: str, step: tuple) -> tuple | None:
        role = _ROLES.get(step[0])
        if role is None or (step[0] == "acquire" and len(step) == 3):
            return None
        return (role, self.lock_name(name))

    def lock_name(self, name: str) -> str:
        """The name the condition's lock is known by in traces and happens-before."""
        return self.lock if self.lock is not None else name

    def model(self, name: str, run) -> ConditionModel:
        lock = run.objects[self.lock] if self.lock is not None else LockModel(name, run, True)
        return ConditionModel(name, run, lock, run.program.scenario.spurious_wakeups)

    def twin(self, name: str, real) -> ConditionTwin:
        lock = real.objects[self.lock] if self.lock is not None else LockTwin(name, real, True)
        return ConditionTwin(name, real, lock)


class ConditionModel(Model):
    __slots__ = ("lock", "lost", "spent", "spurious", "waiters", "woke_spuriously")
    accepts = frozenset({"acquire", "release", "wait", "notify", "notify_all", "expire", "wake"})

    def __init__(self, name: str, run, lock: LockModel, spurious: bool) -> None:
        super().__init__(name, run)
        self.lock = lock
        self.waiters: list[list] = []  # [thread, notified], in the order they waited
        self.lost: list[int] = []  # positions of notifies that found no waiter
        self.spent = 0  # notifies taken by a waiter whose timeout had fired
        self.spurious = spurious
        self.woke_spuriously: frozenset[int] = frozenset()  # threads that had their one spurious wakeup

    def enabled(self, thread: int, step: tuple) -> bool:
        kind = step[0]
        if kind == "wake":
            return self.lock.free_for(thread) and self._may_wake(thread, step)
        if kind == "acquire":
            return self.lock.enabled(thread, step)
        return True  # expire too: a timeout may fire at any point of the wait

    def _may_wake(self, thread: int, step: tuple) -> bool:
        """Whether the parked thread may return from ``wait`` once it has the lock back."""
        return (step[3] is not None or self._notified(thread)
                or (self.spurious and thread not in self.woke_spuriously))

    def notified(self, thread: int) -> bool:
        """Whether a notify reached the parked thread (its wake-up needs no spurious one)."""
        return self._notified(thread)

    def _notified(self, thread: int) -> bool:
        for waiter in self.waiters:
            if waiter[0] == thread:
                return waiter[1]
        return True  # already taken off the queue by a notify

    def step(self, thread: int, step: tuple):
        kind = step[0]
        lock = self.lock
        if kind == "acquire":
            if not lock.free_for(thread):
                if step[2][0]:
                    timed_out(self.run, thread, step[2][1])
                return False  # blocking=False, or the timeout fired
            lock.take(thread)
            return True if len(step) == 3 else None
        if kind == "release":
            lock.give(thread)
            return None
        if kind == "wake":
            notified = self._notified(thread)
            self.waiters = [w for w in self.waiters if w[0] != thread]
            lock.take(thread, step[2])
            if step[3] is not None:  # EXPIRED: a notify that came since is used up
                self.spent += notified
                return False
            if notified:
                self.run.sync(thread, absorb=self.name)
            else:
                self.woke_spuriously |= {thread}
            return True
        if kind == "expire":
            notified = self._notified(thread)
            if not notified:
                timed_out(self.run, thread, step[3])
            return Continue(_wake(self.name, step[2], None if notified else EXPIRED), notified)
        if lock.owner != thread:
            error = WAIT_UNOWNED if kind == "wait" else NOTIFY_UNOWNED
            raise Misuse(f"called {kind} on condition {self.name!r} without holding its lock; "
                         f"threading raises RuntimeError('{error}') here", RuntimeError(error),
                         (kind, self.name))
        if kind == "wait":
            depth = lock.give(thread, fully=True)
            self.waiters.append([thread, False])
            if len(step) > 2 and step[2] is not None:
                return Continue(Op("expire", self.name, depth, step[2]))
            return Continue(_wake(self.name, depth, None))
        n = len(self.waiters) if kind == "notify_all" else step[2]
        woken = 0
        for waiter in self.waiters:
            if woken == n:
                break
            if not waiter[1]:
                waiter[1] = True
                woken += 1
        if woken == 0 and n:
            self.lost.append(self.run.position)
        self.run.sync(thread, publish=self.name)
        return None

    def key(self) -> object:
        return (tuple(tuple(w) for w in self.waiters), self.lock.key(), tuple(sorted(self.woke_spuriously)))

    def waiting(self, thread: int, step: tuple) -> tuple[str, int | None]:
        if step[0] == "wake":
            if self._may_wake(thread, step):
                return (f"lock {self.lock.name!r} to return from waiting on condition {self.name!r}",
                        self.lock.owner)
            lost = (" (a lost wakeup: a notify came before the wait)" if self.lost else
                    " (a notify went to a waiter whose timeout had fired)" if self.spent else "")
            return f"a notify on condition {self.name!r}{lost}", None
        return self.lock.waiting(thread, step)

    def marks(self, thread: int, step: tuple) -> dict[int, str]:
        if step[0] != "wake" or self._notified(thread):
            return {}
        return {position: f"notify on {self.name!r} with no waiter: lost" for position in self.lost}


def _wake(name: str, depth: int, expired: str | None) -> Op:
    return Op("wake", name, depth, expired)


class ConditionTwin(Twin):
    """A real condition over the twin of its lock, which keeps track of the holder."""

    __slots__ = ("condition", "lock")
    accepts = ConditionModel.accepts

    def __init__(self, name: str, real, lock: LockTwin) -> None:
        super().__init__(name, real)
        self.lock = lock
        self.condition = WaitingCondition(lock.lock, real, lambda: lock.owner is None)

    def step(self, thread: int, step: tuple):
        kind = step[0]
        lock = self.lock
        if kind == "acquire" or kind == "release":
            return lock.step(thread, step)
        # threading checks ownership only as far as a plain Lock can tell (held by anyone);
        # the model, and so the twin, want the caller to hold it
        if lock.owner != thread:
            raise RuntimeError(WAIT_UNOWNED if kind == "wait" else NOTIFY_UNOWNED)
        if kind == "notify":
            self.condition.notify(step[2])
            return None
        if kind == "notify_all":
            self.condition.notify_all()
            return None
        depth = lock.depth
        timeout = step[2] if len(step) > 2 else None
        lock.owner, lock.depth = None, 0
        if timeout is None:
            self.real.local.follow = _wake(self.name, depth, None)
            woke = self.condition.wait(None)
        else:
            self.real.local.follow = Op("expire", self.name, depth, timeout)
            woke = self.condition.wait(timeout, lambda notified: _wake(self.name, depth, None if notified else EXPIRED))
        lock.owner, lock.depth = thread, depth
        return woke


class WaitingCondition(threading.Condition):
    """``threading.Condition`` with a ``wait`` that can be stopped and taken in turns.

    It is ``Condition.wait`` (CPython 3.11) with its two blocking calls, the wait for a
    notify and the lock's re-acquisition, made through ``real.block``, which polls (so an
    aborted run ends) and tells the supervisor what the thread waits for. Between letting
    go of the lock and waiting, it calls ``real.park()``: a two-phase step's first phase
    ends there, and in a turn run the thread waits for its second phase's turn. At that
    turn the model has already decided how the wait ends (notified, timed out, or woken
    spuriously when the scenario allows it), so the wait for the notify does not block.
    """

    def __init__(self, lock, real, free=None) -> None:
        super().__init__(lock)
        self._real = real
        # whether the lock is free, asked by the supervisor: never by trying it, which a
        # thread's acquire(blocking=False) could see fail
        self._free = free or (lambda: not lock.locked())

    def wait(self, timeout: float | None = None, then=None) -> bool:
        """``then(notified)``, given for a condition's timed wait, is its third phase: the
        wait for a notify ends (the ``expire`` step, which records whether one came), then
        the thread re-takes the lock (the ``wake`` step ``then`` returns)."""
        if not self._is_owned():
            raise RuntimeError(WAIT_UNOWNED)
        real = self._real
        waiter = allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        saved = self._release_save()
        notified = False
        try:
            parked = real.park()
            if parked and real.exact():
                notified = waiter.acquire(False)
                if then is None:
                    return notified or timeout is None
            else:
                notified = real.block(lambda s: waiter.acquire(True, s) if s > 0 else waiter.acquire(False),
                                      timeout, lambda: not waiter.locked())
            if parked and then is not None:  # still in the queue until the lock is back
                real.park(then(notified), notified)
            return notified
        finally:
            lock = self._lock
            real.block(lambda s: lock.acquire(True, s) if s > 0 else lock.acquire(False), None, self._free)
            for _ in range(saved[0] - 1 if isinstance(saved, tuple) else 0):
                lock.acquire()  # an RLock back at its depth
            if not notified:
                try:
                    self._waiters.remove(waiter)
                except ValueError:  # notified after all, just now
                    pass

