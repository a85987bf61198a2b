"""The two entry points: :func:`explore` every schedule, :func:`replay` one of them."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType

from ._engine.coordinator import Fallback, parallel_search
from ._engine.execution import COMPLETED, DEADLOCKED, DIVERGED, FAILED, HUNG
from ._engine.execution import Execution as _Run
from ._engine.guards import no_process_exit
from ._engine.portfolio import race
from ._engine.program import Program
from ._engine.search import _unhashable, make_trace, outcome_findings, refuses_equality, search
from ._engine.units import strategy_for
from ._engine.watchdog import Deadline, Watchdog, ctrl_c_noted
from ._text import shown
from .detectors import PER_EXECUTION, cycle_finding, lock_order_edges, merge_races, potential_deadlocks, races
from .detectors.lock_order import with_locations
from .errors import InvalidArgument, NondeterminismError, ScenarioTypeError, ScheduleError
from .findings import Finding, Trace
from .outcomes import Outcome, State, outcome_key
from .results import Execution, ExplorationResult
from .scenario import Scenario
from .settings import DEFAULT_MAX_STEPS, DEFAULT_STEP_TIMEOUT, Settings
from .backends import BACKENDS, prepare, too_many_workers
from .strategies import SAMPLING, STRATEGIES, FollowSchedule

__all__ = ["explore", "replay"]

#: The strategy that runs dpor and stateful search in turns (:mod:`._engine.portfolio`).
AUTO = "auto"
#: Executions a sampling strategy runs when no budget is given.
DEFAULT_SAMPLES = 1_000
#: The strategies that keep to fair schedules (``fair=True``; dpor with every step that may
#: yield dependent with every step). Stateful search's keys and sleep sets know nothing of
#: who owes whom (docs/architecture.md, Fair schedules).
FAIR = ("exhaustive", "dpor", "bounded", "random", "pct")


def explore(
    scenario: Scenario,
    *,
    strategy: str | None = None,
    max_executions: int | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
    time_limit: float | None = None,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    progress: Callable[[int, int, float], None] | None = None,
    seed: int = 0,
    preemptions: int | None = None,
    depth: int | None = None,
    symmetry: bool | None = None,
    max_states: int | None = None,
    exact_states: bool | None = None,
    workers: int | str = 1,
    backend: str = "processes",
    address: str | None = None,
    fair: bool = False,
) -> ExplorationResult:
    """Run ``scenario`` under every schedule the strategy covers and report what happened.

    >>> from explorer import Scenario, explore, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})
    >>> result = explore(counter)
    >>> result.executions, sorted((dict(s)["x"], n) for s, n in result.final_states.items())
    (4, [(1, 2), (2, 2)])
    >>> every = explore(counter, strategy="exhaustive")
    >>> every.executions, sorted((dict(s)["x"], n) for s, n in every.final_states.items())
    (6, [(1, 4), (2, 2)])

    ``strategy`` is ``"dpor"`` (the default: one schedule per Mazurkiewicz trace, the
    fastest complete search), ``"exhaustive"`` (every schedule: counts are counts of
    interleavings; the default with ``fair=True``), ``"stateful"`` (every schedule, cut at states already visited),
    ``"bounded"`` (every schedule with at most ``preemptions`` preemptions, default 2),
    ``"random"`` or ``"pct"`` (seeded samples; PCT aims at bugs of ``depth`` ordering
    constraints, default 3; without a budget they stop after 1,000 executions), or
    ``"auto"``: dpor and stateful search take turns, and the first to finish gives the
    result (``result.strategy`` names it, ``result.contenders`` says what each got; the
    choice depends on the scenario alone, never on the machine's speed). Every
    complete strategy gives the same final states, deadlocks and findings; only a
    search that covered every schedule is ``complete``.
    Faults in the scenario's threads are findings in the result, never exceptions;
    a budget that is hit makes ``result.complete`` False. Stateful search counts
    against ``max_executions`` its runs cut at a state already visited too (its
    ``pruned``, which for the graph walk are steps into such a state), as most of its
    runs are. ``progress``, if given, is
    called as ``progress(executions, steps, seconds)`` about every 1,024 executions.
    ``step_timeout`` (seconds, None for none) interrupts a step whose code never yields,
    such as ``while True: pass``; see :class:`explorer.settings.Settings`.

    Options of ``"stateful"`` search: ``symmetry`` (default True) treats threads built
    from the same function with the same arguments as interchangeable, so states that
    differ only by swapping them are one (counts are then per symmetry class, and
    each outcome found stands for its twins with the threads swapped); ``max_states``
    stops the search, incomplete, once that many states are stored; ``exact_states``
    stores each state's whole key instead of its 64-bit fingerprint (hash compaction,
    the default: ``result.collision_probability`` says how likely a state was missed).

    ``workers`` (default 1; ``"auto"``: one per core) runs the exploration on that many
    worker processes, with the same result as a serial run: the same counts, final
    states, outcomes, findings and traces (dpor runs the same executions, one per trace,
    in another order, so ``pruned`` differs;
    stateful gives the same final states, outcomes and kinds of findings, with counts
    of its own, and runs in the coordinator on Ray). ``backend`` is ``"processes"`` (this machine) or
    ``"ray"`` (``pip install 'explorer[ray]'``; ``address`` names an existing Ray
    cluster, none starts one here). A scenario small enough to finish in a quarter of
    a second is explored serially. ``result.workers`` says how many took part.

    ``fair=True`` keeps to fair schedules (CHESS's): a thread that sleeps, or whose timeout
    fires, lets every thread that could run meanwhile take a step before it goes on, so a
    polling loop (``while not stop.is_set(): q.get(timeout=...)``) ends, as on real threads.
    Strategies ``"exhaustive"`` (its default then), ``"dpor"``, ``"bounded"``, ``"random"`` and
    ``"pct"`` support it; ``result.fair`` says it was assumed.
    """
    _check_scenario(scenario)
    if not isinstance(fair, bool):
        raise InvalidArgument(f"fair must be True or False, got {fair!r}")
    if strategy is None:
        strategy = "exhaustive" if fair else "dpor"
    if fair and strategy not in FAIR:
        raise InvalidArgument(f"strategy {strategy!r} does not support fair=True (its states and sleep sets know "
                              f"nothing of who owes whom); use strategy='exhaustive' or 'dpor' (or 'bounded', "
                              f"'random', 'pct')")
    if not (isinstance(strategy, str) and (strategy in STRATEGIES or strategy == AUTO)):
        raise InvalidArgument(f"unknown strategy {strategy!r}; the strategies are {sorted([*STRATEGIES, AUTO])}")
    for name, value, least in (("seed", seed, None), ("preemptions", preemptions, 0), ("depth", depth, 1)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or (least is not None and value < least)):
            raise InvalidArgument(f"{name} must be a whole number{'' if least is None else f' >= {least}'}, "
                                  f"got {value!r}")
    if preemptions is not None and strategy != "bounded":
        raise InvalidArgument(f"preemptions= bounds the 'bounded' strategy, not {strategy!r}")
    if depth is not None and strategy != "pct":
        raise InvalidArgument(f"depth= is the bug depth of the 'pct' strategy, not {strategy!r}")
    for name, value in (("symmetry", symmetry), ("max_states", max_states), ("exact_states", exact_states)):
        if value is not None and strategy not in ("stateful", AUTO):
            raise InvalidArgument(f"{name}= is an option of the 'stateful' strategy (and of 'auto', which "
                                  f"runs it), not {strategy!r}")
    for name, value in (("symmetry", symmetry), ("exact_states", exact_states)):
        if value is not None and not isinstance(value, bool):
            raise InvalidArgument(f"{name} must be True or False, got {value!r}")
    if max_states is not None and (isinstance(max_states, bool) or not isinstance(max_states, int)
                                   or max_states < 1):
        raise InvalidArgument(f"max_states must be a positive whole number or None, got {max_states!r}")
    count = _workers(workers, backend, address)
    if strategy == AUTO and count != 1:
        raise InvalidArgument("strategy='auto' takes its turns in one process: for workers=, choose 'dpor' or "
                              "'stateful' (a serial run with strategy='auto' names the one that finishes first)")
    options = {"seed": seed, "preemptions": 2 if preemptions is None else preemptions,
               "depth": 3 if depth is None else depth, "symmetry": symmetry is not False,
               "exact": bool(exact_states), "max_states": max_states, "max_steps": max_steps, "fair": fair}
    if strategy in SAMPLING and max_executions is None and time_limit is None:
        max_executions = DEFAULT_SAMPLES
    settings = Settings(max_executions=max_executions, max_steps=max_steps, time_limit=time_limit,
                        step_timeout=step_timeout, progress=progress)
    deadline = Deadline(None if time_limit is None else time.monotonic() + time_limit)
    with Watchdog(settings.step_limit, deadline), no_process_exit(), ctrl_c_noted():
        # stateful search shares its visited states in this machine's memory: on Ray it runs here
        if count != 1 and not (strategy == "stateful" and backend != "processes"):
            make_backend = prepare(backend, count, address)
            program = Program(scenario, fair=fair)
            with program.session():
                try:
                    result, used, seconds, coordinating, peak = parallel_search(
                        program, strategy, options, settings, deadline, make_backend)
                except Fallback as why:
                    warnings.warn(f"explorer: scenario {scenario.name!r} was explored serially, not on "
                                  f"{workers} workers: {why}", RuntimeWarning, stacklevel=2)
                else:
                    return dataclasses.replace(result, workers=used, unit_seconds=seconds,
                                               coordinator_seconds=coordinating, worker_peak_mib=peak)
        program = Program(scenario, fair=fair)
        with program.session():  # plain code: patched once for the whole search
            if strategy == AUTO:
                return race(program, options, settings, deadline)
            return search(program, strategy_for(strategy, options), strategy, settings)


def _workers(workers: object, backend: object, address: object) -> int | None:
    """How many workers ``workers=`` asks for (None: every core the backend has)."""
    if backend not in BACKENDS:
        raise InvalidArgument(f"unknown backend {backend!r}; the backends are {list(BACKENDS)}")
    if address is not None and (backend != "ray" or not isinstance(address, str)):
        raise InvalidArgument(f"address= names a Ray cluster (a string such as 'ray://head:10001' or 'auto'), "
                              f"with backend='ray'; got address={address!r}, backend={backend!r}")
    if workers == "auto":
        return None if backend == "ray" else (os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidArgument(f"workers must be a whole number >= 1 or 'auto' (one per core), got {workers!r}")
    why = too_many_workers(workers, backend)
    if why is not None:
        raise InvalidArgument(f"workers={workers}: {why}")
    return workers


def replay(
    scenario: Scenario,
    schedule: Sequence[str] | Trace,
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    extend: bool = False,
    check_determinism: bool = True,
    step_timeout: float | None = DEFAULT_STEP_TIMEOUT,
    fair: bool = False,
) -> Execution:
    """Run exactly one schedule (thread names, one per step) and return that execution.

    >>> from explorer import Scenario, replay, read, write
    >>> def increment():
    ...     value = yield read("x")
    ...     yield write("x", value + 1)
    >>> scenario = Scenario("counter", variables={"x": 0},
    ...                     threads={"A": increment, "B": increment})
    >>> replay(scenario, ["A", "B", "A", "B"]).final_state
    State(x=1)

    ``schedule`` may also be a finding's ``trace``. A thread that is not enabled
    where the schedule names it raises :class:`ScheduleError`; so does a schedule
    that ends early, unless ``extend=True`` lets it finish without preemptions.
    With ``check_determinism`` the schedule runs twice and any difference raises
    :class:`NondeterminismError` naming the step. A step that runs past ``step_timeout``
    seconds ends the execution with status ``hung`` and a ``step-timeout`` finding.
    With ``fair=True`` the run keeps to fair schedules, as ``explore(..., fair=True)``
    did (a trace it found replays only so).
    """
    _check_scenario(scenario)
    if not isinstance(fair, bool):
        raise InvalidArgument(f"fair must be True or False, got {fair!r}")
    settings = Settings(max_steps=max_steps, step_timeout=step_timeout)
    program = Program(scenario, fair=fair)
    indices = _schedule_indices(program, schedule)
    with Watchdog(settings.step_limit), no_process_exit():
        run = _follow(program, indices, max_steps, extend, ())
        if check_determinism and run.status != HUNG:
            _check_same(scenario, program, run, max_steps)
    final_state = outcome = None
    if run.status == COMPLETED:
        try:
            hash((tuple(run.values.values()), tuple(run.returns)))
            refused = refuses_equality(run)  # its outcome would be compared with the serial ones
        except TypeError:
            refused = _unhashable(run)
        if refused is not None:
            run.findings.append(refused)
            run.status = FAILED
    raws = list(run.findings)
    for detect in PER_EXECUTION + (races,):
        raws += detect(run.events, program.thread_names)
    edges = lock_order_edges(run.events)
    raws += [cycle_finding(chosen, program.thread_names, edges, run.events)
             for chosen in potential_deadlocks(edges)]
    if run.status == COMPLETED:
        key = outcome_key(tuple(run.values.values()), tuple(run.returns))
        raws += [raw for _key, raw in outcome_findings(program, [key], max_steps)]
    findings = []
    for raw in raws:
        trace = make_trace(program, run.events, run.locations, raw)
        findings.append(with_locations(Finding(
            raw.kind, raw.severity, raw.message, trace,
            None if raw.thread is None else program.thread_names[raw.thread],
            1, MappingProxyType(dict(raw.details)))))
    findings = merge_races(findings)
    # the deadlock the run ends in: one only spurious wakeups would end shows in a run that
    # went on with one, and is no thread's state at its end unless the replay stopped there
    deadlock = next((raw for raw in raws if raw.kind == "deadlock" and raw.details["position"] == len(run.events)),
                    None) if run.status == DEADLOCKED else None
    trace = make_trace(program, run.events, run.locations, deadlock)
    if run.status == COMPLETED:
        final_state = State._from(program.var_names, tuple(run.values.values()))
        outcome = Outcome._of(final_state, program.thread_names, tuple(run.returns))
    return Execution(scenario, run.status, trace, final_state, outcome, findings)


def _check_same(scenario: Scenario, program: Program, run: _Run, max_steps: int) -> None:
    """Run the same choices again; any difference in steps, status or findings is nondeterminism."""
    chosen = [event[0] for event in run.events]
    strategy = FollowSchedule(chosen, program.thread_names, extend=True)
    strategy.begin()
    again = _Run(program)
    again.hang_ends_at = run.hang_ends_at
    again.run(strategy.choose, max_steps, run.events)
    if again.status == DIVERGED:
        raise NondeterminismError(again.findings[-1].message)  # it names the scenario and the step
    # findings compare by key: a message may show an object's address, which differs between runs
    first = (run.status, len(run.events), [f.key for f in run.findings])
    second = (again.status, len(again.events), [f.key for f in again.findings])
    if first == second and run.status == COMPLETED:
        ends = [(tuple(r.values.values()), tuple(r.returns)) for r in (run, again)]
        if not _equal(ends[0], ends[1]):
            ends = [(shown(values), shown(returns)) for values, returns in ends]
            raise NondeterminismError(
                f"scenario {scenario.name!r} is nondeterministic: the same schedule ran twice "
                f"took the same steps but ended with final values and returns {ends[0][0]}, "
                f"{ends[0][1]} then {ends[1][0]}, {ends[1][1]}. Exploration assumes each thread "
                f"does the same thing given the same values read."
            )
    if first != second:
        raise NondeterminismError(
            f"scenario {scenario.name!r} is nondeterministic: the same schedule ran twice ended "
            f"{first[0]} after {first[1]} steps, then {second[0]} after {second[1]} steps"
            + ("" if first[2] == second[2] else f", with findings {[f.message for f in run.findings]} "
                                                f"then {[f.message for f in again.findings]}")
            + ". Exploration assumes each thread does the same thing given the same values read."
        )


def _equal(a: object, b: object) -> bool:
    """Equal, or shown the same (nan is not equal to itself, but the same value)."""
    try:
        if a == b:
            return True
    except Exception:  # noqa: BLE001 - values that refuse to compare are compared as text
        pass
    return shown(a, limit=None) == shown(b, limit=None)


def _follow(program: Program, schedule: list[int], max_steps: int, extend: bool, previous) -> _Run:
    strategy = FollowSchedule(schedule, program.thread_names, extend=extend, index=program.thread_index,
                              scenario=program.scenario.name)
    strategy.begin()
    run = _Run(program)
    if not extend:  # a deadlock that only spurious wakeups would end, where the schedule ends
        run.hang_ends_at = len(schedule)
    run.run(strategy.choose, max_steps, previous, locate=True)
    if run.status != DIVERGED:
        strategy.end()
    return run


def _check_scenario(scenario: object) -> None:
    if not isinstance(scenario, Scenario):
        raise ScenarioTypeError(
            f"expected a Scenario, got {type(scenario).__name__} {scenario!r}; build one with "
            f"Scenario(name, variables=..., locks=..., threads=...)"
        )


def _schedule_indices(program: Program, schedule: object) -> list[int]:
    if isinstance(schedule, Trace):
        schedule = schedule.schedule
    if isinstance(schedule, str) or not isinstance(schedule, Sequence):
        raise ScheduleError(
            f"a schedule is a list of thread names, one per step, such as "
            f"{list(program.thread_names[:2]) * 2!r}; got {type(schedule).__name__} {schedule!r}"
        )
    index = {name: i for i, name in enumerate(program.thread_names)}
    indices: list[int | str] = []
    for position, name in enumerate(schedule):
        i = index.get(name) if isinstance(name, str) else None
        if i is None:
            if isinstance(name, str) and name:
                indices.append(name)  # a thread started during the run: looked up when it comes
                continue
            raise ScheduleError(
                f"schedule position {position} names {name!r}, which is not a thread of "
                f"scenario {program.scenario.name!r}; its threads are {list(program.thread_names)}"
            )
        indices.append(i)
    return indices
