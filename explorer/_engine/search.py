"""The search loop: run executions as a strategy directs, and collect what they show."""

from __future__ import annotations

import time
from _thread import get_ident  # the real one: a plain program's runs patch threading.get_ident
from collections import Counter
from dataclasses import replace
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
    witness_ranks,
)
from ..detectors.invariants import PredicateHung
from ..detectors.lock_order import LockOrderEdges, with_locations
from ..detectors.lost_update import LostUpdateKeys, lost_update_finding, lost_update_keys
from ..detectors.races import ACCESSES as _ACCESSES
from ..detectors.races import RacePairs, best_witnessed, witness_ranker
from ..detectors.serializability import MAX_THREADS
from ..errors import ExplorerError
from .._text import shown, text_of
from ..findings import Event, Finding, RawFinding, Trace
from ..objects.base import HIDDEN
from ..objects.dependence import dependence
from ..outcomes import Outcome, State, outcome_key
from ..results import ExplorationResult
from ..settings import Settings
from ..strategies.base import Abandon
from ..strategies.schedule import FollowSchedule
from ..strategies.serial import Serial, Unordered
from .driver import exception_location
from .execution import COMPLETED, DEADLOCKED, DIVERGED, FAILED, HUNG, TRUNCATED, Events, Execution, clipped
from .hunger import AT_LEAST
from .linearize import fewest_preemptions
from .program import Program
from .seats import renamed_step
from .state_keys import StateKeys, swapping, twin_pairs
from .tally import (MAX_EDGE_SETS, OUTCOME_ERRORS, Tally, _agreed, _note, _note_lock_order, _note_lost_updates,  # noqa: F401
                    _note_races, _Race, _unhashable, better, identity_compared, refuses_equality)
from .watchdog import DEADLINES, RUNNING, Deadline, StepTimeout, TimeLimitReached, ctrl_c_flag


def search(program: Program, strategy, strategy_name: str, settings: Settings) -> ExplorationResult:
    """Explore until the strategy is done or a budget is hit; never raises for the scenario's faults."""
    started = time.monotonic()
    deadline = _deadline(started, settings.time_limit)
    tally = Tally()
    about = drive(program, strategy, settings, tally, deadline, started)
    return assemble(program, strategy_name, settings, tally, about, deadline, time.monotonic() - started)


def drive(program: Program, strategy, settings: Settings, tally: Tally, deadline: Deadline,
          started: float, slice_end: float | None = None, hungry=None, figures: bool = True) -> dict:
    """Run executions as ``strategy`` directs until it is done, a budget is hit or the
    search must stop, noting in ``tally`` what each shows. Returns what the result's
    assembly needs to know of the strategy (:func:`assemble`), and whether the search
    stopped at ``slice_end`` (a work unit's time is up: its strategy can ``split()``), or
    earlier, once it has run :data:`.hunger.AT_LEAST` seconds, when ``hungry[0]`` is set
    (a worker is idle: :mod:`.hunger`). Without ``figures`` (a work unit, or the
    coordinator's own slice: the coordinator works out the whole search's once it is
    over), the stateful figures are left out: measuring the bytes a state takes samples
    the visited set, milliseconds a time."""
    driving = drive_in_turns(program, strategy, settings, tally, deadline, started, slice_end, hungry,
                             figures=figures)
    try:
        next(driving)
    except StopIteration as done:
        return done.value
    raise AssertionError("[explorer internal bug] a search without turns paused")


def drive_in_turns(program: Program, strategy, settings: Settings, tally: Tally, deadline: Deadline,
                   started: float, slice_end: float | None = None, hungry=None, turn=None,
                   figures: bool = True):
    """:func:`drive` as a generator that pauses, between two executions or two states of a
    graph walk, whenever ``turn.over(executions, steps)`` says its turn is over (its
    executions and engine steps so far), and goes on from there when resumed: so that two searches of
    one program can take turns in one thread (:mod:`.portfolio`). Its return value (the
    ``StopIteration``'s) is :func:`drive`'s. Without ``turn`` it never pauses."""
    counts, outcome_counts, witnesses, found = tally.counts, tally.outcome_counts, tally.witnesses, tally.found
    edge_witness, edge_sets, edge_cap = tally.edge_witness, tally.edge_sets, tally.edge_cap
    names = program.thread_names
    steps = tally.steps
    stop_reason = None
    max_executions = settings.max_executions
    max_steps = settings.max_steps
    progress = settings.progress
    executions = tally.executions
    previous: list[tuple] = []
    has_locks = bool(program.lock_names)
    k = len(names)
    lost, racing, ordering = LostUpdateKeys(), RacePairs(k), LockOrderEdges()  # resumed run after run
    choose, begin, end = strategy.choose, strategy.begin, strategy.end
    repeats = getattr(strategy, "repeats", None)
    bind = getattr(strategy, "bind", None)
    if bind is not None:  # dpor: which objects each step touches, and the locks' roles
        bind(program)
    # stateful: a run cut at a state visited counts against max_executions, and so does a
    # step of its graph walk into one; otherwise its budget would bound nothing
    counts_cut = max_executions is not None and hasattr(strategy, "limit_runs")
    if counts_cut:
        strategy.limit_runs(max_executions - tally.executions - tally.pruned)
    if not callable(getattr(strategy, "split", None)):
        hungry = None  # a sampling unit runs its draws: it has nothing to hand back
    early = started + AT_LEAST  # from here a hungry worker splits this unit
    if slice_end is not None and hasattr(strategy, "pause_at"):  # a stateful walk stops at it between states
        strategy.pause_at(slice_end, hungry, early)
    needs_pending = getattr(strategy, "needs_pending", False)
    state_keys = (StateKeys(program, symmetry=strategy.symmetry) if getattr(strategy, "needs_state", False)
                  else None)
    if state_keys is not None:
        state_keys.note_lost([key for key in found
                              if key.__class__ is tuple and len(key) == 4 and key[0] == "lost-update"])
    # a reduced search's run stands for every schedule of its trace: its races are ranked by the best
    # (under fair schedules another order of a trace's steps may be no fair schedule: none is assumed)
    reorder = ((dependence(program.footprint), program.thread_index) if getattr(strategy, "reduced", False)
               and not program.fair
               else None)
    pruned = 0
    sliced = False
    pressed = ctrl_c_flag()
    run = None
    try:
        while True:
            if pressed[0]:  # pressed, and swallowed by a thread's code (watchdog.ctrl_c_noted)
                raise KeyboardInterrupt
            if turn is not None and turn.over(executions, steps):
                racing.settle()  # the tally's race counts are whole while the other search runs
                yield  # another search's turn; this one goes on from here
            # a work unit's time is up, or a worker is idle: stop before begin(), which may already
            # choose what comes next (a strategy that cannot split now, a replaying stateful search,
            # runs on)
            if slice_end is not None and executions > tally.executions \
                    and getattr(strategy, "splittable", True) \
                    and (time.monotonic() >= slice_end
                         or (hungry is not None and hungry[0] and time.monotonic() >= early)):
                sliced = True
                break
            if not begin():
                if turn is not None and getattr(strategy, "paused", False):  # its walk's turn is over
                    racing.settle()
                    yield
                    continue
                sliced = getattr(strategy, "paused", False)  # stopped at the unit's time, with work left
                if getattr(strategy, "budget_spent", False):
                    stop_reason = "max_executions"
                break
            if max_executions is not None and (executions + (pruned + strategy.walked_past if counts_cut else 0)
                                               >= max_executions):
                stop_reason = "max_executions"
                break
            if deadline.at is not None and (deadline.passed[0] or time.monotonic() >= deadline.at):
                stop_reason = "time_limit"
                break
            run = Execution(program)
            try:
                if needs_pending:  # the strategy also sees which step each thread would take
                    status = run.run(lambda enabled, run=run: choose(enabled, run.pending), max_steps, previous,
                                     repeat=repeats(len(previous)) if repeats is not None else 0)
                elif state_keys is not None:  # the strategy also sees the key of each state reached
                    status = run.run(lambda enabled, key=state_keys.follow(run): choose(enabled, key, run.pending),
                                     max_steps, previous)
                elif repeats is not None:  # a depth-first search: its replayed prefix takes a short path
                    status = run.run(choose, max_steps, previous, repeat=repeats(len(previous)))
                else:
                    status = run.run(choose, max_steps, previous)
            except Abandon:
                names = program.thread_names  # a run may have started threads never seen before
                if state_keys is not None and _shows_new(run, found, edge_witness, names, lost, racing, ordering):
                    run = _run_to_end(program, run, max_steps)
                    status = run.status
                else:
                    pruned += 1
                    if needs_pending or state_keys is not None:
                        strategy.ended = "abandoned"
                    end()
                    previous = run.events
                    run.release()
                    continue
            if pressed[0]:  # this run may have gone on after a thread swallowed the KeyboardInterrupt
                raise KeyboardInterrupt
            names = program.thread_names
            if state_keys is not None and (status is COMPLETED or status is DEADLOCKED or status is FAILED):
                going_on = strategy.going_on(len(run.events))
                if going_on is not None:  # the graph walk saw this schedule go on from here
                    run.ended_before(going_on, status)
                    status = DIVERGED
            if needs_pending or state_keys is not None:  # how the run ended (a failure sleeps nowhere)
                strategy.ended = status
            executions += 1
            if executions == 1:
                tally.first = run.events  # the reference run: what later runs are checked against
            steps += len(run.events)
            if status is COMPLETED:
                key = outcome_key(tuple(run.values.values()), tuple(run.returns))
                score = (run.preemptions, len(run.events))
                try:
                    seen = outcome_counts.get(key)
                except Exception:  # noqa: BLE001 - unhashable, or an == that raised: the user's value
                    status = FAILED
                    run.findings.append(_unhashable(run))
                else:
                    if seen is None:
                        odd = identity_compared(run)
                        if odd is not None:  # every run would make another outcome
                            status = FAILED
                            run.findings.append(odd)
                        else:
                            outcome_counts[key] = 1
                            witnesses[key] = (score, run.events)
                    else:
                        outcome_counts[key] = seen + 1
                        kept = witnesses[key]
                        if better(score, run.events, kept[0], kept[1]):
                            witnesses[key] = (score, run.events)
            counts[status] += 1
            for raw in run.findings:
                _note(found, raw, run)
            noted = _note_lost_updates(found, run, names, lost)
            if noted and state_keys is not None:
                state_keys.note_lost(noted)
            _note_races(found, run, len(run.pending), deadline.passed, racing, reorder)
            if has_locks or program.lock_names:  # plain code makes its locks as it runs
                _note_lock_order(run, edge_witness, edge_sets, ordering, edge_cap)
            if status is DIVERGED or status is HUNG:
                stop_reason = "nondeterminism" if status is DIVERGED else "step_timeout"
                break
            if progress is not None and not executions & 1023:
                progress(executions, steps, time.monotonic() - started)
            end()
            previous = run.events
            run.release()
    except TimeLimitReached:
        stop_reason = "time_limit"
        tally.stopped_in = _stopped_in(run, strategy)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        tally.stopped_in = _stopped_in(run, strategy)
    except StepTimeout:  # the watchdog's interrupt landed just after the stuck step moved on
        stop_reason = "step_timeout"
    racing.settle()  # the race counts it owes the runs that shared a pair (RacePairs.since)
    tally.executions, tally.steps = executions, steps
    tally.pruned += pruned + getattr(strategy, "walked_past", 0)
    tally.stop_reason = stop_reason
    groups = state_keys.groups if state_keys is not None else ()
    seats = getattr(strategy, "seat_moves", ())  # a graph walk's, when it folded seats
    return {"covered": getattr(strategy, "incomplete_reason", None),  # None: the strategy covers everything
            "reduced": getattr(strategy, "reduced", False),
            "race_paths": getattr(strategy, "race_paths", {}),  # a graph walk's: see _races_by_path
            "groups": groups,
            "seats": seats,
            "figures": measured_figures(strategy, groups, program.thread_names, seats, tally) if figures else {},
            "sliced": sliced}


def _stopped_in(run: Execution | None, strategy) -> str | None:
    """The thread's code the time limit or Ctrl-C landed in, if it landed in one: the
    execution's, or a graph walk's (stateful search runs code outside executions too)."""
    return getattr(run, "stopped_in", None) or getattr(getattr(strategy, "graph", None), "stopped_in", None)


def measured_figures(strategy, groups: tuple, names: tuple[str, ...], seats: tuple, tally: Tally) -> dict:
    """:func:`_state_figures`; Ctrl-C pressed while they are measured, as the search ends,
    leaves them out and marks ``tally`` interrupted: what the search found stands."""
    try:
        return _state_figures(strategy, groups, names, seats)
    except KeyboardInterrupt:
        tally.stop_reason = tally.stop_reason or "interrupted"
        return {}


def _pad_outcomes(program: Program, tally: Tally) -> None:
    """One key per outcome: a run made before the search met a thread or a variable that a
    later run started or set (plain code's, a pool's worker) has a shorter key, which the
    thread or variable, absent, extends with ``HIDDEN`` (left out of the outcome shown);
    its counts and witness join those of the longer key, as one outcome."""
    k, v = len(program.thread_names), len(program.var_names)
    counts, witnesses = tally.outcome_counts, tally.witnesses
    if all(len(key[1]) == k and len(key[0]) == v for key in counts):
        return
    padded_counts: dict = {}
    padded_witnesses: dict = {}
    for key, count in counts.items():
        values, returns = key[0], key[1]
        full = outcome_key(values + (HIDDEN,) * (v - len(values)), returns + (HIDDEN,) * (k - len(returns)))
        witness = witnesses[key]
        kept = padded_witnesses.get(full)
        if kept is None:
            padded_counts[full], padded_witnesses[full] = count, witness
        else:
            padded_counts[full] += count
            if better(witness[0], witness[1], kept[0], kept[1]):
                padded_witnesses[full] = witness
    tally.outcome_counts, tally.witnesses = padded_counts, padded_witnesses


def assemble(program: Program, strategy_name: str, settings: Settings, tally: Tally, about: dict,
             deadline: Deadline, elapsed: float) -> ExplorationResult:
    """The result of a search from its tally: outcome findings, potential deadlocks,
    shorter traces for a reduced search, source lines, and the public findings."""
    max_steps = settings.max_steps
    names = program.thread_names
    if about["reduced"]:
        _in_canonical_order(tally)
    counts, outcome_counts, witnesses, found = tally.counts, tally.outcome_counts, tally.witnesses, tally.found
    edge_witness, edge_sets = tally.edge_witness, tally.edge_sets
    stop_reason = tally.stop_reason
    # The result's assembly (outcome findings, shorter witnesses, source lines) replays runs
    # too: under a time limit or after Ctrl-C it gets ASSEMBLY_GRACE seconds, then gives up
    # what it has not done, and a result that lacks findings for it says it is incomplete.
    _grace(deadline, stop_reason)
    _pad_outcomes(program, tally)
    outcome_counts, witnesses = tally.outcome_counts, tally.witnesses
    groups, seats = about["groups"], about.get("seats", ())
    if seats:  # the moves checked as the walk learned the steps: its runs' images are runs
        if stop_reason is None:
            _close_under_seats(seats, outcome_counts, witnesses, edge_witness)
    elif groups:  # an outcome found stands for its twins with interchangeable threads swapped
        _close_under_symmetry(groups, outcome_counts, witnesses, edge_witness, len(program.factories), found, names)
    try:
        for key, raw in outcome_findings(program, list(outcome_counts), max_steps):
            score, events = witnesses[key]
            found[raw.key] = [raw, events, outcome_counts[key], score]
        for chosen in potential_deadlocks(edge_witness):
            raw, events, occurrences, score = _cycle(chosen, names, edge_witness, edge_sets)
            found[raw.key] = [raw, events, occurrences, score]
    except KeyboardInterrupt as stop:  # the time limit too
        stop_reason = _cut_short(deadline, stop, stop_reason)
    if about["reduced"] and stop_reason in (None, "max_executions") and not program.fair:
        try:
            _shorten_witnesses(program, max_steps, found, deadline.at)
            _interleave_races(program, max_steps, found, deadline.at)
        except KeyboardInterrupt as stop:  # the traces found so far stand; Ctrl-C is said
            cut = _cut_short(deadline, stop, stop_reason)
            if not isinstance(stop, TimeLimitReached):
                stop_reason = cut
        except StepTimeout:
            pass
    locate = _Locator(program, max_steps, deadline)
    try:
        stop_reason = _check_witnesses(found, witnesses, locate, stop_reason, tally.first)
    except KeyboardInterrupt as stop:  # the time limit too
        stop_reason = _cut_short(deadline, stop, stop_reason)
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
    for key, count in outcome_counts.items():
        values, returns = key[0], key[1]
        exact = outcome_key(values, ())  # equal values of other types are other states
        state = states.get(exact)
        if state is None:
            state = states[exact] = State._from(var_names, values)
        final_states[state] += count
        outcomes[Outcome._of(state, program.thread_names, returns)] += count

    if about["reduced"] and stop_reason not in ("time_limit", "interrupted"):
        # cut short, no other run stops at the same point: no order is canonical, and
        # ordering 250,000 racing pairs takes a second the user is waiting for
        _in_witness_order(found)
    visible = found if not locate.diverged else {
        key: entry for key, entry in found.items()
        if id(entry[1]) not in locate.diverged or entry[0].kind == "nondeterminism"}
    try:
        findings = _public_findings(program, visible, locate)
    except KeyboardInterrupt as stop:  # Ctrl-C while wording findings: word them again, without lines
        stop_reason = _cut_short(deadline, stop, stop_reason)
        findings = _public_findings(program, visible, locate)
    if about.get("race_paths") and not locate.deadline.passed[0]:
        findings = _races_by_path(program, findings, about["race_paths"], max_steps, locate)
    if locate.interrupted and stop_reason in (None, "max_executions"):
        stop_reason = "interrupted"  # pressed while replays looked up source lines: some were not
    return ExplorationResult(
        scenario=program.scenario,
        strategy=strategy_name,
        max_steps=max_steps,
        executions=tally.executions,
        completed=counts[COMPLETED],
        deadlocked=counts[DEADLOCKED],
        failed=counts[FAILED] + counts[DIVERGED] + counts[HUNG],
        truncated=counts[TRUNCATED],
        steps=tally.steps,
        elapsed=elapsed,
        stop_reason=stop_reason,
        final_states=final_states,
        outcomes=outcomes,
        findings=findings,
        lock_order=tuple(sorted(lock_order, key=repr)),
        strategy_reason=about["covered"],
        pruned=tally.pruned,
        stopped_in=tally.stopped_in if stop_reason in ("time_limit", "interrupted") else None,
        fair=program.fair,
        **about["figures"],
    )


def _state_figures(strategy, groups: tuple, names: tuple[str, ...], moves: tuple = ()) -> dict:
    """What a stateful search stored: its states, bytes per state, the chance of a collision."""
    if not getattr(strategy, "needs_state", False):
        return {}
    return {"states": strategy.states, "bytes_per_state": strategy.bytes_per_state(),
            "collision_probability": strategy.collision_probability(),
            "replays_per_state": (strategy.replayed + strategy.resent) / max(strategy.states, 1),
            "symmetric": tuple(tuple(names[i] for i in group) for group in _classes(moves, groups))}


def _classes(moves: tuple, groups: tuple) -> tuple:
    """The classes of threads a stateful search took as interchangeable: twins, or the
    threads each seat move can send a thread to (:mod:`.seats`)."""
    if not moves:
        return groups
    orbits = {tuple(sorted({move.threads[i] for move in moves})) for i in range(len(moves[0].threads))}
    return tuple(sorted(orbit for orbit in orbits if len(orbit) > 1))


def _close_under_symmetry(groups: tuple, outcome_counts: dict, witnesses: dict, edge_witness: dict,
                          k: int, found: dict, names: tuple[str, ...]) -> None:
    """Add each outcome with interchangeable threads' returns swapped, counted as the one
    found, each lock-order edge with its thread swapped, and each lost update with its
    pair of threads swapped, with its witness run renumbered the same way (the threads
    are alike, so the renumbered run is a run of the scenario). Without the edges, twins
    that take two locks in both orders showed one thread's edges only, and no potential
    deadlock, which needs two threads'. The graph walk counts on the lost updates: it
    takes one pair's as every pair of their twins' (``model_graph._lost``)."""
    perms = list(_permutations(groups, k))
    for key in list(outcome_counts):
        for perm in perms:
            _add_moved(key, perm, None, outcome_counts, witnesses)
    for (held, acquired, thread, holding), (score, events) in list(edge_witness.items()):
        for perm in perms:
            other = (held, acquired, perm[thread], holding)
            if other not in edge_witness:
                edge_witness[other] = (score, _renumbered(events, perm))
    for key, entry in list(found.items()):
        if key.__class__ is not tuple or len(key) != 4 or key[0] != "lost-update":
            continue
        _kind, var, a, b = key
        _raw, events, count, score = entry
        for image_a, image_b in twin_pairs(groups, a, b)[1:]:
            image = ("lost-update", var) + ((image_a, image_b) if image_a < image_b else (image_b, image_a))
            if image in found:
                continue
            threads = max(k, 1 + max(event[0] for event in events))  # threads a run started too
            moved = _renumbered(events, swapping(threads, a, b, image_a, image_b))
            located = next((entry for entry in lost_update_keys(moved) if entry[0] == image), None)
            if located is not None:  # (always: the run renumbered loses the update renumbered)
                found[image] = [lost_update_finding(moved, names, *located), moved, count, score]


def _close_under_seats(moves: tuple, outcome_counts: dict, witnesses: dict, edge_witness: dict) -> None:
    """Add each outcome and lock-order edge under every seat move (threads and locks
    renamed, :mod:`.seats`), counted as the one found, with its witness run moved the same
    way. Only for a complete walk: it checked every step its states take, so each moved run
    is a run of the scenario (and the replay of witnesses would say if not)."""
    for key in list(outcome_counts):
        for move in moves[1:]:
            _add_moved(key, move.threads, move.names, outcome_counts, witnesses)
    for (held, acquired, thread, holding), (score, events) in list(edge_witness.items()):
        for move in moves[1:]:
            perm, names = move.threads, move.names
            other = (names.get(held, held), names.get(acquired, acquired), perm[thread],
                     tuple(sorted(names.get(lock, lock) for lock in holding)))
            if other not in edge_witness:
                edge_witness[other] = (score, _renumbered(events, perm, names))


def _add_moved(key: tuple, perm, names: dict | None, outcome_counts: dict, witnesses: dict) -> None:
    """The outcome ``key`` with thread ``i`` called ``perm[i]`` (and its locks renamed by
    ``names``), unless found already, with the count and the moved witness of ``key``."""
    values, returns = key[0], key[1]
    moved = list(returns)
    for i, j in enumerate(perm):
        moved[j] = returns[i]
    other = outcome_key(values, tuple(moved))
    if other not in outcome_counts:
        outcome_counts[other] = outcome_counts[key]
        score, events = witnesses[key]
        witnesses[other] = (score, _renumbered(events, perm, names))


def _permutations(groups: tuple, k: int):
    """Every renumbering of threads within their classes (thread ``i`` becomes ``perm[i]``)."""
    import itertools

    choices = [list(itertools.permutations(group)) for group in groups]
    for picked in itertools.product(*choices):
        perm = list(range(k))
        for group, image in zip(groups, picked):
            for i, j in zip(group, image):
                perm[i] = j
        yield perm


def _renumbered(events: list, perm, names: dict | None = None) -> list:
    """A run with thread ``i`` called ``perm[i]`` and, given ``names``, its locks renamed."""
    moved = [(perm[thread], renamed_step(step, names) if names else step, value, sorted(perm[i] for i in enabled))
             for thread, step, value, enabled in events]
    syncs = getattr(events, "syncs", None)
    return moved if syncs is None else Events(moved, syncs)


#: Seconds the result's assembly may take once the search has stopped at a budget or Ctrl-C.
ASSEMBLY_GRACE = 0.5


def _deadline(started: float, time_limit: float | None) -> Deadline:
    """The deadline the watchdog keeps for this thread's search (explore() registers it)."""
    deadline = DEADLINES.get(get_ident())
    if deadline is None:  # searched without explore(): no watchdog, the clock is read between runs
        deadline = Deadline(None if time_limit is None else started + time_limit)
    return deadline


def _grace(deadline: Deadline, stop_reason: str | None) -> None:
    """Give the result's assembly at least ASSEMBLY_GRACE seconds, and no more once the
    search was cut short (by the time limit, or by Ctrl-C: the user is waiting)."""
    if stop_reason in ("time_limit", "interrupted"):
        deadline.extend(ASSEMBLY_GRACE)
    elif deadline.at is not None:
        deadline.at = max(deadline.at, time.monotonic() + ASSEMBLY_GRACE)
        deadline.passed[0] = False


def _cut_short(deadline: Deadline, stop: KeyboardInterrupt, stop_reason: str | None) -> str:
    """The assembly was interrupted: the rest of it gives up replaying runs at once (no
    source lines), and the result says why it is incomplete."""
    deadline.passed[0] = True
    if stop_reason in (None, "max_executions"):
        return "time_limit" if isinstance(stop, TimeLimitReached) else "interrupted"
    return stop_reason


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
                                      lambda key: State._from(program.var_names, key[0]), exception_location,
                                      _watched_call)
    if scenario.check is not None:
        found += invariant_violations("check", scenario.check, keys,
                                      lambda key: Outcome._of(State._from(program.var_names, key[0]),
                                                              program.thread_names, key[1]), exception_location,
                                      _watched_call)
    return found


class _Predicate:
    """What the watchdog sees running while an invariant or a check runs: an execution
    that has not ended and takes no step, so that code that never returns is interrupted
    after ``step_timeout`` (and at the time limit) as a thread's step is."""

    __slots__ = ("events", "status")

    def __init__(self) -> None:
        self.events, self.status = (), None


def _watched_call(predicate, subject: object) -> object:
    """``predicate(subject)``, watched (:class:`_Predicate`); one that runs past
    ``step_timeout`` raises :class:`PredicateHung`."""
    me = get_ident()
    outer = RUNNING.get(me)
    RUNNING[me] = _Predicate()
    try:
        return predicate(subject)
    except StepTimeout as hung:
        raise PredicateHung(hung.seconds) from None
    finally:
        if outer is None:
            RUNNING.pop(me, None)
        else:
            RUNNING[me] = outer


def serial_outcomes(program: Program, max_steps: int) -> set[tuple] | None:
    """The (values, returns) of every completed serial execution, over all thread orders;
    None if one hangs (a step past step_timeout): the baseline is unknown, and the next
    orders would hang too."""
    from itertools import permutations

    serial = set()
    fair, program.fair = program.fair, False  # a serial order runs each thread to its end: never fair
    try:
        for order in permutations(range(len(program.thread_names))):
            strategy = Serial(order)
            strategy.begin()
            run = Execution(program)
            try:
                status = run.run(strategy.choose, max_steps)
            except Unordered:  # it starts threads the search never met: no baseline
                return None
            if status is HUNG:
                return None
            if status is COMPLETED:
                try:
                    serial.add(outcome_key(tuple(run.values.values()), tuple(run.returns)))
                except Exception:  # noqa: BLE001, S110 - unhashable, or an == that raised: the search reports it
                    pass
    finally:
        program.fair = fair
    return serial


def preemptions(events: list[tuple]) -> int:
    """Switches away from a thread that could have continued."""
    return sum(1 for a, b in zip(events, events[1:]) if a[0] != b[0] and a[0] in b[3])


def _cycle(chosen: list[tuple], names: tuple[str, ...], edge_witness: dict, edge_sets: dict) -> tuple:
    """The finding for a potential deadlock, with the best execution that takes all its edges."""
    need = set(chosen)
    best, occurrences = None, 0
    for signature, (score, events, count) in edge_sets.items():
        if need <= signature:
            occurrences += count
            if best is None or better(score, events, best[0], best[1]):
                best = (score, events)
    if best is None:
        score, events = edge_witness[chosen[0]]
        return cycle_finding(chosen, names, None, events), events, 1, score
    score, events = best
    return cycle_finding(chosen, names, lock_order_edges(events), events), events, occurrences, score


class _Locator:
    """Source lines of an execution's steps, by replaying it once per distinct execution;
    None for every execution once the assembly's time is up or Ctrl-C is pressed."""

    def __init__(self, program: Program, max_steps: int, deadline: Deadline) -> None:
        self.program, self.max_steps, self.cache, self.deadline = program, max_steps, {}, deadline
        self.interrupted = False  # Ctrl-C stopped a replay (not the time limit): the result says so
        self.diverged: dict[int, RawFinding] = {}  # id(events) -> how its replay differed
        self.shown: dict[int, set] = {}  # id(events) -> the keys of the findings its replay made

    def __call__(self, events: list[tuple]) -> list | None:
        key = id(events)
        if key not in self.cache:
            if self.deadline.passed[0]:
                return None
            try:
                self.cache[key] = (events, _locate(self.program, events, self.max_steps, self.diverged,
                                                   self.shown))
            except KeyboardInterrupt as stop:  # the time limit too: the traces go without source lines
                self.deadline.passed[0] = True
                self.interrupted |= not isinstance(stop, TimeLimitReached)
                return None
        return self.cache[key][1]


#: Outcome witnesses replayed at the end to check that the scenario ran deterministically.
MAX_CHECKED_OUTCOMES = 200


def _check_witnesses(found: dict, witnesses: dict, locate: _Locator, stop_reason: str | None,
                     first: list) -> str | None:
    """Replay each finding's witness (for its source lines) and some outcomes' witnesses: a
    run that does not repeat means the scenario is nondeterministic in a way the search did
    not see while running (state kept between runs, past the replayed prefix). Its findings
    are not shown, a ``nondeterminism`` finding says where the replay differed, and the
    result is incomplete: nothing built from a run that does not repeat is reported. The
    first run is the reference the others were checked against, and is kept whatever
    its replay does (values compared by identity never repeat, but are what ran)."""
    for raw, events, _occurrences, _score in list(found.values()):
        locate(events)
        again = locate.shown.get(id(events))
        if again is not None and raw.kind not in _DETECTED and raw.key not in again and id(events) not in locate.diverged \
                and not (raw.kind == "error" and len(raw.key) > 2 and raw.key[2] in OUTCOME_ERRORS):
            names = locate.program.thread_names
            message = (f"scenario {locate.program.scenario.name!r} is nondeterministic: a run that showed "
                       f"\"{clipped(raw.message)}\" did not show it when run again with the same "
                       f"{len(events)} steps ({' '.join(names[e[0]] for e in events[:20])}"
                       f"{' ...' if len(events) > 20 else ''}). Exploration assumes each thread does the same "
                       f"thing given the same values read; state kept between runs breaks that."
                       + (f" Here, likely: {raw.details['shared']}" if raw.details.get("shared") else ""))
            locate.diverged[id(events)] = RawFinding("nondeterminism", "error", None, ("nondeterminism", None),
                                                     message, {"position": len(events)})
    for _score, events in list(witnesses.values())[:MAX_CHECKED_OUTCOMES]:
        locate(events)
    if first:
        # The first run went on where its replay ends (a thread raises from the second run
        # on): a stateful search's graph walk, which learns each step from fresh
        # generators, may never run a path that meets the first run's to show it.
        locate(first)
        differed = locate.diverged.get(id(first))
        if differed is not None and not differed.details.get("ended"):
            del locate.diverged[id(first)]
    if not locate.diverged:
        return stop_reason
    first = next(iter(locate.diverged.values()))
    if first.key not in found:
        found[first.key] = [first, [], 1, (0, 0)]
    return "nondeterminism" if stop_reason in (None, "max_executions") else stop_reason


def _public_findings(program: Program, found: dict, locate: _Locator) -> list[Finding]:
    findings = []
    for raw, events, occurrences, score in _one_race_per_site(program, found, locate):
        if raw.__class__ is _Race:
            raw = raw.finding(events)
        findings.append(_public(program, raw, events, locate(events), occurrences, score))
    findings = merge_races(findings)
    if locate.deadline.passed[0]:  # the time ran out before some witnesses were replayed for lines
        why = _NOT_LOOKED_UP.format("Ctrl-C" if locate.interrupted else "the time limit")
        findings = [replace(finding, message=finding.message + why)
                    if finding.kind == "race" and all(event.location is None for event in finding.trace.events)
                    else finding for finding in findings]
    findings.sort(key=lambda f: f.severity != "error")
    return findings


#: Said of a race whose witness was not replayed for its source lines (:func:`_sites`).
def _public(program: Program, raw: RawFinding, events: list[tuple], locations: list | None, occurrences: int,
            score: tuple) -> Finding:
    """The finding the user sees: ``raw`` with its witness's trace (for a deadlock a run
    goes on from with a spurious wakeup, up to the state it shows: ``Execution._hangs``)."""
    preempted = _preempted(raw, score)
    if raw.kind == "deadlock" and raw.details.get("spurious_only"):
        end = raw.details["position"]
        events, preempted = events[:end], None
        locations = None if locations is None else locations[:end]
    trace = make_trace(program, events, locations, raw, preempted)
    thread = None if raw.thread is None else program.thread_names[raw.thread]
    return with_locations(Finding(raw.kind, raw.severity, raw.message, trace, thread, occurrences,
                                  MappingProxyType(dict(raw.details))))


def _race_site_key(finding: Finding) -> tuple | None:
    """A race finding's key as the graph walk makes it: its variable and the sites (kind,
    ``file:line``) of its two steps, in order; None where a line is unknown."""
    sites = []
    for position in finding.details["steps"]:
        event = finding.trace.events[position]
        if event.location is None:
            return None
        sites.append((event.step[0], event.location))
    first, second = sorted(sites)
    return ("race", finding.details["variable"], first, second)


def _races_by_path(program: Program, findings: list[Finding], race_paths: dict, max_steps: int,
                   locate: _Locator) -> list[Finding]:
    """``findings`` and each race the graph walk saw that they lack: the search keeps races
    by thread and step number, and a later run can take a race's key with other lines
    (the same steps of the same threads, reached another way). The path the walk handed
    out for the race is run again (on without preemptions, as the run was), with lines."""
    shown = {_race_site_key(finding) for finding in findings if finding.kind == "race"}
    missing = [(key, path) for key, path in race_paths.items()
               if key not in shown and all(len(site) == 2 for site in key[2:])]  # (kind, line): a line known
    extra = []
    for key, path in missing:
        if locate.deadline.passed[0]:
            break
        run = Execution(program)
        chosen = iter(path)
        last = [None]

        def choose(enabled: list[int], chosen=chosen, last=last) -> int:
            thread = next(chosen, None)
            if thread is None:
                thread = last[0] if last[0] in enabled else enabled[0]
            last[0] = thread
            return thread

        try:
            run.run(choose, max_steps, locate=True)
        except KeyboardInterrupt as stop:  # as a replay for lines: Ctrl-C is said, the time limit not
            locate.deadline.passed[0] = True
            locate.interrupted |= not isinstance(stop, TimeLimitReached)
            break
        locations, events = run.locations, run.events
        score = (run.preemptions, len(events))
        for pair_key, earlier, later in RacePairs(len(run.pending)).of(events, 0, len(run.pending)):
            sites = sorted(((events[earlier][1][0], locations[earlier]), (events[later][1][0], locations[later])))
            if ("race", pair_key[1], *sites) == key:
                raw = _Race(pair_key, earlier, later).finding(events)
                extra.append(_public(program, raw, events, locations, 1, score))
                break
    if not extra:
        return findings
    findings = findings + merge_races(extra)
    findings.sort(key=lambda f: f.severity != "error")
    return findings


_NOT_LOOKED_UP = ("; its source lines were not looked up ({} ended the replays that find them), so it may "
                  "be one of the races above, and its steps stand for every step of their kinds by these "
                  "threads")


def _one_race_per_site(program: Program, found: dict, locate: _Locator) -> list[list]:
    """``found``'s entries, with races folded as :func:`merge_races` folds them (by variable
    and pair of source lines) before any trace is built: two threads writing one variable
    500 times race in 250,000 pairs of steps, which are two lines of code and one trace.
    Of each fold the best witness is kept (the lowest score, :func:`witness_ranks`), with
    the largest count: what merge_races would keep."""
    names = program.thread_names
    kept: list[list] = []
    best: dict[tuple, int] = {}  # fold key -> position in kept
    sites_of: dict[int, tuple] = {}  # id(events) -> (events, the site of each step)
    last_events, sites = None, None  # a run's races come one after another: its sites, at hand
    for entry in found.values():
        raw, events, occurrences, score = entry
        if raw.kind != "race":
            kept.append(entry)
            continue
        if events is not last_events:
            known = sites_of.get(id(events))
            if known is None:
                known = sites_of[id(events)] = (events, _sites(events, locate(events), names))
            last_events, sites = events, known[1]
        steps = raw.steps if raw.__class__ is _Race else raw.details["steps"]
        first, second = sites[steps[0]], sites[steps[1]]
        fold = (raw.key[1], first, second) if first <= second else (raw.key[1], second, first)
        index = best.get(fold)
        if index is None:
            best[fold] = len(kept)
            kept.append([raw, events, occurrences, score])
            continue
        chosen = kept[index]
        most = occurrences if occurrences > chosen[2] else chosen[2]
        if score < chosen[3]:
            kept[index] = [raw, events, most, score]
        else:
            chosen[2] = most
    # A witness may show another race of its fold better than its own (its schedule was
    # picked for its own race): the replay of its trace folds them as merge_races does and
    # reports that one, so the finding does too.
    pairs_of: dict[int, list] = {}  # id(events) -> its racing pairs: folds share witnesses
    for fold, index in best.items():
        raw, events, occurrences, score = kept[index]
        sites = sites_of[id(events)][1]
        variable, low, high = fold
        if low[2:] and high[2:] and low[2] >= 0 and high[2] >= 0:
            continue  # each site one step of one thread: the fold is this one pair
        every = pairs_of.get(id(events))
        if every is None:
            every = pairs_of[id(events)] = race_pairs(events, len(names))
        pairs = [(key, earlier, later) for key, earlier, later in every
                 if key[1] == variable and ((a := sites[earlier]) == low and sites[later] == high
                                            or a == high and sites[later] == low)]
        if len(pairs) > 1:
            (key, earlier, later), rank = best_witnessed(events, score[1], pairs)
            if rank < score:
                kept[index] = [race_finding(key, earlier, later, events), events, occurrences, rank]
    return kept


#: A site's step number in a run whose lines were not looked for: any step of its kind
#: by its thread (:func:`_sites`).
ANY_STEP = -1


def _sites(events: list[tuple], locations: list | None, names: tuple[str, ...]) -> list[tuple]:
    """Where each step is in the code (as races.merge_races sees it): its kind and source
    line, or its kind, thread and the thread's own step number when the line is unknown
    (the same in every schedule of the trace; a position in the schedule is not). A run
    that was not replayed for its lines (the time limit ended the assembly's replays)
    folds by kind and thread alone (:data:`ANY_STEP`): a thread polling 10,000 times in a
    loop makes thousands of racing pairs, each with its own witness, and one finding each
    would cost the user more time, and show less, than the lines would have. (A step that
    has no line even when replayed, a generated program's, keeps its step number.)"""
    if locations is None:
        return [(event[1][0], names[event[0]], ANY_STEP) for event in events]
    steps: dict[int, int] = {}
    sites = []
    for position, event in enumerate(events):
        thread = event[0]
        own = steps.get(thread, 0)
        steps[thread] = own + 1
        where = locations[position]
        sites.append((event[1][0], where) if where is not None else (event[1][0], names[thread], own))
    return sites


def _locate(program: Program, events: list[tuple], max_steps: int, diverged: dict | None = None,
            shown: dict | None = None) -> list | None:
    """Replays ``events``' schedule to learn the source line of each step; None if it cannot
    (and, when it ran differently, the nondeterminism finding in ``diverged``)."""
    schedule = [event[0] for event in events]
    run = Execution(program)
    strategy = FollowSchedule(schedule, program.thread_names)
    try:
        status = run.run(strategy.choose, max_steps, events, locate=True)
    except ExplorerError as error:  # the schedule no longer fits: the run went on, or could not
        if diverged is not None:
            diverged[id(events)] = RawFinding(
                "nondeterminism", "error", None, ("nondeterminism", None),
                f"scenario {program.scenario.name!r} is nondeterministic: a run of {len(events)} steps did "
                f"not repeat when its schedule was run again ({clipped(text_of(error))}). Exploration "
                f"assumes each thread does the same thing given the same values read; state kept "
                f"between runs breaks that.", {"position": len(events)})
        return None
    if status is DIVERGED:
        if diverged is not None:
            diverged[id(events)] = run.findings[-1]
        return None
    if shown is not None:
        shown[id(events)] = {raw.key for raw in run.findings}
    return run.locations


#: Kinds of finding the detectors make from a run's events (the others the run itself makes).
_DETECTED = frozenset({"race", "lost-update", "nonserializable", "invariant", "check", "lock-order-cycle",
                       "nondeterminism"})


def make_trace(program: Program, events: list[tuple], locations: list | None,
               raw: RawFinding | None, preempted: int | None = None) -> Trace:
    names = program.thread_names
    public = []
    for n, (i, step, value, _enabled) in enumerate(events):
        kind = step[0]
        if kind == "write" or kind == "put" or kind == "sleep" or kind == "deliver":
            value = step[2]
        elif kind == "finish":
            # an exception compares by identity, so a trace holding one would never equal its
            # replay or its JSON; the event keeps what a reader needs, in words
            value = step[2] if step[3] is None else f"raised {type(step[3]).__name__}: {step[3]}"
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


def _in_canonical_order(tally: Tally) -> None:
    """A reduced search's outcomes and lock-order edges in the order of their keys. The
    order its runs came in is no order to keep: dpor's units and stateful's workers explore
    the same runs in another, and a parallel search must give the serial result, lists
    included. Its findings follow their final witnesses (:func:`_in_witness_order`)."""
    _reorder(tally.outcome_counts, lambda key, _count: shown(key))
    _reorder(tally.edge_witness, lambda edge, _best: shown(edge))


def _in_witness_order(found: dict) -> None:
    """A reduced search's findings by kind, then in the order of their witnesses'
    schedules, then of their keys' text. A search cut short keeps the order it found
    them in, as a search that is not reduced does."""
    runs = {id(entry[1]): entry[1] for entry in found.values()}  # a run may show thousands
    rank = {key: n for n, key in enumerate(sorted(runs, key=lambda key: [event[0] for event in runs[key]]))}
    order = sorted([(entry[0].kind, rank[id(entry[1])], shown(key), key, entry)
                    for key, entry in found.items()], key=_ranked)
    found.clear()
    found.update((item[-2], item[-1]) for item in order)


def _ranked(item: tuple) -> tuple:
    return item[:-2]


def _reorder(table: dict, rank) -> None:
    order = sorted(table.items(), key=lambda item: rank(*item))
    table.clear()
    table.update(order)


def _shorten_witnesses(program: Program, max_steps: int, found: dict, deadline: float | None) -> None:
    """Give each finding of a reduced search the schedule of its trace with the fewest
    preemptions (:func:`.linearize.fewest_preemptions`), run again to word it anew; a race
    only when that schedule still ranks better (:func:`witness_ranks`).

    Only witnesses change: no finding, count or outcome is added, and the runs are not
    executions. Lock-order cycles keep theirs (their edges may come from several runs).
    """
    names = program.thread_names
    shorter: dict[int, Execution | None] = {}  # id(events) -> the run of a shorter schedule
    schedules: dict[int, tuple] = {}  # id(events) -> its threads in order: many findings share a witness

    def order(entry):
        schedule = schedules.get(id(entry[1]))
        if schedule is None:
            schedule = schedules[id(entry[1])] = tuple([event[0] for event in entry[1]])
        return -_preempted(entry[0], entry[3]), schedule
    entries = sorted((entry for entry in found.values()
                      if _preempted(entry[0], entry[3]) > 0 and entry[0].kind != "lock-order-cycle"),
                     key=order)
    for entry in entries[:MAX_SHORTENED]:
        if deadline is not None and time.monotonic() >= deadline:
            return
        raw, events = entry[0], entry[1]
        if id(events) not in shorter:
            shorter[id(events)] = _shorter_run(program, events, _preempted(raw, entry[3]), max_steps)
        run = shorter[id(events)]
        if run is None:
            continue
        score = (run.preemptions, len(run.events))
        if raw.kind != "race" and not better(score, run.events, entry[3], entry[1]):
            continue  # an earlier shorter run already gave this finding a trace as good
        again = _same_finding(raw, run, names)
        if again is None:
            continue
        # a race is ranked by how well the trace shows it: with fewer preemptions its
        # threads may run one after the other, which shows it less well
        mine = score if raw.kind != "race" else \
            witness_ranks(run.events, run.preemptions, [(raw.key, *again.details["steps"])])[0]
        if mine >= entry[3]:
            continue
        entry[0], entry[1], entry[3] = again, run.events, mine
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
    pairs = race_pairs(events, len(names))
    for (key, earlier, later), rank in zip(pairs, witness_ranks(events, run.preemptions, pairs)):
        _improve(found, key, rank, events, lambda key=key, earlier=earlier, later=later:
                 race_finding(key, earlier, later, events))


def _preempted(raw, score: tuple) -> int:
    """The preemptions of a finding's witness, from its score: a race's is its rank."""
    return score[1] if raw.kind == "race" else score[0]


def _improve(found: dict, key: tuple, score: tuple, events: list, make) -> None:
    """Take ``events`` as the witness of an already found ``key`` if it scores better."""
    entry = found.get(key)
    if entry is not None and better(score, events, entry[3], entry[1]):
        entry[0], entry[1], entry[3] = make(), events, score


def _shorter_run(program: Program, events: list[tuple], preempted: int, max_steps: int,
                 keep: tuple[int, int] | None = None) -> Execution | None:
    """The run of a schedule of ``events``' trace with fewer preemptions, if one is found;
    with ``keep``, of the schedule with the fewest preemptions that also runs those two
    events in that order."""
    names = program.thread_names
    schedule = [event[0] for event in events]
    try:
        again = Execution(program)
        again.run(FollowSchedule(schedule, names).choose, max_steps, events)
        order = fewest_preemptions(events, list(again.pending), program.reentrant,
                                   below=preempted if keep is None else len(events),
                                   dependent=dependence(program.footprint),
                                   thread_index=program.thread_index, keep=keep)
        if order is None:
            return None
        run = Execution(program)
        status = run.run(FollowSchedule(order, names).choose, max_steps)
    except ExplorerError:
        return None
    if status is DIVERGED or status is HUNG or (keep is None and run.preemptions >= preempted):
        return None
    return run


def _interleave_races(program: Program, max_steps: int, found: dict, deadline: float | None) -> None:
    """Give each race a reduced search shows with its threads one after the other a schedule
    of the same trace that interleaves them around it, if one does (:func:`witness_ranks`
    puts those first; an exhaustive search runs them all, a reduced one only one per trace).

    The search ranked each race by the best schedule of its trace (``tally._note_races``),
    so a witness may rank as interleaved while its own schedule is serial: here it gets
    that schedule, or, if none is found, the rank of the schedule it has.

    The trace keeps the racing pair's order, so one of its threads must be moved: the
    first thread's last access to the variable to after the racing step of the other
    thread, or the second's first access to before it.
    """
    names = program.thread_names
    tried = 0
    rankers: dict[int, object] = {}  # id(events) -> its witness_ranker: many races share a witness
    for entry in found.values():
        raw, events, score = entry[0], entry[1], entry[3]
        if raw.kind != "race":
            continue
        steps = raw.details["steps"]
        ranker = rankers.get(id(events))
        if ranker is None:
            ranker = rankers[id(events)] = witness_ranker(events)
        shown = ranker(score[1], [(raw.key, *steps)])[0]
        if not shown[0]:
            continue  # its schedule interleaves around it already
        entry[3] = shown
        if tried >= MAX_SHORTENED or (deadline is not None and time.monotonic() >= deadline):
            continue
        tried += 1
        for keep in _interleavings(events, *steps):
            run = _shorter_run(program, events, 0, max_steps, keep=keep)
            again = None if run is None else _same_finding(raw, run, names)
            if again is None:
                continue
            rank = witness_ranks(run.events, run.preemptions, [(raw.key, *again.details["steps"])])[0]
            if rank < entry[3]:
                entry[0], entry[1], entry[3] = again, run.events, rank


def _interleavings(events: list[tuple], earlier: int, later: int) -> list[tuple[int, int]]:
    """The orders ``(first, then)`` of two events of which either would interleave the
    threads around the race of ``earlier`` and ``later``: the later racing step before the
    first thread's last access to the variable, or the second thread's first access
    before the earlier racing step (the last and the first: the others must run before
    and after those, each thread in its own order)."""
    var = events[earlier][1][1]
    mine, theirs = events[earlier][0], events[later][0]

    def accesses(thread, positions):
        return [n for n in positions if events[n][0] == thread and events[n][1][0] in _ACCESSES
                and events[n][1][1] == var]

    after = accesses(mine, range(earlier + 1, later))
    before = accesses(theirs, range(earlier + 1, later))
    return ([(later, after[-1])] if after else []) + ([(before[0], earlier)] if before else [])


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


def _shows_new(run: Execution, found: dict, edge_witness: dict, names: tuple[str, ...],
               lost: LostUpdateKeys, racing: RacePairs, ordering: LockOrderEdges) -> bool:
    """Whether a run cut at a visited state showed a finding or lock-order edge not seen
    before: its last step was the one time that step is taken from its state. The
    detectors resume from what the cut run shares with the run they analysed last."""
    events = run.events
    for raw in run.findings:
        if raw.key not in found and raw.kind != "close-error":  # closing a cut run is not the scenario's doing
            return True
    if any(located[0] not in found for located in lost.of(events, _agreed(run, lost.events))):
        return True
    if any(key not in found for key, _earlier, _later in racing.of(events, _agreed(run, racing.events), len(names))):
        return True
    return any(edge not in edge_witness for edge in ordering.of(events, _agreed(run, ordering.events)))


def _run_to_end(program: Program, cut: Execution, max_steps: int) -> Execution:
    """``cut``'s schedule run again and on to its end without further preemptions: an
    execution whose trace shows what the cut run showed (every detector reads events in
    order, so what a prefix shows, the whole run shows)."""
    schedule = FollowSchedule([event[0] for event in cut.events], program.thread_names, extend=True)
    run = Execution(program)
    run.run(schedule.choose, max_steps, cut.events)
    return run
