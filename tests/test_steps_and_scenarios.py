"""The step vocabulary and Scenario validation: misuse gets a clear error up front."""

import pytest

from explorer import (
    ExplorerError,
    Scenario,
    ScenarioError,
    ScenarioTypeError,
    acquire,
    read,
    release,
    write,
)
from explorer.steps import Acquire, Read, Release, Write


def body():
    yield read("x")


def test_steps_are_equal_exactly_when_they_do_the_same_thing():
    assert read("x") == Read("x")
    assert write("x", 1) == Write("x", 1)
    assert acquire("l") == Acquire("l") and release("l") == Release("l")
    assert read("x") != acquire("x")
    assert acquire("l") != release("l")
    assert write("x", 1) != write("x", 2)


def test_steps_are_immutable_and_have_readable_reprs():
    step = write("x", 1)
    with pytest.raises((AttributeError, TypeError)):
        step.value = 2
    assert repr(step) == "write('x', 1)"
    assert (step.kind, step.target, step.value) == ("write", "x", 1)
    assert repr(read("x")) == "read('x')"


@pytest.mark.parametrize("make", [read, acquire, release, lambda name: write(name, 0)])
def test_a_step_given_a_non_string_name_raises_type_error_naming_the_value(make):
    with pytest.raises(TypeError, match=r"\['x'\]"):
        make(["x"])


def test_a_scenario_without_threads_is_refused():
    with pytest.raises(ScenarioError, match="has no threads"):
        Scenario("empty", threads={})


def test_a_thread_that_is_not_callable_is_refused_with_the_fix():
    with pytest.raises(ScenarioTypeError, match="not callable.*generator function itself"):
        Scenario("called", threads={"A": body()})


def test_an_unknown_lock_kind_names_the_kinds():
    with pytest.raises(ScenarioError, match="'lock'.*'rlock'"):
        Scenario("kinds", locks={"l": "semaphore"}, threads={"A": body})


def test_lock_kinds_are_case_insensitive_and_a_list_means_plain_locks():
    assert dict(Scenario("s", locks={"l": "RLock"}, threads={"A": body}).locks) == {"l": "rlock"}
    assert dict(Scenario("s", locks=["a", "b"], threads={"A": body}).locks) == {"a": "lock", "b": "lock"}


def test_an_unhashable_initial_value_is_refused_with_what_to_use_instead():
    with pytest.raises(ScenarioTypeError, match="use a tuple instead of a list"):
        Scenario("list", variables={"items": []}, threads={"A": body})


def test_a_name_shared_by_a_variable_and_a_thread_is_refused():
    with pytest.raises(ScenarioError, match="'A' names both a variable and a thread"):
        Scenario("clash", variables={"A": 0}, threads={"A": body})


@pytest.mark.parametrize("field", ["variables", "threads"])
def test_a_non_string_name_is_refused(field):
    kwargs = {"variables": {"x": 0}, "threads": {"A": body}}
    kwargs[field] = {1: kwargs[field].popitem()[1]}
    with pytest.raises(ScenarioTypeError, match="must be a non-empty string, got 1"):
        Scenario("names", **kwargs)


def test_a_scenario_is_read_only_once_made():
    scenario = Scenario("s", variables={"x": 0}, threads={"A": body})
    with pytest.raises(AttributeError, match="read-only"):
        scenario.name = "other"
    with pytest.raises(TypeError):
        scenario.variables["x"] = 1


def test_explorer_errors_are_also_the_builtin_a_caller_would_catch():
    assert issubclass(ScenarioError, ValueError) and issubclass(ScenarioError, ExplorerError)
    assert issubclass(ScenarioTypeError, TypeError)


def test_an_exception_with_no_message_reads_without_an_empty_colon():
    from explorer import Queue, explore, get

    def impatient():
        return (yield get("jobs", block=False))

    found = explore(Scenario("impatient", objects={"jobs": Queue()}, threads={"W": impatient})).errors[0]
    assert "thread W raised Empty at " in found.message and "Empty: " not in found.message


def test_a_findings_repr_counts_one_step_in_the_singular():
    from explorer import Queue, explore, get

    def impatient():
        return (yield get("jobs", block=False))

    found = explore(Scenario("impatient", objects={"jobs": Queue()}, threads={"W": impatient})).errors[0]
    assert repr(found).endswith("(1 step)>")
