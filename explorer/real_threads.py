"""Running a scenario's thread bodies on real ``threading.Thread`` objects.

The same generators the explorer drives run here on real threads: shared variables
live in a plain dict, ``acquire`` and ``release`` use real ``threading.Lock`` and
``threading.RLock`` objects, and whatever a thread does (a return, an exception, a
lock it cannot get) is captured as data. Two ways to run:

- :func:`stress_run`: every thread runs freely from a start barrier, with seeded
  random ``time.sleep(0)`` between steps so the interpreter switches often;
- :func:`turn_run`: the threads take turns exactly as a schedule says.

Neither ever hangs the caller: a blocking ``acquire`` polls with a short timeout and
gives up when the run is aborted, a run whose threads all wait on locks held by
waiting or finished threads is a deadlock, and a run that makes no progress for
``timeout`` seconds while a thread is busy is abandoned (its daemon threads are left
to the interpreter, and the run says so).
"""

from __future__ import annotations

import random
import threading
import time

from ._engine.driver import NOT_A_GENERATOR, RAISED, RETURNED, exception_location, start
from ._engine.program import Program

#: How long a blocked acquire waits before it checks whether the run was aborted.
POLL = 0.002

COMPLETED, DEADLOCKED, FAILED, HUNG = "completed", "deadlocked", "failed", "hung"


class _Aborted(BaseException):
    """Raised inside a runner thread to end it: the run is over."""


class RealRun:
    """One run of a program on real threads: its store, locks, and what each thread did."""

    def __init__(self, program: Program, *, max_steps: int) -> None:
        k = len(program.thread_names)
        self.program = program
        self.max_steps = max_steps
        self.store = dict(program.initial)
        self.locks = {name: threading.RLock() if program.reentrant[name] else threading.Lock()
                      for name in program.lock_names}
        self.owner: dict[str, int | None] = dict.fromkeys(program.lock_names)
        self.depth = dict.fromkeys(program.lock_names, 0)
        self.waiting: list[str | None] = [None] * k  # the lock each thread is blocked on
        self.finished = [False] * k
        self.returns: list = [None] * k
        self.errors: list[tuple[int, BaseException, str | None]] = []
        self.events: list[tuple] = []  # (thread, step, value read); exact only under turn_run
        self.progress = 0
        self.aborted = False
        self.status: str | None = None

    # ---- one thread ---------------------------------------------------------------------

    def _thread(self, i: int, before_step, after_step) -> None:
        """Run thread ``i``'s generator to its end; ``before_step``/``after_step`` pace it."""
        gen = None
        try:
            outcome, gen, payload = start(self.program.factories[i])
            if outcome is RETURNED:
                self.returns[i] = payload
                self.finished[i] = True
                return
            if outcome is RAISED or outcome is NOT_A_GENERATOR:
                error = payload if outcome is RAISED else TypeError(
                    f"calling the thread body returned {type(payload).__name__}, not a generator")
                self.errors.append((i, error, exception_location(error) if outcome is RAISED else None))
                return
            step, steps = self._checked(payload), 0
            while True:
                before_step(i, step)
                value = self._do(i, step)
                self.events.append((i, step, value))
                self.progress += 1
                steps += 1
                try:
                    if steps >= self.max_steps:
                        raise RuntimeError(f"thread ran past max_steps={self.max_steps} steps")
                    try:
                        step = self._checked(gen.send(value))
                    except StopIteration as stop:
                        self.returns[i] = stop.value
                        self.finished[i] = True
                        return
                finally:
                    after_step(i)
        except _Aborted:
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure of a thread is data
            self.errors.append((i, exc, exception_location(exc)))
        finally:
            if gen is not None and gen.gi_frame is not None:
                try:
                    gen.close()
                except BaseException:  # noqa: BLE001,S110 - its close error is not the run's result
                    pass

    def _checked(self, step: object) -> tuple:
        """``step`` if it is a step on a declared variable or lock; a TypeError otherwise,
        which the thread reports as its error (the model reports the same yield)."""
        targets = self.program.targets.get(step.__class__)
        if targets is None or step[1] not in targets:
            raise TypeError(f"thread yielded {step!r}, which is not a step on a declared variable or lock")
        return step

    def _do(self, i: int, step: tuple) -> object:
        kind, target = step[0], step[1]
        if kind == "read":
            return self.store[target]
        if kind == "write":
            self.store[target] = step[2]
            return None
        lock = self.locks[target]
        if kind == "acquire":
            if not lock.acquire(blocking=False):
                self.waiting[i] = target
                while not lock.acquire(timeout=POLL):
                    if self.aborted:
                        raise _Aborted
                self.waiting[i] = None
            self.owner[target] = i
            self.depth[target] += 1
            return None
        if self.owner[target] == i:
            self.depth[target] -= 1
            if self.depth[target] == 0:
                self.owner[target] = None
        else:
            self.owner[target] = None
            self.depth[target] = 0
        lock.release()  # a real RuntimeError for an unheld lock, as threading raises it
        return None

    # ---- the supervisor ----------------------------------------------------------------

    def deadlocked(self) -> bool:
        """Every unfinished thread waits for a lock no running thread holds: nothing can
        ever release it (its holder is waiting too, has finished, or has failed)."""
        alive = [i for i, done in enumerate(self.finished) if not done and not self._failed(i)]
        if not alive:
            return False
        for i in alive:
            lock = self.waiting[i]
            if lock is None:
                return False
            holder = self.owner[lock]
            if holder is None or (holder in alive and self.waiting[holder] is None):
                return False
        return True

    def _failed(self, i: int) -> bool:
        return any(thread == i for thread, _exc, _where in self.errors)

    def waits(self) -> list[tuple[str, str, str | None]]:
        names = self.program.thread_names
        return [(names[i], lock, None if self.owner[lock] is None else names[self.owner[lock]])
                for i, lock in enumerate(self.waiting) if lock is not None]

    def supervise(self, threads: list[threading.Thread], timeout: float) -> str:
        """Wait for the threads; decide completed, failed, deadlocked or hung."""
        last_progress, since = -1, time.monotonic()
        stable = 0
        while True:
            alive = [t for t in threads if t.is_alive()]
            if not alive:
                break
            alive[0].join(POLL)
            if self.progress != last_progress:
                last_progress, since, stable = self.progress, time.monotonic(), 0
                continue
            if self.deadlocked():
                stable += 1
                if stable >= 3:  # the same deadlock, with no step taken, over several polls
                    return self._stop(threads, FAILED if self.errors else DEADLOCKED)
            else:
                stable = 0
            if time.monotonic() - since > timeout:
                return self._stop(threads, DEADLOCKED if self.deadlocked() else HUNG)
        return FAILED if self.errors else COMPLETED

    def _stop(self, threads: list[threading.Thread], status: str) -> str:
        self.aborted = True
        for t in threads:
            t.join(0.5)
        if any(t.is_alive() for t in threads):
            return HUNG
        return status


def stress_run(program: Program, rng: random.Random, *, switch_probability: float, timeout: float,
               max_steps: int) -> RealRun:
    """One free run on real threads, from a start barrier, with seeded random yields."""
    k = len(program.thread_names)
    run = RealRun(program, max_steps=max_steps)
    barrier = threading.Barrier(k)
    rngs = [random.Random(rng.getrandbits(64)) for _ in range(k)]
    sleep = time.sleep

    def before(i: int, _step: tuple) -> None:
        if rngs[i].random() < switch_probability:
            sleep(0)

    def after(i: int) -> None:
        if rngs[i].random() < switch_probability:
            sleep(0)

    return _run(run, lambda i: run._thread(i, before, after), barrier, timeout)


def turn_run(program: Program, schedule: list[int], *, timeout: float, max_steps: int,
             deadlock: bool) -> RealRun:
    """Run on real threads taking turns exactly as ``schedule`` says.

    Before each step a thread waits until the schedule names it at the current
    position; it takes the step, advances its generator to the next yield (in the model
    that is one step too), and passes the turn on. When the schedule ends in a
    ``deadlock``, every thread left with a pending ``acquire`` really tries it, and the
    run must then be seen to deadlock.
    """
    k = len(program.thread_names)
    run = RealRun(program, max_steps=max_steps)
    turn = threading.Condition()
    position = [0]

    def before(i: int, step: tuple) -> None:
        with turn:
            while True:
                if run.aborted:
                    raise _Aborted
                if position[0] < len(schedule):
                    if schedule[position[0]] == i:
                        return
                elif deadlock and step[0] == "acquire":
                    return  # past the schedule: try the acquire the model says blocks
                else:
                    raise _Aborted
                turn.wait(POLL * 5)

    def after(i: int) -> None:
        with turn:
            position[0] += 1
            turn.notify_all()

    return _run(run, lambda i: run._thread(i, before, after), threading.Barrier(k), timeout)


def _run(run: RealRun, target, barrier: threading.Barrier, timeout: float) -> RealRun:
    def body(i: int) -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            return
        target(i)

    threads = [threading.Thread(target=body, args=(i,), daemon=True, name=f"explorer-{name}")
               for i, name in enumerate(run.program.thread_names)]
    for t in threads:
        t.start()
    run.status = run.supervise(threads, timeout)
    return run
