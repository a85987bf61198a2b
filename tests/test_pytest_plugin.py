"""The pytest plugin, run through pytest itself (pytester): scenarios with an ``Expect``
become test items that fail with the counterexample."""

import subprocess
import sys
from pathlib import Path

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
        "*scenario 'unlocked counter'*final states: unexpected {x=1}*",
        "*ERROR ?lost-update? lost update of *",
        "*<- A's stale read*",
        "*to replay: replay(scenario, *",
    ])
    assert "not a lesson" not in result.stdout.str()


def test_an_incomplete_exploration_fails_the_item_because_it_proves_nothing(pytester):
    pytester.makepyfile(lessons=LESSONS)
    result = pytester.runpytest("-p", "no:cacheprovider", "--explorer-max-executions=1", "-k", "locked")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*exploration was incomplete (stopped at max_executions)*"])


def test_a_scenario_file_that_cannot_be_loaded_is_a_collection_error_naming_it(pytester):
    pytester.makepyfile(broken=LESSONS + "\nraise ImportError('half-written lesson')\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*explorer could not load*broken.py*half-written lesson*"])


def test_a_failing_test_saves_its_results_json_traces_and_graphs(pytester):
    pytester.makepyfile(test_mine=LESSONS + '''

from explorer import explore

def test_the_counter_is_safe(explorer_results):
    result = explorer_results(explore(wrongly_trusted))
    assert not result.findings
''')
    result = pytester.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(failed=1)
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
