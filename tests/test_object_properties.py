"""Property tests over generated programs that use every kind of shared object: every complete
strategy agrees with exhaustive enumeration, every finding's trace replays to that finding, and
independent threads give the arithmetic's counts.

Two tiers: the default one runs a modest number of examples of each property; the deep
tier (tests marked ``slow``: ``-m slow`` runs it alone, ``--deep`` both, tests/conftest.py)
runs many more, on larger programs. The regressions these properties found, each shrunk to its smallest
scenario, are in test_object_regressions.py.
"""

import queue
from collections import Counter
from math import factorial

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer import (
    Barrier, Condition, Event, Queue, Scenario, ScheduleError, Semaphore, acquire, clear_event, explore, get, is_set, notify, put,
    read, release, replay, set_event, update, wait, write,
)
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer.settings import Settings
from explorer.objects.dependence import dependence
from explorer.strategies.dpor import DPOR, _without_reentry
from explorer.strategies.exhaustive import Exhaustive
from explorer.strategies.recording import Recording
from explorer.testing import strategies as xst

from .helpers import assert_complete_strategies_agree, assert_findings_replay, examples

QUICK = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

#: Programs of every kind, at most 10 steps in all: exhaustive enumeration of one takes
#: well under a second (0.3 s at most over thousands of draws).
EVERY_KIND = xst.scenarios(objects="all", max_steps_per_thread=6, max_steps=10)

#: Larger programs for the slow tier.
EVERY_KIND_LARGER = xst.scenarios(objects="all", max_steps_per_thread=7, max_steps=12)

# ---- agreement with exhaustive enumeration -----------------------------------------------------

@settings(QUICK, max_examples=examples(150))
@given(EVERY_KIND)
def test_dpor_stateful_and_bounded_search_agree_with_exhaustive_enumeration_on_every_kind(scenario):
    assert_complete_strategies_agree(scenario)


@pytest.mark.slow
@settings(QUICK, max_examples=400)
@given(EVERY_KIND_LARGER)
def test_dpor_stateful_and_bounded_search_agree_with_exhaustive_enumeration_on_larger_programs(scenario):
    assert_complete_strategies_agree(scenario)


# ---- replay round trip ------------------------------------------------------------------------

@settings(QUICK, max_examples=examples(100))
@given(EVERY_KIND)
def test_every_finding_on_every_kind_replays_to_the_same_finding(scenario):
    assert_findings_replay(scenario)


@pytest.mark.slow
@settings(QUICK, max_examples=250)
@given(EVERY_KIND_LARGER)
def test_every_finding_on_larger_programs_of_every_kind_replays_to_the_same_finding(scenario):
    assert_findings_replay(scenario)


@settings(QUICK, max_examples=examples(60))
@given(EVERY_KIND)
def test_replaying_every_schedule_exhaustive_enumeration_runs_reproduces_its_status_and_final_state(scenario):
    recording = Recording(Exhaustive())
    program = Program(scenario)
    result = search(program, recording, "exhaustive", Settings())
    names = program.thread_names  # spawned threads and pool workers too
    statuses: Counter = Counter()
    finals: Counter = Counter()
    outcomes: Counter = Counter()
    for schedule in recording.schedules:
        execution = replay(scenario, [names[i] for i in schedule])
        assert execution.schedule == tuple(names[i] for i in schedule)
        statuses[execution.status] += 1
        if execution.final_state is not None:
            finals[execution.final_state] += 1
            outcomes[execution.outcome] += 1
    assert (statuses["completed"], statuses["deadlocked"], statuses["failed"]) == \
           (result.completed, result.deadlocked, result.failed)
    assert finals == result.final_states and outcomes == result.outcomes


@settings(QUICK, max_examples=40)
@given(EVERY_KIND)
def test_exploring_a_program_of_every_kind_twice_gives_the_same_findings_and_traces(scenario):
    for strategy in ("dpor", "stateful"):
        first, second = explore(scenario, strategy=strategy), explore(scenario, strategy=strategy)
        assert first.executions == second.executions
        assert list(first.outcomes.items()) == list(second.outcomes.items())
        assert [(f.kind, f.message, f.trace.schedule) for f in first.findings] == \
               [(f.kind, f.message, f.trace.schedule) for f in second.findings]


# ---- independent arithmetic -------------------------------------------------------------------

def multinomial(counts):
    total = factorial(sum(counts))
    for n in counts:
        total //= factorial(n)
    return total


#: What a thread can do on objects of its own without ever waiting: ``private_thread`` runs
#: them, ``steps_of`` counts their steps, ``serial_return`` works out what the thread returns.
PRIVATE_STEPS = ("update", "is_set", "set", "clear", "try_sem", "release_sem", "put_nowait", "get_nowait",
                 "notify", "try_lock")


def private_thread(t, ops):
    """Thread ``t`` running ``ops``, each on an object only it uses."""
    def run():
        total = 0
        for op in ops:
            if op == "update":
                total += yield update(f"v{t}", lambda value: value + 1)
            elif op == "is_set":
                total += (yield is_set(f"e{t}"))
            elif op == "set":
                yield set_event(f"e{t}")
            elif op == "clear":
                yield clear_event(f"e{t}")
            elif op == "try_sem":
                total += (yield acquire(f"s{t}", blocking=False))
            elif op == "release_sem":
                yield release(f"s{t}")
            elif op == "put_nowait":
                try:
                    yield put(f"q{t}", total, block=False)
                except Exception:  # queue.Full
                    total += 100
            elif op == "get_nowait":
                try:
                    total += yield get(f"q{t}", block=False)
                except Exception:  # queue.Empty
                    total += 1000
            elif op == "notify":
                yield acquire(f"c{t}")
                yield notify(f"c{t}")
                yield release(f"c{t}")
            else:
                total += (yield acquire(f"l{t}", timeout=1.0))
                yield release(f"l{t}")
        return total
    return run


def steps_of(op):
    return {"notify": 3, "try_lock": 2}.get(op, 1)


def serial_return(ops):
    """What ``private_thread`` returns, worked out without explorer."""
    total, flag, permits, items = 0, False, 1, []
    value = 0
    for op in ops:
        if op == "update":
            total += value
            value += 1
        elif op == "is_set":
            total += flag
        elif op in ("set", "clear"):
            flag = op == "set"
        elif op == "try_sem":
            total += permits > 0
            permits = max(permits - 1, 0)
        elif op == "release_sem":
            permits += 1
        elif op == "put_nowait":
            if len(items) < 1:
                items.append(total)
            else:
                total += 100
        elif op == "get_nowait":
            total += items.pop(0) if items else 1000
        elif op == "try_lock":
            total += 1
    return total


private_programs = st.lists(st.lists(st.sampled_from(PRIVATE_STEPS), min_size=1, max_size=3), min_size=1,
                            max_size=3).filter(lambda threads: sum(steps_of(op) for ops in threads for op in ops) <= 9)


@settings(QUICK, max_examples=60)
@given(private_programs)
def test_threads_on_objects_of_their_own_have_the_multinomial_number_of_executions(threads):
    objects, variables, locks = {}, {}, {}
    for t in range(len(threads)):
        objects.update({f"e{t}": Event(), f"s{t}": Semaphore(1), f"q{t}": Queue(maxsize=1), f"c{t}": Condition()})
        variables[f"v{t}"] = 0
        locks[f"l{t}"] = "lock"
    scenario = Scenario("private", variables=variables, locks=locks, objects=objects,
                        threads={f"T{t}": private_thread(t, ops) for t, ops in enumerate(threads)})
    counts = [sum(steps_of(op) for op in ops) for ops in threads]
    expected = multinomial(counts)
    exhaustive = explore(scenario, strategy="exhaustive")
    assert exhaustive.executions == expected and exhaustive.steps == expected * sum(counts)
    assert list(exhaustive.outcomes.values()) == [expected]
    outcome, = exhaustive.outcomes
    assert [outcome[f"T{t}"] for t in range(len(threads))] == [serial_return(ops) for ops in threads]
    assert outcome == {**{f"v{t}": ops.count("update") for t, ops in enumerate(threads)},
                       **{f"T{t}": serial_return(ops) for t, ops in enumerate(threads)}}
    # one Mazurkiewicz trace: dpor runs it once, and stateful search meets no state twice
    # along it without cutting
    dpor = explore(scenario, strategy="dpor")
    assert dpor.executions == 1 and dpor.pruned == 0 and dpor.outcomes == Counter({outcome: 1})


#: Steps on shared objects that never wait: ``shared_thread`` runs them.
SHARED_STEPS = ("read", "write", "update", "is_set", "set", "clear", "put_nowait", "get_nowait", "try_sem",
                "release_sem")


def shared_thread(ops):
    def run():
        total = 0
        for op in ops:
            if op == "read":
                total += yield read("x")
            elif op == "write":
                yield write("x", total + 1)
            elif op == "update":
                total += yield update("x", lambda value: value + 2)
            elif op == "is_set":
                total += (yield is_set("go"))
            elif op == "set":
                yield set_event("go")
            elif op == "clear":
                yield clear_event("go")
            elif op == "put_nowait":
                try:
                    yield put("jobs", total, block=False)
                except queue.Full:
                    total += 100
            elif op == "get_nowait":
                try:
                    total += yield get("jobs", block=False)
                except queue.Empty:
                    total += 1000
            elif op == "try_sem":
                total += (yield acquire("sem", blocking=False))
            else:
                yield release("sem")
        return total
    return run


def canonical(events):
    """A Mazurkiewicz trace's canonical linearisation, worked out without explorer's DPOR:
    repeatedly take the lowest thread whose next event has all its predecessors taken.
    Events conflict when of one thread, or on one object, unless both read a variable."""
    def conflict(a, b):
        if a.thread == b.thread:
            return True
        return a.target == b.target and not (a.kind == "read" and b.kind == "read")

    before = [{i for i in range(j) if conflict(events[i], events[j])} for j in range(len(events))]
    taken, order = set(), []
    while len(order) < len(events):
        j = min((j for j in range(len(events)) if j not in taken and before[j] <= taken),
                key=lambda j: (events[j].thread, j))
        taken.add(j)
        order.append((events[j].thread, events[j].kind, events[j].target))
    return tuple(order)


@settings(QUICK, max_examples=60)
@given(st.lists(st.lists(st.sampled_from(SHARED_STEPS), min_size=1, max_size=3), min_size=1, max_size=3)
       .filter(lambda threads: sum(map(len, threads)) <= 7))
def test_dpor_runs_one_execution_per_mazurkiewicz_trace_when_no_step_waits(threads):
    scenario = Scenario("never waits", variables={"x": 0},
                        objects={"go": Event(), "jobs": Queue(maxsize=1), "sem": Semaphore(1)},
                        threads={f"T{t}": shared_thread(ops) for t, ops in enumerate(threads)})
    recording = Recording(Exhaustive())
    program = Program(scenario)
    search(program, recording, "exhaustive", Settings())
    names = program.thread_names
    traces = {canonical(replay(scenario, [names[i] for i in s], check_determinism=False).trace.events)
              for s in recording.schedules}
    dpor = explore(scenario, strategy="dpor")
    assert dpor.executions == len(traces)
    assert dpor.pruned == 0  # optimal: without waiting, no execution is started in vain
    assert set(dpor.outcomes) == set(explore(scenario, strategy="exhaustive").outcomes)


def _traces_run(scenario, strategy_class) -> set:
    """The Mazurkiewicz traces (under the program's own dependence, re-entrant lock steps
    made local as dpor makes them) of the executions ``strategy_class`` runs to the end,
    leaving out those that fail (a failing step ends its run wherever it comes)."""
    program = Program(scenario)
    dependent = dependence(program.footprint)
    runs: list[list] = []

    class Watched(strategy_class):
        needs_pending = True

        def begin(self):
            runs.append([])
            return super().begin()

        def repeats(self, previous):
            # the engine takes the last run's first ``shared`` threads without asking: the
            # same steps, as it checks against the last run's events
            shared = super().repeats(previous)
            if shared:
                runs[-1].extend(runs[-2][:shared])
            return shared

        def choose(self, enabled, pending):
            thread = super().choose(enabled, pending) if strategy_class is DPOR else super().choose(enabled)
            runs[-1].append((thread, pending[thread]))
            return thread

        def end(self):
            runs[-1].append("ended")
            return super().end()

    search(program, Watched(), "watched", Settings())
    traces = set()
    names = program.thread_names
    for run in runs:
        if not run or run[-1] != "ended":
            continue
        try:
            whole = replay(scenario, [names[t] for t, _ in run[:-1]], check_determinism=False).status != "failed"
        except ScheduleError:  # a run dpor cut short: its sleep set covered the rest
            whole = False
        if whole:
            events = _without_reentry(run[:-1], program.lock_role)
            before = [{i for i in range(j) if events[i][0] == events[j][0] or dependent(events[i][1], events[j][1])}
                      for j in range(len(events))]
            taken, order = set(), []
            while len(order) < len(events):
                j = min((j for j in range(len(events)) if j not in taken and before[j] <= taken),
                        key=lambda j: (events[j][0], j))
                taken.add(j)
                order.append((events[j][0], events[j][1][:2]))
            traces.add(tuple(order))
    return traces


@settings(QUICK, max_examples=examples(100))
@given(EVERY_KIND)
@example(Scenario("A: await~ cond x (1) | B: signal cond x=1 || cond=Condition()", variables={"x": 0},
                  objects={"cond": Condition()},
                  threads={"A": xst.StraightLine([("await", "cond", "x", 1, True)]),
                           "B": xst.StraightLine([("signal", "cond", "x", 1, False)])}))
def test_dpor_runs_every_mazurkiewicz_trace_exhaustive_enumeration_runs_on_every_kind(scenario):
    # Stronger than agreeing on verdicts: a race dpor never reverses may change no outcome
    # of a small program (found so: a notify was never tried before a timed wait's expire,
    # which only the wait's return value showed)
    assert _traces_run(scenario, Exhaustive) <= _traces_run(scenario, DPOR)


@settings(QUICK, max_examples=20)
@given(st.integers(1, 4))
def test_a_barrier_of_n_parties_passes_in_n_factorial_times_n_minus_one_factorial_schedules(parties):
    # n arrivals in any order, then the departures of the n - 1 threads that waited (the
    # last to arrive passes at once) in any order; each arrival order is one outcome.
    def party():
        return (yield wait("phase"))

    scenario = Scenario("barrier", objects={"phase": Barrier(parties)},
                        threads={f"T{t}": party for t in range(parties)})
    exhaustive = explore(scenario, strategy="exhaustive")
    assert exhaustive.executions == factorial(parties) * factorial(parties - 1)
    arrivals = {tuple(outcome[f"T{t}"] for t in range(parties)) for outcome in exhaustive.outcomes}
    assert len(arrivals) == factorial(parties) and all(sorted(a) == list(range(parties)) for a in arrivals)
    assert set(explore(scenario, strategy="dpor").outcomes) == set(exhaustive.outcomes)
