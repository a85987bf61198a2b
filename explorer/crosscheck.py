"""Cross-checking the model against real threads.

:func:`crosscheck` runs a scenario's thread bodies on real ``threading`` threads many
times and compares what happens with what exploration predicted, jcstress style:
every observed outcome is *expected*, *expected but flagged* by a finding, or
**unexpected**, which means the model is wrong. A plain program
(:func:`explorer.program`) needs no twin: its very ``main`` runs on real threads
(``explorer/plain/real.py``). :func:`replay_on_threads` runs one schedule of a
generator scenario on real threads taking turns, so any counterexample can be shown
for real.

>>> from explorer import Scenario, read, write
>>> def increment():
...     value = yield read("x")
...     yield write("x", value + 1)
>>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
>>> check = crosscheck(counter, runs=200, seed=1)
>>> check.unexpected, check.runs, set(check.observed) <= {State(x=1), State(x=2)}
([], 200, True)
>>> replay_on_threads(counter, ["A", "B", "A", "B"]).final_state
State(x=1)
"""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType

from ._conveniences import provided
from ._engine.program import Program
from ._engine.taken import Taken, as_taken
from ._engine.watchdog import ctrl_c_noted
from ._text import cells_named, shown
from .errors import ExplorerError, InvalidArgument
from .objects.pool import ThreadPool
from .outcomes import Outcome, State, outcome_key
from .real_threads import COMPLETED, DEADLOCKED, FAILED, HUNG, stress_run, turn_run
from .results import Execution, ExplorationResult
from .scenario import Scenario
from .settings import DEFAULT_MAX_STEPS
from .steps import Op

__all__ = ["CrosscheckResult", "ModelMismatch", "crosscheck", "replay_on_threads"]

#: The interpreter's switch interval during a cross-check (restored afterwards): small,
#: so that threads are preempted often between steps.
SWITCH_INTERVAL = 1e-6

EXPECTED, FLAGGED, UNEXPECTED = "expected", "expected, flagged", "UNEXPECTED"
#: What real threads did that an INCOMPLETE exploration did not reach: no proof either way.
NOT_EXPLORED = "not explored (exploration INCOMPLETE)"


class ModelMismatch(ExplorerError, AssertionError):
    """Real threads did something the model says they cannot: the model is wrong."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One row of the outcome table: what real threads did, how often, and its verdict."""

    what: str  # "outcome", "deadlock", "error", "hung"
    label: str
    count: int
    verdict: str
    flagged_by: tuple[str, ...] = ()
    outcome: Outcome | None = None
    explored: int = 0  # executions exploration found it in


@dataclass(frozen=True, slots=True, eq=False)
class CrosscheckResult:
    """What real threads did in ``runs`` runs, next to the model's prediction.

    ``observed`` counts final states and ``outcomes`` outcomes (state and returns) of the
    runs that completed, as ``explore`` counts them; ``deadlocked``, ``errors`` (a
    ``Counter`` of ``(thread, exception type, message)``) and ``hung`` count the rest.
    ``unexpected`` lists the observations the model never produced: empty, or the
    model is wrong. ``missed`` lists the explored outcomes no run reached.
    """

    scenario: Scenario
    model: ExplorationResult
    runs: int
    seed: int
    elapsed: float
    observed: Counter
    outcomes: Counter
    deadlocked: int
    deadlocks: Counter  # waits (thread, lock, holder) tuples -> runs
    errors: Counter
    hung: int
    switch_probability: float
    stopped_early: str | None = None
    rows: tuple[Observation, ...] = field(default_factory=tuple)
    interrupted: bool = False  # Ctrl-C stopped the exploration or the runs

    @property
    def unexpected(self) -> list[Observation]:
        return [row for row in self.rows if row.verdict == UNEXPECTED]

    @property
    def missed(self) -> list[Outcome]:
        return [outcome for outcome in self.model.outcomes if outcome not in self.outcomes]

    @property
    def ok(self) -> bool:
        """No unexpected observation."""
        return not self.unexpected

    def render(self) -> str:
        """The outcome table, then coverage; see the module docstring for the verdicts."""
        if getattr(self.scenario, "plain", None) is not None:
            how = "the program's time.sleep shortened to at most 2 ms"
        else:
            how = f"sleep(0) between steps with p={self.switch_probability:g}"
        lines = [(f"cross-check of {self.scenario.name!r} on real threads: {self.runs} runs, seed "
                  f"{self.seed}, {self.elapsed:.2f}s (switch interval {SWITCH_INTERVAL:g}s, {how})")]
        if self.stopped_early:
            lines.append(f"  STOPPED EARLY: {self.stopped_early}")
        head = "observed on real threads"
        width = max([len(row.label) for row in self.rows] + [len(head)])
        lines.append(f"  {head:<{width}}  {'runs':>7}  {'share':>6}  {'explored':>8}  verdict")
        for row in self.rows:
            verdict = row.verdict + (f" ({', '.join(row.flagged_by)})" if row.flagged_by else "")
            lines.append(f"  {row.label:<{width}}  {row.count:>7}  {row.count / max(self.runs, 1):>6.1%}  "
                         f"{row.explored:>8}  {verdict}")
        explored = len(self.model.outcomes)
        reached = explored - len(self.missed)
        if explored or self.model.executions == 0:
            lines.append(f"  coverage: real threads reached {reached} of the {explored} outcomes exploration found"
                         + ("" if self.model.complete else " (exploration was INCOMPLETE)"))
        else:
            lines.append("  coverage: exploration found no outcome (no execution completed)"
                         + ("" if self.model.complete else " (exploration was INCOMPLETE)"))
        for outcome in self.missed:
            lines.append(f"    never observed: {_label(outcome)}")
        if self.model.deadlocked and not self.deadlocked:
            lines.append(f"    never observed: the deadlock exploration found in {self.model.deadlocked} executions")
        elif self.model.deadlocks and not self.deadlocked:  # runs that went on with a spurious wakeup
            passed = sum(finding.occurrences for finding in self.model.deadlocks)
            lines.append(f"    never observed: the deadlock only a spurious wakeup would end, passed in {passed} "
                         f"executions")
        if self.unexpected:
            lines.append(f"  MODEL IS WRONG: {len(self.unexpected)} observation(s) exploration never produced")
        unreached = sum(1 for row in self.rows if row.verdict == NOT_EXPLORED)
        if unreached:
            lines.append(f"  NOT EXPLORED: {unreached} observation(s) the incomplete exploration did not reach; "
                         f"explore it completely (a larger time_limit, a smaller max_steps) to judge them")
        if not self.unexpected and not unreached:
            lines.append("  no unexpected outcome: every observation is one exploration predicted")
        return cells_named("\n".join(lines))

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        verdict = "MODEL IS WRONG" if self.unexpected else "as the model predicts"
        return f"<CrosscheckResult {self.scenario.name!r}: {self.runs} runs, {verdict}>"

    def _repr_html_(self) -> str:
        return provided("crosscheck_html")(self)

    def to_dict(self) -> dict:
        """The table as JSON-ready data."""
        encode_value = provided("encode_value")
        return {
            "scenario": self.scenario.name,
            "runs": self.runs,
            "seed": self.seed,
            "elapsed": self.elapsed,
            "switch_interval": SWITCH_INTERVAL,
            "switch_probability": self.switch_probability,
            "stopped_early": self.stopped_early,
            "rows": [
                {"what": row.what, "label": row.label, "count": row.count, "explored": row.explored,
                 "verdict": row.verdict,
                 "flagged_by": list(row.flagged_by),
                 "state": None if row.outcome is None else {k: encode_value(v) for k, v in row.outcome.state.items()},
                 "returns": None if row.outcome is None else {k: encode_value(v) for k, v in row.outcome.returns.items()}}
                for row in self.rows
            ],
            "missed": [_label(outcome) for outcome in self.missed],
            "unexpected": len(self.unexpected),
            "model": {"executions": self.model.executions, "complete": self.model.complete,
                      "outcomes": len(self.model.outcomes), "deadlocked": self.model.deadlocked},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def crosscheck(scenario: Scenario, *, runs: int = 1000, seed: int = 0, timeout: float = 2.0,
               switch_probability: float = 0.5, model: ExplorationResult | None = None,
               max_steps: int = DEFAULT_MAX_STEPS, time_limit: float | None = None,
               fair: bool = False) -> CrosscheckResult:
    """Run ``scenario`` on real threads ``runs`` times and classify what happens.

    Each run starts fresh threads at a barrier, uses the real ``threading``,
    ``queue`` and ``concurrent.futures`` twin of every declared object and a shared
    dict, and sleeps ``sleep(0)`` between steps with ``switch_probability``
    (seeded from ``seed``); the interpreter's switch interval is lowered for the
    cross-check and restored after. A run whose threads all wait in calls that cannot
    go on (a lock nobody can release, a notify nobody is left to send, ...) is a
    deadlock; one that makes no progress for ``timeout`` seconds is
    abandoned as hung, and the cross-check stops there. ``model`` is the exploration to
    compare with (by default ``explore(scenario, strategy="exhaustive")``, so that the
    table's "explored" column counts interleavings, beside the real runs' shares; pass
    a dpor result for a scenario too large for that); ``time_limit`` caps the whole
    cross-check, which then says it stopped early: the exploration it makes gets half of
    it at most. What real threads did that an incomplete exploration did not reach is
    ``not explored`` (:data:`NOT_EXPLORED`), not UNEXPECTED: it may lie beyond the cut.

    A plain program (:func:`explorer.program`) runs as written: its ``main`` on a real
    thread, with the real ``threading``, ``queue`` and ``concurrent.futures``, and no
    twin (``explorer/plain/real.py``). Its ``time.sleep`` calls are shortened, on the
    run's threads only, to a random ``uniform(0, min(seconds, 2 ms))``, so that runs are
    quick and their interleavings diverse; ``switch_probability`` does not apply. A run
    whose threads have not all ended within ``timeout`` seconds (or that sits still,
    every thread blocked, for a quarter of a second) is a deadlock; its threads are
    daemons, left blocked. Its default model is ``explore(scenario)``'s (dpor): a
    program's runs take many steps, and exhaustive search of a pool of three sleepers
    takes minutes. An exception that ends a thread (``threading.excepthook``) or main
    is an error, as a thread body's is. ``fair=True`` makes the default model
    ``explore(scenario, fair=True)`` (exhaustive over fair schedules), for a program that
    polls: its real threads are fair, as a sleep or a timeout is long next to a step.
    """
    from .explore import _check_scenario, explore

    _check_scenario(scenario)
    for name, value in (("runs", runs), ("timeout", timeout)):
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise InvalidArgument(f"crosscheck {name} must be a positive number, got {value!r}")
    if not 0 <= switch_probability <= 1:
        raise InvalidArgument(f"switch_probability is a probability in [0, 1], got {switch_probability!r}")
    plain = getattr(scenario, "plain", None) is not None
    began = time.monotonic()
    if model is None:  # within half the time limit: a polling loop's exhaustive search has no end
        half = None if time_limit is None else time_limit / 2
        model = explore(scenario, max_steps=max_steps, time_limit=half, fair=fair) if plain else \
            explore(scenario, strategy="exhaustive", max_steps=max_steps, time_limit=half, fair=fair)
    rng = random.Random(seed)
    observed: Counter = Counter()
    outcomes: Counter = Counter()
    deadlocks: Counter = Counter()
    errors: Counter = Counter()
    firsts: set = set()  # errors that were the first of their run
    hung = done = 0
    stopped = None
    interrupted = model.stop_reason == "interrupted"
    if interrupted:  # Ctrl-C during the exploration: no run on real threads either
        runs = 0
        stopped = "interrupted (Ctrl-C) while exploring the model"
    started = time.monotonic()
    if plain:
        from .plain.real import RealThreads

        real = RealThreads(scenario, timeout=timeout)

        def one_run():
            return real.run(rng)

        def failures(run):
            return run.errors
    else:
        real = contextlib.nullcontext()
        program = Program(scenario)

        def one_run():
            return stress_run(program, rng, switch_probability=switch_probability, timeout=timeout,
                              max_steps=max_steps)

        def failures(run):
            return [(program.thread_names[thread], exc) for thread, exc, _where in run.errors]
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        with real, ctrl_c_noted(at_once=False) as pressed:  # read between two runs
            for _ in range(runs):
                if pressed[0]:
                    raise KeyboardInterrupt
                if time_limit is not None and time.monotonic() - began > time_limit:
                    stopped = f"time_limit={time_limit}s reached after {done} runs"
                    break
                run = one_run()
                done += 1
                if run.status == COMPLETED:
                    outcome = run.outcome()
                    observed[outcome.state] += 1
                    outcomes[outcome] += 1
                elif run.status == DEADLOCKED:
                    deadlocks[tuple(sorted(run.stuck))] += 1
                elif run.status == FAILED:
                    for n, (thread, exc) in enumerate(failures(run)):
                        key = (thread, type(exc).__name__, _text(exc))
                        errors[key] += 1
                        if n == 0:
                            firsts.add(key)
                else:
                    assert run.status == HUNG, f"[explorer internal bug] unknown run status {run.status}"
                    hung += 1
                    stopped = (f"run {done} made no progress for {timeout}s while a thread was busy "
                               f"between steps (an endless loop without steps?); its threads are daemons "
                               f"and are left running")
                    break
            if pressed[0]:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        stopped = f"interrupted (Ctrl-C) after {done} runs"
        interrupted = True
    finally:
        sys.setswitchinterval(previous_interval)
    elapsed = time.monotonic() - started
    rows = _classify(model, outcomes, deadlocks, errors, firsts, hung)
    return CrosscheckResult(scenario=scenario, model=model, runs=done, seed=seed, elapsed=elapsed,
                            observed=observed, outcomes=outcomes, deadlocked=sum(deadlocks.values()),
                            deadlocks=deadlocks, errors=errors, hung=hung,
                            switch_probability=switch_probability, stopped_early=stopped, rows=tuple(rows),
                            interrupted=interrupted)


def _classify(model: ExplorationResult, outcomes: Counter, deadlocks: Counter, errors: Counter,
              firsts: set, hung: int) -> list[Observation]:
    flagged: dict[tuple, list[str]] = {}
    for finding in model.findings:
        key = finding.details.get("outcome")
        if key is not None:
            flagged.setdefault(outcome_key(tuple(key[0]), tuple(key[1])), []).append(finding.kind)
        subject = finding.details.get("subject")
        if isinstance(subject, State):
            flagged.setdefault(("state", subject), []).append(finding.kind)
    rows = []
    # what an incomplete exploration did not reach, it may have reached later: no proof
    absent = UNEXPECTED if model.complete else NOT_EXPLORED
    for outcome, count in sorted(outcomes.items(), key=lambda item: -item[1]):
        key = outcome_key(tuple(outcome.state.values()), tuple(outcome.returns.values()))
        kinds = flagged.get(key, []) + flagged.get(("state", outcome.state), [])
        if outcome not in model.outcomes:
            verdict = absent
        else:
            verdict = FLAGGED if kinds else EXPECTED
        rows.append(Observation("outcome", _label(outcome), count, verdict, tuple(kinds), outcome,
                                model.outcomes.get(outcome, 0)))
    # with spurious_wakeups=True, a run in which only a spurious wakeup would end a wait goes
    # on in exploration, which reports the deadlock it is on real threads as a finding
    found = model.deadlocked or any(finding.kind == "deadlock" for finding in model.findings)
    for waits, count in sorted(deadlocks.items(), key=lambda item: -item[1]):
        text = "deadlock: " + ", ".join(f"{t} waits for {lock}" for t, lock, _holder in waits)
        verdict, kinds = (FLAGGED, ("deadlock",)) if found else (absent, ())
        explored = model.deadlocked or sum(finding.occurrences for finding in model.deadlocks)
        rows.append(Observation("deadlock", text, count, verdict, kinds, None, explored))
    # A bad yield or a body that is not a generator is an error finding with no exception
    # in the model; on real threads it is the TypeError the runner raises for it.
    model_errors: dict[tuple, int] = {}  # (thread, exception type) -> executions it ended
    for f in model.findings:
        if f.kind == "error":
            error = (f.thread, type(f.exception).__name__ if f.exception is not None else "TypeError")
            model_errors[error] = model_errors.get(error, 0) + f.occurrences
    # An execution ends at its first error; on real threads the other threads go on, so
    # an error that only ever came after another one in its run is past what the model
    # runs, and cannot contradict it.
    for key, count in sorted(errors.items(), key=lambda item: -item[1]):
        thread, kind, message = key
        if (thread, kind) in model_errors:
            verdict, by = FLAGGED, ("error",)
        elif key not in firsts:
            verdict, by = FLAGGED, ("after another error, where the model stops",)
        else:
            verdict, by = absent, ()
        rows.append(Observation("error", f"error: {thread} raised {kind}: {message}", count, verdict, by,
                                explored=model_errors.get((thread, kind), 0)))
    if hung:
        # exploration reports a body that never yields (or blocks for good) as a step-timeout:
        # the same fault as a real thread that makes no progress
        timed_out = [f for f in model.findings if f.kind == "step-timeout"]
        rows.append(Observation("hung", "hung: no progress within the timeout", hung,
                                FLAGGED if timed_out else absent, ("step-timeout",) if timed_out else ()))
    return rows


def replay_on_threads(scenario: Scenario, schedule, *, timeout: float = 5.0,
                      max_steps: int = DEFAULT_MAX_STEPS) -> Execution:
    """Run one schedule on real threads and real objects, the threads taking turns.

    The schedule is first replayed in the model (so a bad schedule is refused exactly
    as :func:`explorer.replay` refuses it); then each real thread waits for its turn
    before every step (``explorer/real_threads.py`` says what a turn is for a step the
    model takes in two phases, and for a pool's workers). A schedule that ends in a
    deadlock is followed by every blocked thread really trying its step, which must
    block. Returns the execution as
    ``replay`` does, built from what the real threads did; raises
    :class:`ModelMismatch` if they did anything else than the model.
    """
    from ._engine.execution import Events
    from ._engine.search import make_trace
    from .detectors import PER_EXECUTION, merge_races, races
    from .explore import _follow, _schedule_indices, replay
    from .findings import Finding

    if getattr(scenario, "plain", None) is not None:
        raise InvalidArgument(
            f"scenario {scenario.name!r} is a plain program: replay_on_threads makes real threads take "
            f"turns at the steps of generator bodies, and a program's threads run unpatched threading "
            f"code, which takes no turns. Replay its schedule in the model with explorer.replay, or "
            f"sample its real runs with crosscheck")
    modelled = replay(scenario, schedule, max_steps=max_steps)
    program = Program(scenario)
    # The same schedule in the model once more, on this program: threads started during
    # the run get the same numbers on both sides, and the real events, once shown equal to
    # the model's, carry the happens-before edges the model's objects recorded for them.
    model_run = _follow(program, _schedule_indices(program, modelled.schedule), max_steps, False, ())
    indices = [program.thread_index[name] for name in modelled.schedule]
    actors, virtual, roles = _turns(program, modelled.events)
    run = turn_run(program, indices, timeout=timeout, max_steps=max_steps,
                   deadlock=modelled.status == "deadlocked", actors=actors, virtual=virtual, roles=roles)
    names = program.thread_names
    # the model's happens-before edges (a plain list when its steps recorded none)
    events = Events([(i, step, value, ()) for i, step, value in run.events],
                    getattr(model_run.events, "syncs", {}))
    shown_real = make_trace(program, events, None, None).events
    real = [(e.thread, e.kind, e.target, _comparable(e.value)) for e in shown_real]
    expected = [(e.thread, e.kind, e.target, _comparable(e.value)) for e in modelled.events]
    if real != expected:
        at = next((n for n, (a, b) in enumerate(zip(real, expected)) if a != b), min(len(real), len(expected)))
        raise ModelMismatch(
            f"scenario {scenario.name!r}: on real threads the schedule ran differently from the model "
            f"at step {at + 1}: the model did {expected[at:at + 1] or 'nothing'}, real threads did "
            f"{real[at:at + 1] or 'nothing'}")
    status = {COMPLETED: "completed", DEADLOCKED: "deadlocked", FAILED: "failed", HUNG: "hung"}[run.status]
    if status != modelled.status:
        raise ModelMismatch(f"scenario {scenario.name!r}: the schedule ended {modelled.status} in the "
                            f"model but {status} on real threads")
    final_state = outcome = None
    if status == "completed":
        outcome = run.outcome()
        final_state = outcome.state
        if outcome != modelled.outcome:
            raise ModelMismatch(f"scenario {scenario.name!r}: the schedule ended at {outcome} on real "
                                f"threads but at {modelled.outcome} in the model")
    locations = [event.location for event in modelled.events]
    findings = []
    for detect in PER_EXECUTION + (races,):
        for raw in detect(events, names):
            trace = make_trace(program, events, locations, raw, modelled.trace.preemptions)
            findings.append(Finding(raw.kind, raw.severity, raw.message, trace,
                                    None if raw.thread is None else names[raw.thread], 1,
                                    MappingProxyType(dict(raw.details))))
    findings = merge_races(findings)
    trace = make_trace(program, events, locations, None, modelled.trace.preemptions)
    if status == "deadlocked":
        trace = modelled.trace
    return Execution(scenario, status, trace, final_state, outcome, findings)


def _turns(program: Program, events) -> tuple[list, dict, dict]:
    """Who takes each turn of a schedule on real threads (real_threads.turn_run): the
    thread it names, except for a pool's workers, whose steps belong to the task the
    model gave them (whichever executor thread runs it); a worker's last ``take``, by
    which it leaves a pool shut down, has no real counterpart and is the model's event."""
    pools = {name for name, kind in program.declarations.items() if isinstance(kind, ThreadPool)}
    actors, virtual, roles = [], {}, {}
    task: dict[str, str | None] = {}
    for position, event in enumerate(events):
        i = program.thread_index[event.thread]
        if event.kind == "take" and event.target in pools:
            if event.value is None:
                actors.append(None)
                virtual[position] = (i, Op("take", event.target), None)
                continue
            task[event.thread] = event.value
            roles[event.value] = i
        future = task.get(event.thread)
        actors.append(i if future is None else ("task", future))
        if event.kind == "finish":
            task[event.thread] = None
    return actors, virtual, roles


def _comparable(value: object) -> object:
    """An event's value as compared between the model and real threads: an exception (a
    task's, stored in its future) by its type and text, since each side raised its own; a
    value with its type and sign, and any NaN as one."""
    if isinstance(value, BaseException):
        return (type(value).__name__, _text(value))
    if value.__class__ is Taken:  # the model logs an object a step hands over as it was then
        return value.shape
    taken = as_taken(value)
    if taken is not value:
        return taken.shape
    # as outcomes are told apart: 1 and True, 0.0 and -0.0 apart, a NaN (each side made its
    # own, unequal even to itself) equal to a NaN
    return outcome_key((value,), ())


def _label(outcome: Outcome) -> str:
    parts = [f"{name}={shown(value)}" for name, value in outcome.state.items()]
    parts += [f"{name} returned {shown(value)}" for name, value in outcome.returns.items() if value is not None]
    return ", ".join(parts) or "(no variables)"


def _text(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return f"<{type(exc).__name__} whose str() raised>"
