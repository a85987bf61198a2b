"""Running a scenario's thread bodies on real ``threading.Thread`` objects.

The same generators the explorer drives run here on real threads, and each step calls
the real object: shared variables live in a dict behind one lock, and every declared
object has a *twin* (``Declaration.twin``, in its own module under
``explorer/objects``): real ``Lock``/``RLock``, ``Semaphore``, ``Condition``, ``Event``,
``Barrier``, ``queue.Queue``, threads started by ``spawn`` and joined by ``join``, and a
real ``ThreadPoolExecutor`` whose tasks, generators too, are driven on its worker
threads as thread bodies are. Whatever a thread does (a return, an exception, a call
that cannot go on) is captured as data. Two ways to run:

- :func:`stress_run`: every thread runs freely from a start barrier, with seeded
  random ``time.sleep(0)`` between steps so the interpreter switches often;
- :func:`turn_run`: the threads take turns exactly as a schedule says.

Neither ever hangs the caller. Every call that may block polls with a short timeout
(:meth:`RealRun.block`) and gives up when the run is aborted. The supervisor (the
caller's thread) declares a deadlock when every unfinished thread and task is blocked
in such a call that cannot go on (a lock held, a semaphore at zero, a queue empty, a
notify that has not come, ...), across several polls with no step taken, and every one
of those calls has tried again and failed since the supervisor last saw anything change
(:meth:`RealRun.supervise` says why that matters); a run that makes no progress for
``timeout`` seconds otherwise is abandoned as hung (its threads are daemons, and the run
says so).

What one turn is, for steps the model takes in two phases: a condition's or an event's
``wait`` is the real ``wait`` call up to where it has let go of the lock and queued
itself to be notified; its ``wake`` is the rest of that call, at its own turn, where
the model has already decided how it ends (notified, timed out, or, when the scenario
allows spurious wakeups, woken anyway), so it does not wait for a notify. A barrier's
``wait`` and ``pass`` split ``Barrier.wait`` the same way, and a pool's ``shutdown``
and ``drain`` split ``shutdown(wait=True)`` into the call with ``wait=False`` and the
wait for every task. A pool worker's ``take`` is the start of a task on whichever
executor thread runs it (the schedule's ``pool-0`` is the worker the model gave that
task; executor threads are interchangeable), and its ``finish`` the task's end; the
``take`` by which a worker leaves a pool that was shut down has no real counterpart
(the executor's thread leaves by itself) and is taken from the model's trace. In a
turn run a call with a timeout, or ``blocking=False``, does not wait: the model has
decided at that turn whether it succeeds.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import types

from ._engine.driver import ALREADY_RAN, NOT_A_GENERATOR, RAISED, RETURNED, abandon, exception_location, start
from ._engine.program import Program
from .objects.base import Raised, Recorded, Throw
from .objects.clock import SleepTwin
from .objects.thread import SpawnTwin, ThreadTwin
from .objects.variable import VariableTwin
from .outcomes import Outcome, State
from .steps import Acquire, Op, Read, Release, Write

#: How long a blocked call waits before it checks whether the run was aborted.
POLL = 0.002
#: At most how long a thread whose body ended waits for its run to be over (RealRun.over)
LINGER = 60.0

COMPLETED, DEADLOCKED, FAILED, HUNG = "completed", "deadlocked", "failed", "hung"

_STEP_CLASSES = (Acquire, Release, Op)


class _Aborted(BaseException):
    """Raised inside a runner thread to end it: the run is over."""


class _Ended(BaseException):
    """Raised inside a runner thread whose error is already recorded (a refused call, a
    bad yield, too many steps): the thread, or the task, stops there."""


class RealRun:
    """One run of a program on real threads: its store, its objects' twins, and what
    each thread did.

    ``events`` holds ``(thread, step, value)``, exact under :func:`turn_run`; ``returns``
    the return value of each thread that ran (``participants``: the scenario's threads
    and the spawned ones, never a pool's workers); ``errors`` ``(thread, exception,
    location)``.
    """

    def __init__(self, program: Program, *, max_steps: int) -> None:
        self.program = program
        self.max_steps = max_steps
        self.variables = frozenset(program.var_names)
        self.store = dict(program.initial)
        self.store_lock = threading.Lock()
        self.local = threading.local()  # per runner thread: actor, thread, step, follow
        self.lock = threading.Lock()  # thread registration
        self.objects: dict = {name: VariableTwin(name, self) for name in program.var_names}
        for name, declaration in program.declarations.items():
            self.objects[name] = declaration.twin(name, self)
        self.spawner = SpawnTwin("spawn", self)
        self.sleeper = SleepTwin("time", self)
        self.threads: list[threading.Thread] = []
        self.thread_done: dict[int, threading.Event] = {}
        self.participants: list[int] = []
        self.returns: dict[int, object] = {}
        self.errors: list[tuple[int, BaseException, str | None]] = []
        self.events: list[tuple] = []
        self.active: set = set()  # actors (a thread's number, ("task", future)) not ended
        self.blocked: dict = {}  # actor -> (thread, step, ready, timed, holder)
        # What the supervisor watches, each a fresh number at every change (from a counter:
        # two threads' `+= 1` could lose one and give back a value the supervisor saw):
        self._ticks = itertools.count(1)
        self.progress = 0  # changes at every step taken
        self.shifts = 0  # changes whenever a call starts or stops blocking
        self.asked = 0  # the supervisor's look: raised whenever it sees one of them change
        self.tried: dict = {}  # polling actor -> the look before its call's last failed try
        self.aborted = False
        # Set once the run is over: until then a thread whose body ended keeps its OS thread,
        # whose identity a thread started later would otherwise take over, and with it an
        # RLock the ended thread still holds (CPython tells an RLock's owner by that identity)
        self.over = threading.Event()
        self.status: str | None = None
        self.stuck: list[tuple[str, str, str | None]] = []  # waits() when a deadlock was seen
        self.before = self.after = None  # pacing: set by stress_run and turn_run
        self.exact = _never
        self.roles: dict[str, int] = {}  # turn runs: future -> the worker the model gave it
        for i in range(len(program.factories)):  # the scenario's threads; spawned ones enrol later
            self._enrol(i)

    # ---- what the twins ask of the run (objects/base.py: Twin) ---------------------------

    def block(self, attempt, timeout: float | None, ready, holder=None) -> bool:
        """Make a call that may block: ``attempt(seconds)`` tries it, waiting at most that
        long (0: not at all), and says whether it went through. Waits until it does, or
        ``timeout`` seconds (None: no limit) have passed, then returns False. ``ready()``
        tells the supervisor whether the call could go on now; ``holder()`` who holds
        what it waits for."""
        if attempt(0):
            return True
        if timeout == 0 or (timeout is not None and self.exact()):
            return False
        local = self.local
        actor = local.actor
        deadline = None if timeout is None else time.monotonic() + timeout
        self.blocked[actor] = (local.thread, local.step, ready, timeout is not None, holder)
        self.tried[actor] = None  # no failed try yet
        self.shifts = next(self._ticks)
        try:
            while True:
                if self.aborted:
                    raise _Aborted
                seconds = POLL
                if deadline is not None:
                    seconds = min(POLL, deadline - time.monotonic())
                    if seconds <= 0:
                        return False
                look = self.asked  # read before trying: the failure then comes after that look
                if attempt(seconds):
                    return True
                self.tried[actor] = look
        finally:
            self.blocked.pop(actor, None)
            self.tried.pop(actor, None)
            self.shifts = next(self._ticks)

    def park(self, follow: tuple | None = None, shown: object = None) -> bool:
        """End the first phase of a two-phase step here: record it (with ``shown``, as the
        model's ``Continue`` does), pass the turn, and come back for the second phase
        (``follow``, or the one the twin left in ``local.follow``) at its turn. False when
        no two-phase step is under way (a wait inside a call)."""
        local = self.local
        follow = follow or local.follow
        if follow is None:
            return False
        local.follow = None
        self._record(local.thread, local.step, shown)
        self.after(local.actor)
        local.step = follow
        self.before(local.actor, follow)
        return True

    def name_taken(self, name: str) -> bool:
        index = self.program.thread_index.get(name)
        return (index is not None and index in self.thread_done) or (
            name in self.objects and not isinstance(self.objects[name], ThreadTwin))

    def start_thread(self, name: str, factory, taken: str) -> int:
        """Start thread ``name`` (a ``spawn``) and wait until it reaches its first step; a
        name a thread of the run already has raises ``RuntimeError(taken)``."""
        with self.lock:  # one step, as in the model: two spawns never share a name
            if self.name_taken(name):
                raise RuntimeError(taken)
            index = self.program.register_thread(name)
            self._enrol(index)
        ready = threading.Event()
        thread = threading.Thread(target=self._body, args=(index, factory, ready), daemon=True,
                                  name=f"explorer-{name}")
        self.threads.append(thread)
        thread.start()
        self.block(lambda s: ready.wait(s) if s > 0 else ready.is_set(), None, lambda: True)
        return index

    def queue_task(self, future: str, has_room) -> None:
        """A task was submitted: it counts as a thread, blocked until a worker is free."""
        actor = ("task", future)
        self.active.add(actor)
        self.blocked[actor] = (None, Op("take", future), has_room, False, None)
        self.shifts = next(self._ticks)

    def drop_task(self, future: str) -> None:
        actor = ("task", future)
        self.blocked.pop(actor, None)
        self.active.discard(actor)
        self.shifts = next(self._ticks)

    def run_task(self, pool, future: str, fn, args: tuple):
        """Run a pool's task on the executor thread calling this, as the model's worker
        runs it: ``take``, the task's steps if it is a generator, ``finish``."""
        actor = ("task", future)
        worker = self.roles.get(future)
        if worker is None:
            number = threading.current_thread().name.rpartition("_")[2]
            with self.lock:
                worker = self.program.register_thread(f"{pool.name}-{number}")
        local = self.local
        local.actor, local.thread, local.follow = actor, worker, None
        self.blocked.pop(actor, None)
        self.shifts = next(self._ticks)
        with pool.lock:
            pool.running += 1
        gen = None
        error = None
        try:
            take = local.step = Op("take", pool.name)
            self.before(actor, take)
            self._record(worker, take, future)
            out = first = None
            try:
                try:
                    out = fn(*args)
                    if isinstance(out, types.GeneratorType):
                        gen, out = out, None
                        first = self._checked(gen.send(None))
                except StopIteration as stop:
                    out = stop.value
                except Exception as exc:  # noqa: BLE001 - the future holds whatever the task raised
                    error = exc
            finally:
                self.after(actor)
            if first is not None:
                try:
                    out = self._drive(actor, worker, gen, first)
                except Exception as exc:  # noqa: BLE001
                    error = exc
            finish = local.step = Op("finish", future, out, error)
            self.before(actor, finish)
            self._record(worker, finish, None)
            self.after(actor)
        except (_Aborted, _Ended):
            raise
        except BaseException as exc:  # noqa: BLE001 - what escapes the task is the worker's error
            self._fail(worker, exc)
            raise _Ended from exc
        finally:
            _close(gen)
            with pool.lock:
                pool.running -= 1
            self.active.discard(actor)
        if error is not None:
            raise error
        return out

    # ---- one thread ---------------------------------------------------------------------

    def _enrol(self, i: int) -> None:
        self.thread_done[i] = threading.Event()
        self.participants.append(i)
        self.active.add(i)

    def _body(self, i: int, factory, ready: threading.Event | None = None) -> None:
        """Run thread ``i``'s generator to its end."""
        local = self.local
        local.actor, local.thread, local.follow, local.step = i, i, None, None
        gen = None
        try:
            outcome, gen, payload = start(factory)
            if outcome is RETURNED:
                self.returns[i] = payload
            elif outcome is ALREADY_RAN:
                gen = None  # another thread's: not this one's to close
                self._fail(i, TypeError("calling the thread body returned a generator that has already run"), None)
            elif outcome is RAISED or outcome is NOT_A_GENERATOR:
                error = payload if outcome is RAISED else TypeError(
                    f"calling the thread body returned {type(payload).__name__}, not a generator")
                self._fail(i, error, exception_location(error) if outcome is RAISED else None)
            else:
                if ready is not None:
                    ready.set()
                self.returns[i] = self._drive(i, i, gen, self._checked(payload))
        except (_Aborted, _Ended):
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure of a thread is data
            self._fail(i, exc)
        finally:
            _close(gen)
            self.thread_done[i].set()
            self.active.discard(i)
            if ready is not None:
                ready.set()
        self.over.wait(LINGER)

    def _drive(self, actor, i: int, gen, step: tuple):
        """Take ``gen``'s steps as thread ``i`` until it returns; returns what it returns.
        An exception the generator raises propagates; a step the twin refuses (threading
        raises, as on releasing a lock not held) raises that exception into the generator,
        as the model does, and ends the thread (``_Ended``) only if it escapes."""
        local = self.local
        steps = 0
        while True:
            self.before(actor, step)
            local.step = step
            thrown = None
            try:
                try:
                    value = sent = self._do(i, step)
                except Throw as throw:
                    sent = None
                    thrown = throw.exception
                    value = Raised(thrown)  # recorded as the model records it
                except (_Aborted, _Ended):
                    raise
                except Exception as exc:  # noqa: BLE001 - threading refused the call: the thread sees it
                    sent = None
                    thrown = exc
                    value = Raised(exc)
                except BaseException as exc:
                    self._record(i, local.step, None)
                    self._fail(i, exc, exception_location(exc))
                    raise _Ended from exc
                if value.__class__ is Recorded:
                    value, sent = value.shown, value.sent
                self._record(i, local.step, value)
                steps += 1
                if steps >= self.max_steps:
                    self._fail(i, RuntimeError(f"thread ran past max_steps={self.max_steps} steps"))
                    raise _Ended
                try:
                    step = self._checked(gen.throw(thrown) if thrown is not None else gen.send(sent))
                except StopIteration as stop:
                    return stop.value
            finally:
                self.after(actor)

    def _record(self, i: int, step: tuple, value: object) -> None:
        if self.aborted:  # what a call returned once the run was stopped (a task's _Aborted) is no step
            raise _Aborted
        self.events.append((i, step, value))
        self.progress = next(self._ticks)

    def _do(self, i: int, step: tuple) -> object:
        cls = step.__class__
        if cls is Read:
            with self.store_lock:
                return self.store[step[1]]
        if cls is Write:
            with self.store_lock:
                self.store[step[1]] = step[2]
            return None
        return self._twin(step).step(i, step)

    def _twin(self, step: tuple):
        kind = step[0]
        if kind == "spawn" and step.__class__ is Op:
            return self.spawner
        twin = self.objects.get(step[1])
        if twin is None and step.__class__ is Op:
            if kind == "join":
                twin = ThreadTwin(step[1], self)  # not started (yet): join says so
            elif kind == "sleep":
                twin = self.sleeper  # as the model's, where no object of that name is declared
        return twin

    def _checked(self, step: object) -> tuple:
        """``step`` if it is a step on a declared variable or object; else the thread's
        error (the model reports the same yield), which ends it."""
        cls = step.__class__
        try:
            if cls is Read or cls is Write:
                valid = step[1] in self.variables
            else:
                twin = self._twin(step) if cls in _STEP_CLASSES else None
                valid = twin is not None and step[0] in twin.accepts
        except Exception:  # noqa: BLE001 - an unhashable target is no declared name
            valid = False
        if not valid:
            self._fail(self.local.thread, TypeError(
                f"thread yielded {step!r}, which is not a step on a declared variable or object"))
            raise _Ended
        return step

    def _fail(self, i: int, exc: BaseException, where: str | None = None) -> None:
        if not self.aborted:
            self.errors.append((i, exc, where if where is not None else exception_location(exc)))

    # ---- the supervisor ----------------------------------------------------------------

    def deadlocked(self) -> bool:
        """Every unfinished thread and task is blocked in a call that cannot go on (a timed
        call can: its timeout will end it), and every such call that polls has tried again
        and failed since the supervisor's last look (``asked``); nothing can change that."""
        active = list(self.active)
        if not active:
            return False
        blocked, tried, look = self.blocked, self.tried, self.asked
        for actor in active:
            entry = blocked.get(actor)
            # a polling call not yet failed is None in `tried`; a task waiting for a worker polls nothing
            if entry is None or entry[3] or tried.get(actor, look) != look:
                return False
            try:
                if entry[2]():
                    return False
            except Exception:  # noqa: BLE001 - asked while the object changes: not stuck
                return False
        return True

    def waits(self) -> list[tuple[str, str, str | None]]:
        """``(thread, what it waits on, the thread holding it or None)`` for each blocked one."""
        names = self.program.thread_names
        waits = []
        for actor, (thread, step, _ready, _timed, holder) in list(self.blocked.items()):
            held = holder() if holder is not None else None
            who = names[thread] if thread is not None else actor[1]
            waits.append((who, step[1], None if held is None else names[held]))
        return waits

    def supervise(self, timeout: float) -> str:
        """Wait for every thread and task to end; decide completed, failed, deadlocked or hung.

        Why a blocked call must have failed again since the last look: a call that has
        just gone through (a notify let its waiter go, a lock came free) still has its
        entry in ``blocked`` until its thread runs again, and what it waited for may look
        taken by that very thread (the waiter's lock it now holds, a queue it just filled),
        so it looks stuck. Under load a thread can sit there for several polls. A failure
        that began after a look at which nothing had changed since the one before is
        different: every thread was then in a polling loop, where no call lets anything
        go, so nothing could have come free for it since."""
        last_progress, since = None, time.monotonic()
        seen = None
        stable = 0
        while self.active:
            time.sleep(POLL)
            if self.progress != last_progress:
                last_progress, since = self.progress, time.monotonic()
            now = (self.progress, self.shifts)
            if now != seen:  # a step, or a call that began or stopped blocking: look anew
                seen, stable = now, 0
                self.asked += 1
                continue
            if self.deadlocked() and (self.progress, self.shifts) == seen:
                stable += 1
                if stable >= 3:  # the same deadlock, with no step taken, over several polls
                    return self._stop(FAILED if self.errors else DEADLOCKED)
            else:
                stable = 0
            if time.monotonic() - since > timeout:
                # a thread that raised ends the model's run there (failed): what the others
                # do after it, blocked for good or not seen to poll again on a loaded
                # machine, is past that end
                return self._stop(FAILED if self.errors else DEADLOCKED if self.deadlocked() else HUNG)
        self.over.set()
        for thread in list(self.threads):
            thread.join(1.0)
        return FAILED if self.errors else COMPLETED

    def _stop(self, status: str) -> str:
        if status != HUNG:
            self.stuck = self.waits()  # before the threads unwind and stop waiting
        self.aborted = True
        self.over.set()
        for thread in list(self.threads):
            thread.join(0.5)
        if any(thread.is_alive() for thread in self.threads):
            return HUNG
        return status

    def close(self) -> None:
        """End what the twins started (a pool's executor threads)."""
        self.over.set()
        for twin in list(self.objects.values()):
            twin.close()

    # ---- what the run ended with -------------------------------------------------------

    def final_state(self) -> State:
        return State._from(self.program.var_names, tuple(self.store[v] for v in self.program.var_names))

    def outcome(self) -> Outcome:
        """The final state and every participant's return, as the model counts outcomes."""
        names = self.program.thread_names
        return Outcome._of(self.final_state(), tuple(names[i] for i in self.participants),
                           tuple(self.returns.get(i) for i in self.participants))


def _never() -> bool:
    return False


def _close(gen) -> None:
    if gen is not None and gen.gi_frame is not None:
        try:
            gen.close()
        except BaseException:  # noqa: BLE001 - its close error is not the run's result
            abandon(gen)  # not closed again by the collector, which would print a warning


def stress_run(program: Program, rng: random.Random, *, switch_probability: float, timeout: float,
               max_steps: int) -> RealRun:
    """One free run on real threads, from a start barrier, with seeded random yields."""
    run = RealRun(program, max_steps=max_steps)
    rngs: dict = {i: random.Random(rng.getrandbits(64)) for i in run.participants}
    seeds = random.Random(rng.getrandbits(64))
    sleep = time.sleep

    def pause(actor, _step: tuple | None = None) -> None:
        mine = rngs.get(actor)
        if mine is None:
            with run.lock:
                mine = rngs[actor] = random.Random(seeds.getrandbits(64))
        if mine.random() < switch_probability:
            sleep(0)

    run.before = pause
    run.after = pause
    return _run(run, timeout)


def turn_run(program: Program, schedule: list[int], *, timeout: float, max_steps: int, deadlock: bool,
             actors: list | None = None, virtual: dict | None = None, roles: dict | None = None) -> RealRun:
    """Run on real threads taking turns exactly as ``schedule`` says.

    Before each step a thread waits until the schedule names it at the current
    position; it takes the step, advances its generator to the next yield (in the model
    that is one step too), and passes the turn on. ``actors`` says, per position, who
    takes that step when it is not the thread the schedule names: ``("task", future)``
    for a pool worker's steps (whichever executor thread runs that task), None for a
    position with no real counterpart, whose event is ``virtual[position]``; ``roles``
    maps each future to the worker the model gave it. When the schedule ends in a
    ``deadlock``, every thread left with a pending step really tries it, and the run
    must then be seen to deadlock.
    """
    run = RealRun(program, max_steps=max_steps)
    turn = threading.Condition()
    actors = list(schedule) if actors is None else actors
    virtual = virtual or {}
    run.roles = roles or {}
    end = len(schedule)
    position = [0]

    def skip() -> None:
        while position[0] < end and actors[position[0]] is None:
            run.events.append(virtual[position[0]])
            position[0] += 1

    def before(actor, _step: tuple) -> None:
        with turn:
            while True:
                if run.aborted:
                    raise _Aborted
                if position[0] < end:
                    if actors[position[0]] == actor:
                        return
                elif deadlock:
                    return  # past the schedule: try the step the model says blocks
                else:
                    raise _Aborted
                turn.wait(POLL * 5)

    def after(_actor) -> None:
        with turn:
            position[0] += 1
            skip()
            turn.notify_all()

    skip()
    run.before, run.after = before, after
    run.exact = lambda: position[0] < end
    return _run(run, timeout)


def _run(run: RealRun, timeout: float) -> RealRun:
    barrier = threading.Barrier(len(run.participants))

    def body(i: int) -> None:
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            run.active.discard(i)
            return
        run._body(i, run.program.factories[i])

    run.threads = [threading.Thread(target=body, args=(i,), daemon=True, name=f"explorer-{name}")
                   for i, name in enumerate(run.program.thread_names[:len(run.program.factories)])]
    for thread in list(run.threads):
        thread.start()
    try:
        run.status = run.supervise(timeout)
    finally:
        run.close()
    return run
