"""The traps a test writer falls into: ``result.errors``, a misspelt finding kind, helper frames."""

import pytest

from explorer import Expect, Scenario, ScenarioError, explore, read, write
from explorer.findings import FINDING_KINDS
from explorer.testing import assert_finds, assert_no_findings


def increment():
    value = yield read("x")
    yield write("x", value + 1)


counter = Scenario("counter", variables={"x": 0}, threads={"A": increment, "B": increment})


def test_result_errors_holds_every_error_severity_finding_so_assert_not_errors_fails_on_a_lost_update():
    result = explore(counter)
    assert {f.kind for f in result.errors} == {"lost-update", "nonserializable"}
    assert all(f.severity == "error" for f in result.errors)
    assert {f.kind for f in result.warnings} == {"race"}
    with pytest.raises(AssertionError):
        assert not result.errors


def test_result_errors_is_empty_when_only_warnings_are_found():
    def blind_write():
        yield write("x", 1)

    racy = Scenario("two blind writes", variables={"x": 0}, threads={"A": blind_write, "B": blind_write})
    result = explore(racy)
    assert result.errors == [] and [f.kind for f in result.warnings] == ["race"]


def test_a_misspelt_finding_kind_in_expect_is_a_scenario_error_that_lists_the_kinds():
    with pytest.raises(ScenarioError) as caught:
        Expect(findings={"lost_update"})
    assert "'lost_update'" in str(caught.value)
    assert all(kind in str(caught.value) for kind in FINDING_KINDS)


def test_assert_finds_refuses_a_kind_that_does_not_exist_instead_of_failing_quietly():
    with pytest.raises(ValueError, match="lost-update"):
        assert_finds(counter, "lost_update")


def test_assert_helpers_hide_their_own_frames_from_pytest_tracebacks(pytester):
    pytester.makepyfile(
        """
        from explorer import Scenario, read, write
        from explorer.testing import assert_no_findings

        def increment():
            value = yield read("x")
            yield write("x", value + 1)

        def test_counter():
            assert_no_findings(Scenario("c", variables={"x": 0}, threads={"A": increment, "B": increment}))
        """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str()
    assert "assert_no_findings(Scenario(" in text
    assert "explorer/testing/__init__.py" not in text and "def assert_no_findings" not in text


def test_every_helper_carries_tracebackhide():
    import explorer.testing as helpers

    for name in helpers.__all__:
        assert "__tracebackhide__" in getattr(helpers, name).__code__.co_varnames, name


def test_assert_no_findings_still_returns_the_result_of_a_clean_scenario():
    def alone():
        yield write("x", 1)

    result = assert_no_findings(Scenario("alone", variables={"x": 0}, threads={"A": alone}))
    assert result.executions == 1 and result.summary().startswith("1 execution (1 completed)")
