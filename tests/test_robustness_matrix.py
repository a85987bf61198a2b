"""The robustness matrix: every bad input gets a clear error or finding, and nothing hangs.

One row per bad input. A misuse of explorer raises an ``ExplorerError`` that is also the
builtin a caller would catch; a fault in the scenario's own code is a finding in the
result. Either way the message names the scenario, the thread and the step, and the
source line where there is one (tagged ``# @name`` below, found by :func:`line`).
"""

import asyncio
import functools
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import (
    ExplorerError,
    InvalidArgument,
    NondeterminismError,
    Scenario,
    ScenarioError,
    ScenarioTypeError,
    ScheduleError,
    acquire,
    explore,
    load_trace,
    read,
    release,
    replay,
    write,
)
from explorer.json_format import OpaqueValue, trace_to_json

ROOT = Path(__file__).parent.parent
SOURCE = Path(__file__).read_text().splitlines()


def line(tag: str) -> str:
    """``test_robustness_matrix.py:N``: the line of this file marked ``# @tag``."""
    (number,) = [n for n, text in enumerate(SOURCE, 1) if text.rstrip().endswith(f"# @{tag}")]
    return f"test_robustness_matrix.py:{number}"


def step_of(var="x"):
    yield read(var)


# ---- scenario definitions: refused when made, with the fix ---------------------------------

class Account:  # a mutable object compared by identity
    def __init__(self):
        self.balance = 0


class Unhashing:
    def __hash__(self):
        raise ValueError("no hash today")


class Uncopyable(tuple):  # immutable and hashable, but refuses to be copied
    def __deepcopy__(self, memo):
        raise TypeError("cannot copy")

    __copy__ = __reduce_ex__ = __deepcopy__


DEFINITIONS = [
    ("no threads", dict(threads={}), ScenarioError, ValueError, ["has no threads", "threads={'A': body}"]),
    ("a thread that is not callable", dict(threads={"A": step_of()}), ScenarioTypeError, TypeError,
     ["thread 'A'", "not callable", "generator function itself"]),
    ("threads given as a list", dict(threads=[step_of]), ScenarioTypeError, TypeError,
     ["threads must be a dict"]),
    ("an unknown lock kind", dict(locks={"l": "semaphore"}, threads={"A": step_of}), ScenarioError, ValueError,
     ["lock 'l'", "'semaphore'", "'lock'", "'rlock'"]),
    ("a variable name that is not a string", dict(variables={1: 0}, threads={"A": step_of}), ScenarioTypeError,
     TypeError, ["variable name must be a non-empty string, got 1 (int)"]),
    ("a lock name that is not a string", dict(locks=[("l",)], threads={"A": step_of}), ScenarioTypeError,
     TypeError, ["lock name must be a non-empty string, got ('l',) (tuple)"]),
    ("a thread name that is empty", dict(threads={"": step_of}), ScenarioTypeError, TypeError,
     ["thread name must be a non-empty string, got ''"]),
    ("a lock declared twice", dict(locks=["l", "l"], threads={"A": step_of}), ScenarioError, ValueError,
     ["lock names must be distinct", "['l', 'l']"]),
    ("one name for a variable and a lock", dict(variables={"l": 0}, locks=["l"], threads={"A": step_of}),
     ScenarioError, ValueError, ["'l' names both a variable and a lock"]),
    ("one name for a lock and a thread", dict(locks=["A"], threads={"A": step_of}),
     ScenarioError, ValueError, ["'A' names both a lock and a thread"]),
    ("an unhashable initial value", dict(variables={"x": []}, threads={"A": step_of}), ScenarioTypeError,
     TypeError, ["variable 'x' starts as []", "not hashable", "use a tuple instead of a list"]),
    ("an initial value whose hash raises", dict(variables={"x": Unhashing()}, threads={"A": step_of}),
     ScenarioTypeError, TypeError, ["variable 'x'", "fails to hash (ValueError)", "must be hashable"]),
    ("a mutable initial value compared by identity", dict(variables={"x": Account()}, threads={"A": step_of}),
     ScenarioTypeError, TypeError, ["variable 'x'", "class Account", "explorer never copies values",
                                    "@dataclass(frozen=True)"]),
    ("an invariant that is not callable", dict(threads={"A": step_of}, invariant="x == 1"), ScenarioTypeError,
     TypeError, ["invariant must be a function"]),
]


@pytest.mark.parametrize("definition, expected, builtin, fragments",
                         [row[1:] for row in DEFINITIONS], ids=[row[0] for row in DEFINITIONS])
def test_a_bad_scenario_definition_is_refused_when_made_naming_the_scenario_and_the_fix(
        definition, expected, builtin, fragments):
    with pytest.raises(expected) as caught:
        Scenario("bad one", **definition)
    assert isinstance(caught.value, ExplorerError) and isinstance(caught.value, builtin)
    message = str(caught.value)
    assert message.startswith("Scenario 'bad one'")
    for fragment in fragments:
        assert fragment in message


def test_an_uncopyable_but_immutable_initial_value_is_accepted_because_explorer_never_copies_values():
    value = Uncopyable((1, 2))

    def reads():
        seen = yield read("x")
        return seen is value

    result = explore(Scenario("uncopyable", variables={"x": value}, threads={"A": reads}))
    assert result.complete and [dict(outcome.returns) for outcome in result.outcomes] == [{"A": True}]


def test_exploring_something_that_is_not_a_scenario_says_how_to_make_one():
    with pytest.raises(ScenarioTypeError, match=r"expected a Scenario, got dict .*Scenario\(name, variables="):
        explore({"threads": {}})


# ---- thread bodies: faults are findings, never crashes -------------------------------------

def plain_function():
    return 1


async def coroutine_body():
    await asyncio.sleep(0)


def takes_an_argument(n):
    yield read("x")


def yields_a_number():
    yield read("x")
    yield 5  # @number


def yields_an_unknown_variable():
    yield read("y")  # @unknown


def ends_with_a_bare_yield():
    yield write("x", 1)
    yield  # @bare


def recurses():
    def down(n):
        return down(n + 1)  # @recursion

    yield read("x")
    down(0)


def exits():
    yield read("x")
    sys.exit(3)  # @exit


def swallows_generator_exit():
    while True:
        try:
            yield acquire("l")
        except GeneratorExit:
            pass


def raises_in_finally():
    try:
        yield acquire("l")
        yield acquire("l")
    finally:
        raise ValueError("cleanup failed")  # @finally


def loops_with_steps():
    while True:
        yield read("x")  # @loop


BODIES = [
    # (row, threads, variables, locks, kind, severity, fragments)
    ("a plain function", {"A": plain_function}, {}, [], "error", "error",
     ["thread A did not start", "returned int 1, not a generator", "plain function is not one"]),
    ("a coroutine", {"A": coroutine_body}, {}, [], "error", "error",
     ["thread A did not start", "coroutine", "async def"]),
    ("a function of one argument given none", {"A": takes_an_argument}, {}, [], "error", "error",
     ["thread A did not start", "TypeError", "Check the arguments"]),
    ("a yield of a non-step", {"A": yields_a_number}, {"x": 0}, [], "error", "error",
     ["thread A yielded 5 (int)", line("number"), "after step 1", "may only yield read()"]),
    ("a step naming an undeclared variable", {"A": yields_an_unknown_variable}, {"x": 0}, [], "error", "error",
     ["thread A yielded read('y')", line("unknown"), "before its first step", "not a declared variable"]),
    ("a bare yield where the thread should have ended", {"A": ends_with_a_bare_yield}, {"x": 0}, [],
     "error", "error", ["thread A yielded None", line("bare"), "after step 1", "end a thread with `return`"]),
    ("a recursion error", {"A": recurses}, {"x": 0}, [], "error", "error",
     ["thread A raised RecursionError", line("recursion"), "after step 1"]),
    ("sys.exit in a thread", {"A": exits}, {"x": 0}, [], "error", "error",
     ["thread A raised SystemExit: 3", line("exit"), "after step 1"]),
    ("a generator that swallows GeneratorExit", {"A": swallows_generator_exit, "B": swallows_generator_exit},
     {}, ["l"], "close-error", "warning", ["thread", "ignored GeneratorExit", "while being closed"]),
    ("a finally block that raises when closed", {"A": raises_in_finally}, {}, ["l"], "close-error", "warning",
     ["thread A raised ValueError: cleanup failed", "while being closed"]),
    ("an endless loop with steps", {"A": loops_with_steps}, {"x": 0}, [], "max-steps", "error",
     ["thread A did not finish within max_steps=20 steps", "after step 20", line("loop"), "endless loop"]),
]


@pytest.mark.parametrize("threads, variables, locks, kind, severity, fragments",
                         [row[1:] for row in BODIES], ids=[row[0] for row in BODIES])
def test_a_faulty_thread_body_is_a_finding_naming_scenario_thread_step_and_line(
        threads, variables, locks, kind, severity, fragments):
    result = explore(Scenario("faulty", variables=variables, locks=locks, threads=threads), max_steps=20)
    chosen = [f for f in result.findings if f.kind == kind]
    assert chosen, [f.message for f in result.findings]
    finding = chosen[0]
    assert finding.severity == severity and finding.message.startswith("scenario 'faulty': thread ")
    for fragment in fragments:
        assert fragment in finding.message
    replayed = replay(result.scenario, finding.trace, max_steps=20)  # its trace shows it again
    assert kind in {f.kind for f in replayed.findings}


def increments():
    value = yield read("x")  # @increments
    yield write("x", value + 1)


def test_one_generator_object_handed_to_two_threads_is_an_error_naming_the_second():
    made = increments()
    result = explore(Scenario("shared", variables={"x": 0}, threads={"A": lambda: made, "B": lambda: made}))
    (error,) = result.errors
    assert error.thread == "B" and error.message.startswith("scenario 'shared': thread B did not start")
    assert "a generator that has already run (suspended at " in error.message and line("increments") in error.message
    assert "Give the thread the generator function itself" in error.message


@pytest.mark.parametrize("strategy", ["exhaustive", "dpor", "stateful", "random"])
def test_one_generator_object_made_for_every_run_is_an_error_and_the_run_is_incomplete(strategy):
    made = increments()  # the first run takes it, every later run finds it finished
    result = explore(Scenario("made once", variables={"x": 0}, threads={"A": lambda: made, "B": increments}),
                     strategy=strategy, max_executions=50)
    assert not result.complete
    messages = [f.message for f in result.errors]
    assert any("thread A did not start" in m and "already run (finished)" in m for m in messages), messages


def _delegates_to(helper):
    def body():
        yield from helper
    return body


def test_two_threads_that_yield_from_one_generator_object_are_told_so():
    helper = increments()
    result = explore(Scenario("one helper", variables={"x": 0},
                              threads={"A": _delegates_to(helper), "B": _delegates_to(helper)}))
    assert not result.complete
    (message,) = [f.message for f in result.errors]
    assert "thread B raised TypeError" in message  # B's first send resumed A's read with None
    at = f"{line('increments').rsplit(':', 1)[0]}:{int(line('increments').rsplit(':', 1)[1]) - 1})"  # its def
    assert "thread A is suspended in `yield from` increments() (" in message and at in message
    assert "two threads delegate to one generator object" in message


@settings(max_examples=30, deadline=None)
@given(steps=st.integers(0, 4), fail_at=st.integers(0, 4), other=st.booleans())
def test_a_thread_raising_at_any_step_is_an_error_naming_that_step_and_line(steps, fail_at, other):
    fail_at = min(fail_at, steps)

    def body():
        for n in range(steps + 1):
            if n == fail_at:
                raise KeyError(f"at {n}")  # @raise
            yield read("x")

    threads = {"A": body, "B": functools.partial(step_of, "x")} if other else {"A": body}
    result = explore(Scenario("raiser", variables={"x": 0}, threads=threads))
    (error,) = result.errors
    assert error.thread == "A" and error.message.startswith("scenario 'raiser': thread A raised KeyError")
    assert line("raise") in error.message
    assert error.message.endswith(f"after step {len(error.trace)}" if fail_at else line("raise"))
    assert ("before its first step" in error.message) == (fail_at == 0)
    assert [e.thread for e in error.trace.events].count("A") == fail_at
    assert result.complete


def spins():
    yield read("x")
    while True:  # @spin
        pass


def writes_one():
    yield write("x", 1)


# stateful search's graph walk runs a thread's code outside any execution to learn its
# next step: the watchdog watches that code too
@pytest.mark.parametrize("strategy", ["dpor", "exhaustive", "stateful", "auto", "random"])
def test_an_endless_loop_without_steps_is_interrupted_by_the_watchdog_and_stops_the_search(strategy):
    started = time.monotonic()
    result = explore(Scenario("spinner", variables={"x": 0}, threads={"A": writes_one, "B": spins}),
                     strategy=strategy, step_timeout=0.2)
    assert time.monotonic() - started < 10
    (hung,) = [f for f in result.findings if f.kind == "step-timeout"]
    assert hung.message.startswith("scenario 'spinner': thread B ran for more than step_timeout=0.2s")
    assert "after step " in hung.message and line("spin").rsplit(":")[0] in hung.message
    assert not result.complete and result.stop_reason == "step_timeout"
    assert "INCOMPLETE" in result.render()
    assert_traced_code_still_runs()


def assert_traced_code_still_runs():
    """Nothing of the watchdog's interrupt is left behind: traced code (hypothesis, coverage) runs."""
    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: None)
    try:
        started = time.monotonic()
        for _ in range(10_000):
            next(step_of(), None)  # a Python call: the tracer sees it
        assert time.monotonic() - started < 5
    finally:
        sys.settrace(previous)


@pytest.mark.parametrize("strategy", ["dpor", "stateful", "auto"])
def test_an_endless_loop_between_two_steps_is_cut_at_the_time_limit_without_a_step_timeout(strategy):
    started = time.monotonic()
    result = explore(Scenario("spinner", variables={"x": 0}, threads={"A": writes_one, "B": spins}),
                     strategy=strategy, time_limit=0.5, step_timeout=None)
    assert time.monotonic() - started < 3
    assert result.stop_reason == "time_limit" and not result.complete
    assert [f for f in result.findings if f.kind == "step-timeout"] == []  # a budget, not a bug
    # but the result says in whose code the limit landed, and where
    # after A's write and B's read, or as stateful search's graph walk counts: B's own steps
    assert result.stopped_in.startswith("thread B's code after ") and line("spin") in result.stopped_in
    assert ("after its step 1," if strategy == "stateful" else "after step 2,") in result.stopped_in
    assert result.stopped_in in result.incomplete_reason and "--step-timeout" in result.render()


def test_a_step_that_never_yields_before_its_first_step_is_cut_at_the_time_limit_too():
    def spins_at_once():
        while True:  # @early
            pass
        yield read("x")

    started = time.monotonic()
    result = explore(Scenario("spins early", variables={"x": 0}, threads={"A": spins_at_once}),
                     time_limit=0.2, step_timeout=None)
    assert time.monotonic() - started < 2
    assert result.findings == [] and result.stop_reason == "time_limit"  # a budget, not a bug
    assert not result.complete
    assert result.stopped_in.startswith("thread A's code before its first step, at ") and line("early") in result.stopped_in
    execution = replay(result.scenario, [], extend=True, step_timeout=0.2)
    assert execution.status == "hung" and execution.findings[0].kind == "step-timeout"


def test_a_finally_block_that_loops_forever_at_close_is_interrupted_and_reported():
    def cleanup_spins():
        try:
            yield acquire("l")
            yield acquire("l")
        finally:
            while True:
                pass

    result = explore(Scenario("cleanup spins", locks=["l"], threads={"A": cleanup_spins}), step_timeout=0.2)
    assert {f.kind for f in result.findings} == {"deadlock", "close-error"}
    assert "ran past step_timeout=0.2s while being closed" in result.warnings[0].message


def test_nondeterminism_between_runs_is_detected_and_named_with_the_step_and_stops_the_search():
    rng = random.Random(1)

    def coin():
        yield read("x")
        if rng.random() < 0.5:
            yield read("x")
        yield write("x", 1)

    scenario = Scenario("coin", variables={"x": 0}, threads={"A": coin, "B": coin})
    result = explore(scenario)
    (finding,) = [f for f in result.findings if f.kind == "nondeterminism"]
    assert finding.message.startswith("scenario 'coin' is nondeterministic")
    assert f"at step {finding.details['step']}" in finding.message and "thread" in finding.message
    assert not result.complete and result.stop_reason == "nondeterminism"
    with pytest.raises(NondeterminismError, match="scenario 'coin'"):
        for _ in range(20):
            replay(scenario, ["A"], extend=True)


def test_state_kept_between_runs_shows_as_nondeterminism_in_replay_naming_the_scenario():
    calls = itertools.count()

    def counts():
        yield read("x")
        if next(calls) % 2:
            yield read("x")

    with pytest.raises(NondeterminismError, match="scenario 'kept state'") as caught:
        replay(Scenario("kept state", variables={"x": 0}, threads={"A": counts}), ["A"], extend=True)
    assert isinstance(caught.value, RuntimeError)


# ---- locks -----------------------------------------------------------------------------------

def releases():
    yield release("l")  # @release


def takes():
    yield acquire("l")


def takes_twice():
    yield acquire("l")
    yield acquire("l")  # @twice


LOCK_ROWS = [
    ("releasing an unheld Lock", {"A": releases}, "lock", "error", "error",
     ["thread A, at step 1", line("release"), "released Lock 'l', which is not held by anyone",
      "RuntimeError('release unlocked lock')"]),
    ("releasing an RLock another thread holds", {"A": takes, "B": releases}, "rlock", "error", "error",
     ["thread B, at step 2", line("release"), "released RLock 'l', which is held by A",
      "cannot release un-acquired lock"]),
    ("releasing a Lock another thread holds", {"A": takes, "B": releases}, "lock", "foreign-release", "warning",
     ["thread B, at step 2", line("release"), "released lock 'l', which A holds", "threading.Lock allows this"]),
    ("leaving a lock held at the end", {"A": takes}, "lock", "lock-held-at-exit", "warning",
     ["thread A finished after step 1 while holding lock 'l'"]),
]


@pytest.mark.parametrize("threads, kind_of_lock, kind, severity, fragments",
                         [row[1:] for row in LOCK_ROWS], ids=[row[0] for row in LOCK_ROWS])
def test_lock_misuse_is_a_finding_naming_scenario_thread_step_lock_and_line(threads, kind_of_lock, kind,
                                                                           severity, fragments):
    result = explore(Scenario("locks", locks={"l": kind_of_lock}, threads=threads))
    chosen = [f for f in result.findings if f.kind == kind]
    assert chosen and chosen[0].severity == severity
    message = chosen[0].message
    assert message.startswith("scenario 'locks': thread ")
    for fragment in fragments:
        assert fragment in message


def test_reacquiring_a_plain_lock_is_a_deadlock_naming_the_thread_the_lock_and_where_it_blocks():
    result = explore(Scenario("twice", locks=["l"], threads={"A": takes_twice}))
    (deadlock,) = result.deadlocks
    assert "A waits for lock 'l', which A itself holds (a plain Lock is not re-entrant)" in deadlock.message
    assert deadlock.trace.blocked == {"A": "l"} and deadlock.trace.blocked_at["A"].endswith(line("twice"))
    assert "twice" in result.render() and len(deadlock.trace) == 1


# ---- budgets and interrupts: partial results, marked, with their findings -------------------

def increment():
    value = yield read("x")
    yield write("x", value + 1)


FIVE = Scenario("five", variables={"x": 0}, threads={t: increment for t in "ABCDE"})  # 113,400 executions


def assert_partial(result, reason):
    """A cut result says so everywhere, keeps what it found, and its traces replay."""
    assert not result.complete and result.incomplete_reason == reason
    assert "INCOMPLETE" in result.render() and reason in result.render()
    assert json.loads(result.to_json())["complete"] is False
    assert {"lost-update", "race"} <= {f.kind for f in result.findings}
    for finding in result.findings:
        assert finding.kind in {f.kind for f in replay(FIVE, finding.trace).findings} or finding.kind in {
            "nonserializable", "race"}


def test_max_executions_returns_a_partial_result_marked_incomplete_with_its_findings():
    result = explore(FIVE, max_executions=300)
    assert result.executions == 300
    assert_partial(result, "stopped at max_executions")


def test_time_limit_returns_a_partial_result_marked_incomplete_with_its_findings():
    result = explore(FIVE, time_limit=0.3)
    assert 0 < result.executions < 113_400
    assert_partial(result, "stopped at time_limit")


def test_ctrl_c_in_a_thread_body_returns_the_partial_result_marked_interrupted():
    runs = itertools.count()

    def interrupted():
        value = yield read("x")
        if next(runs) == 2000:
            raise KeyboardInterrupt
        yield write("x", value + 1)

    scenario = Scenario("five", variables={"x": 0}, threads={t: interrupted for t in "ABCDE"})
    result = explore(scenario)
    assert 0 < result.executions < 113_400 and result.stop_reason == "interrupted"
    assert not result.complete and "INCOMPLETE: interrupted (Ctrl-C)" in result.render()
    assert "lost-update" in {f.kind for f in result.findings}


def test_ctrl_c_in_a_progress_callback_returns_the_partial_result_marked_interrupted():
    def progress(executions, steps, seconds):
        if executions >= 2048:
            raise KeyboardInterrupt

    result = explore(FIVE, progress=progress)
    assert result.executions == 2048
    assert_partial(result, "interrupted (Ctrl-C)")


@settings(max_examples=10, deadline=None)
@given(budget=st.integers(1, 5))
def test_no_budget_hit_is_ever_reported_as_no_bugs(budget):
    def clean():
        yield acquire("l")
        value = yield read("x")
        yield write("x", value + 1)
        yield release("l")

    scenario = Scenario("clean", variables={"x": 0}, locks=["l"], threads={t: clean for t in "ABC"})
    result = explore(scenario, max_executions=budget)
    assert result.findings == [] and not result.complete
    assert "INCOMPLETE: stopped at max_executions" in result.render()


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_a_budget_that_is_not_a_positive_number_is_refused_naming_it(value):
    with pytest.raises(InvalidArgument, match="max_executions must be a positive whole number"):
        explore(FIVE, max_executions=value)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        with pytest.raises(InvalidArgument, match="step_timeout must be a positive number of seconds"):
            explore(FIVE, step_timeout=value)


def run_cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "explorer", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, check=False)  # callers check the status themselves


def test_the_cli_reports_a_hung_step_as_a_finding_and_does_not_hang(tmp_path):
    (tmp_path / "hangs.py").write_text(
        "from explorer import Scenario, read\n"
        "def spin():\n    yield read('x')\n    while True:\n        pass\n"
        "hangs = Scenario('hangs', variables={'x': 0}, threads={'A': spin})\n")
    done = run_cli("run", tmp_path / "hangs.py", "--step-timeout", "0.2")
    assert done.returncode == 1, done.stderr
    assert "[step-timeout] scenario 'hangs': thread A ran for more than step_timeout=0.2s" in done.stdout
    assert "interrupted at " in done.stdout and "hangs.py:4)" in done.stdout and "INCOMPLETE" in done.stdout


LONG = """
from explorer import Scenario, read, write
def increment():
    value = yield read("x")
    yield write("x", value + 1)
print("loaded", flush=True)
long = Scenario("long", variables={"x": 0}, threads={t: increment for t in "ABCDEFG"})
"""


@pytest.mark.parametrize("where, source", [
    ("while exploring", LONG),
    ("while loading a file", "import time\nprint('loaded', flush=True)\ntime.sleep(60)\n"),
])
def test_sigint_to_explorer_run_exits_130_without_a_traceback(tmp_path, where, source):
    (tmp_path / "slow.py").write_text(source)
    process = subprocess.Popen([sys.executable, "-m", "explorer", "run", tmp_path / "slow.py", "-q"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout.readline().strip() == "loaded"
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130 and "Traceback" not in err and "interrupted (Ctrl-C)" in err
    if where == "while exploring":
        assert "INCOMPLETE: interrupted (Ctrl-C)" in out and "[lost-update]" in out


# ---- files: strict, never executed, written atomically --------------------------------------

COUNTER = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


def good_trace():
    return json.loads(trace_to_json(explore(COUNTER).findings[0].trace, scenario=COUNTER))


def mutate(path, value):
    document = good_trace()
    *parents, last = path
    target = document
    for key in parents:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return document


FILE_ROWS = [
    ("a newer version", mutate(["version"], 99), ["version 99 is newer than this explorer reads"]),
    ("a version that is not a number", mutate(["version"], "1"), ["field 'version' must be", "got str '1'"]),
    ("another format", mutate(["format"], "pickle"), ["field 'format' must be", "got str 'pickle'"]),
    ("a missing schedule", mutate(["trace", "schedule"], KeyError), ["field 'trace.schedule' is missing"]),
    ("events of the wrong type", mutate(["trace", "events"], "A,B"), ["field 'trace.events' must be a list"]),
    ("a thread name that is a number", mutate(["trace", "schedule", 0], 7),
     ["field 'trace.schedule[0]' must be a thread name", "got int 7"]),
    ("an event disagreeing with the schedule", mutate(["trace", "events", 0, "thread"], "B"),
     ["field 'trace.events[0].thread' is 'B' but 'trace.schedule[0]' is 'A'"]),
    ("a list instead of an object", [1, 2], ["expected a trace file or a result file", "got list"]),
]


@pytest.mark.parametrize("document, fragments", [row[1:] for row in FILE_ROWS], ids=[row[0] for row in FILE_ROWS])
def test_a_malformed_trace_file_is_refused_naming_the_field(tmp_path, document, fragments):
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidArgument) as caught:
        load_trace(path)
    assert isinstance(caught.value, ValueError) and str(path) in str(caught.value)
    for fragment in fragments:
        assert fragment in str(caught.value)


@pytest.mark.parametrize("schedule, fragment", [
    (["A", "C"], "names 'C', which is not a thread of scenario 'counter'"),
    (["A", "A", "A"], "asks for thread 'A', which is not enabled there"),
    (["A"], "the schedule has 1 steps but threads ['A', 'B'] can still run"),
], ids=["an unknown thread", "a thread that has finished", "a schedule that ends early"])
def test_a_trace_that_does_not_fit_the_scenario_is_refused_by_replay(schedule, fragment):
    document = good_trace()
    document["scenario"] = "counter"
    trace = document["trace"]
    trace["threads"] = sorted(set(trace["threads"]) | set(schedule))
    trace["schedule"] = schedule
    trace["events"] = [{"index": i, "thread": name, "kind": "read", "target": "x", "value": 0, "location": None}
                       for i, name in enumerate(schedule)]
    trace["marks"] = {}
    with pytest.raises(ScheduleError) as caught:
        replay(COUNTER, load_trace(document))
    assert isinstance(caught.value, ValueError) and fragment in str(caught.value)


def test_a_trace_file_is_never_executed_as_code(tmp_path):
    canary = tmp_path / "ran"
    document = good_trace()
    document["trace"]["events"][0]["value"] = {"$repr": f"__import__('pathlib').Path({str(canary)!r}).touch()",
                                               "$type": "builtins.object"}
    trace = load_trace(json.dumps(document))
    assert isinstance(trace.events[0].value, OpaqueValue) and not canary.exists()
    assert replay(COUNTER, trace).final_state == {"x": 1}  # the schedule replays; the value was only shown


def test_the_cli_refuses_a_trace_of_threads_the_scenario_lacks_with_exit_two(tmp_path):
    document = good_trace()
    document["trace"]["threads"] = ["A", "Z"]
    document["trace"]["schedule"] = ["Z"]
    document["trace"]["events"] = [{"index": 0, "thread": "Z", "kind": "read", "target": "x", "value": 0,
                                    "location": None}]
    document["trace"]["marks"] = {}
    document["scenario"] = "lost update"
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(document))
    done = run_cli("replay", "scenarios/counter.py", "--trace", path)
    assert done.returncode == 2 and "names 'Z', which is not a thread of scenario 'lost update'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_crash_while_writing_a_result_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "result.json"
    target.write_text("old result\n")
    program = ("import sys, time\nfrom explorer._files import write_atomically\n"
               "def slowly(stream):\n"
               "    stream.write(b'{\"half\": '); stream.flush(); print('writing', flush=True); time.sleep(60)\n"
               "write_atomically(sys.argv[1], slowly)\n")
    writer = subprocess.Popen([sys.executable, "-c", program, str(target)],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        writer.send_signal(signal.SIGKILL)  # a crash: no clean-up runs
        writer.wait(timeout=30)
    finally:
        writer.kill()
        writer.stdout.close()
    assert target.read_text() == "old result\n"


# ---- scenario files that fail to import ------------------------------------------------------

@pytest.mark.parametrize("source, fragments", [
    ("x = 1\ndef f(:\n", ["broken.py: cannot load: SyntaxError", "line 2"]),
    ("import sys\n\nsys.exit(3)\n", ["broken.py: cannot load: SystemExit: 3", "broken.py:3"]),
    ("x = 1\n\nraise ImportError('no such thing')\n", ["cannot load: ImportError: no such thing", "broken.py:3"]),
], ids=["a syntax error", "sys.exit at import", "an import error"])
def test_a_scenario_file_that_fails_to_import_is_reported_with_its_line_and_the_others_still_run(
        tmp_path, source, fragments):
    (tmp_path / "broken.py").write_text(source)
    (tmp_path / "fine.py").write_text((ROOT / "scenarios" / "counter.py").read_text())
    done = run_cli("run", tmp_path, "-k", "locked")
    assert done.returncode == 2 and "2 executions" in done.stdout
    for fragment in fragments:
        assert fragment in done.stderr


def test_the_readme_says_plainly_that_loading_a_scenario_file_runs_its_code():
    readme = (ROOT / "README.md").read_text()
    assert "Loading a scenario file runs its Python code" in readme
    assert os.path.exists(ROOT / "explorer" / "loading.py")


# ---- resources -------------------------------------------------------------------------------

def test_peak_memory_of_exhaustive_exploration_does_not_grow_with_the_executions():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_memory
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    small, large = bench_memory.main(["--quick"])  # 2,520 and 25,200 executions, each in a fresh process
    assert (small["executions"], large["executions"]) == (2_520, 25_200)
    assert large["peak_kib"] - small["peak_kib"] < 4 * 1024


def test_a_body_that_raises_system_exit_while_being_closed_is_a_close_error_not_a_crash():
    # Found by the fuzz run in CI: swallowing GeneratorExit, then calling sys.exit().
    from explorer import Scenario, explore, read

    def stubborn():
        try:
            yield read("x")
            yield read("x")
        except GeneratorExit:
            raise SystemExit("no")

    def quick():
        yield read("x")
        raise RuntimeError("ends the execution while the other thread is suspended")

    result = explore(Scenario("stubborn", variables={"x": 0}, threads={"A": stubborn, "B": quick}),
                     strategy="exhaustive")
    closing = [f for f in result.findings if f.kind == "close-error"]
    assert closing and "SystemExit" in closing[0].message and "thread A" in closing[0].message
