"""You are the scheduler: run a scenario one step at a time, choosing which thread goes next.

:class:`Stepper` is the model of the notebook's step-through widget
(:func:`explorer.widget.step_through`), and needs no widget library: a test, a script
or a terminal drives it the same way. It is built on :func:`explorer.replay` alone:
each position is the replay of the steps chosen so far, finished without preemptions
to see what each thread would do next, so a stepper shows exactly what the engine does.

>>> from scenarios.counter import lost_update
>>> stepper = Stepper(lost_update)
>>> stepper.enabled
('A', 'B')
>>> stepper.step("A").step("B").step("B").state
{'x': 1}
>>> [f.kind for f in stepper.reached]  # B's write is not lost yet: A has not written
['race']
>>> [f.kind for f in stepper.step("A").reached]
['lost-update', 'race', 'race', 'nonserializable']
>>> stepper.back().schedule
('A', 'B', 'B')

:func:`check_schedule` is the puzzle's referee: does a student's schedule reach the bug,
and what is the shortest schedule that does?

>>> verdict = check_schedule(lost_update, ["A", "A", "B", "B"], kind="lost-update")
>>> verdict.reached, verdict.witness
(False, ('A', 'B', 'B', 'A'))
"""

from __future__ import annotations

import linecache
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._conveniences import provided
from .errors import InvalidArgument, ScheduleError
from .explore import explore, replay
from .findings import FINDING_KINDS
from .objects.condition import Condition as ConditionDeclaration

if TYPE_CHECKING:
    from .findings import Event, Finding
    from .results import Execution
    from .scenario import Scenario

__all__ = ["PuzzleVerdict", "Stepper", "ThreadView", "check_schedule"]


@dataclass(frozen=True, slots=True)
class ThreadView:
    """One thread at the current position: ``status`` is ``ready`` (it may run next),
    ``waiting`` (it cannot run now: a lock it wants is held) or ``finished``; ``step`` the
    step it takes next in words (``read x``), and ``location``/``line`` where, as
    ``file:line`` and the source text."""

    name: str
    status: str
    step: str | None = None
    location: str | None = None
    line: str | None = None


class Stepper:
    """A scenario's run, one chosen step at a time, with the way back.

    ``step(thread)`` runs the thread's next step (a thread that cannot run raises
    :class:`~explorer.ScheduleError` saying why); ``back()`` undoes the last step;
    ``play(schedule)`` takes several. At each position: ``schedule`` and ``events`` so
    far, ``state`` (the shared variables), ``holders`` (lock -> thread), ``threads``
    (each thread's next step and source line), ``enabled``, ``finished`` and
    ``reached``: the findings whose steps have all been taken (a lost update once the
    overwrite runs; an outcome's finding once every thread is done).
    """

    def __init__(self, scenario: Scenario, schedule: Sequence[str] = ()) -> None:
        self.scenario = scenario
        self._schedule: list[str] = []
        self._cache: dict[tuple[str, ...], tuple[Execution, dict[str, Execution]]] = {}
        self.play(schedule)

    # -- moving ---------------------------------------------------------------------------

    def step(self, thread: str) -> Stepper:
        """Run ``thread``'s next step; returns the stepper, so steps chain."""
        if thread not in self.names:
            raise ScheduleError(f"{thread!r} is not a thread of scenario {self.scenario.name!r} at step "
                                f"{len(self._schedule) + 1}; its threads are {list(self.names)}")
        if thread not in self.enabled:
            view = next(v for v in self.threads if v.name == thread)
            why = {"finished": "it has finished",
                   "waiting": f"it is waiting at {view.step or 'its next step'}"}[view.status]
            raise ScheduleError(f"thread {thread!r} cannot run at step {len(self._schedule) + 1}: {why}; "
                                f"threads that can: {list(self.enabled) or 'none'}")
        self._schedule.append(thread)
        return self

    def back(self) -> Stepper:
        """Undo the last step (nothing happens at the start)."""
        if self._schedule:
            self._schedule.pop()
        return self

    def reset(self) -> Stepper:
        """Back to the start."""
        self._schedule.clear()
        return self

    def play(self, schedule: Sequence[str]) -> Stepper:
        """Take each step of ``schedule`` in turn (a typed list or a finding's ``trace.schedule``)."""
        if isinstance(schedule, str):
            raise InvalidArgument(f"a schedule is a list of thread names such as ['A', 'B']; got the string "
                                  f"{schedule!r}")
        for thread in schedule:
            self.step(thread)
        return self

    # -- where we are ---------------------------------------------------------------------

    @property
    def schedule(self) -> tuple[str, ...]:
        return tuple(self._schedule)

    @property
    def events(self) -> tuple[Event, ...]:
        """The steps taken so far, as the engine recorded them (values read and written)."""
        return self._ahead().trace.events[:len(self._schedule)]

    @property
    def names(self) -> tuple[str, ...]:
        """The threads so far: the scenario's, then those started during the run, in order."""
        ahead, runs = self._look()
        started = [e.thread for e in ahead.trace.events[:len(self._schedule)]]
        return tuple(dict.fromkeys([*self.scenario.threads, *started, *runs]))

    @property
    def enabled(self) -> tuple[str, ...]:
        """The threads that can run the next step, in declaration order."""
        return tuple(self._look()[1])

    @property
    def finished(self) -> bool:
        """No thread can run: every thread is done, or the rest are stuck (a deadlock)."""
        return not self._look()[1]

    @property
    def state(self) -> dict:
        """The shared variables after the steps so far."""
        values = dict(self.scenario.variables)
        for event in self.events:
            if event.kind == "write":
                values[event.target] = event.value
            elif event.kind == "update" and isinstance(event.value, tuple) and len(event.value) == 2:
                values[event.target] = event.value[1]  # (before, after)
        return values

    @property
    def holders(self) -> dict[str, str]:
        """Each held lock and the thread holding it. An acquire that returned False took
        nothing, and a condition's ``wait`` lets go of its lock until its ``wake``."""
        owner: dict[str, str] = {}
        depth: dict[str, int] = {}
        parked: dict[tuple[str, str], int] = {}
        for event in self.events:
            lock = self._lock_of(event.target)
            if lock is None:
                continue  # a semaphore is acquired too, but nobody holds it
            if event.kind == "acquire" and event.value is not False:
                depth[lock] = depth.get(lock, 0) + 1 if owner.get(lock) == event.thread else 1
                owner[lock] = event.thread
            elif event.kind == "release" and owner.get(lock) == event.thread:
                depth[lock] -= 1
                if depth[lock] == 0:
                    del owner[lock], depth[lock]
            elif event.kind == "wait" and owner.get(lock) == event.thread:  # a condition's wait
                parked[(event.thread, lock)] = depth.pop(lock)
                del owner[lock]
            elif event.kind == "wake" and (event.thread, lock) in parked:
                owner[lock], depth[lock] = event.thread, parked.pop((event.thread, lock))
        return dict(owner)

    def _lock_of(self, target: str) -> str | None:
        """The lock a step on ``target`` takes or gives: a declared lock's own name, a
        condition's lock; None for anything else."""
        if target in self.scenario.locks:
            return target
        declared = self.scenario.objects.get(target)
        return declared.lock_name(target) if isinstance(declared, ConditionDeclaration) else None

    @property
    def threads(self) -> list[ThreadView]:
        """Each thread's status and next step."""
        ahead, runs = self._look()
        position = len(self._schedule)
        views = []
        for name in self.names:
            if name in runs:
                views.append(_view(name, "ready", runs[name].trace.events[position]))
                continue
            later = next((e for e in ahead.trace.events[position:] if e.thread == name), None)
            if name in ahead.trace.blocked:
                where = ahead.trace.blocked_at.get(name)
                step = ahead.trace.waiting.get(name) or f"acquire {ahead.trace.blocked[name]}"
                views.append(ThreadView(name, "waiting", step, where, _source(where)))
            elif later is not None:
                views.append(_view(name, "waiting", later))
            else:
                views.append(ThreadView(name, "finished"))
        return views

    @property
    def reached(self) -> list[Finding]:
        """The findings the steps so far have reached."""
        ahead = self._ahead()
        done = len(self._schedule)
        over = self.finished
        return [f for f in ahead.findings
                if (over and done == len(ahead.trace)) or (f.trace.marks and max(f.trace.marks) < done)]

    def render(self) -> str:
        """The position as text: threads with their next steps, the state, what was reached."""
        lines = [f"{self.scenario.name!r} after {len(self._schedule)} steps: {_shown_state(self.state)}"]
        for view in self.threads:
            where = f"  # {view.location}" if view.location else ""
            where += f": {view.line}" if view.location and view.line else ""
            step = f", next {view.step}" if view.step else ""
            lines.append(f"  {view.name}: {view.status}{step}{where}")
        if self.events:
            from .findings import Trace

            lines.append(Trace(self.schedule, self.events, self.names).render())
        lines += [f"  reached: {f.severity.upper()} [{f.kind}] {f.message}" for f in self.reached]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Stepper {self.scenario.name!r} at {list(self._schedule)}; can run {list(self.enabled)}>"

    def _repr_html_(self) -> str:
        return provided("stepper_html")(self)

    # -- the replays behind it ------------------------------------------------------------

    def _ahead(self) -> Execution:
        return self._look()[0]

    def _look(self) -> tuple[Execution, dict[str, Execution]]:
        """The run that finishes the steps so far without preemptions, and for each thread
        that can go next, the run where it does."""
        key = tuple(self._schedule)
        if key not in self._cache:
            ahead = replay(self.scenario, key, extend=True, check_determinism=False)
            runs = {}
            for name in dict.fromkeys([*self.scenario.threads, *ahead.trace.threads]):
                try:
                    runs[name] = replay(self.scenario, key + (name,), extend=True, check_determinism=False)
                except ScheduleError:
                    continue
            self._cache[key] = (ahead, runs)
        return self._cache[key]


@dataclass(frozen=True, slots=True)
class PuzzleVerdict:
    """``reached``: whether the schedule reaches a finding of ``kind``; ``finding`` the one
    it reaches (or None); ``witness`` a shortest schedule that reaches one (None when no
    schedule does); ``message`` all of it in a sentence for the student."""

    kind: str
    schedule: tuple[str, ...]
    reached: bool
    finding: Finding | None
    witness: tuple[str, ...] | None
    message: str


def check_schedule(scenario: Scenario, schedule: Sequence[str], *,
                   kind: str = "lost-update") -> PuzzleVerdict:
    """Does ``schedule`` (whole, or the start of one) reach a finding of ``kind``, and what is
    the shortest schedule that does? The witness is the shortest start, among the
    witnesses exploration finds (fewest preemptions first), that reaches the finding."""
    if kind not in FINDING_KINDS:
        raise InvalidArgument(f"check_schedule: {kind!r} is not a kind of finding; the kinds are "
                              f"{', '.join(FINDING_KINDS)}")
    stepper = Stepper(scenario)
    try:
        stepper.play(schedule)
    except ScheduleError as error:
        return PuzzleVerdict(kind, tuple(schedule), False, None, _witness(scenario, kind),
                             f"That schedule cannot run: {error}")
    found = next((f for f in stepper.reached if f.kind == kind), None)
    witness = _witness(scenario, kind)
    if found is not None:
        shortest = "" if witness is None or len(witness) >= len(stepper.schedule) else (
            f" A shorter one: {', '.join(witness)} ({len(witness)} steps).")
        steps = len(stepper.schedule)
        message = f"Yes: after {steps} step{'' if steps == 1 else 's'}, {found.message}.{shortest}"
    elif witness is None:
        message = f"No schedule reaches a {kind} finding in scenario {scenario.name!r}."
    else:
        taken = (f"{', '.join(stepper.schedule)} reaches no {kind} finding" if stepper.schedule
                 else f"no step taken yet, so no {kind} finding")
        message = f"Not yet: {taken}. One that does: {', '.join(witness)} ({len(witness)} steps)."
    return PuzzleVerdict(kind, stepper.schedule, found is not None, found, witness, message)


def _witness(scenario: Scenario, kind: str) -> tuple[str, ...] | None:
    starts = []
    for finding in explore(scenario).findings:
        if finding.kind == kind:
            marks = finding.trace.marks
            end = max(marks) + 1 if marks else len(finding.trace)
            starts.append(tuple(finding.trace.schedule[:end]))
    return min(starts, key=len) if starts else None


def _view(name: str, status: str, event: Event) -> ThreadView:
    # what a read returns is known only once it runs; what a write writes is known already
    step = f"read {event.target}" if event.kind == "read" else event.describe()
    return ThreadView(name, status, step, event.location, _source(event.location))


def _source(location: str | None) -> str | None:
    if not location:
        return None
    file, _, line = location.rpartition(":")
    text = linecache.getline(file, int(line)) if line.isdigit() else ""
    return text.strip() or None


def _shown_state(state: dict) -> str:
    from ._text import shown

    return ", ".join(f"{name}={shown(value)}" for name, value in state.items()) or "(no variables)"
