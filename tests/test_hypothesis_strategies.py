"""The hypothesis strategies in explorer.testing.strategies: generated scenarios are valid and
explore completely, generated schedules are real schedules, and failures shrink to small ones."""

import math
import queue
from collections import Counter

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from explorer import (
    Condition,
    Scenario,
    State,
    acquire,
    explore,
    get,
    is_set,
    put,
    read,
    release,
    replay,
    write,
)
from explorer._engine.program import Program
from explorer._engine.search import search
from explorer.errors import InvalidArgument
from explorer.settings import Settings
from explorer.strategies.exhaustive import Exhaustive
from explorer.strategies.recording import Recording
from explorer.testing import strategies as xst
from explorer.testing.strategies import StraightLine, _steps

from .reference import enumerate_programs

QUICK = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SHRINK = settings(QUICK, derandomize=True, max_examples=500)


def explored_schedules(scenario):
    recording = Recording(Exhaustive())
    program = Program(scenario)
    result = search(program, recording, "exhaustive", Settings())
    names = program.thread_names  # spawned threads and pool workers too
    return result, {tuple(names[i] for i in schedule) for schedule in recording.schedules}


def increment():
    value = yield read("x")
    yield write("x", value + 1)


COUNTER = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


# ---- scenarios() ------------------------------------------------------------------------

@settings(QUICK, max_examples=80)
@given(xst.scenarios())
def test_generated_scenarios_explore_completely_and_agree_with_the_reference_oracle(scenario):
    programs = {name: body.ops for name, body in scenario.threads.items()}
    completed, deadlocked, failed, finals = enumerate_programs(
        programs, dict(scenario.variables), dict(scenario.locks))
    result = explore(scenario, strategy="exhaustive")
    assert result.complete
    assert (result.completed, result.deadlocked, result.failed) == (completed, deadlocked, failed)
    assert result.final_states == Counter({State(x=x, y=y): n for (x, y), n in finals.items()})


@settings(QUICK, max_examples=80)
@given(xst.scenarios(well_nested=True))
def test_well_nested_scenarios_release_in_reverse_order_and_never_have_error_findings(scenario):
    for body in scenario.threads.values():
        held = []
        for op in body.ops:
            if op[0] == "acquire":
                assert scenario.locks[op[1]] == "rlock" or op[1] not in held
                held.append(op[1])
            elif op[0] == "release":
                assert held.pop() == op[1]
        assert held == []
    result = explore(scenario)
    assert result.complete and result.failed == 0
    assert not [f for f in result.errors if f.kind == "error"]
    assert not {f.kind for f in result.findings} & {"lock-held-at-exit", "foreign-release"}
    for deadlock in result.deadlocks:  # threads may deadlock each other, never themselves
        assert all(thread != holder and not finished for thread, _lock, holder, finished in deadlock.details["waits"])


@settings(QUICK, max_examples=30)
@given(xst.scenarios(well_nested=True, variables=(), max_steps_per_thread=2))
def test_well_nested_threads_on_locks_alone_are_an_acquire_and_its_release(scenario):
    assert all(len(body.ops) == 2 and body.ops[0][0] == "acquire" for body in scenario.threads.values())


@settings(QUICK, max_examples=40)
@given(xst.scenarios(threads=range(2, 4), max_steps_per_thread=3, variables=("v",), locks=("k",),
                     lock_kinds="rlock", values=st.just(7)))
def test_scenarios_honour_every_option(scenario):
    assert list(scenario.threads) in (["A", "B"], ["A", "B", "C"])
    assert dict(scenario.variables) == {"v": 0} and dict(scenario.locks) == {"k": "rlock"}
    for body in scenario.threads.values():
        assert 1 <= len(body.ops) <= 3
        assert all(op[2] == 7 for op in body.ops if op[0] == "write")


@settings(QUICK, max_examples=20)
@given(xst.scenarios(threads=st.sampled_from([2, 4])))
def test_the_number_of_threads_may_be_a_strategy(scenario):
    assert len(scenario.threads) in (2, 4)


def test_a_scenario_name_spells_out_each_threads_program():
    body = xst.StraightLine([("write", "y", 2), ("read", "x"), ("write", "y", -1), ("read", "y"),
                             ("write", "x", 0), ("acquire", "l"), ("release", "l")])
    assert str(body) == "w y=2, r x, w y=x-1, r y, w x=y, acq l, rel l"
    assert find(xst.scenarios(), lambda s: True, settings=SHRINK).name == "A: r x"
    scenario = find(xst.scenarios(), lambda s: len(s.threads) == 2, settings=SHRINK)
    assert scenario.name == "A: r x | B: r x"
    assert scenario.name == " | ".join(f"{name}: {body}" for name, body in scenario.threads.items())
    assert repr(scenario).startswith("Scenario('A: r x | B: r x', variables={'x': 0, 'y': 0}")


def test_scenarios_shrink_to_a_smallest_program_that_loses_an_update():
    lossy = find(xst.scenarios(), lambda s: any(f.kind == "lost-update" for f in explore(s).findings),
                 settings=SHRINK)
    # a read and a write in one thread, a write between them in another
    assert sorted(len(body.ops) for body in lossy.threads.values()) == [1, 2], lossy.name


def test_well_nested_scenarios_shrink_to_the_abba_deadlock():
    deadlocking = find(xst.scenarios(well_nested=True, variables=()), lambda s: explore(s).deadlocked > 0,
                       settings=SHRINK)
    assert deadlocking.name in ("A: acq l, acq m, rel m, rel l | B: acq m, acq l, rel l, rel m",
                                "A: acq m, acq l, rel l, rel m | B: acq l, acq m, rel m, rel l")


def _kinds_used(scenario):
    """The op kinds and object declarations a generated scenario uses, spawned threads' and
    tasks' included, with ``+mode`` for an acquire, put or get drawn non-blocking or timed."""
    used = {type(declaration).__name__ for declaration in scenario.objects.values()}

    def walk(body):
        for op in body.ops:
            used.add(op[0])
            if op[0] in ("acquire", "get", "put") and op[-1] in ("nowait", "timeout"):
                used.add(f"{op[0]}+{op[-1]}")
            if op[0] == "wait" and op[-1] == "timeout":
                used.add("wait+timeout")
            if op[0] == "store":
                used.add(f"store {op[2]!r}")
            if op[0] in ("spawn", "submit"):
                walk(op[2])

    for body in scenario.threads.values():
        walk(body)
    if scenario.spurious_wakeups:
        used.add("spurious")
    return used


def test_scenarios_with_objects_draw_programs_using_every_kind_and_every_blocking_form():
    used = set()

    @settings(SHRINK, max_examples=1000)
    @given(xst.scenarios(objects="all", max_steps_per_thread=6, max_steps=10))
    def collect(scenario):
        used.update(_kinds_used(scenario))

    collect()
    kinds = {"Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier", "Queue", "ThreadPool",
             "read", "write", "update", "acquire", "release", "wait", "notify", "notify_all", "await",
             "signal", "set", "clear", "is_set", "put", "get", "task_done", "join", "spawn", "submit",
             "result", "shutdown", "raise", "acquire+nowait", "acquire+timeout", "get+nowait", "get+timeout",
             "put+nowait", "put+timeout", "wait+timeout", "spurious"}
    kinds |= {f"store {value!r}" for value in xst.TYPED_VALUES}
    assert kinds <= used, kinds - used


@settings(QUICK, max_examples=60)
@given(xst.scenarios(objects="all", max_steps_per_thread=6, max_steps=10))
def test_programs_with_objects_stay_within_max_steps_and_always_end(scenario):
    result, explored = explored_schedules(scenario)
    assert result.complete and result.truncated == 0
    assert max(len(schedule) for schedule in explored) <= 10, scenario.name
    assert result.executions == len(explored)


@settings(QUICK, max_examples=40)
@given(xst.scenarios(objects=("queue", "event"), variables=("v",), locks=(), threads=2, max_steps=4))
def test_scenarios_with_objects_declare_only_the_kinds_asked_for_and_name_them(scenario):
    assert set(scenario.objects) <= {"jobs", "go"} and not scenario.locks
    assert list(scenario.threads) == ["A", "B"]
    program = scenario.name.split(" || ")
    assert program[0] == " | ".join(f"{name}: {body}" for name, body in scenario.threads.items())
    assert program[1:] == ([", ".join(f"{name}={d!r}" for name, d in scenario.objects.items())]
                           if scenario.objects else [])


def test_a_generated_body_sends_what_it_receives_through_its_register():
    body = xst.StraightLine([("get", "jobs", "nowait"), ("put", "jobs", 1, None), ("is_set", "go"),
                             ("write", "x", 2)])
    assert str(body) == "get? jobs, put jobs=jobs+1, is_set go, w x=go+2"
    generator = body()
    assert next(generator) == get("jobs", block=False)
    assert generator.throw(queue.Empty()) == put("jobs", 0)  # gave up: the register holds -1
    assert generator.send(None) == is_set("go")
    assert generator.send(True) == write("x", 3)


def test_a_generated_store_writes_its_value_itself_so_a_register_can_hold_a_bool_a_float_or_a_nan():
    body = xst.StraightLine([("store", "x", -0.0), ("read", "y"), ("write", "x", 1)])
    assert str(body) == "w x:=-0.0, r y, w x=y+1"
    generator = body()
    written = next(generator)
    assert written == write("x", -0.0) and repr(written[2]) == "-0.0"
    assert generator.send(None) == read("y")
    assert repr(generator.send(True)[2]) == "2"  # True + 1
    with pytest.raises(StopIteration) as ended:
        generator.send(None)
    assert ended.value.value is True  # the register, returned as read
    nan = float("nan")
    generator = body()
    next(generator), next(generator)
    made = generator.send(nan)[2]
    assert math.isnan(made) and made is not nan  # a new NaN, as in every run


# ---- schedules() and executions() -----------------------------------------------------------

@settings(QUICK, max_examples=60)
@given(st.data())
def test_every_generated_schedule_replays_and_is_one_exhaustive_exploration_enumerates(data):
    scenario = data.draw(xst.scenarios(max_steps_per_thread=3), label="scenario")
    result, explored = explored_schedules(scenario)
    assert result.complete
    for _ in range(3):
        schedule = data.draw(xst.schedules(scenario), label="schedule")
        assert isinstance(schedule, list)
        assert tuple(schedule) in explored
        execution = replay(scenario, schedule)
        assert execution.status in ("completed", "deadlocked", "failed")
        assert execution.schedule == tuple(schedule)


def test_schedules_reach_every_interleaving_of_a_small_scenario():
    drawn = set()

    @settings(SHRINK, max_examples=200)
    @given(xst.schedules(COUNTER))
    def collect(schedule):
        drawn.add(tuple(schedule))

    collect()
    assert drawn == explored_schedules(COUNTER)[1]
    assert len(drawn) == 6


def test_schedules_shrink_to_running_each_thread_to_the_end_in_order():
    three = Scenario("three counters", variables={"x": 0},
                     threads={"A": increment, "B": increment, "C": increment})
    assert find(xst.schedules(three), lambda schedule: True, settings=SHRINK) == ["A", "A", "B", "B", "C", "C"]


def test_schedules_shrink_a_lost_update_to_one_preemption():
    lost = find(xst.schedules(COUNTER), lambda s: replay(COUNTER, s).final_state["x"] == 1, settings=SHRINK)
    assert lost == ["A", "B", "B", "A"]
    assert replay(COUNTER, lost).trace.preemptions == 1


def take(first, second):
    yield acquire(first)
    yield acquire(second)
    yield release(second)
    yield release(first)


ABBA = Scenario("ABBA", locks=["a", "b"], threads={"A": lambda: take("a", "b"), "B": lambda: take("b", "a")})


def test_schedules_that_end_in_a_deadlock_replay_as_deadlocked():
    stuck = find(xst.schedules(ABBA), lambda s: replay(ABBA, s).status == "deadlocked", settings=SHRINK)
    assert stuck == ["A", "B"]
    assert replay(ABBA, stuck).trace.blocked == {"A": "b", "B": "a"}


@settings(QUICK, max_examples=30)
@given(xst.executions(ABBA))
def test_executions_are_the_replays_of_generated_schedules(execution):
    assert execution.status in ("completed", "deadlocked")
    assert (execution.status == "deadlocked") == (execution.schedule[:2] in (("A", "B"), ("B", "A")))


def spin_until_set():
    while (yield read("flag")) == 0:
        pass


def set_flag():
    yield write("flag", 1)


SPIN = Scenario("spin", variables={"flag": 0}, threads={"A": spin_until_set, "B": set_flag})


@settings(QUICK, max_examples=40)
@given(xst.schedules(SPIN, max_length=8))
def test_max_length_bounds_the_schedules_of_a_thread_that_spins(schedule):
    assert len(schedule) <= 8
    assert replay(SPIN, schedule).status == "completed"


# ---- the point: search a scenario too big to enumerate, and shrink what fails ---------------------

def hit_then_miss():
    yield acquire("l")
    hits = yield read("hits")
    yield write("hits", hits + 1)
    yield release("l")
    misses = yield read("misses")  # forgot the lock here
    yield write("misses", misses + 1)


CACHE = Scenario("cache counters", variables={"hits": 0, "misses": 0}, locks=["l"],
                 threads={name: hit_then_miss for name in "ABCD"})


def test_hypothesis_finds_and_shrinks_a_lost_update_among_too_many_interleavings_to_enumerate():
    assert not explore(CACHE, max_executions=5_000).complete  # 4 threads x 6 steps
    failing = []

    @settings(SHRINK, max_examples=300)
    @given(xst.schedules(CACHE))
    def test_every_hit_and_miss_is_counted(schedule):
        if replay(CACHE, schedule, check_determinism=False).final_state != State(hits=4, misses=4):
            failing.append(schedule)
            raise AssertionError("an update was lost")

    with pytest.raises(AssertionError) as raised:
        test_every_hit_and_miss_is_counted()
    shrunk = failing[-1]  # hypothesis reruns the shrunk example last, to report it
    assert "".join(f"schedule={shrunk!r}".split()) in "".join("".join(raised.value.__notes__).split())
    execution = replay(CACHE, shrunk)
    assert execution.final_state == State(hits=4, misses=3)
    # No update is lost without a preemption. Shrinking usually reaches one; it can stop
    # at two, where moving a switch one step later and dropping another at once would be needed.
    assert 1 <= execution.trace.preemptions <= 2, shrunk


# ---- misuse ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "message"), [
    (lambda: xst.scenarios(threads=0), "threads must be a number of threads from 1 to 26"),
    (lambda: xst.scenarios(threads=27), "threads must be a number of threads from 1 to 26"),
    (lambda: xst.scenarios(threads="2"), "threads must be a number of threads"),
    (lambda: xst.scenarios(threads=range(3)), "non-empty range with step 1 within 1 to 26"),
    (lambda: xst.scenarios(threads=range(3, 3)), "non-empty range"),
    (lambda: xst.scenarios(max_steps_per_thread=0), "max_steps_per_thread must be a positive whole number"),
    (lambda: xst.scenarios(max_steps_per_thread=True), "max_steps_per_thread must be a positive whole number"),
    (lambda: xst.scenarios(variables="xy"), "variables must be a list or tuple of names"),
    (lambda: xst.scenarios(variables=("x", "x")), "variables must be distinct"),
    (lambda: xst.scenarios(variables=("x", "")), "non-empty string"),
    (lambda: xst.scenarios(locks=("A",)), "a name generated threads may take"),
    (lambda: xst.scenarios(variables=("x",), locks=("x",)), "named both a variable and a lock"),
    (lambda: xst.scenarios(variables=(), locks=()), "at least one variable or lock"),
    (lambda: xst.scenarios(lock_kinds="mutex"), "lock_kinds must be one of ['lock', 'rlock']"),
    (lambda: xst.scenarios(lock_kinds=()), "lock_kinds must be one of"),
    (lambda: xst.scenarios(well_nested=1), "well_nested must be True or False"),
    (lambda: xst.scenarios(values=(1, 2)), "values must be a hypothesis strategy of ints"),
    (lambda: xst.scenarios(variables=(), well_nested=True, max_steps_per_thread=1),
     "needs max_steps_per_thread >= 2"),
    (lambda: xst.scenarios(objects="semaphores"), "objects must be 'all' or a list of the kinds"),
    (lambda: xst.scenarios(objects=("queue", "lock")), "objects must be 'all' or a list of the kinds"),
    (lambda: xst.scenarios(objects="all", variables=("jobs",)), "['jobs'] named a variable or a lock"),
    (lambda: xst.scenarios(objects="all", well_nested=True), "cannot be combined with objects="),
    (lambda: xst.scenarios(max_steps=0), "max_steps must be a positive whole number or None"),
    (lambda: xst.schedules("counter"), "schedules() takes a Scenario, got str"),
    (lambda: xst.schedules(COUNTER, max_length=0), "max_length must be a positive whole number or None"),
    (lambda: xst.executions(COUNTER, max_length=1.5), "max_length must be a positive whole number"),
])
def test_bad_arguments_raise_invalid_argument_saying_what_is_wrong(call, message):
    with pytest.raises(InvalidArgument) as raised:
        call()
    assert message in str(raised.value)


@pytest.mark.parametrize(("options", "message"), [
    ({"threads": st.just(0)}, "the threads strategy drew 0"),
    ({"values": st.just(0.5), "locks": ()}, "the values strategy drew 0.5"),
])
def test_strategies_that_draw_bad_values_raise_invalid_argument(options, message):
    @settings(QUICK, max_examples=100)
    @given(xst.scenarios(**options))
    def test(scenario):
        pass

    with pytest.raises(InvalidArgument) as raised:
        test()
    assert message in str(raised.value)


def test_a_timed_wait_on_the_condition_is_priced_with_its_expiry():
    # each try of a timed await: the wait, its expiry (or not), the wake-up and the read
    # again (found by CI: an 11-step run of a program drawn with max_steps=10)
    waiter = StraightLine([("await", "cond", "x", 1, True)])
    signaller = StraightLine([("signal", "cond", "x", 0, False)])
    timed = StraightLine([("acquire", "cond", None), ("wait", "cond", "timeout"), ("release", "cond")])
    for threads in ({"A": waiter, "B": signaller}, {"A": timed, "B": signaller}):
        scenario = Scenario("timed", variables={"x": 0}, objects={"cond": Condition()}, threads=threads)
        _result, explored = explored_schedules(scenario)
        assert max(len(schedule) for schedule in explored) == sum(_steps(body.ops) for body in threads.values())


@settings(max_examples=30, deadline=None, database=None)
@given(st.data())
def test_schedules_and_executions_name_the_threads_a_run_starts(data):
    from explorer import replay
    from explorer.testing.strategies import executions, schedules

    from .helpers import spawning as make

    spawning = make()
    schedule = data.draw(schedules(spawning))
    assert set(schedule) <= {"main", "C"} and list(replay(spawning, schedule).schedule) == schedule
    assert data.draw(executions(spawning)).status == "completed"
