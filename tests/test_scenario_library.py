"""Quality tests: the explorer finds what each lesson in scenarios/ teaches."""

from pathlib import Path

import pytest

from explorer import State, explore, replay
from explorer.loading import load_scenarios
from scenarios import (
    abba,
    bank_transfer,
    check_then_act,
    counter,
    dining_philosophers,
    fake_database,
    lock_twice,
)

LIBRARY = Path(__file__).parent.parent / "scenarios"


def states(result, var):
    return {state[var]: count for state, count in result.final_states.items()}


def test_the_lost_update_counter_has_six_executions_four_losing_an_update():
    result = explore(counter.lost_update, strategy="exhaustive")
    assert result.executions == 6 and states(result, "x") == {1: 4, 2: 2}


def test_the_locked_counter_has_two_executions_both_ending_at_two():
    result = explore(counter.locked_counter)
    assert result.executions == 2 and states(result, "x") == {2: 2}


def test_fake_database_update_ends_at_one_two_or_three_but_locked_update_only_at_three():
    assert states(explore(fake_database.fake_database_update, strategy="exhaustive"), "value") == {1: 12, 2: 6, 3: 2}
    assert states(explore(fake_database.fake_database_locked_update, strategy="exhaustive"), "value") == {3: 2}


def test_fake_database_wrong_signature_is_an_error_finding_not_a_silent_zero():
    result = explore(fake_database.fake_database_wrong_signature)
    assert not result.final_states
    assert {f.thread for f in result.errors} == {"T0", "T1"}  # every thread that cannot start
    assert "TypeError" in result.errors[0].message
    assert "update_without_name() takes 0 positional arguments but 1 was given" in result.errors[0].message


def test_a_lock_acquired_twice_deadlocks_on_itself_and_an_rlock_does_not():
    (deadlock,) = explore(lock_twice.lock_acquired_twice).deadlocks
    assert deadlock.cycle == ["A", "A"]
    result = explore(lock_twice.rlock_acquired_twice)
    assert result.findings == [] and states(result, "x") == {2: result.executions}


@pytest.mark.parametrize("broken, fixed, cycle_length", [
    (abba.abba_deadlock, abba.abba_ordered, 2),
    (dining_philosophers.dining_philosophers, dining_philosophers.dining_philosophers_ordered, 3),
    (bank_transfer.bank_transfer_deadlock, bank_transfer.bank_transfer_ordered, 2),
])
def test_a_lock_cycle_deadlocks_and_ordering_the_locks_fixes_it(broken, fixed, cycle_length):
    (deadlock,) = explore(broken).deadlocks
    assert len(deadlock.cycle) == cycle_length + 1 and deadlock.cycle[0] == deadlock.cycle[-1]
    assert replay(broken, deadlock.trace).status == "deadlocked"
    result = explore(fixed)
    assert result.deadlocked == 0 and result.findings == [] and result.complete


def test_dining_philosophers_deadlock_needs_only_one_preemption_to_show():
    # dpor runs some other schedule of each trace; the search then looks for a trace with
    # fewer preemptions, so its witness is as short as exhaustive enumeration's.
    for strategy in ("exhaustive", "dpor", "stateful"):
        (deadlock,) = explore(dining_philosophers.dining_philosophers, strategy=strategy).deadlocks
        assert deadlock.trace.preemptions == 1 and len(deadlock.trace) == 3


def test_check_then_act_can_overdraw_but_not_under_a_lock():
    assert states(explore(check_then_act.check_then_act, strategy="exhaustive"), "balance") == {30: 14, -40: 6}
    assert states(explore(check_then_act.check_then_act_locked, strategy="exhaustive"), "balance") == {30: 2}


def test_an_unlocked_bank_transfer_creates_and_destroys_money_and_a_locked_one_conserves_it():
    totals = {s["checking"] + s["savings"] for s in explore(bank_transfer.bank_transfer_unlocked).final_states}
    assert 200 in totals and totals - {200}
    ordered = explore(bank_transfer.bank_transfer_ordered)
    assert set(ordered.final_states) == {State(checking=110, savings=90)}


def test_every_library_module_loads_and_every_scenario_explores_completely():
    found, failures = load_scenarios([LIBRARY])
    assert failures == []
    assert len(found) >= 16
    for _file, _name, scenario in found:
        assert explore(scenario).complete, scenario.name


def test_every_finding_in_the_library_replays_to_the_same_finding():
    found, _ = load_scenarios([LIBRARY])
    checked = 0
    for _file, _name, scenario in found:
        for finding in explore(scenario).findings:
            execution = replay(scenario, finding.trace)
            assert finding.message in [f.message for f in execution.findings]
            checked += 1
    assert checked >= 5
