"""The step-through model ("you are the scheduler") and the puzzle check, driven from Python."""

import pytest

from explorer import ScheduleError, explore
from explorer.stepping import Stepper, check_schedule
from scenarios.abba import abba_deadlock
from scenarios.counter import locked_counter, lost_update


def test_playing_a_b_b_a_on_the_counter_reaches_the_lost_update_at_the_fourth_step():
    stepper = Stepper(lost_update)
    stepper.play(["A", "B", "B"])
    assert stepper.state == {"x": 1} and "lost-update" not in {f.kind for f in stepper.reached}
    assert [(v.name, v.status, v.step) for v in stepper.threads] == [("A", "ready", "write x = 1"),
                                                                    ("B", "finished", None)]
    stepper.step("A")
    assert stepper.state == {"x": 1} and stepper.finished
    lost = next(f for f in stepper.reached if f.kind == "lost-update")
    assert "B's write x = 1 at step 3 is overwritten at step 4 by A" in lost.message


def test_each_thread_shows_its_next_line_of_source_before_it_runs():
    (a, b) = Stepper(lost_update).threads
    assert a.status == b.status == "ready" and a.step == "read x"
    assert a.location == "scenarios/counter.py:13" and a.line == 'value = yield read("x")'


def test_stepping_back_returns_to_the_same_position():
    stepper = Stepper(lost_update, ["A", "B"])
    before = (stepper.state, stepper.threads, stepper.events)
    stepper.step("B").back()
    assert (stepper.state, stepper.threads, stepper.events) == before
    assert stepper.reset().schedule == () and stepper.back().schedule == ()


def test_a_thread_waiting_for_a_lock_cannot_be_chosen_and_the_error_says_why():
    stepper = Stepper(locked_counter, ["A"])
    assert stepper.holders == {"lock": "A"} and stepper.enabled == ("A",)
    with pytest.raises(ScheduleError, match="'B' cannot run at step 2: it is waiting at acquire lock"):
        stepper.step("B")


def test_the_abba_schedule_a_b_reaches_the_deadlock_and_nothing_can_run():
    stepper = Stepper(abba_deadlock, ["A", "B"])
    assert stepper.finished and stepper.enabled == ()
    assert [v.status for v in stepper.threads] == ["waiting", "waiting"]
    assert "deadlock" in {f.kind for f in stepper.reached}
    assert "A waits for lock 'b' held by B" in stepper.render()


def test_every_finding_exploration_reports_is_reached_by_stepping_its_trace():
    for scenario in (lost_update, abba_deadlock):
        for finding in explore(scenario).findings:
            stepper = Stepper(scenario, finding.trace.schedule)
            assert finding.kind in {f.kind for f in stepper.reached}, (scenario.name, finding.kind)


def test_the_puzzle_check_says_a_serial_schedule_loses_nothing_and_shows_a_shortest_witness():
    verdict = check_schedule(lost_update, ["A", "A", "B", "B"], kind="lost-update")
    assert not verdict.reached and verdict.witness == ("A", "B", "B", "A")
    assert verdict.message == ("Not yet: A, A, B, B reaches no lost-update finding. One that does: "
                               "A, B, B, A (4 steps).")


def test_the_puzzle_check_accepts_a_schedule_that_reaches_the_bug():
    verdict = check_schedule(lost_update, ["B", "A", "A", "B"], kind="lost-update")
    assert verdict.reached and verdict.finding.kind == "lost-update"
    assert verdict.message.startswith("Yes: after 4 steps, lost update of 'x'")


def test_the_puzzle_check_says_when_no_schedule_can_reach_the_bug_and_refuses_unknown_kinds():
    verdict = check_schedule(locked_counter, ["A", "A", "A", "A"], kind="lost-update")
    assert not verdict.reached and verdict.witness is None
    assert verdict.message == "No schedule reaches a lost-update finding in scenario 'locked counter'."
    with pytest.raises(ValueError, match="'lost_update' is not a kind"):
        check_schedule(lost_update, [], kind="lost_update")


def test_a_schedule_that_cannot_run_is_answered_not_raised():
    verdict = check_schedule(locked_counter, ["A", "B"], kind="lost-update")
    assert not verdict.reached
    assert verdict.message.startswith("That schedule cannot run: thread 'B' cannot run")


def test_the_widget_buttons_drive_the_same_model():
    pytest.importorskip("ipywidgets")
    from explorer.widget import step_through

    box = step_through(lost_update, goal="lost-update")
    controls, verdict, view = box.children
    buttons = {button.description: button for button in controls.children}
    for name in ["A", "B", "B", "A"]:
        buttons[f"run {name}"].click()
    assert box.stepper.schedule == ("A", "B", "B", "A")
    assert "reached <span class=\"kind\">lost-update</span>" in view.value
    assert buttons["run A"].disabled and buttons["run B"].disabled
    buttons["check: lost-update?"].click()
    assert "Yes: after 4 steps" in verdict.value
    buttons["step back"].click()
    assert box.stepper.schedule == ("A", "B", "B") and not buttons["run A"].disabled


def test_a_thread_started_during_the_run_can_be_chosen_once_it_exists():
    from .helpers import spawning

    stepper = Stepper(spawning("P"))
    assert stepper.names == ("P",) and stepper.enabled == ("P",)
    stepper.step("P")
    assert stepper.names == ("P", "C") and stepper.enabled == ("P", "C")
    stepper.play(["P", "C", "C", "P"])
    assert "lost-update" in {f.kind for f in stepper.reached}


def test_the_holders_let_go_in_a_condition_wait_and_never_count_a_failed_try():
    from explorer import Scenario, acquire, release

    from .helpers import ready_handshake

    waits = ready_handshake()
    stepper = Stepper(waits, ["C", "C", "C"])
    assert stepper.holders == {} and stepper.enabled == ("P",)  # waiting, the consumer holds nothing
    assert stepper.play(["P"]).holders == {"lock": "P"}
    assert stepper.play(["P", "P", "P", "C"]).holders == {"lock": "C"}  # woken: it has the lock back

    def try_once():
        if (yield acquire("lock", blocking=False)):
            yield release("lock")

    def take_and_give():
        yield acquire("lock")
        yield release("lock")

    tried = Scenario("try", locks=["lock"], threads={"A": take_and_give, "B": try_once})
    assert Stepper(tried, ["A", "B"]).holders == {"lock": "A"}


def test_the_widget_clears_its_answer_when_the_schedule_it_judged_is_undone():
    pytest.importorskip("ipywidgets")
    from explorer.widget import step_through

    box = step_through(lost_update, goal="lost-update")
    controls, verdict, _ = box.children
    buttons = {button.description: button for button in controls.children}
    for name in ["A", "B", "B", "A"]:
        buttons[f"run {name}"].click()
    buttons["check: lost-update?"].click()
    assert "Yes: after 4 steps" in verdict.value
    buttons["step back"].click()
    assert verdict.value == ""  # not "Yes" beside a schedule that no longer reaches it
    buttons["check: lost-update?"].click()
    buttons["start again"].click()
    assert verdict.value == "" and box.stepper.schedule == ()


def test_the_puzzle_check_of_no_step_yet_reads_as_a_sentence():
    verdict = check_schedule(lost_update, [], kind="lost-update")
    assert verdict.message == ("Not yet: no step taken yet, so no lost-update finding. One that does: "
                               "A, B, B, A (4 steps).")
