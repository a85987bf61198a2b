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
from collections.abc import Callable, Sequence
from threading import get_ident

from ..steps import Acquire, Read, Write
from .driver import NOT_A_GENERATOR, RAISED, RETURNED, exception_location, location, start
from .program import Program
from .watchdog import DEADLINES, NO_DEADLINE, RUNNING, StepTimeout, TimeLimitReached

COMPLETED, DEADLOCKED, FAILED, TRUNCATED, DIVERGED = "completed", "deadlocked", "failed", "truncated", "diverged"
HUNG = "hung"  # a step ran past the watchdog's step_timeout: the search stops

UNLIMITED = sys.maxsize


class RawFinding:
    """A finding as the engine records it: cheap to make, turned public later."""

    __slots__ = ("details", "key", "kind", "message", "severity", "thread")

    def __init__(self, kind: str, severity: str, thread: int | None, key: tuple, message: str,
                 details: dict | None = None) -> None:
        self.kind = kind
        self.severity = severity
        self.thread = thread
        self.key = key
        self.message = message
        self.details = details or {}


class Execution:
    """The state of one run of a program, and its record once finished."""

    __slots__ = (
        "depth",
        "events",
        "findings",
        "gens",
        "locations",
        "owner",
        "pending",
        "preemptions",
        "program",
        "returns",
        "status",
        "values",
    )

    def __init__(self, program: Program) -> None:
        self.program = program
        self.status: str | None = None
        self.events: list[tuple] = []
        self.locations: list[str | None] | None = None
        self.findings: list[RawFinding] = []
        self.preemptions = 0  # switches away from a thread that could have continued

    def run(self, choose: Callable[[list[int]], int], max_steps: int = UNLIMITED,
            previous: Sequence[tuple] = (), locate: bool = False) -> str:
        """Run to the end and return the status; ``previous`` is the last execution's events."""
        me = get_ident()
        RUNNING[me] = self  # for the watchdog (watchdog.py), which interrupts a step that never yields
        status = None
        try:
            status = self._run(choose, max_steps, previous, locate)
            if status is FAILED and self.findings[-1].kind == "step-timeout":
                status = HUNG
        finally:
            if status is not COMPLETED:
                self._close_threads()  # still watched: a finally block can loop forever too
            RUNNING.pop(me, None)
        self.status = status
        return status

    def _run(self, choose, max_steps, previous, locate) -> str:
        program = self.program
        k = len(program.thread_names)
        targets = program.targets
        reentrant = program.reentrant
        values = self.values = dict(program.initial)
        owner = self.owner = dict.fromkeys(program.lock_names)
        depth = self.depth = dict.fromkeys(program.lock_names, 0)
        pending: list = [None] * k
        gens: list = [None] * k
        returns: list = [None] * k
        self.pending, self.gens, self.returns = pending, gens, returns
        counts = [0] * k
        events = self.events
        append = events.append
        where: list = [None] * k
        if locate:
            self.locations = []

        failed = False  # every thread is started, so each one that cannot start is reported
        for i, factory in enumerate(program.factories):
            outcome, gen, payload = start(factory)
            gens[i] = gen
            if outcome is RETURNED:
                returns[i] = payload
            elif outcome is RAISED or outcome is NOT_A_GENERATOR:
                self._failed_start(i, outcome, payload, gen)
                failed = True
            elif not self._valid(payload):
                self._bad_step(i, payload, gen)
                failed = True
            else:
                pending[i] = payload
                if locate:
                    where[i] = location(gen)
        if failed:
            return FAILED

        last = -1
        preempted = 0
        n_previous = len(previous)
        shared = n_previous > 0
        before = None
        position = 0
        threads = range(k)
        passed = DEADLINES.get(get_ident(), NO_DEADLINE).passed  # the watchdog sets it at the time limit
        while True:
            if passed[0]:
                raise TimeLimitReached
            enabled = [
                i for i in threads
                if (s := pending[i]) is not None
                and (s.__class__ is not Acquire or (o := owner[s[1]]) is None or (o == i and reentrant[s[1]]))
            ]
            if not enabled:
                break
            if shared:
                if position < n_previous:
                    before = previous[position]
                    if before[3] != enabled:
                        self._diverged(position, before, None, enabled)
                        return DIVERGED
                else:
                    shared = False
            i = choose(enabled)
            if i != last:
                if last in enabled:
                    preempted += 1
                last = i
            step = pending[i]
            cls = step.__class__
            value = None
            if cls is Read:
                value = values[step[1]]
            elif cls is Write:
                values[step[1]] = step[2]
            elif cls is Acquire:
                lock = step[1]
                owner[lock] = i
                depth[lock] += 1
            else:
                lock = step[1]
                if owner[lock] == i:
                    left = depth[lock] - 1
                    depth[lock] = left
                    if left == 0:
                        owner[lock] = None
                elif self._foreign_release(i, lock):
                    append((i, step, None, enabled))
                    if locate:
                        self.locations.append(where[i])
                    return FAILED
            event = (i, step, value, enabled)
            if shared:
                if before[0] != i:
                    shared = False
                elif _differs(before, event):
                    self._diverged(position, before, event, enabled)
                    return DIVERGED
            append(event)
            if locate:
                self.locations.append(where[i])
            position += 1
            self.preemptions = preempted
            try:
                step = gens[i].send(value)
            except StopIteration as stop:
                pending[i] = None
                returns[i] = stop.value
                self._check_locks_at_exit(i)
                continue
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # SystemExit and GeneratorExit too: findings, not crashes
                self._raised(i, exc, len(events))
                return FAILED
            try:
                valid = step[1] in targets[step.__class__]
            except Exception:
                valid = False
            if not valid:
                self._bad_step(i, step, gens[i])
                return FAILED
            taken = counts[i] + 1
            counts[i] = taken
            if taken >= max_steps:
                self._truncated(i, max_steps)
                return TRUNCATED
            pending[i] = step
            if locate:
                where[i] = location(gens[i])

        if any(step is not None for step in pending):
            self._deadlocked()
            return DEADLOCKED
        return COMPLETED

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

    def _valid(self, step: object) -> bool:
        try:
            return step[1] in self.program.targets[step.__class__]
        except Exception:
            return False

    def _failed_start(self, i: int, outcome: object, payload: object, gen: object) -> None:
        name = self._who(i)
        factory = self.program.factories[i]
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
        text = _safe_str(payload)
        where = exception_location(payload)
        if isinstance(payload, StepTimeout):
            self._timed_out(i, payload)
            return
        if gen is not None:  # the body itself raised, before yielding anything
            message = (f"{name} raised {type(payload).__name__}: {text} before its first step"
                       + (f", at {where}" if where else ""))
            self._add("error", "error", i, ("raised", type(payload).__name__, text, where), message,
                      {"exception": payload, "location": where})
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
        text = _safe_str(exc)
        message = f"{name} raised {type(exc).__name__}: {text}{at}, after step {steps}"
        self._add("error", "error", i, ("raised", type(exc).__name__, text, where), message,
                  {"exception": exc, "location": where})

    def _timed_out(self, i: int, exc: StepTimeout) -> None:
        where = exception_location(exc)
        message = (
            f"{self._who(i)} ran for more than step_timeout={exc.seconds:g}s without yielding a step "
            f"({self._when()}{f', interrupted at {where}' if where else ''}): an endless loop with no "
            f"step in it, or code that blocks (sleep, I/O, a real lock). Every loop in a thread body "
            f"must yield a step; raise step_timeout if the code is just slow. The search stops here."
        )
        self._add("step-timeout", "error", i, (where,), message,
                  {"step_timeout": exc.seconds, "location": where})

    def _bad_step(self, i: int, step: object, gen: object) -> None:
        name = self._who(i)
        where = location(gen)
        at = f" at {where}" if where else ""
        at += f", {self._when()}"
        known = self.program.targets.get(step.__class__) if isinstance(step, tuple) else None
        if known is not None:
            what = "variable" if step[0] in ("read", "write") else "lock"
            declared = sorted(known)
            message = (
                f"{name} yielded {step!r}{at}, but {step[1]!r} is not a declared "
                f"{what}; the scenario declares {what}s {declared}"
            )
            key = ("unknown-name", step[0], repr(step[1]))
        else:
            message = (
                f"{name} yielded {_short_repr(step)} ({type(step).__name__}){at}; a "
                f"scenario may only yield read(), write(), acquire() or release() steps"
                + ("; a bare `yield` yields None: end a thread with `return`, not `yield`"
                   if step is None else "")
            )
            key = ("not-a-step", type(step).__name__, where)
        self._add("error", "error", i, key, message, {"yielded": step, "location": where})

    def _foreign_release(self, i: int, lock: str) -> bool:
        """A release of a lock ``i`` does not hold. Returns True when it is an error."""
        where = location(self.gens[i])
        name = f"{self._who(i)}, at step {len(self.events) + 1}" + (f" ({where})" if where else "")
        holder = self.owner[lock]
        kind = "RLock" if self.program.reentrant[lock] else "Lock"
        if holder is not None and kind == "Lock":
            # threading.Lock has no owner: any thread may release it. Legal, but rarely meant.
            self.owner[lock] = None
            self.depth[lock] = 0
            message = (f"{name} released lock {lock!r}, which {self._name(holder)} holds; "
                       f"threading.Lock allows this, but it is rarely what was meant")
            self._add("foreign-release", "warning", i, (lock, holder), message,
                      {"lock": lock, "holder": self._name(holder)})
            return False
        error = "release unlocked lock" if kind == "Lock" else "cannot release un-acquired lock"
        held = f"held by {self._name(holder)}" if holder is not None else "not held by anyone"
        message = (f"{name} released {kind} {lock!r}, which is {held}; threading raises "
                   f"RuntimeError('{error}') here")
        self._add("error", "error", i, ("release", lock, holder is None), message,
                  {"lock": lock, "exception": RuntimeError(error)})
        return True

    def _check_locks_at_exit(self, i: int) -> None:
        for lock, holder in self.owner.items():
            if holder == i:
                message = (f"{self._who(i)} finished {self._when()} while holding lock {lock!r}; it stays "
                           f"locked, and any thread that acquires it later blocks forever")
                self._add("lock-held-at-exit", "warning", i, (lock,), message, {"lock": lock})

    def _truncated(self, i: int, max_steps: int) -> None:
        where = location(self.gens[i])
        message = (f"{self._who(i)} did not finish within max_steps={max_steps} steps ({self._when()}"
                   f"{f', at {where}' if where else ''}): "
                   f"an endless loop, or a livelock where threads wait on each other while "
                   f"stepping; raise max_steps if the thread is just long")
        self._add("max-steps", "error", i, (), message, {"max_steps": max_steps})

    def _deadlocked(self) -> None:
        names = self.program.thread_names
        waits = []
        waits_on: dict[int, int | None] = {}
        blocked_at: dict[str, str | None] = {}
        for i, step in enumerate(self.pending):
            if step is None:
                continue
            holder = self.owner[step[1]]
            waits_on[i] = holder
            finished = holder is not None and self.pending[holder] is None
            waits.append((names[i], step[1], None if holder is None else names[holder], finished))
            blocked_at[names[i]] = location(self.gens[i])
        cycle = _find_cycle(waits_on)
        parts = []
        for thread, lock, holder, finished in waits:
            if holder == thread:
                parts.append(f"{thread} waits for lock {lock!r}, which {thread} itself holds "
                             f"(a plain Lock is not re-entrant)")
            elif finished:
                parts.append(f"{thread} waits for lock {lock!r}, held by {holder}, which has "
                             f"finished without releasing it")
            else:
                parts.append(f"{thread} waits for lock {lock!r} held by {holder}")
        message = "deadlock: " + "; ".join(parts)
        if cycle:
            message += ". Cycle: " + " -> ".join(names[i] for i in cycle)
        self._add("deadlock", "error", None, tuple(sorted(waits)), message,
                  {"waits": waits, "cycle": [names[i] for i in cycle], "blocked_at": blocked_at,
                   "marks": self._holding_marks(waits_on)})

    def _holding_marks(self, waits_on: dict[int, int | None]) -> dict[int, str]:
        """Each acquisition a blocked thread waits on: the holder's last acquire of that lock."""
        names = self.program.thread_names
        marks = {}
        for waiter, holder in waits_on.items():
            if holder is None:
                continue
            lock = self.pending[waiter][1]
            for position in range(len(self.events) - 1, -1, -1):
                thread, step = self.events[position][0], self.events[position][1]
                if thread == holder and step[0] == "acquire" and step[1] == lock:
                    marks[position] = f"{lock} taken; {names[waiter]} waits for it"
                    break
        return marks

    def _diverged(self, position: int, before: tuple, event: tuple | None, enabled: list) -> None:
        names = self.program.thread_names
        if event is None:
            detail = (f"the enabled threads were {[names[t] for t in before[3]]} before and are "
                      f"{[names[t] for t in enabled]} now")
        else:
            detail = (f"thread {names[event[0]]} did {_describe_event(before)} before and "
                      f"{_describe_event(event)} now")
        message = (f"scenario {self.program.scenario.name!r} is nondeterministic: the same schedule "
                   f"ran differently at step "
                   f"{position + 1}: {detail}. Exploration assumes each thread does the same "
                   f"thing given the same values read; randomness, time, or state kept between "
                   f"runs (globals, default arguments, closures) break that.")
        self._add("nondeterminism", "error", None, (), message, {"step": position + 1})

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
                text = _safe_str(exc)
                if isinstance(exc, StepTimeout):
                    text = f"its code ran past step_timeout={exc.seconds:g}s"
                message = (f"{self._who(i)} raised {type(exc).__name__}: {text} while being "
                           f"closed at the end of the execution (in a finally block, or by "
                           f"yielding after GeneratorExit)")
                self._add("close-error", "warning", i, (type(exc).__name__, text), message,
                          {"exception": exc, "location": exception_location(exc)})
                _kill(gen)


class _Abandoned(BaseException):
    """Thrown into a generator that ignored GeneratorExit, so it ends now and not in the GC."""


def _kill(gen) -> None:
    for _ in range(3):
        if gen.gi_frame is None:
            return
        try:
            gen.throw(_Abandoned)
        except BaseException:  # noqa: BLE001 - whatever it raises, it has ended
            return


def _differs(before: tuple, event: tuple) -> bool:
    """Whether two events differ. Equal values can compare unequal (nan) or refuse to
    compare (arrays); those fall back to comparing reprs."""
    try:
        if before == event:
            return False
    except Exception:
        pass
    try:
        return repr(before[1:3]) != repr(event[1:3]) or before[3] != event[3]
    except Exception:
        return True


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<{type(exc).__name__} whose str() raised>"


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
    if returned is None:
        return "this function returned None: give it at least one `yield` of a step"
    return "a plain function is not one: replace its body's `return` of a value by yields of steps"


def _describe_event(event: tuple) -> str:
    step, value = event[1], event[2]
    return f"{step!r} -> {value!r}" if step[0] == "read" else repr(step)


def _short_repr(value: object, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__} with a failing repr>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
