"""Quality tests: the explorer finds what each lesson in scenarios/ teaches."""

from pathlib import Path

import pytest

from explorer import Condition, Event, Scenario, State, acquire, explore, notify, replay, wait
from explorer.loading import load_scenarios
from explorer.strategies import COMPLETE

from .helpers import too_many
from scenarios import (
    abba,
    bank_transfer,
    barrier_phases,
    bounded_buffer,
    check_then_act,
    counter,
    dining_philosophers,
    event_handshake,
    fake_database,
    lock_twice,
    producer_consumer,
    queue_workers,
    readers_writers,
    seed_notebook_steps,
)

LIBRARY = Path(__file__).parent.parent / "scenarios"
LESSONS = [scenario for _file, _name, scenario in load_scenarios([LIBRARY])[0] if scenario.expect is not None]
#: A preemption bound no lesson reaches, so the bounded search covers every schedule.
NO_BOUND = 100


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


def _lesson_cases():
    for scenario in LESSONS:
        for strategy in COMPLETE:
            reason = too_many(scenario)
            marks = [pytest.mark.skip(reason=reason)] if reason and strategy in ("exhaustive", "bounded") else []
            yield pytest.param(scenario, strategy, marks=marks, id=f"{scenario.name}-{strategy}")


@pytest.mark.parametrize("scenario, strategy", list(_lesson_cases()))
def test_every_lesson_gets_the_verdicts_its_expect_states_under_every_complete_strategy(scenario, strategy):
    options = {"preemptions": NO_BOUND} if strategy == "bounded" else {}
    result = explore(scenario, strategy=strategy, **options)
    assert scenario.expect.problems(result) == [], result.summary()


def test_every_kind_of_threading_object_has_a_lesson():
    kinds = {type(declaration).__name__ for scenario in LESSONS for declaration in scenario.objects.values()}
    assert {"Condition", "Semaphore", "Event", "Barrier", "Queue", "ThreadPool"} <= kinds


def test_an_if_around_wait_lets_the_other_consumer_take_the_item_and_the_woken_one_fails():
    errors = explore(producer_consumer.producer_consumer_if).errors
    assert {e.thread for e in errors} == {"C1", "C2"}
    assert all("IndexError: tuple index out of range" in e.message for e in errors)
    assert all(e.trace.preemptions >= 1 for e in errors)  # the other consumer got in between


def test_a_spurious_wakeup_breaks_an_if_with_one_consumer_but_not_a_while():
    (error,) = explore(producer_consumer.producer_consumer_if_spurious).errors
    assert "woken in ready" in error.trace.render() and "notify" not in error.trace.render()
    assert explore(producer_consumer.producer_consumer_while_spurious).findings == []


@pytest.mark.parametrize("strategy", COMPLETE)
def test_a_while_loop_around_wait_with_spurious_wakeups_is_explored_to_the_end(strategy):
    # Regression: a thread could wake spuriously at every wait, so a correct while loop spun
    # forever and no search ended. Each thread now wakes spuriously once per condition and run.
    result = explore(producer_consumer.producer_consumer_while_spurious, strategy=strategy, max_executions=1000,
                     max_steps=200)
    assert result.complete and result.executions < 50


def test_a_notify_before_the_wait_deadlocks_as_a_lost_wakeup_with_the_notify_marked():
    # Regression: the message said the consumer waited for the lock, which was free.
    (deadlock,) = explore(producer_consumer.lost_wakeup).deadlocks
    assert deadlock.message == ("deadlock: C waits for a notify on condition 'ready' "
                                "(a lost wakeup: a notify came before the wait)")
    assert deadlock.details["lost_wakeup"]
    (marked,) = deadlock.trace.marks
    assert deadlock.trace.events[marked].describe() == "notify ready"
    assert deadlock.trace.marks[marked] == "notify on 'ready' with no waiter: lost"


def test_a_woken_waiter_that_cannot_get_the_lock_back_waits_for_the_lock_not_a_notify():
    def holder():
        yield acquire("lock")
        yield notify("ready")
        yield acquire("other")  # never free: the notifier keeps "lock" forever

    def waiter():
        yield acquire("lock")
        yield wait("ready")

    def blocker():
        yield acquire("other")
        yield wait("never")

    scenario = Scenario("woken, lock taken", locks={"lock": "lock", "other": "lock"},
                        objects={"ready": Condition("lock"), "never": Event()},
                        threads={"W": waiter, "H": holder, "B": blocker})
    messages = {d.message for d in explore(scenario, strategy="exhaustive").deadlocks}
    assert any("W waits for lock 'lock' to return from waiting on condition 'ready' held by H" in m
               for m in messages), messages


def test_the_bounded_buffer_with_swapped_acquires_deadlocks_on_the_semaphore_and_the_mutex():
    (deadlock,) = explore(bounded_buffer.bounded_buffer_swapped).deadlocks
    assert deadlock.message == "deadlock: P waits for semaphore 'empty' at zero; C waits for lock 'mutex' held by P"
    assert replay(bounded_buffer.bounded_buffer_swapped, deadlock.trace).status == "deadlocked"


def test_the_event_handshake_orders_the_writes_before_the_reads_and_without_events_they_race():
    result = explore(event_handshake.event_handshake, strategy="exhaustive")
    assert {outcome.returns["client"] for outcome in result.outcomes} == {"pong"}
    races = explore(event_handshake.handshake_without_events).races
    assert {race.details["variable"] for race in races} == {"request", "answer"}


def test_barrier_arrivals_get_each_index_once_and_one_party_short_never_passes():
    result = explore(barrier_phases.barrier_phases, strategy="exhaustive")
    assert {tuple(sorted(index for index, _ in o.returns.values())) for o in result.outcomes} == {(0, 1, 2)}
    assert len(result.outcomes) == 6  # who arrives in which place
    (deadlock,) = explore(barrier_phases.barrier_one_party_short).deadlocks
    assert "waits for barrier 'phase', where 2 of 3 parties have arrived" in deadlock.message


def test_one_sentinel_short_leaves_a_worker_on_the_empty_queue_and_main_in_join():
    deadlocks = explore(queue_workers.queue_workers_sentinel_short).deadlocks
    assert {d.details["cycle"] == [] for d in deadlocks} == {True}
    for deadlock in deadlocks:
        waiting = deadlock.details["waiting_for"]
        assert waiting["main"].startswith("thread 'W")
        assert "an item in queue 'jobs', which is empty" in waiting.values()


def test_three_started_threads_log_in_all_90_orders_and_main_sees_every_line_after_joining():
    result = explore(seed_notebook_steps.start_and_join)
    assert len(result.final_states) == 90 and {s["seen_by_main"] for s in result.final_states} == {6}
    assert result.findings == []


def test_executor_map_gives_results_in_item_order_whichever_task_ran_first():
    result = explore(seed_notebook_steps.executor_map)
    finished = {state["log"].index("Thread 1: finishing") < state["log"].index("Thread 0: finishing")
                for state in result.final_states}
    assert finished == {True, False} and {s["results"] for s in result.final_states} == {(0, 1)}


def test_the_notebooks_lost_type_error_is_an_error_finding_naming_the_task_and_the_exception():
    errors = explore(seed_notebook_steps.lost_type_error).errors
    assert {error.details["future"] for error in errors} == {"executor#1", "executor#2"}
    for error in errors:
        assert "submitted by main) raised TypeError: FakeDatabase.update() takes 1 positional argument " \
               "but 2 were given" in error.message
        assert "nobody read its result" in error.message


def test_a_task_that_is_a_method_of_an_object_made_in_each_run_is_no_nondeterminism():
    # Regression: a worker's take step recorded the task's function, a method bound to a new
    # object in every execution, so the second execution "differed" from the first.
    result = explore(seed_notebook_steps.lost_type_error, strategy="exhaustive")
    assert result.complete and "nondeterminism" not in {f.kind for f in result.findings}


def test_readers_share_the_lock_without_racing_and_a_read_after_leaving_races_with_the_writer():
    result = explore(readers_writers.readers_writers, strategy="exhaustive")
    assert {(o.returns["R1"], o.returns["R2"]) for o in result.outcomes} == {
        ("old", "old"), ("old", "new"), ("new", "old"), ("new", "new")}
    races = explore(readers_writers.readers_writers_read_after_leaving).races
    assert {race.details["variable"] for race in races} == {"data"}


def test_a_counter_incremented_by_update_never_loses_an_increment():
    result = explore(counter.atomic_counter, strategy="exhaustive")
    assert result.executions == 2 and states(result, "x") == {2: 2} and result.findings == []
