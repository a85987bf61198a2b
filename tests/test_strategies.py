"""Every strategy against the reference: bounded search covers exactly the schedules within its
bound, sampling strategies are reproducible samples, and no strategy claims more than it did."""

from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from explorer import InvalidArgument, explore, replay
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer.settings import Settings
from explorer.strategies import STRATEGIES
from explorer.strategies.recording import Recording
from explorer.testing import strategies as xst
from scenarios import counter, dining_philosophers

from .helpers import examples
from .test_properties import lock_kinds, programs, recorded, scenario_of


def verdicts(result):
    return (set(result.final_states), bool(result.deadlocks), {f.kind for f in result.findings})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds)
def test_bounded_search_with_a_bound_beyond_every_schedule_is_exhaustive(programs, kinds):
    scenario = scenario_of(programs, kinds)
    exhaustive = explore(scenario, strategy="exhaustive")
    bounded = explore(scenario, strategy="bounded", preemptions=12)  # 3 threads x 3 steps never need more
    assert bounded.complete and bounded.executions == exhaustive.executions
    assert verdicts(bounded) == verdicts(exhaustive)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds, st.integers(0, 3))
def test_bounded_search_runs_exactly_the_schedules_within_its_bound(programs, kinds, bound):
    scenario = scenario_of(programs, kinds)
    _, schedules = recorded(scenario)
    names = list(scenario.threads)
    within = [s for s in schedules
              if replay(scenario, [names[i] for i in s], check_determinism=False).trace.preemptions <= bound]
    recording = Recording(STRATEGIES["bounded"](0, bound, None))
    result = search(Program(scenario), recording, "bounded", Settings())
    assert sorted(recording.schedules) == sorted(within)
    assert result.complete == (len(within) == len(schedules))


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_a_sample_is_reproducible_from_its_seed_and_never_claims_to_be_complete(strategy):
    scenario = dining_philosophers.dining(3, ordered=False)

    def sample(seed):
        recording = Recording(STRATEGIES[strategy](seed, None, None))
        result = search(Program(scenario), recording, strategy, Settings(max_executions=200))
        return result, recording.schedules

    (first, a), (_, b), (_, c) = sample(1), sample(1), sample(2)
    assert a == b and a != c
    assert not first.complete and "sample" in first.incomplete_reason
    assert set(first.final_states) <= set(explore(scenario).final_states)


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_samples_find_the_lost_update_and_the_philosophers_deadlock(strategy):
    lost = explore(counter.lost_update, strategy=strategy, seed=0, max_executions=200)
    assert "lost-update" in {f.kind for f in lost.findings}
    stuck = explore(dining_philosophers.dining(3, ordered=False), strategy=strategy, seed=0, max_executions=500)
    assert stuck.deadlocks
    for result in (lost, stuck):
        for finding in result.findings:
            if finding.kind != "lock-order-cycle":  # may span executions; see test_properties
                assert finding.kind in {f.kind for f in replay(result.scenario, finding.trace).findings}


def test_a_bound_of_one_preemption_finds_the_lost_update_and_says_it_is_bounded():
    result = explore(counter.lost_update, strategy="bounded", preemptions=1)
    assert result.executions == 4 and not result.complete
    assert "at most 1 preemptions" in result.incomplete_reason
    assert {"lost-update", "nonserializable"} <= {f.kind for f in result.findings}


def test_sampling_without_a_budget_stops_at_a_thousand_executions():
    assert explore(counter.lost_update, strategy="random").executions == 1000


@pytest.mark.parametrize(("options", "message"), [
    ({"strategy": "exhaustive", "preemptions": 1}, "preemptions= bounds the 'bounded' strategy"),
    ({"strategy": "bounded", "preemptions": -1}, "preemptions must be a whole number >= 0"),
    ({"strategy": "pct", "depth": 0}, "depth must be a whole number >= 1"),
    ({"strategy": "random", "seed": "x"}, "seed must be a whole number"),
    ({"strategy": "dfs"}, "unknown strategy 'dfs'"),
])
def test_strategy_options_are_checked(options, message):
    with pytest.raises(InvalidArgument, match=message):
        explore(counter.lost_update, **options)


class Event(NamedTuple):
    thread: str
    kind: str
    target: str


def scheduled_events(programs, schedule):
    """The steps a schedule of exhaustive search takes, read off the generated programs
    themselves: the n-th choice of a thread is its n-th operation (a blocked acquire is
    never chosen; a deadlocked run's schedule stops where it does)."""
    names = list(programs)
    taken = dict.fromkeys(names, 0)
    events = []
    for index in schedule:
        name = names[index]
        operation = programs[name][taken[name]]
        taken[name] += 1
        events.append(Event(name, operation[0], operation[1]))
    return events


def canonical(events):
    """A Mazurkiewicz trace's canonical linearisation, computed without explorer's DPOR:
    repeatedly take the lowest thread whose next event has all its predecessors taken
    (same thread, or the same variable with a write, or the same lock)."""
    def conflict(a, b):
        if a.thread == b.thread:
            return True
        if a.target != b.target:
            return False
        if a.kind in ("read", "write"):
            return b.kind in ("read", "write") and "write" in (a.kind, b.kind)
        return b.kind in ("acquire", "release")

    before = [{i for i in range(j) if conflict(events[i], events[j])} for j in range(len(events))]
    taken, order = set(), []
    while len(order) < len(events):
        ready = [j for j in range(len(events)) if j not in taken and before[j] <= taken]
        j = min(ready, key=lambda j: (events[j].thread, j))
        taken.add(j)
        order.append((events[j].thread, events[j].kind, events[j].target))
    return tuple(order)


lock_free_programs = st.dictionaries(
    st.sampled_from(["A", "B", "C"]),
    st.lists(st.one_of(st.tuples(st.just("read"), st.sampled_from(["x", "y"])),
                       st.tuples(st.just("write"), st.sampled_from(["x", "y"]), st.integers(0, 2))),
             max_size=3),
    min_size=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lock_free_programs)
def test_dpor_runs_exactly_one_execution_per_mazurkiewicz_trace_without_locks(programs):
    scenario = scenario_of(programs, {"l": "lock", "m": "lock"})
    _, schedules = recorded(scenario)
    traces = {canonical(scheduled_events(programs, s)) for s in schedules}
    dpor = explore(scenario, strategy="dpor")
    assert dpor.executions == len(traces)
    assert dpor.pruned == 0  # optimal: without blocking, no execution is started in vain
    assert verdicts(dpor) == verdicts(explore(scenario))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds)
def test_dpor_runs_exactly_one_execution_per_mazurkiewicz_trace_with_locks_when_nothing_fails(programs, kinds):
    # A failing step ends its execution wherever it comes, which traces do not capture;
    # everything else, deadlocks included, is one execution per trace.
    scenario = scenario_of(programs, kinds)
    exhaustive, schedules = recorded(scenario)
    assume(exhaustive.failed == 0)
    traces = {canonical(scheduled_events(programs, s)) for s in schedules}
    assert explore(scenario, strategy="dpor").executions == len(traces)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds)
def test_dpor_gives_the_verdicts_of_exhaustive_exploration_with_fewer_executions(programs, kinds):
    scenario = scenario_of(programs, kinds)
    exhaustive, dpor = explore(scenario), explore(scenario, strategy="dpor")
    assert dpor.complete and dpor.executions <= exhaustive.executions
    assert verdicts(dpor) == verdicts(exhaustive)
    assert (dpor.deadlocked > 0) == (exhaustive.deadlocked > 0)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_dpor_finds_the_philosophers_deadlock_in_far_fewer_executions(n):
    scenario = dining_philosophers.dining(n, ordered=False)
    dpor = explore(scenario, strategy="dpor")
    assert dpor.deadlocks and {"deadlock", "lock-order-cycle"} <= {f.kind for f in dpor.findings}
    if n < 4:
        assert dpor.executions < explore(scenario, strategy="exhaustive").executions


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(xst.scenarios(threads=range(1, 4), max_steps_per_thread=5))
def test_dpor_agrees_with_exhaustive_on_longer_generated_threads(scenario):
    exhaustive, dpor = explore(scenario), explore(scenario, strategy="dpor")
    assert verdicts(dpor) == verdicts(exhaustive) and dpor.executions <= exhaustive.executions


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_dpor_runs_n_factorial_squared_executions_on_the_n_thread_counter(threads):
    from math import factorial

    from explorer import Scenario, read, write

    def increment():
        value = yield read("x")
        yield write("x", value + 1)

    scenario = Scenario("counter", variables={"x": 0}, threads={f"T{i}": increment for i in range(threads)})
    # A trace is fixed by the order of the writes (n! ways) and, for each thread, how many
    # writes its read follows: the thread whose write is k-th can read after 0..k-1 of the
    # writes before it (k ways), so n! again: (n!)^2. Canonicalising every schedule of
    # n = 2, 3, 4 threads (as the test above does) gives 4, 36 and 576 too.
    assert explore(scenario, strategy="dpor").executions == factorial(threads) ** 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, lock_kinds)
def test_a_trace_is_shown_by_its_schedule_with_the_fewest_preemptions(programs, kinds):
    # Independently: replay every schedule, group them by trace, and take each group's
    # fewest preemptions; the search over one member's orderings must reach it.
    from explorer._engine.execution import COMPLETED, DEADLOCKED, Execution
    from explorer._engine.linearize import fewest_preemptions
    from explorer.strategies.schedule import FollowSchedule

    scenario = scenario_of(programs, kinds)
    program = Program(scenario)
    names = program.thread_names
    _, schedules = recorded(scenario)
    groups: dict = {}
    for schedule in schedules:
        run = Execution(program)
        status = run.run(FollowSchedule(list(schedule), names).choose)
        if status in (COMPLETED, DEADLOCKED):
            trace = canonical(replay(scenario, [names[i] for i in schedule], check_determinism=False).trace.events)
            groups.setdefault(trace, []).append(run)
    for runs in groups.values():
        fewest = min(run.preemptions for run in runs)
        some = runs[-1]
        order = fewest_preemptions(some.events, list(some.pending), program.reentrant, below=some.preemptions)
        if some.preemptions == fewest:
            assert order is None  # nothing shorter exists
            continue
        again = Execution(program)
        again.run(FollowSchedule(order, names).choose)
        assert again.preemptions == fewest
        assert canonical(replay(scenario, [names[i] for i in order], check_determinism=False).trace.events) \
            == canonical(replay(scenario, [names[e[0]] for e in some.events], check_determinism=False).trace.events)
