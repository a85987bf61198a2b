"""The search loop: run executions as a strategy directs, and collect what they show."""

from __future__ import annotations

import time
from collections import Counter
from types import MappingProxyType

from ..detectors import (
    cycle_finding,
    invariant_violations,
    lock_order_edges,
    merge_races,
    nonserializable_outcomes,
    potential_deadlocks,
    race_finding,
    race_pairs,
)
from ..detectors.lock_order import with_locations
from ..detectors.lost_update import lost_update_finding, lost_update_keys
from ..detectors.serializability import MAX_THREADS
from ..errors import ExplorerError
from ..findings import Event, Finding, Trace
from ..objects.dependence import dependence
from ..outcomes import Outcome, State
from ..results import ExplorationResult
from ..settings import Settings
from ..strategies.base import Abandon
from ..strategies.schedule import FollowSchedule
from ..strategies.serial import Serial
from ..findings import RawFinding
from .execution import COMPLETED, DEADLOCKED, DIVERGED, FAILED, HUNG, TRUNCATED, Execution
from .linearize import fewest_preemptions
from .program import Program
from .state_keys import StateKeys
from .watchdog import StepTimeout


def search(program: Program, strategy, strategy_name: str, settings: Settings) -> ExplorationResult:
    """Explore until the strategy is done or a budget is hit; never raises for the scenario's faults."""
    counts = {COMPLETED: 0, DEADLOCKED: 0, FAILED: 0, TRUNCATED: 0, DIVERGED: 0, HUNG: 0}
    outcome_counts: dict[tuple, int] = {}
    witnesses: dict[tuple, tuple] = {}  # outcome key -> (score, events) of its fewest-preemption execution
    names = program.thread_names
    found: dict[tuple, list] = {}  # finding key -> [raw finding, events, occurrences, score]
    steps = 0
    stop_reason = None
    max_executions = settings.max_executions
    max_steps = settings.max_steps
    progress = settings.progress
    started = time.monotonic()
    deadline = None if settings.time_limit is None else started + settings.time_limit
    executions = 0
    previous: list[tuple] = []
    has_locks = bool(program.lock_names)
    k = len(names)
    edge_witness: dict[tuple, tuple] = {}  # lock-order edge -> (score, events) of its best execution
    edge_sets: dict[frozenset, list] = {}  # the edges of an execution -> [score, events, executions]
    choose, begin, end = strategy.choose, strategy.begin, strategy.end
    bind = getattr(strategy, "bind", None)
    if bind is not None:  # dpor: which objects each step touches, and the locks' roles
        bind(program)
    needs_pending = getattr(strategy, "needs_pending", False)
    state_keys = StateKeys(program) if getattr(strategy, "needs_state", False) else None
    pruned = 0
    try:
        while begin():
            if max_executions is not None and executions >= max_executions:
                stop_reason = "max_executions"
                break
            if deadline is not None and time.monotonic() >= deadline:
                stop_reason = "time_limit"
                break
            run = Execution(program)
            try:
                if needs_pending:  # the strategy also sees which step each thread would take
                    status = run.run(lambda enabled, run=run: choose(enabled, run.pending), max_steps, previous)
                elif state_keys is not None:  # the strategy also sees the key of each state reached
                    status = run.run(lambda enabled, key=state_keys.follow(run): choose(enabled, key),
                                     max_steps, previous)
                else:
                    status = run.run(choose, max_steps, previous)
            except Abandon:
                names = program.thread_names  # a run may have started threads never seen before
                if state_keys is not None and _shows_new(run, found, edge_witness, names):
                    run = _run_to_end(program, run, max_steps)
                    status = run.status
                else:
                    pruned += 1
                    if needs_pending:
                        strategy.ended = "abandoned"
                    end()
                    previous = run.events
                    continue
            names = program.thread_names
            if needs_pending:
                strategy.ended = status
            executions += 1
            steps += len(run.events)
            if status is COMPLETED:
                key = (tuple(run.values.values()), tuple(run.returns))
                score = (run.preemptions, len(run.events))
                try:
                    seen = outcome_counts.get(key)
                except TypeError:
                    status = FAILED
                    run.findings.append(_unhashable(run))
                else:
                    if seen is None:
                        outcome_counts[key] = 1
                        witnesses[key] = (score, run.events)
                    else:
                        outcome_counts[key] = seen + 1
                        if score < witnesses[key][0]:
                            witnesses[key] = (score, run.events)
            counts[status] += 1
            for raw in run.findings:
                _note(found, raw, run)
            _note_lost_updates(found, run, names)
            _note_races(found, run, len(run.pending))
            if has_locks:
                _note_lock_order(run, edge_witness, edge_sets)
            if status is DIVERGED or status is HUNG:
                stop_reason = "nondeterminism" if status is DIVERGED else "step_timeout"
                break
            if progress is not None and not executions & 1023:
                progress(executions, steps, time.monotonic() - started)
            end()
            previous = run.events
    except KeyboardInterrupt:
        stop_reason = "interrupted"
    except StepTimeout:  # the watchdog's interrupt landed just after the stuck step moved on
        stop_reason = "step_timeout"
    elapsed = time.monotonic() - started
    covered = getattr(strategy, "incomplete_reason", None)  # None: the strategy covers everything

    for key, raw in outcome_findings(program, list(outcome_counts), max_steps):
        score, events = witnesses[key]
        found[raw.key] = [raw, events, outcome_counts[key], score]
    for chosen in potential_deadlocks(edge_witness):
        raw, events, occurrences, score = _cycle(chosen, names, edge_witness, edge_sets)
        found[raw.key] = [raw, events, occurrences, score]
    if getattr(strategy, "reduced", False) and stop_reason in (None, "max_executions"):
        try:
            _shorten_witnesses(program, max_steps, found, deadline)
        except (KeyboardInterrupt, StepTimeout):
            pass  # the traces found so far stand
    locate = _Locator(program, max_steps)
    lock_order = []
    for (held, acquired, thread, holding), (_score, events) in edge_witness.items():
        locations = locate(events)
        position = lock_order_edges(events)[held, acquired, thread, holding]
        lock_order.append((held, acquired, names[thread], holding,
                           None if locations is None else locations[position]))

    var_names = program.var_names
    outcomes: Counter = Counter()
    final_states: Counter = Counter()
    states: dict[tuple, State] = {}
    for (values, returns), count in outcome_counts.items():
        state = states.get(values)
        if state is None:
            state = states[values] = State._from(var_names, values)
        final_states[state] += count
        outcomes[Outcome._of(state, program.thread_names, returns)] += count

    return ExplorationResult(
        scenario=program.scenario,
        strategy=strategy_name,
        executions=executions,
        completed=counts[COMPLETED],
        deadlocked=counts[DEADLOCKED],
        failed=counts[FAILED] + counts[DIVERGED] + counts[HUNG],
        truncated=counts[TRUNCATED],
        steps=steps,
        elapsed=elapsed,
        stop_reason=stop_reason,
        final_states=final_states,
        outcomes=outcomes,
        findings=_public_findings(program, found, locate),
        lock_order=tuple(sorted(lock_order, key=repr)),
        strategy_reason=covered,
        pruned=pruned,
    )


def outcome_findings(program: Program, keys: list[tuple], max_steps: int) -> list[tuple[tuple, RawFinding]]:
    """Findings about whole outcomes: not serializable, or rejected by the scenario's
    invariant (on the final state) or check (on the outcome)."""
    scenario = program.scenario
    found = []
    # Serial orders are a baseline only for a fixed set of threads that never wait for
    # each other's steps (objects that block, threads started during a run: none).
    if (len(program.thread_names) <= MAX_THREADS and program.serializable
            and len(program.thread_names) == len(program.factories)):
        serial = serial_outcomes(program, max_steps)
        if serial is not None:
            found += nonserializable_outcomes(keys, serial, program.var_names, program.thread_names)
    if scenario.invariant is not None:
        found += invariant_violations("invariant", scenario.invariant, keys,
                                      lambda key: State._from(program.var_names, key[0]))
    if scenario.check is not None:
        found += invariant_violations("check", scenario.check, keys,
                                      lambda key: Outcome._of(State._from(program.var_names, key[0]),
                                                              program.thread_names, key[1]))
    return found


def serial_outcomes(program: Program, max_steps: int) -> set[tuple] | None:
    """The (values, returns) of every completed serial execution, over all thread orders;
    None if one hangs (a step past step_timeout): the baseline is unknown, and the next
    orders would hang too."""
    from itertools import permutations

    serial = set()
    for order in permutations(range(len(program.thread_names))):
        strategy = Serial(order)
        strategy.begin()
        run = Execution(program)
        status = run.run(strategy.choose, max_steps)
        if status is HUNG:
            return None
        if status is COMPLETED:
            try:
                serial.add((tuple(run.values.values()), tuple(run.returns)))
            except TypeError:
                pass  # reported as an error by the search itself
    return serial


def preemptions(events: list[tuple]) -> int:
    """Switches away from a thread that could have continued."""
    return sum(1 for a, b in zip(events, events[1:]) if a[0] != b[0] and a[0] in b[3])


def _note(found: dict, raw: RawFinding, run: Execution) -> None:
    events = run.events
    score = (run.preemptions, len(events))
    entry = found.get(raw.key)
    if entry is None:
        found[raw.key] = [raw, events, 1, score]
        return
    entry[2] += 1
    if score < entry[3]:
        entry[0], entry[1], entry[3] = raw, events, score


def _unhashable(run: Execution) -> RawFinding:
    names = run.program.thread_names
    for var, value in run.values.items():
        try:
            hash(value)
        except TypeError:
            writer = next((names[e[0]] for e in reversed(run.events)
                           if e[1][0] == "write" and e[1][1] == var), None)
            message = (f"thread {writer} wrote {value!r} ({type(value).__name__}) to {var!r}, "
                       f"which is not hashable; shared values must be hashable and never "
                       f"mutated in place (a tuple, not a list)")
            thread = names.index(writer) if writer is not None else None
            return RawFinding("error", "error", thread, ("error", thread, "unhashable", var),
                              message, {"variable": var, "position": len(run.events)})
    for i, value in enumerate(run.returns):
        try:
            hash(value)
        except TypeError:
            message = (f"thread {names[i]} returned {value!r} ({type(value).__name__}), which is "
                       f"not hashable; outcomes are counted by value, so return a tuple, not a list")
            return RawFinding("error", "error", i, ("error", i, "unhashable-return"),
                              message, {"position": len(run.events)})
    raise AssertionError("[explorer internal bug] a final state failed to hash, but no value is unhashable")


def _note_lost_updates(found: dict, run: Execution, names: tuple[str, ...]) -> None:
    """:func:`_note` for each lost update, wording a finding only when it is kept."""
    located_all = lost_update_keys(run.events)
    if not located_all:
        return
    events = run.events
    score = (run.preemptions, len(events))
    for located in located_all:
        key = located[0]
        entry = found.get(key)
        if entry is None:
            found[key] = [lost_update_finding(events, names, *located), events, 1, score]
        else:
            entry[2] += 1
            if score < entry[3]:
                entry[0], entry[1], entry[3] = lost_update_finding(events, names, *located), events, score


def _note_races(found: dict, run: Execution, k: int) -> None:
    pairs = race_pairs(run.events, k)
    if not pairs:
        return
    events = run.events
    get = found.get
    for key, earlier, later in pairs:
        # Then the earliest steps, as merge_races words a merged race: so that of the races
        # on the same lines one trace shows, each is worded from the pair replay words.
        score = (run.preemptions, len(events), (earlier, later))
        entry = get(key)
        if entry is None:
            found[key] = [race_finding(key, earlier, later, events), events, 1, score]
        else:
            entry[2] += 1
            if score < entry[3]:
                entry[0], entry[1], entry[3] = race_finding(key, earlier, later, events), events, score


#: Distinct sets of lock-order edges kept with a witness; beyond it, cycles fall back to
#: the trace of their first edge.
MAX_EDGE_SETS = 1_000


def _note_lock_order(run: Execution, edge_witness: dict, edge_sets: dict) -> None:
    edges = lock_order_edges(run.events)
    if not edges:
        return
    score = (run.preemptions, len(run.events))
    for edge in edges:
        best = edge_witness.get(edge)
        if best is None or score < best[0]:
            edge_witness[edge] = (score, run.events)
    signature = frozenset(edges)
    entry = edge_sets.get(signature)
    if entry is None:
        if len(edge_sets) < MAX_EDGE_SETS:
            edge_sets[signature] = [score, run.events, 1]
    else:
        entry[2] += 1
        if score < entry[0]:
            entry[0], entry[1] = score, run.events


def _cycle(chosen: list[tuple], names: tuple[str, ...], edge_witness: dict, edge_sets: dict) -> tuple:
    """The finding for a potential deadlock, with the best execution that takes all its edges."""
    need = set(chosen)
    best, occurrences = None, 0
    for signature, (score, events, count) in edge_sets.items():
        if need <= signature:
            occurrences += count
            if best is None or score < best[0]:
                best = (score, events)
    if best is None:
        score, events = edge_witness[chosen[0]]
        return cycle_finding(chosen, names, None, events), events, 1, score
    score, events = best
    return cycle_finding(chosen, names, lock_order_edges(events), events), events, occurrences, score


class _Locator:
    """Source lines of an execution's steps, by replaying it once per distinct execution."""

    def __init__(self, program: Program, max_steps: int) -> None:
        self.program, self.max_steps, self.cache = program, max_steps, {}

    def __call__(self, events: list[tuple]) -> list | None:
        key = id(events)
        if key not in self.cache:
            self.cache[key] = (events, _locate(self.program, events, self.max_steps))
        return self.cache[key][1]


def _public_findings(program: Program, found: dict, locate: _Locator) -> list[Finding]:
    findings = []
    for raw, events, occurrences, (preempted, *_) in found.values():
        locations = locate(events)
        trace = make_trace(program, events, locations, raw, preempted)
        details = {k: v for k, v in raw.details.items()}
        thread = None if raw.thread is None else program.thread_names[raw.thread]
        findings.append(with_locations(Finding(raw.kind, raw.severity, raw.message, trace, thread,
                                               occurrences, MappingProxyType(details))))
    findings = merge_races(findings)
    findings.sort(key=lambda f: f.severity != "error")
    return findings


def _locate(program: Program, events: list[tuple], max_steps: int) -> list | None:
    """Replays ``events``' schedule to learn the source line of each step; None if it cannot."""
    schedule = [event[0] for event in events]
    run = Execution(program)
    strategy = FollowSchedule(schedule, program.thread_names)
    try:
        status = run.run(strategy.choose, max_steps, events, locate=True)
    except ExplorerError:
        return None
    return None if status is DIVERGED else run.locations


def make_trace(program: Program, events: list[tuple], locations: list | None,
               raw: RawFinding | None, preempted: int | None = None) -> Trace:
    names = program.thread_names
    public = []
    for n, (i, step, value, _enabled) in enumerate(events):
        kind = step[0]
        if kind == "write" or kind == "put":
            value = step[2]
        elif kind == "take" and value is not None:
            value = value[0]  # the future it took, not its function
        elif kind == "finish":
            value = step[2] if step[3] is None else step[3]
        public.append(Event(n, names[i], step[0], step[1], value,
                            None if locations is None else locations[n]))
    marks = {} if raw is None else raw.details.get("marks", {})
    blocked, blocked_at, waiting = {}, {}, {}
    if raw is not None and raw.kind == "deadlock":
        blocked = {thread: lock for thread, lock, _holder, _finished in raw.details["waits"]}
        blocked_at = raw.details["blocked_at"]
        waiting = raw.details.get("waiting_in", {})
    return Trace(
        schedule=tuple(names[e[0]] for e in events),
        events=tuple(public),
        threads=names,
        blocked=MappingProxyType(blocked),
        preemptions=preemptions(events) if preempted is None else preempted,
        blocked_at=MappingProxyType(dict(blocked_at)),
        marks=MappingProxyType(dict(marks)),
        waiting=MappingProxyType(dict(waiting)),
    )


# ---- shorter traces for a reduced search's findings ----------------------------------

#: Findings of a reduced search whose traces are shortened, those with most preemptions first.
MAX_SHORTENED = 200
#: Finding kinds that hold for every execution ending in the same outcome.
_OUTCOME_KINDS = ("nonserializable", "invariant", "check")


def _shorten_witnesses(program: Program, max_steps: int, found: dict, deadline: float | None) -> None:
    """Give each finding of a reduced search the schedule of its trace with the fewest
    preemptions (:func:`.linearize.fewest_preemptions`), run again to word it anew.

    Only witnesses change: no finding, count or outcome is added, and the runs are not
    executions. Lock-order cycles keep theirs (their edges may come from several runs).
    """
    names = program.thread_names
    shorter: dict[int, Execution | None] = {}  # id(events) -> the run of a shorter schedule
    entries = sorted((entry for entry in found.values()
                      if entry[3][0] > 0 and entry[0].kind != "lock-order-cycle"), key=lambda e: -e[3][0])
    for entry in entries[:MAX_SHORTENED]:
        if deadline is not None and time.monotonic() >= deadline:
            return
        raw, events = entry[0], entry[1]
        if id(events) not in shorter:
            shorter[id(events)] = _shorter_run(program, events, entry[3][0], max_steps)
        run = shorter[id(events)]
        if run is None:
            continue
        score = (run.preemptions, len(run.events))
        if score >= entry[3]:
            continue  # an earlier shorter run already gave this finding a trace as good
        better = _same_finding(raw, run, names)
        if better is not None:
            entry[0], entry[1], entry[3] = better, run.events, score + (
                (better.details["steps"],) if better.kind == "race" else ())
            _improve_others(found, run, names, score)


def _improve_others(found: dict, run: Execution, names: tuple[str, ...], score: tuple) -> None:
    """Give ``run`` as witness to every other event finding it shows with a better score,
    as the search does, so that among the findings a trace shows, each one's own witness
    is at least as good (merging races by source line relies on it)."""
    events = run.events
    for raw in run.findings:
        _improve(found, raw.key, score, events, lambda raw=raw: raw)
    for located in lost_update_keys(events):
        _improve(found, located[0], score, events, lambda located=located: lost_update_finding(events, names, *located))
    for key, earlier, later in race_pairs(events, len(names)):
        _improve(found, key, score + ((earlier, later),), events, lambda key=key, earlier=earlier, later=later:
                 race_finding(key, earlier, later, events))


def _improve(found: dict, key: tuple, score: tuple, events: list, make) -> None:
    """Take ``events`` as the witness of an already found ``key`` if it scores better."""
    entry = found.get(key)
    if entry is not None and score < entry[3]:
        entry[0], entry[1], entry[3] = make(), events, score


def _shorter_run(program: Program, events: list[tuple], preempted: int, max_steps: int) -> Execution | None:
    """The run of a schedule of ``events``' trace with fewer preemptions, if one is found."""
    names = program.thread_names
    schedule = [event[0] for event in events]
    try:
        again = Execution(program)
        again.run(FollowSchedule(schedule, names).choose, max_steps, events)
        order = fewest_preemptions(events, list(again.pending), program.reentrant, below=preempted,
                                   dependent=dependence(program.footprint),
                                   thread_index=program.thread_index)
        if order is None:
            return None
        run = Execution(program)
        status = run.run(FollowSchedule(order, names).choose, max_steps)
    except ExplorerError:
        return None
    if status is DIVERGED or status is HUNG or run.preemptions >= preempted:
        return None
    return run


def _same_finding(raw: RawFinding, run: Execution, names: tuple[str, ...]) -> RawFinding | None:
    """``raw`` as ``run`` shows it (its step positions are ``run``'s), or None if it does not."""
    events = run.events
    if raw.kind == "lost-update":
        located = next((found for found in lost_update_keys(events) if found[0] == raw.key), None)
        return None if located is None else lost_update_finding(events, names, *located)
    if raw.kind == "race":
        pair = next((pair for pair in race_pairs(events, len(names)) if pair[0] == raw.key), None)
        return None if pair is None else race_finding(raw.key, pair[1], pair[2], events)
    if raw.kind in _OUTCOME_KINDS:  # the same trace ends in the same outcome; words no step
        return raw if run.status is COMPLETED else None
    return next((mine for mine in run.findings if mine.key == raw.key), None)


# ---- cut runs of a stateful search ----------------------------------------------------


def _shows_new(run: Execution, found: dict, edge_witness: dict, names: tuple[str, ...]) -> bool:
    """Whether a run cut at a visited state showed a finding or lock-order edge not seen
    before: its last step was the one time that step is taken from its state."""
    events = run.events
    for raw in run.findings:
        if raw.key not in found and raw.kind != "close-error":  # closing a cut run is not the scenario's doing
            return True
    if any(located[0] not in found for located in lost_update_keys(events)):
        return True
    if any(key not in found for key, _earlier, _later in race_pairs(events, len(names))):
        return True
    return any(edge not in edge_witness for edge in lock_order_edges(events))


def _run_to_end(program: Program, cut: Execution, max_steps: int) -> Execution:
    """``cut``'s schedule run again and on to its end without further preemptions: an
    execution whose trace shows what the cut run showed (every detector reads events in
    order, so what a prefix shows, the whole run shows)."""
    schedule = FollowSchedule([event[0] for event in cut.events], program.thread_names, extend=True)
    run = Execution(program)
    run.run(schedule.choose, max_steps, cut.events)
    return run
