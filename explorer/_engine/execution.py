"""One execution: its shared values, lock owners, pending steps and event log.

:meth:`Execution.run` is the hot loop. It asks ``choose(enabled)`` which thread
runs next, executes that thread's pending step, and advances the thread's
generator to its next step. Everything a thread does (a step, a return, an
exception) is captured as data; what goes wrong becomes a :class:`RawFinding`
and ends the execution, never the search.

An event is the tuple ``(thread, step, value_read, enabled)``: the thread index,
the step it executed, the value a read returned (else ``None``), and the enabled
set the choice was made from. Events are compared with the previous execution's
while both follow the same schedule, which is how nondeterminism is caught.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Sequence
from threading import get_ident

from .._text import PLAIN as _PLAIN
from .._text import shown
from ..findings import RawFinding, waiting_words
from ..objects.base import HIDDEN, Continue, Misuse, Model, Raised, Recorded, Throw
from ..objects.clock import SleepModel
from ..objects.condition import ConditionModel
from ..objects.thread import ProgramEnd, Spawner, ThreadModel
from ..objects.variable import VariableModel
from ..scenario import compared_by_identity
from ..steps import Acquire, Op, Read, Release, Write
from .driver import (
    ALREADY_RAN,
    NOT_A_GENERATOR,
    RAISED,
    RETURNED,
    _short,
    abandon,
    exception_location,
    location,
    start,
)
from .fairness import Fairness
from .program import Program
from .taken import Taken, as_taken, step_as_taken
from .watchdog import DEADLINES, NO_DEADLINE, RUNNING, StepTimeout, TimeLimitReached

COMPLETED, DEADLOCKED, FAILED, TRUNCATED, DIVERGED = "completed", "deadlocked", "failed", "truncated", "diverged"
HUNG = "hung"  # a step ran past the watchdog's step_timeout: the search stops

UNLIMITED = sys.maxsize


class Events(list):
    """An execution's event log, with the happens-before edges its steps on objects made:
    ``syncs`` maps a step's position to ``[(publishes, channel), ...]`` (objects/base.py).
    The detectors read them from here, so they travel with the events. A run logs into a
    plain list (the fastest to append to) and becomes one of these at its end only when
    its steps recorded an edge."""

    __slots__ = ("syncs",)

    def __init__(self, events: list, syncs: dict[int, list]) -> None:
        super().__init__(events)
        self.syncs = syncs


class Execution:
    """The state of one run of a program, and its record once finished."""

    __slots__ = (
        "agreed",
        "compared",
        "counts",
        "daemons",
        "ended_at",
        "enders",
        "events",
        "fairness",
        "findings",
        "gens",
        "hang_ends_at",
        "live",
        "locate",
        "locations",
        "misused",
        "models",
        "objects",
        "pending",
        "preemptions",
        "program",
        "returns",
        "sleeper",
        "spawner",
        "status",
        "stopped_in",
        "syncs",
        "threads",
        "values",
        "variables",
        "where",
        "yielded",
    )

    def __init__(self, program: Program) -> None:
        self.program = program
        self.status: str | None = None
        self.events: list[tuple] = []
        self.syncs: dict[int, list] = {}  # position -> happens-before edges recorded there
        self.locations: list[str | None] | None = None
        self.findings: list[RawFinding] = []
        self.preemptions = 0  # switches away from a thread that could have continued
        self.objects: dict = {}  # name -> model; plain code's stand-ins join before the run starts
        self.enders: list = []
        self.compared: Sequence[tuple] = ()  # the previous execution's events, checked against
        self.agreed = 0  # how many leading events are known equal to those (the detectors resume there)
        self.stopped_in: str | None = None  # the thread's code the time limit or Ctrl-C stopped (_stopped)
        self.fairness: Fairness | None = None  # fair schedules only (fairness.py)
        # a step let time pass for its thread (gave_up): reset after each step under fair
        # schedules; otherwise it stays set, and says some step of the run slept or timed out
        self.yielded = False
        # a replay of a deadlock that only spurious wakeups end (_hangs): the run ends there,
        # as on real threads, once it has taken this many steps (a schedule's end)
        self.hang_ends_at: float = float("inf")

    def run(self, choose: Callable[[list[int]], int], max_steps: int = UNLIMITED,
            previous: Sequence[tuple] = (), locate: bool = False, repeat: int = 0) -> str:
        """Run to the end and return the status; ``previous`` is the last execution's events.

        ``repeat``: how many of those events' threads ``choose`` would choose again, given the
        same enabled sets (a depth-first search's replayed prefix: ``repeats()``). The run takes
        them without asking, and runs their reads and writes on a short path (``_run``)."""
        me = get_ident()
        outer = RUNNING.get(me)  # the run of a body that calls explore() itself: watched again after
        RUNNING[me] = self  # for the watchdog (watchdog.py), which interrupts a step that never yields
        status = None
        plain = self.program.plain
        try:
            if plain is not None:
                plain.enter(self)  # plain code's threads are greenlets; threading is patched till exit
            status = self._run(choose, max_steps, previous, locate, repeat)
            if (status is COMPLETED or status is DEADLOCKED or status is FAILED) and self.agreed < 0 \
                    and len(self.events) < len(previous):
                # every step the previous run's, and it went on from here: this one cannot end
                # here unless something outside the schedule changed (a thread raises now)
                self._ended_early(previous, status)
                status = DIVERGED
            if status is FAILED and self.findings[-1].kind == "step-timeout":
                status = HUNG
            if self.ended_at and (status is COMPLETED or status is DEADLOCKED):
                self._check_locks_at_end()  # a run an error cut short ends with that error alone
        finally:
            if status is not COMPLETED:
                self._close_threads()  # still watched: a finally block can loop forever too
            if plain is not None:
                plain.exit(self, status)
            if outer is None:
                RUNNING.pop(me, None)
            else:
                RUNNING[me] = outer
            if self.syncs:
                self.events = Events(self.events, self.syncs)
            if self.agreed < 0:  # every event was checked against the previous run's
                self.agreed = len(self.events)
        self.status = status
        return status

    def release(self) -> None:
        """Let go of this run's objects once no step of it will run again. Each object's
        model holds the run, a cycle that only the garbage collector would break: a search
        that drops its runs one after the other lets reference counting free them at once
        (dpor spent a tenth of its time collecting them)."""
        for model in self.objects.values():
            model.run = None

    def _run(self, choose, max_steps, previous, locate, repeat) -> str:
        program = self.program
        k = len(program.factories)
        variables = self.variables = program.targets[Read]
        values = self.values = dict(program.initial)
        # Declared objects get their model now; variables (for update), thread handles
        # (for join) and the spawner when a step first needs one (_model).
        objects = self.objects
        for name, declaration in program.scenario.declarations.items():
            objects[name] = declaration.model(name, self)
        self.spawner = None
        self.sleeper = None
        self.misused: dict[int, tuple] = {}  # thread -> its last refused step: (Misuse, message, location)
        self.daemons: set[int] = set()  # threads the program's end does not wait for
        self.ended_at: dict[int, int] = {}  # thread -> the number of steps when it returned
        pending: list = [None] * k
        gens: list = [None] * k
        returns: list = [None] * k
        models: list = [None] * k  # the model of each pending step (None: a read or write)
        self.pending, self.gens, self.returns, self.models = pending, gens, returns, models
        counts = self.counts = [0] * k
        threads = self.threads = list(range(k))  # grows as threads start
        self.live = [True] * k  # started in this run (spawned threads join later)
        events = self.events
        append = events.append
        where: list = [None] * k
        self.where = where
        self.locate = locate
        if locate:
            self.locations = []

        n_previous = len(previous)
        shared = n_previous > 0
        self.compared = previous
        self.agreed = -1 if shared else 0  # -1 while every event is the previous run's
        failed = False  # every thread is started, so each one that cannot start is reported
        for i, factory in enumerate(program.factories):
            if not self._begin(i, factory):
                failed = True
        if failed:
            return FAILED

        last = -1
        preempted = 0
        # plain code's attributes hold lists and dicts that change in place (its item writes
        # are not steps): a read or write of one is logged as it was (taken.py)
        taking = program.plain is not None
        before = None
        position = 0
        # The first ``forced`` positions take the previous run's threads without asking
        # ``choose``. Where such a step is a read or a write that repeats the previous run's
        # event, the short path runs it: its enabled set is the previous run's (checked in
        # full at the path's first position; after that only the thread that moved can have
        # changed it, and a thread that goes on from a read or a write to a read or a write
        # stays enabled), and the event logged is the previous run's own. Anything else (a
        # step on an object, a thread that ends, a value that differs) takes the general
        # path, which checks it against the previous run.
        forced = min(repeat, n_previous)
        # fair schedules: a read or a write changes who owes whom, and so the schedulable set
        fair = self.fairness = Fairness(k) if program.fair else None
        spurious = program.spurious  # a wait no notify can end may still end: see _hangs
        quick = 0 if locate or taking or fair is not None else forced
        verified = False  # the short path ran the last position and left the enabled set as it was
        passed = DEADLINES.get(get_ident(), NO_DEADLINE).passed  # the watchdog sets it at the time limit
        while True:
            if passed[0]:
                raise TimeLimitReached
            short = False
            if position < quick:
                before = previous[position]
                i = before[0]
                step = pending[i]
                cls = step.__class__
                if (cls is Read or cls is Write) and (
                        before[3] == previous[position - 1][3] if verified else before[3] == [
                            i for i in threads
                            if (s := pending[i]) is not None and ((m := models[i]) is None or m.enabled(i, s))]):
                    enabled = before[3]
                    if cls is Read:
                        value = values[step[1]]
                        if (before[1] is step and value.__class__ in _PLAIN
                                and before[2].__class__ is value.__class__ and before[2] == value):
                            sent = value
                            short = True
                    else:
                        written = step[2]
                        logged = before[1]
                        if (logged.__class__ is Write and written.__class__ in _PLAIN
                                and logged[2].__class__ is written.__class__ and logged == step):
                            values[step[1]] = written
                            value = sent = None
                            short = True
                verified = False
            if short:
                thrown = follow = None
                if i != last:
                    if last in enabled:
                        preempted += 1
                    last = i
                event = before
            else:
                enabled = [
                    i for i in threads
                    if (s := pending[i]) is not None and ((m := models[i]) is None or m.enabled(i, s))
                ]
                if not enabled:
                    break
                if spurious and models[enabled[0]].__class__ is ConditionModel and self._hangs(enabled) \
                        and position >= self.hang_ends_at:
                    return DEADLOCKED
                if fair is not None:
                    enabled = fair.schedulable(enabled)
                if shared:
                    if position < n_previous:
                        before = previous[position]
                        if before[3] != enabled:
                            self._diverged(position, before, None, enabled)
                            return DIVERGED
                    else:
                        shared = False
                        self.agreed = position
                if position < forced:
                    i = before[0]
                else:
                    i = choose(enabled)
                    if i not in enabled:  # a work unit's start, made by a run that went otherwise
                        self._unchosen(position, i, enabled)
                        return DIVERGED
                if i != last:
                    if last in enabled:
                        preempted += 1
                    last = i
                step = pending[i]
                cls = step.__class__
                value = None
                thrown = follow = None
                if cls is Read:
                    value = sent = values[step[1]]
                    if taking and value.__class__ not in _PLAIN:
                        value = as_taken(value)  # logged as it is now; the thread gets the object
                elif cls is Write:
                    values[step[1]] = step[2]
                    sent = None
                    if taking and step[2].__class__ not in _PLAIN:
                        logged = as_taken(step[2])
                        if logged is not step[2]:
                            step = Write(step[1], logged)  # its dict may change in place later
                else:
                    try:
                        value = sent = models[i].step(i, step)
                    except Throw as throw:
                        thrown = throw.exception
                        value = Raised(thrown)  # what the thread saw: no value, this exception
                    except Misuse as misuse:
                        # raised into the thread, as threading raises it there: code that catches
                        # it goes on; if it escapes, the finding says what the misuse was
                        thrown = misuse.exception
                        value = Raised(thrown)
                        self.misused[i] = (misuse, self._misuse_text(i, misuse, len(events) + 1), location(gens[i]))
                    except _Failed:
                        if shared:
                            self.agreed = position
                        append((i, step, None, enabled))
                        if locate:
                            self.locations.append(where[i])
                        return FAILED
                    else:
                        special = value.__class__
                        if special is Continue or special is Recorded:
                            if special is Continue:
                                follow = value.step
                                value, sent = value.shown, None
                            else:
                                value, sent = value.shown, value.sent
                        if cls is Op:  # logged as taken: what it carries may change, or be made afresh
                            if len(step) > 2:
                                step = step_as_taken(step)
                            if value is not None and value.__class__ not in _PLAIN:
                                value = as_taken(value)
                event = (i, step, value, enabled)
                if shared:
                    if before[0] != i:
                        shared = False
                        self.agreed = position
                    else:
                        try:
                            same = before == event  # the usual case, without a call
                        except Exception:
                            same = False
                        if not same:
                            if _differs(before, event):
                                self._diverged(position, before, event, enabled)
                                return DIVERGED
                        elif value.__class__ in _PLAIN and before[2].__class__ is value.__class__ and (
                                before[1] is step or (cls is Write and step[2].__class__ in _PLAIN
                                                      and before[1][2].__class__ is step[2].__class__)):
                            # the previous run's event, as it is: the runs kept as witnesses
                            # share their common prefixes (1 and True are equal, not alike)
                            event = before
            append(event)
            if fair is not None:
                fair.stepped(enabled, i, self.yielded)
                self.yielded = False
            if locate:
                self.locations.append(where[i])
            position += 1
            self.preemptions = preempted
            if follow is not None:  # a two-phase step: the thread stays at its yield
                pending[i] = follow
                models[i] = self._model(follow)
                continue
            try:
                if thrown is not None:
                    step = gens[i].throw(thrown)
                else:
                    step = gens[i].send(sent)
            except StopIteration as stop:
                pending[i] = None
                models[i] = None
                returns[i] = stop.value
                if self.program.lock_names:
                    self.ended_at[i] = len(events)
                if self.daemons and self._only_daemons_left():
                    break
                continue
            except KeyboardInterrupt as stop:  # the time limit or Ctrl-C, in the thread's own code
                self._stopped(i, stop)
                raise
            except BaseException as exc:  # SystemExit and GeneratorExit too: findings, not crashes
                misused = self.misused.get(i)
                if misused is not None and exc is misused[0].exception:
                    self._misused(i, *misused)
                else:
                    self._raised(i, exc, len(events))
                return FAILED
            if step.__class__ is Read or step.__class__ is Write:
                try:
                    valid = step[1] in variables
                except Exception:
                    valid = False
                model = None
            else:
                model = self._model(step)
                valid = model is not None
            if not valid:
                self._bad_step(i, step, gens[i])
                return FAILED
            taken = counts[i] + 1
            counts[i] = taken
            if taken >= max_steps:
                self._truncated(i, max_steps)
                return TRUNCATED
            pending[i] = step
            models[i] = model
            if locate:
                where[i] = location(gens[i])
            verified = short and model is None

        if any(step is not None for step in pending):
            if all(step is None or i in self.daemons or models[i].idle(i, step)
                   for i, step in enumerate(pending)):
                self._close_idle()
            else:
                self._deadlocked()
                return DEADLOCKED
        for model in self.enders:
            model.at_end()
        return COMPLETED

    # ---- what the object models ask of the run (objects/base.py) ---------------------

    def object_keys(self) -> tuple:
        """Every object's part of the state key (stateful search, state graphs)."""
        return tuple((name, model.key()) for name, model in self.objects.items()
                     if model.__class__ is not VariableModel and model.__class__ is not ThreadModel)

    @property
    def owner(self) -> dict:
        """Each lock's holder (a thread number) or None."""
        objects = self.objects
        return {lock: objects[lock].owner if lock in objects else None for lock in self.program.lock_names}

    @property
    def depth(self) -> dict:
        """How many times each lock's holder holds it."""
        objects = self.objects
        return {lock: objects[lock].depth if lock in objects else 0 for lock in self.program.lock_names}

    @property
    def position(self) -> int:
        """The index of the step being executed."""
        return len(self.events)

    def sync(self, thread: int, absorb: object = None, publish: object = None) -> None:
        """Record a happens-before edge of the step being executed (races.py reads them)."""
        entry = self.syncs.get(len(self.events))
        if entry is None:  # an empty entry says "no edge" where objects.base.edges would assume one
            entry = self.syncs[len(self.events)] = []
        if publish is not None:
            entry.append((True, publish))
        if absorb is not None:
            entry.append((False, absorb))

    def gave_up(self, thread: int) -> None:
        """The step being executed let time pass for ``thread``: a sleep, or a timeout that
        fired. Under fair schedules that is a yield (fairness.py); otherwise nothing."""
        self.yielded = True

    def note(self, kind: str, severity: str, thread: int | None, key: tuple, message: str,
             details: dict) -> None:
        """A finding that does not end the run."""
        self._add(kind, severity, thread, key, message, details)

    def who(self, i: int) -> str:
        return self._who(i)

    def at(self, i: int) -> str:
        where = location(self.gens[i]) if i < len(self.gens) else None
        return f" ({where})" if where else ""

    def name(self, i: int) -> str:
        return self.program.thread_names[i]

    def index_of(self, name: str) -> int | None:
        return self.program.thread_index.get(name)

    def started(self, i: int) -> bool:
        return i < len(self.live) and self.live[i]

    def finished(self, i: int) -> bool:
        return i < len(self.live) and self.live[i] and self.pending[i] is None

    def name_taken(self, name: str) -> str | None:
        """Why ``name`` cannot name a new thread, or None."""
        index = self.program.thread_index.get(name)
        if index is not None and self.started(index):
            return "a thread of that name was already started in this run"
        if name in self.variables or name in self.program.declarations:
            return "that name is declared as a variable or an object"
        return None

    def add_object(self, name: str, model) -> None:
        self.objects[name] = model
        if type(model).at_end is not Model.at_end:
            self.enders.append(model)

    def start_thread(self, name: str, factory, parent: int) -> int:
        """Start a thread during the run (a spawn, a pool's worker); returns its number.
        A thread that cannot start ends the run (``_Failed``) with its finding."""
        index = self.program.register_thread(name)
        grow = index + 1 - len(self.pending)
        if grow > 0:
            for table in (self.pending, self.gens, self.models, self.where):
                table.extend([None] * grow)
            self.returns.extend([HIDDEN] * grow)
            self.counts.extend([0] * grow)
            self.threads.extend(range(len(self.threads), len(self.threads) + grow))
            self.live.extend([False] * grow)
        if self.fairness is not None:
            self.fairness.grow(len(self.threads), index)
        self.live[index] = True
        self.returns[index] = None
        self.objects[name] = ThreadModel(name, self)
        self.sync(parent, publish=("start", index))
        if not self._begin(index, factory):
            raise _Failed
        return index

    def _begin(self, i: int, factory) -> bool:
        """Run thread ``i``'s body to its first step; False when that ended the run."""
        try:
            outcome, gen, payload = start(factory)
        except KeyboardInterrupt as stop:
            self._stopped(i, stop)
            raise
        self.gens[i] = gen
        if outcome is RETURNED:
            self.returns[i] = payload
            return True
        if outcome is RAISED or outcome is NOT_A_GENERATOR or outcome is ALREADY_RAN:
            if outcome is ALREADY_RAN:
                self.gens[i] = None  # another thread's, or an earlier run's: not this one's to close
            self._failed_start(i, outcome, payload, gen, factory)
            return False
        if payload.__class__ is Read or payload.__class__ is Write:
            model = None
            try:
                valid = payload[1] in self.variables
            except Exception:
                valid = False
        else:
            model = self._model(payload)
            valid = model is not None
        if not valid:
            self._bad_step(i, payload, gen)
            return False
        self.pending[i] = payload
        self.models[i] = model
        if self.locate:
            self.where[i] = location(gen)
        return True

    def _model(self, step: object):
        """The model that executes ``step``, or None when nothing declared takes it."""
        try:
            kind = step[0]
            model = None if kind == "spawn" else self.objects.get(step[1])
            if model is None and step.__class__ is Op:
                model = self._implicit(kind, step[1])
        except Exception:
            return None
        if model is None or kind not in model.accepts or step.__class__ not in _STEP_CLASSES:
            return None
        return model

    def _implicit(self, kind: str, name: str):
        """The model of an object no declaration makes: a variable's (for ``update``), a
        thread's handle (for ``join``; a name not started yet joins as such), the spawner."""
        if kind == "spawn":
            if self.spawner is None:
                self.spawner = Spawner("spawn", self)
            return self.spawner
        if kind == "update" and name in self.variables:
            model = self.objects[name] = VariableModel(name, self)
            return model
        if kind == "join" or kind == "is_alive" or kind == "alive_threads":
            model = self.objects[name] = ThreadModel(name, self)
            return model
        if kind == "sleep":
            if self.sleeper is None:
                self.sleeper = SleepModel("time", self)
            return self.sleeper
        if kind == "end":
            return ProgramEnd("end", self)
        return None

    def _misuse_text(self, i: int, misuse: Misuse, position: int) -> str:
        return f"{self._who(i)}, at step {position}{self.at(i)} {misuse.message}"

    def _misused(self, i: int, misuse: Misuse, message: str, where: str | None) -> None:
        """A step threading refuses (``Misuse``) whose exception the thread did not catch."""
        self._add("error", "error", i, misuse.key, message, {"exception": misuse.exception, "location": where})

    def only_daemons_besides(self, thread: int) -> bool:
        """Whether every thread but ``thread`` has ended, is a daemon, or idles (a pool's worker)."""
        daemons, models = self.daemons, self.models
        # (a read or a write has no model: a thread about to take one is not idle)
        return all(step is None or i == thread or i in daemons or (models[i] is not None and models[i].idle(i, step))
                   for i, step in enumerate(self.pending))

    def _only_daemons_left(self) -> bool:
        """Whether every thread still running is a daemon or a pool's idle worker: the
        program has ended, and the interpreter's exit ends them where they are (threading's
        daemon threads; the pools' workers, which it shuts down). Idle workers left running
        let a daemon run on after the end (found by a review: a daemon's write after main's
        end, beside a ThreadPoolExecutor, was never left undone)."""
        return self.only_daemons_besides(-1)

    def _close_idle(self) -> None:
        """Threads idle at the end (a pool's workers with no task) end as the interpreter
        would end them at exit, as are daemon threads stopped by the program's end. The
        strategy keeps the steps they were about to take (the list it was given stays as it
        was), so dpor can try them before the end: an idle worker's take could have taken a
        task another worker ran ('A: submit pool{w x=0} | B: submit pool{r x}' with two
        workers: dpor ran both tasks on one worker and missed the race of the two)."""
        self.pending = list(self.pending)
        for i, step in enumerate(self.pending):
            if step is not None:
                self.pending[i] = None
                self.models[i] = None
                self.returns[i] = HIDDEN
                gen = self.gens[i]
                if gen is not None:
                    gen.close()

    # ---- rare paths: each turns what happened into a finding --------------------------

    def _name(self, i: int) -> str:
        return self.program.thread_names[i]

    def _who(self, i: int) -> str:
        """How a message about a thread's fault begins: the scenario and the thread."""
        return f"scenario {self.program.scenario.name!r}: thread {self._name(i)}"

    def _when(self) -> str:
        """Where in the execution a fault shows: after the trace's last step."""
        steps = len(self.events)
        return f"after step {steps}" if steps else "before its first step"

    def _failed_start(self, i: int, outcome: object, payload: object, gen: object, factory) -> None:
        name = self._who(i)
        if outcome is NOT_A_GENERATOR:
            what = type(payload).__name__
            hint = _not_a_generator_hint(factory, payload)
            message = (
                f"{name} did not start: calling {_describe(factory)} returned {what} "
                f"{_short_repr(payload)}, not a generator. A thread body must be a generator "
                f"function that yields steps (value = yield read('x')); {hint}"
            )
            self._add("error", "error", i, ("not-a-generator", what), message,
                      {"returned": payload})
            return
        if outcome is ALREADY_RAN:
            at = location(gen) if gen.gi_frame is not None else None
            state = f"suspended at {at}" if at else "suspended" if gen.gi_frame is not None else "finished"
            message = (
                f"{name} did not start: calling {_describe(factory)} returned a generator that has "
                f"already run ({state}): one generator object shared by two threads, or made once "
                f"and handed to every run. Give the thread the generator function itself, or a "
                f"lambda or functools.partial that calls it, so each thread of each run gets a new one")
            self._add("error", "error", i, ("already-ran",), message, {"generator": gen})
            return
        text = safe_str(payload)
        where = exception_location(payload)
        if isinstance(payload, StepTimeout):
            self._timed_out(i, payload)
            return
        if gen is not None:  # the body itself raised, before yielding anything
            shared = self._shared_delegate(i)
            message = (f"{name} raised {type(payload).__name__}: {text} before its first step"
                       + (f", at {where}" if where else "") + (f"; {shared}" if shared else ""))
            details = {"exception": payload, "location": where}
            if shared:
                details["shared"] = shared
            self._add("error", "error", i, ("raised", type(payload).__name__, text, where), message, details)
            return
        message = (
            f"{name} did not start: calling {_describe(factory)} raised "
            f"{type(payload).__name__}: {text}"
        )
        if isinstance(payload, TypeError) and "argument" in text:
            message += (". Check the arguments the thread is given (functools.partial or "
                        "lambda) against the function's signature.")
        self._add("error", "error", i, ("start", type(payload).__name__, text), message,
                  {"exception": payload, "location": exception_location(payload)})

    def _raised(self, i: int, exc: BaseException, steps: int) -> None:
        if isinstance(exc, StepTimeout):
            self._timed_out(i, exc)
            return
        name = self._who(i)
        where = exception_location(exc)
        at = f" at {where}" if where else ""
        text = safe_str(exc)
        shared = self._shared_delegate(i)
        said = f": {text}" if text else ""  # queue.Empty() says nothing: "raised Empty at ...", not "Empty:  at"
        message = f"{name} raised {type(exc).__name__}{said}{at}, after step {steps}" + (f"; {shared}" if shared else "")
        details = {"exception": exc, "location": where}
        if shared:
            details["shared"] = shared  # (a replay that fails otherwise names it: search._check_witnesses)
        self._add("error", "error", i, ("raised", type(exc).__name__, text, where), message, details)

    def _shared_delegate(self, i: int) -> str:
        """Why thread ``i`` failed, where it ran a generator another thread delegates to (two
        threads that ``yield from`` one generator object: each resumes the other's body):
        a clause to add to its error, or "". A thread suspended in ``yield from`` a generator
        that has finished, or that ``i`` holds too, shows it; nothing else can finish it."""
        mine = set(map(id, _chain(self.gens[i])))
        for j, gen in enumerate(self.gens):
            if j == i:
                continue
            for inner in _chain(gen)[1:]:
                if inner.gi_frame is None or id(inner) in mine:
                    code = inner.gi_code
                    return (f"thread {self._name(j)} is suspended in `yield from` {code.co_name}() "
                            f"({_short(code.co_filename)}:{code.co_firstlineno}), which this thread ran too: two threads "
                            f"delegate to one generator object, so each resumes the other's; make a new "
                            f"one in each thread (yield from {code.co_name}(...))")
        return ""

    def _stopped(self, i: int, stop: KeyboardInterrupt) -> None:
        """Note where the time limit or Ctrl-C stopped the run, when it landed in thread
        ``i``'s own code (between two of its steps) rather than in explorer's: the result
        says so (``ExplorationResult.stopped_in``)."""
        where = exception_location(stop)
        if where is not None:
            self.stopped_in = f"thread {self._name(i)}'s code {self._when()}, at {where}"

    def _timed_out(self, i: int, exc: StepTimeout) -> None:
        where = exception_location(exc)
        message = (
            f"{self._who(i)} ran for more than step_timeout={exc.seconds:g}s without yielding a step "
            f"({self._when()}{f', interrupted at {where}' if where else ''}): an endless loop with no "
            f"step in it, or code that blocks (sleep, I/O, a real lock). Every loop in a thread body "
            f"must yield a step; raise step_timeout if the code is just slow. The search stops here."
        )
        if exc.blocked:  # in a real threading object (real_blocking.py): named, with the fix
            message = f"{self._who(i)} {exc.blocked} ({self._when()}). The search stops here."
        self._add("step-timeout", "error", i, (where,), message,
                  {"step_timeout": exc.seconds, "location": where})

    def _bad_step(self, i: int, step: object, gen: object) -> None:
        name = self._who(i)
        where = location(gen)
        at = f" at {where}" if where else ""
        at += f", {self._when()}"
        if isinstance(step, (Read, Write, Acquire, Release, Op)):
            message, key = self._unknown_name(step)
            message = f"{name} yielded {_short_repr(step)}{at}, but {message}"
        else:
            message = (
                f"{name} yielded {_short_repr(step)} ({type(step).__name__}){at}; a "
                f"scenario may only yield read(), write(), acquire(), release(), or a step on "
                f"a declared object (wait(), put(), join(), ...)"
                + ("; a bare `yield` yields None: end a thread with `return`, not `yield`"
                   if step is None else "")
            )
            key = ("not-a-step", type(step).__name__, where)
        self._add("error", "error", i, key, message, {"yielded": step, "location": where})

    def _unknown_name(self, step: tuple) -> tuple[str, tuple]:
        """Why a step's name does not fit: undeclared, or an object of another kind."""
        kind, target = step[0], step[1]
        key = ("unknown-name", kind, repr(target))
        if kind in ("read", "write"):
            return (f"{target!r} is not a declared variable; the scenario declares variables "
                    f"{sorted(self.variables)}"), key
        model = self.objects.get(target)
        if model is None and target in self.variables:
            return (f"{target!r} is a variable, which takes read, write, update, not {kind}"), \
                ("wrong-kind", kind, repr(target))
        if model is None:
            what = "lock" if kind in ("acquire", "release") else "object"
            names = sorted(n for n, m in self.objects.items()
                           if not isinstance(m, (VariableModel, ThreadModel)))
            return (f"{target!r} is not a declared {what}; the scenario declares {what}s {names}"
                    if what == "lock" else
                    f"{target!r} is not declared; the scenario declares objects {names}"), key
        declaration = self.program.declarations.get(target)
        what = ("variable" if isinstance(model, VariableModel) else "thread" if isinstance(model, ThreadModel)
                else declaration.kind if declaration is not None else "future")
        takes = ", ".join(sorted(k for k in model.accepts
                                 if k not in ("expire", "wake", "pass", "take", "finish", "drain")))
        return (f"{target!r} is a {what}, which takes {takes}, not {kind}"), ("wrong-kind", kind, repr(target))

    def _check_locks_at_end(self) -> None:
        """A lock a finished thread still holds when the run ends. Checked at the end, not
        when the thread returns: another thread may release a plain Lock after its holder
        ended (a foreign release), and whether it did is the same in every run of one
        trace, while the order of that release and the holder's last step is not. Only for
        runs that end by themselves (completed or deadlocked): where an error cuts a run
        short, what was left held depends on which independent steps came before it."""
        for lock in self.program.lock_names:
            model = self.objects.get(lock)
            if model is None:  # made by plain code in other runs, not in this one
                continue
            i = model.owner
            if i is not None and i in self.ended_at and self.pending[i] is None:
                message = (f"{self._who(i)} finished after step {self.ended_at[i]} while holding lock "
                           f"{lock!r}; it stays locked, and any thread that acquires it later blocks forever")
                self._add("lock-held-at-exit", "warning", i, (lock,), message, {"lock": lock})

    def _truncated(self, i: int, max_steps: int) -> None:
        where = location(self.gens[i])
        spin = _spinning(self.events, i)
        if spin is None:
            why = ("an endless loop, or a livelock where threads wait on each other while "
                   "stepping; raise max_steps if the thread is just long")
        else:
            steps, pattern = spin
            said = ", ".join(_describe_event(event) for event in pattern)
            if not any(pending is not None for j, pending in enumerate(self.pending) if j != i):
                why = (f"an endless loop: for its last {steps:,} steps it repeated {said}, and no other "
                       f"thread is left to change what it reads")
            elif self.fairness is not None:
                why = (f"for its last {steps:,} steps it repeated {said} while no other thread ran: a "
                       f"loop that polls for a change only another thread can make, without sleeping or "
                       f"a timeout, so even a fair schedule may run it alone (fair schedules let the others "
                       f"run only after a sleep or a timeout that fired); wait on an Event, a Condition or "
                       f"a join instead, or sleep in the loop")
            else:
                why = (f"for its last {steps:,} steps it repeated {said} while no other thread ran: a "
                       f"loop that polls for a change only another thread can make. Schedules need not "
                       f"be fair (one that never runs the others again is a schedule like any other), so "
                       f"every strategy finds this one; wait on an Event, a Condition or a join instead "
                       f"of polling, or keep max_steps small (a polling loop's schedules grow with it)")
                if self.yielded:  # a step of this run slept or timed out (unfair runs never reset it)
                    why += (". Its loop sleeps or waits with a timeout: --fair (explore(fair=True)) "
                            "assumes fair schedules, where a thread that slept or timed out lets the others "
                            "run first, and such loops end")
        message = (f"{self._who(i)} did not finish within max_steps={max_steps} steps ({self._when()}"
                   f"{f', at {where}' if where else ''}): {why}")
        self._add("max-steps", "error", i, (), message, {"max_steps": max_steps})

    def _hangs(self, enabled: list[int]) -> bool:
        """With spurious wakeups: where the only steps left are condition wake-ups that no
        notify allows, the run goes on with one (a spurious wakeup is allowed), but a run
        on real threads, where CPython never wakes a waiter so, stops here for good: the
        deadlock it is shows here (unless only idle threads and daemons are left, as at a
        run's end). A reduced search reaches this state: such a wake-up is dependent with
        every step (``Program.touches_everything``). Whether the state is one."""
        pending, models = self.pending, self.models
        wakes_spuriously = self.program.wakes_spuriously
        for i in enabled:
            model = models[i]
            if model.__class__ is not ConditionModel or not wakes_spuriously(pending[i]) or model.notified(i):
                return False
        daemons = self.daemons
        if all(step is None or i in daemons or models[i].idle(i, step) for i, step in enumerate(pending)):
            return False
        conditions = [model for model in self.objects.values() if model.__class__ is ConditionModel]
        for model in conditions:  # worded as the waits are without spurious wakeups
            model.spurious = False
        try:
            self._deadlocked(" Only a spurious wakeup would end it, and CPython makes none: a run on real "
                             "threads stops here for good (exploration goes on with one)")
        finally:
            for model in conditions:
                model.spurious = True
        return True

    def _deadlocked(self, hang: str = "") -> None:
        """The run's deadlock: every thread left waits. ``hang``: the words said of a
        state where only spurious wakeups are left (:meth:`_hangs`); the run goes on."""
        names = self.program.thread_names
        waits = []
        waits_on: dict[int, int | None] = {}
        blocked_at: dict[str, str | None] = {}
        waiting_for: dict[str, str] = {}
        waiting_in: dict[str, str] = {}
        parts = []
        marks: dict[int, str] = {}
        for i, step in enumerate(self.pending):
            if step is None:
                continue
            model = self.models[i]
            what, holder = model.waiting(i, step)
            waits_on[i] = holder
            finished = holder is not None and self.pending[holder] is None
            waits.append((names[i], step[1], None if holder is None else names[holder], finished))
            blocked_at[names[i]] = location(self.gens[i])
            waiting_for[names[i]] = what
            waiting_in[names[i]] = waiting_words(step[0], step[1])
            marks.update(model.marks(i, step))
            if holder == i:
                parts.append(f"{names[i]} waits for {what}, which {names[i]} itself holds"
                             + (" (a plain Lock is not re-entrant)" if step[0] == "acquire" else ""))
            elif finished:
                parts.append(f"{names[i]} waits for {what}, held by {names[holder]}, which has "
                             f"finished without releasing it")
            elif holder is not None and model.__class__ is not ThreadModel:
                parts.append(f"{names[i]} waits for {what} held by {names[holder]}")
            else:
                parts.append(f"{names[i]} waits for {what}")
        cycle = _find_cycle(waits_on)
        message = "deadlock: " + "; ".join(parts)
        if cycle:
            message += ". Cycle: " + " -> ".join(names[i] for i in cycle)
        lost = any("lost wakeup" in part for part in parts)
        marks.update(self._holding_marks(waits_on))
        key = tuple(sorted(waits, key=repr))
        for n, finding in enumerate(self.findings):
            if finding.kind == "deadlock" and finding.key[2:] == key:  # a state of this run showed it (_hangs)
                if hang or not finding.details["spurious_only"]:
                    return
                del self.findings[n]  # the run ends in it: said as a deadlock with no way out
                break
        if hang:
            message += "." + hang
        self._add("deadlock", "error", None, key, message,
                  {"waits": waits, "cycle": [names[i] for i in cycle], "blocked_at": blocked_at,
                   "marks": marks, "lost_wakeup": lost, "waiting_for": waiting_for,
                   "waiting_in": waiting_in, "spurious_only": bool(hang)})

    def _holding_marks(self, waits_on: dict[int, int | None]) -> dict[int, str]:
        """Each acquisition a blocked thread waits on: the holder's last acquire of that lock."""
        names = self.program.thread_names
        marks = {}
        for waiter, holder in waits_on.items():
            if holder is None:
                continue
            model = self.models[waiter]
            lock = getattr(getattr(model, "lock", model), "name", None)
            for position in range(len(self.events) - 1, -1, -1):
                thread, step = self.events[position][0], self.events[position][1]
                if thread == holder and step[0] in ("acquire", "wake") and step[1] == lock:
                    marks[position] = f"{lock} taken; {names[waiter]} waits for it"
                    break
        return marks

    def _diverged(self, position: int, before: tuple, event: tuple | None, enabled: list) -> None:
        names = self.program.thread_names
        if event is None:
            detail = (f"the enabled threads were {[names[t] for t in before[3]]} before and are "
                      f"{[names[t] for t in enabled]} now")
        else:
            cause = _unsuited_write(before, event)
            if cause:
                message = (f"scenario {self.program.scenario.name!r}: thread {names[event[0]]} at step "
                           f"{position + 1} wrote {shown(event[1][2])} to {event[1][1]!r}, {cause}")
                self._add("nondeterminism", "error", None, (), message, {"step": position + 1})
                return
            detail = (f"thread {names[event[0]]} did {_describe_event(before)} before and "
                      f"{_describe_event(event)} now")
        self._ran_differently(position, detail)

    def _unchosen(self, position: int, thread: int, enabled: list) -> None:
        """The schedule names ``thread`` at ``position``, where it ran in the run that made
        the schedule (a parallel search's unit replays another process's run), and it cannot
        run now."""
        names = self.program.thread_names
        name = names[thread] if 0 <= thread < len(names) else f"#{thread}"
        self._ran_differently(position, f"thread {name} ran there before and cannot run now (the enabled "
                                        f"threads are {[names[t] for t in enabled]})")

    def _ran_differently(self, position: int, detail: str) -> None:
        message = (f"scenario {self.program.scenario.name!r} is nondeterministic: the same schedule "
                   f"ran differently at step {position + 1}: {detail}. Exploration assumes each thread "
                   f"does the same thing given the same values read; randomness, time, or state kept "
                   f"between runs (globals, default arguments, closures) break that.")
        self._add("nondeterminism", "error", None, (), message, {"step": position + 1})

    def _ended_early(self, previous: Sequence[tuple], status: str) -> None:
        """A run that ended (``status``) within the previous run, every step of it the same."""
        before = previous[len(self.events)]
        self._ended_before(f"thread {self.program.thread_names[before[0]]} did {_describe_event(before)}", status)

    def ended_before(self, thread: int, status: str) -> None:
        """A run that ended (``status``) where the search had seen ``thread`` take a step
        (stateful search's graph walk learned each step of a thread once)."""
        self._ended_before(f"thread {self.program.thread_names[thread]} took a step", status)

    def _ended_before(self, went_on: str, status: str) -> None:
        position = len(self.events)
        how = "failed" if status is FAILED else "deadlocked" if status is DEADLOCKED else "ended"
        # what failed, which the previous run did not
        failure = ""
        if status is FAILED and self.findings:
            failure = f" This run failed with: {clipped(self.findings[-1].message, 300)}"
        message = (f"scenario {self.program.scenario.name!r} is nondeterministic: the same schedule "
                   f"ran differently after step {position}: the run {how} there, and before it went on "
                   f"({went_on}).{failure} "
                   f"Exploration assumes each thread does the same thing given the same values read; "
                   f"randomness, time, or state kept between runs (globals, default arguments, "
                   f"closures) break that.")
        self._add("nondeterminism", "error", None, (), message, {"step": position + 1, "ended": True})

    def _add(self, kind: str, severity: str, thread: int | None, key: tuple, message: str,
             details: dict) -> None:
        details["position"] = len(self.events)
        self.findings.append(RawFinding(kind, severity, thread, (kind, thread) + key, message, details))

    def _close_threads(self) -> None:
        """Close suspended generators now, in thread order, so their ``finally`` blocks run
        deterministically here rather than whenever the garbage collector gets to them."""
        for i, gen in enumerate(getattr(self, "gens", ())):
            if gen is None or gen.gi_frame is None:
                continue
            try:
                gen.close()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit and the step timeout too: findings, not crashes
                text = safe_str(exc)
                if isinstance(exc, StepTimeout):
                    text = f"its code ran past step_timeout={exc.seconds:g}s"
                message = (f"{self._who(i)} raised {type(exc).__name__}: {text} while being "
                           f"closed at the end of the execution (in a finally block, or by "
                           f"yielding after GeneratorExit)")
                self._add("close-error", "warning", i, (type(exc).__name__, text), message,
                          {"exception": exc, "location": exception_location(exc)})
                abandon(gen)


class _Failed(Exception):
    """A model's step ended the run with a finding already recorded (a spawned thread
    that could not start)."""


_STEP_CLASSES = (Acquire, Release, Op)


def _differs(before: tuple, event: tuple) -> bool:
    """Whether two events differ. Equal values can compare unequal (nan) or refuse to
    compare (arrays); those fall back to comparing reprs."""
    try:
        if before == event:
            return False
        if _holds_taken(before) or _holds_taken(event):
            return True  # compared by shape, which stands for nan by its text already
    except Exception:
        pass
    try:
        return repr(before[1:3]) != repr(event[1:3]) or before[3] != event[3]
    except Exception:
        return True


def _holds_taken(event: tuple) -> bool:
    return event[2].__class__ is Taken or any(item.__class__ is Taken for item in event[1][2:])


def _unsuited_write(before: tuple, event: tuple) -> str | None:
    """Why the write ``event`` differs from the same write of the previous run when its
    value is no value at all (an object compared by identity, made afresh in every run; a
    list changed after it was written), else None: the run is then not nondeterministic."""
    step, earlier = event[1], before[1]
    if step.__class__ is not Write or earlier.__class__ is not Write or step[1] != earlier[1]:
        return None
    value, kind = step[2], step[2].__class__
    if kind is not earlier[2].__class__:
        return None
    if kind.__hash__ is None:
        return (f"a {kind.__name__}, which is not hashable, and changed it after writing it (the same "
                f"schedule's write showed {shown(earlier[2])} by the end of the run before). Shared values "
                f"must be hashable and never mutated in place: write a tuple, not a list, and write a "
                f"new value instead of changing the old one.")
    if compared_by_identity(value):
        return (f"an object of class {kind.__name__} compared by identity: each run makes another, "
                f"unequal to the last run's, and equal final states would not count as equal. Write a "
                f"frozen dataclass (@dataclass(frozen=True)), a namedtuple or a tuple instead, and a new "
                f"value instead of changing one in place.")
    try:
        unequal = kind not in _PLAIN and value != value  # noqa: PLR0124 - what is checked
    except Exception as exc:  # noqa: BLE001 - the user's to see
        return (f"a {kind.__name__} whose == raised {type(exc).__name__}: {safe_str(exc)}, so no run's write "
                f"can be compared with the last run's, nor final states holding it counted. Write a value "
                f"that compares without raising.")
    if unequal:
        return (f"a {kind.__name__} that is not equal to itself (as Decimal('NaN') is), so no run's "
                f"write equals the last run's and final states holding it never count as equal. Write a "
                f"value that equals itself (explorer treats float NaN as one value, but not this).")
    return None


def safe_str(exc: BaseException) -> str:
    """``str(exc)``, or a stand-in where its ``__str__`` raises."""
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__} whose str() raised>"


def clipped(text: str, limit: int = 160) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _chain(gen: object) -> list:
    """A thread's generator and those it delegates to through ``yield from``, outermost first."""
    chain = []
    while isinstance(gen, types.GeneratorType):
        chain.append(gen)
        gen = gen.gi_yieldfrom
    return chain


def _find_cycle(waits_on: dict[int, int | None]) -> list[int]:
    """The first cycle in the wait-for relation, as thread indices ending where it began."""
    for begin in waits_on:
        path, seen = [begin], {begin}
        current = waits_on.get(begin)
        while current is not None and current in waits_on:
            if current in seen:
                cycle = path[path.index(current):]
                return cycle + [current]
            path.append(current)
            seen.add(current)
            current = waits_on[current]
    return []


def _describe(factory: object) -> str:
    name = getattr(factory, "__qualname__", None) or getattr(getattr(factory, "func", None), "__qualname__", None)
    return f"{name}()" if name else repr(factory)


def _not_a_generator_hint(factory: object, returned: object) -> str:
    if inspect.iscoroutine(returned) or inspect.iscoroutinefunction(factory):
        return "this is a coroutine (async def): write it with def and yield steps instead of await"
    if inspect.isasyncgen(returned) or inspect.isasyncgenfunction(factory):
        return ("this is an async generator (async def with yield): drop the async, keep the yields of "
                "steps, and replace each await by a step")
    if returned is None:
        return "this function returned None: give it at least one `yield` of a step"
    return "a plain function is not one: replace its body's `return` of a value by yields of steps"


#: The longest cycle of steps :func:`_spinning` looks for, and how many times it must repeat.
SPIN_PERIOD, SPIN_REPEATS = 8, 3


def _spinning(events: Sequence[tuple], thread: int) -> tuple[int, list[tuple]] | None:
    """Whether ``thread``'s last steps, with no other thread's between them, repeat one
    cycle of at most :data:`SPIN_PERIOD` steps (the same steps, the same values) at least
    :data:`SPIN_REPEATS` times: how many steps repeat it, and the cycle; else None."""
    tail = 0
    for event in reversed(events):
        if event[0] != thread:
            break
        tail += 1
    for period in range(1, SPIN_PERIOD + 1):
        if tail < period * SPIN_REPEATS:
            return None
        last = len(events) - 1
        same = 0
        try:
            while same < tail - period and _same_step(events[last - same], events[last - same - period]):
                same += 1
        except Exception:  # noqa: BLE001 - a value whose == fails is no cycle we can show
            return None
        if same + period >= period * SPIN_REPEATS:
            return same + period, list(events[len(events) - period:])
    return None


def _same_step(event: tuple, other: tuple) -> bool:
    return bool(event[1] == other[1]) and event[2].__class__ is other[2].__class__ and bool(event[2] == other[2])


def _describe_event(event: tuple) -> str:
    step, value = event[1], event[2]
    return f"{shown(step)} -> {shown(value)}" if step[0] == "read" else shown(step)


def _short_repr(value: object, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} with a failing repr>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
