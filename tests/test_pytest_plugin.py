"""The pytest plugin, run through pytest itself (pytester): scenarios with an ``Expect``
become test items that fail with the counterexample."""

import subprocess
import sys
from pathlib import Path

# pytester runs pytest in this process and, after each run, drops the modules the run
# imported: were networkx first imported in one run, a graph made by explorer's modules
# (imported before) would not be an instance of the next run's networkx.Graph
import networkx  # noqa: F401

import explorer.graphs  # noqa: F401

ROOT = Path(__file__).parent.parent

LESSONS = '''
from explorer import Expect, Scenario, acquire, read, release, write

def increment():
    value = yield read("x")
    yield write("x", value + 1)

def locked_increment():
    yield acquire("lock")
    yield from increment()
    yield release("lock")

locked = Scenario("locked counter", variables={"x": 0}, locks=["lock"],
                  threads={"A": locked_increment, "B": locked_increment},
                  expect=Expect(outcomes=[{"x": 2}], findings=set()))

wrongly_trusted = Scenario("unlocked counter", variables={"x": 0},
                           threads={"A": increment, "B": increment},
                           expect=Expect(outcomes=[{"x": 2}], findings=set()))

no_expectation = Scenario("not a lesson", variables={"x": 0}, threads={"A": increment})
'''


def test_scenarios_with_an_expectation_are_items_and_a_wrong_one_fails_with_its_trace(pytester):
    pytester.makepyfile(lessons=LESSONS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*final states: unexpected {x=1}*scenario 'unlocked counter' (*lessons.py:16)*",
        "*ERROR ?lost-update? lost update of *",
        "*<- A's stale read*",
        "*to replay: explorer replay *lessons.py::wrongly_trusted --schedule A,B,B,A",
        "*a run that ends in x=1:*",  # the unexpected final state, reached by the first shortest run
        "*to replay: explorer replay *lessons.py::wrongly_trusted --schedule A,B,A,B",
    ])
    assert "not a lesson" not in result.stdout.str()


def test_an_incomplete_exploration_fails_the_item_because_it_proves_nothing(pytester):
    pytester.makepyfile(lessons=LESSONS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--explorer-max-executions=1", "-k",
                                "locked and not unlocked")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*exploration was incomplete (stopped at max_executions)*"])


def test_a_scenario_file_that_cannot_be_loaded_is_a_collection_error_naming_it(pytester):
    pytester.makepyfile(broken=LESSONS + "\nraise ImportError('half-written lesson')\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*broken.py: cannot load: ImportError: half-written lesson*"])


def test_a_failing_test_saves_its_results_json_traces_and_graphs(pytester):
    pytester.makepyfile(test_mine=LESSONS + '''

from explorer import explore

def test_the_counter_is_safe(explorer_results):
    result = explorer_results(explore(wrongly_trusted))
    assert not result.findings
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    # the test file's own lessons are items too: wrongly_trusted fails, locked passes
    result.assert_outcomes(failed=2, passed=1)
    saved = [Path(line.strip()) for line in result.stdout.lines if line.strip().endswith((".json", ".svg", ".txt"))]
    names = {path.name for path in saved}
    assert {"result.json", "states.svg"} <= names and any(n.startswith("finding-0-") for n in names)
    assert all(path.exists() for path in saved)


PLAIN_LESSON = """
import threading

from explorer import Expect, program


class Counter:
    def __init__(self):
        self.value = 0


def unlocked():
    counter = Counter()

    def bump():
        counter.value = counter.value + 1

    threads = [threading.Thread(target=bump) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


lost = program("unlocked counter", unlocked, track=[Counter], expect=Expect(findings={"lost-update", "race"}))
wrong = program("said to be safe", unlocked, track=[Counter], expect=Expect(findings=set()))
"""


def test_plain_threading_programs_with_an_expectation_are_items_too(pytester):
    # Found by a review: a file of program(..., expect=...) and no Scenario( was never opened
    pytester.makepyfile(plain_lesson=PLAIN_LESSON)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*plain_lesson.py::wrong*"])


def test_pytest_on_the_scenario_library_checks_every_lesson():
    done = subprocess.run([sys.executable, "-m", "pytest", "scenarios", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout


def test_a_script_that_does_not_import_explorer_is_never_imported_by_the_plugin(pytester):
    # it says expect= and run_program( but has nothing to do with explorer: importing it would run it
    pytester.makepyfile(deploy='''
import sys
def run_program(command, expect=None):
    print("DEPLOYING", command)
run_program("rm -rf build", expect="ok")
sys.exit(3)
''', test_app="def test_app():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
    assert "DEPLOYING" not in result.stdout.str()


def test_lessons_are_collected_once_in_test_files_and_named_files_alike(pytester):
    pytester.makepyfile(lessons=LESSONS + "\nalias = locked\n")
    pytester.makepyfile(test_more='''
from lessons import locked  # imported: lessons.py's item, not this file's
from explorer import Expect, Scenario, read, write

def bump():
    value = yield read("y")
    yield write("y", value + 1)

own = Scenario("own lesson", variables={"y": 0}, threads={"A": bump}, expect=Expect(outcomes=[{"y": 1}]))

def test_plain():
    assert True
''')
    listed = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q").stdout.lines
    items = sorted(line for line in listed if "::" in line)
    assert items == ["lessons.py::locked", "lessons.py::wrongly_trusted", "test_more.py::own", "test_more.py::test_plain"]
    named = pytester.runpytest("-p", "no:cacheprovider", "--collect-only", "-q", "lessons.py").stdout.lines
    assert sorted(line for line in named if "::" in line) == ["lessons.py::locked", "lessons.py::wrongly_trusted"]
    by_title = pytester.runpytest("-p", "no:cacheprovider", "-q", "-k", "unlocked")
    by_title.assert_outcomes(failed=1)


def test_a_lesson_that_checked_nothing_fails_and_an_expect_that_checks_nothing_is_refused(pytester):
    pytester.makepyfile(empty='''
from explorer import Expect, Scenario

def nothing():
    return
    yield

empty = Scenario("empty", threads={"A": nothing}, expect=Expect(findings=set()))
''', vague='''
from explorer import Expect, Scenario, read
def reads():
    yield read("x")
vague = Scenario("vague", variables={"x": 0}, threads={"A": reads}, expect=Expect(complete=False))
''')
    empty = pytester.runpytest("-p", "no:cacheprovider", "empty.py")
    empty.assert_outcomes(failed=1)
    empty.stdout.fnmatch_lines(["*checked nothing: no thread took a step*"])
    vague = pytester.runpytest("-p", "no:cacheprovider", "vague.py")
    vague.assert_outcomes(errors=1)
    vague.stdout.fnmatch_lines(["*Expect(complete=False) with no outcomes, findings or deadlock checks nothing*"])


def test_explorer_results_refuses_what_is_not_a_result_in_one_line_without_an_internal_error(pytester):
    pytester.makepyfile(lessons=LESSONS, test_fx='''
from explorer import replay
from lessons import locked

def test_replay(explorer_results):
    explorer_results(replay(locked, ["A", "A", "A", "A", "B", "B", "B", "B"]))

def test_next():
    assert True
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "test_fx.py")
    assert "INTERNALERROR" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*TypeError: explorer_results keeps what explore() returns*got Execution*"])
    result.assert_outcomes(failed=1, passed=1)


def test_a_bad_max_executions_is_one_usage_error(pytester):
    pytester.makepyfile(lessons=LESSONS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--explorer-max-executions=0")
    assert result.ret == 4  # pytest's usage error
    result.stderr.fnmatch_lines(["*--explorer-max-executions: expected a whole number of at least 1, got '0'*"])


def test_assert_finds_accepts_a_finding_shown_before_a_budget_and_says_what_a_cut_run_does_not_prove():
    import pytest

    from explorer import Scenario, acquire
    from explorer.testing import assert_finds

    def takes(first, second):
        def body():
            yield acquire(first)
            yield acquire(second)
        return body

    abba = Scenario("abba", locks=["a", "b"], threads={"A": takes("a", "b"), "B": takes("b", "a")})
    assert assert_finds(abba, "deadlock", strategy="exhaustive", max_executions=3).complete is False
    with pytest.raises(AssertionError, match="no race finding in an exploration that was incomplete"):
        assert_finds(abba, "race", max_executions=1)


POLLING_LESSON = '''
import threading
import time

import explorer
from explorer import Expect


class Flag:
    def __init__(self):
        self.ready = False


def sleep_poller():
    flag = Flag()

    def waiter():
        while not flag.ready:
            time.sleep(0.01)

    t = threading.Thread(target=waiter)
    t.start()
    flag.ready = True
    t.join()
    return "done"


polls = explorer.program("sleep poller", sleep_poller, track=[Flag],
                         expect=Expect(outcomes=[{"Flag#1.ready": True}], deadlock=False))
wrongly_polls = explorer.program("sleep poller, expected wrongly", sleep_poller, track=[Flag],
                                 expect=Expect(outcomes=[{"Flag#1.ready": False}]))
'''


def test_explorer_fair_explores_a_polling_lesson_to_its_end_and_its_replay_commands_say_fair(pytester):
    # (without it the waiter may poll forever: its runs go on to max_steps, slowly, and the
    # lesson fails on the max-steps finding; test_fair_schedules shows that)
    pytester.makepyfile(polling=POLLING_LESSON)
    fair = pytester.runpytest("-p", "no:cacheprovider", "--explorer-fair")
    fair.assert_outcomes(passed=1, failed=1)
    fair.stdout.fnmatch_lines(["*final states: unexpected*",
                               "*to replay: explorer replay *polling.py::wrongly_polls --schedule * --fair",
                               "*no run is shown for each unexpected final state*"])
    assert "replay(scenario" not in fair.stdout.str()
