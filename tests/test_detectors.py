"""Each detector on positive and negative scenarios."""

from pathlib import Path

import pytest

from explorer import Scenario, acquire, explore, read, release, replay, write
from scenarios import bank_transfer, check_then_act, counter, fake_database


def kinds(result):
    return sorted(f.kind for f in result.findings)


def test_the_counter_lost_update_names_the_variable_the_lost_write_and_the_stale_read():
    result = explore(counter.lost_update)
    (lost,) = [f for f in result.findings if f.kind == "lost-update"]
    assert lost.details["variable"] == "x"
    assert lost.trace.preemptions == 1
    marks = dict(lost.trace.marks)
    assert sorted(marks.values()) == ["A's stale read", "lost write", "overwrites it"] or \
        sorted(marks.values()) == ["B's stale read", "lost write", "overwrites it"]
    stale, lost_write, overwrite = (lost.details[k] for k in ("stale_read", "lost_write", "overwrite"))
    events = lost.trace.events
    assert events[stale].kind == "read" and events[lost_write].kind == events[overwrite].kind == "write"
    assert events[stale].thread == events[overwrite].thread != events[lost_write].thread
    assert stale < lost_write < overwrite


@pytest.mark.parametrize("scenario", [counter.lost_update, fake_database.fake_database_update])
def test_unlocked_updates_report_lost_update_and_nonserializable_with_one_preemption(scenario):
    result = explore(scenario)
    assert {"lost-update", "nonserializable"} <= set(kinds(result))
    for finding in result.findings:
        if finding.kind in ("lost-update", "nonserializable"):
            assert finding.trace.preemptions == 1, finding.message


@pytest.mark.parametrize("scenario", [counter.locked_counter, fake_database.fake_database_locked_update,
                                      check_then_act.check_then_act_locked, bank_transfer.bank_transfer_ordered])
def test_locked_versions_report_no_findings(scenario):
    assert explore(scenario).findings == []


def test_fake_database_bad_outcome_two_is_nonserializable_but_not_a_classic_lost_update():
    result = explore(fake_database.fake_database_update)
    bad = {f.details["outcome"][0][0] for f in result.findings if f.kind == "nonserializable"}
    assert bad == {1, 2}
    two = next(f for f in result.findings if f.kind == "nonserializable" and f.details["outcome"][0] == (2,))
    assert "Serial outcomes: value=3" in two.message
    assert explore(fake_database.fake_database_update).findings[0].kind != "error"


def test_check_then_act_overdraft_and_a_silently_lost_payment_are_nonserializable():
    result = explore(check_then_act.check_then_act)
    bad = sorted(f.message for f in result.findings if f.kind == "nonserializable")
    assert len(bad) == 2
    assert bad[0].startswith("final state balance=-40, alice returned 'paid', bob returned 'paid'")
    # both were paid yet only one withdrawal shows: a serial state, but not with these returns
    assert bad[1].startswith("outcome (return values) balance=30, alice returned 'paid', bob returned 'paid'")


def test_a_blind_write_over_another_threads_write_is_not_a_lost_update():
    def blind(value):
        def run():
            yield write("x", value)
        return run

    result = explore(Scenario("blind", variables={"x": 0}, threads={"A": blind(1), "B": blind(2)}))
    assert "lost-update" not in kinds(result)
    assert "nonserializable" not in kinds(result)  # x=1 and x=2 are both serial


def test_a_fresh_read_before_the_write_is_not_a_lost_update():
    def reread():
        yield read("x")
        value = yield read("x")
        yield write("x", value + 1)

    def bump():
        value = yield read("x")
        yield write("x", value + 10)

    scenario = Scenario("fresh", variables={"x": 0}, threads={"A": reread, "B": bump})
    for schedule in (["A", "B", "B", "A", "A"],):
        execution = replay(scenario, schedule)
        assert "lost-update" not in {f.kind for f in execution.findings}


def test_an_invariant_violation_is_a_finding_with_a_trace_that_reaches_it():
    def conserve(state):
        return state["checking"] + state["savings"] == 200

    unlocked = bank_transfer.bank_transfer_unlocked
    scenario = Scenario("conserve", variables=dict(unlocked.variables), locks=dict(unlocked.locks),
                        threads=dict(unlocked.threads), invariant=conserve)
    violations = [f for f in explore(scenario).findings if f.kind == "invariant"]
    assert violations and all("invariant conserve fails on" in f.message for f in violations)
    for finding in violations:
        final = replay(scenario, finding.trace).final_state
        assert final["checking"] + final["savings"] != 200


def test_a_check_on_outcomes_sees_return_values_and_assertion_messages():
    def increment():
        value = yield read("x")
        yield write("x", value + 1)
        return value

    def distinct_reads(outcome):
        assert outcome["A"] != outcome["B"], "both threads read the same value"
        return True

    scenario = Scenario("litmus", variables={"x": 0}, threads={"A": increment, "B": increment},
                        check=distinct_reads)
    (violation,) = [f for f in explore(scenario, strategy="exhaustive").findings if f.kind == "invariant"]
    assert "both threads read the same value" in violation.message
    assert violation.occurrences == 4


def test_an_invariant_that_raises_is_reported_as_its_own_error_at_its_own_line():
    def broken(state):
        return state["missing"] == 1  # @broken

    scenario = Scenario("broken", variables={"x": 0}, threads={"A": counter.increment}, invariant=broken)
    (finding,) = [f for f in explore(scenario).findings if f.kind == "invariant"]
    (line,) = [n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1) if text.endswith("# @broken")]
    assert f"invariant broken raised KeyError: 'missing' at tests/test_detectors.py:{line} on x=1" in finding.message
    assert finding.message.endswith("(a fault in the invariant itself, not in the threads)")


def test_an_invariant_must_be_callable():
    with pytest.raises(TypeError, match="invariant must be a function"):
        Scenario("bad", variables={"x": 0}, threads={"A": counter.increment}, invariant=True)


def test_lock_protected_scenarios_with_nested_helpers_report_nothing():
    def locked(lock, body):
        yield acquire(lock)
        result = yield from body()
        yield release(lock)
        return result

    scenario = Scenario("helper", variables={"x": 0}, locks=["l"],
                        threads={"A": lambda: locked("l", counter.increment),
                                 "B": lambda: locked("l", counter.increment)})
    assert explore(scenario).findings == []


def test_a_deadlock_trace_marks_the_acquisitions_the_blocked_threads_wait_on():
    from scenarios import abba

    deadlock, = explore(abba.abba_deadlock).deadlocks
    marks = {deadlock.trace.events[i].describe(): text for i, text in deadlock.trace.marks.items()}
    assert marks == {"acquire a": "a taken; B waits for it", "acquire b": "b taken; A waits for it"}
