"""concurrent.futures.wait() and as_completed() in plain code, on a pool's futures, and a
future's result(timeout), exception(timeout), running() and add_done_callback(): every
result CPython can give,
in exploration as on real threads (they said "not modelled")."""

import concurrent.futures
import threading
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, ThreadPoolExecutor, as_completed, wait
from itertools import permutations, product

import pytest

from explorer import explore, program
from explorer.crosscheck import crosscheck

STRATEGIES = ("exhaustive", "dpor", "stateful")


def square(n):
    return n * n


def fails(n):
    raise ValueError(n)


def in_completion_order():
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(square, n) for n in (1, 2, 3)]
        return tuple(future.result() for future in as_completed(futures))


def first_completed():
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(square, n) for n in (1, 2)]
        done, not_done = wait(futures, return_when=FIRST_COMPLETED)
        return (tuple(sorted(future.result() for future in done)), len(done) + len(not_done))


def all_completed():
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(square, n) for n in (1, 2)]
        done, not_done = concurrent.futures.wait(futures)
        return (tuple(sorted(future.result() for future in done)), len(not_done))


def first_exception():
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(fails, 1), pool.submit(square, 2)]
        done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.exception()  # read: no unread exception
        return (len(done), len(not_done))


def with_a_timeout():
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = [pool.submit(square, n) for n in (1, 2)]
        try:
            return tuple(future.result() for future in as_completed(futures, timeout=0.5))
        except TimeoutError as error:
            return str(error)


def result_with_a_timeout():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(square, 3)
        try:
            return future.result(timeout=0.1)
        except TimeoutError:
            return "gave up"


def exception_with_a_timeout():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(fails, 1)
        try:
            seen = type(future.exception(timeout=0.1)).__name__
        except TimeoutError:
            seen = "gave up"
        future.exception()  # read in the end: no unread exception
        return seen


def running_or_not():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(square, 3)
        first = future.running()
        future.result()
        return (first, future.running(), future.done())


def cancelled_at_shutdown():
    pool = ThreadPoolExecutor(max_workers=1)
    futures = [pool.submit(square, n) for n in (1, 2, 3)]
    pool.shutdown(cancel_futures=True)  # what no worker took never runs
    return tuple("cancelled" if future.cancelled() else future.result() for future in futures)


def called_back():
    seen = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(square, 3)
        future.add_done_callback(lambda done: seen.append((done.result(), threading.current_thread().name)))
    return tuple(seen)


def cancelled_then_called_back():
    seen = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(square, 1)
        second = pool.submit(square, 2)
        second.add_done_callback(lambda done: seen.append(
            ("cancelled" if done.cancelled() else done.result(), threading.current_thread().name)))
        second.cancel()
    return tuple(seen)


def cancelled_before_a_worker_takes_it():
    with ThreadPoolExecutor(max_workers=1) as pool:
        first, second = pool.submit(square, 1), pool.submit(square, 2)
        second.cancel()
        done, _ = wait([first, second], return_when=FIRST_COMPLETED)
        return tuple(sorted(future.cancelled() for future in done))


CASES = {
    # three tasks on two workers: 9 ends after 1 or 4, but those ended before the call come
    # in a set's order, so any order of the three
    in_completion_order: set(permutations((1, 4, 9))),
    first_completed: {((1,), 2), ((4,), 2), ((1, 4), 2)},
    all_completed: {((1, 4), 0)},
    # one worker: the failing task ends first, and wait returns at once, or sees both
    first_exception: {(1, 1), (2, 0)},
    with_a_timeout: {(1, 4), (4, 1), "1 (of 2) futures unfinished", "2 (of 2) futures unfinished"},
    result_with_a_timeout: {9, "gave up"},
    exception_with_a_timeout: {"ValueError", "gave up"},
    # taken by the worker or not yet when asked; after result() it has ended
    running_or_not: {(False, False, True), (True, False, True)},
    # the worker takes the tasks in order, and the shutdown takes them out of the same queue one
    # at a time to cancel them: either may take each one (real threads gave (1, 'cancelled', 9)
    # in CI, which a shutdown that cancelled every queued task at once never explored)
    cancelled_at_shutdown: set(product(("cancelled", 1), ("cancelled", 4), ("cancelled", 9))),
    # the worker calls it as the task ends, or main at once when it had ended already
    called_back: {((9, "ThreadPoolExecutor-0_0"),), ((9, "MainThread"),)},
    # cancel() calls it, in main, while the task waits; else as above
    cancelled_then_called_back: {(("cancelled", "MainThread"),), ((4, "MainThread"),),
                                 ((4, "ThreadPoolExecutor-0_0"),)},
    # a cancelled future counts as completed for wait() only once the worker has taken it
    # from the queue (CPython's CANCELLED_AND_NOTIFIED): never alone, before 1 ends
    # (exploration said (True,) too: real threads never give it); (False, False): the
    # worker ran both before the cancel
    cancelled_before_a_worker_takes_it: {(False,), (False, True), (False, False)},
}


@pytest.mark.parametrize("main", list(CASES), ids=lambda main: main.__name__)
def test_every_strategy_finds_every_result_the_pool_s_waits_can_give_and_no_other(main):
    for strategy in STRATEGIES:
        result = explore(program(main.__name__, main), strategy=strategy)
        assert result.complete and not result.findings, (strategy, result.findings)
        assert {outcome["main"] for outcome in result.outcomes} == CASES[main], strategy
    bounded = explore(program(main.__name__, main), strategy="bounded")
    assert {outcome["main"] for outcome in bounded.outcomes} <= CASES[main]


@pytest.mark.parametrize("main", [in_completion_order, first_completed, with_a_timeout, result_with_a_timeout,
                                  exception_with_a_timeout, running_or_not, cancelled_at_shutdown, called_back,
                                  cancelled_then_called_back, cancelled_before_a_worker_takes_it],
                         ids=lambda main: main.__name__)
def test_real_threads_give_only_results_exploration_predicts_for_the_waits(main):
    check = crosscheck(program(main.__name__, main), runs=150, seed=5)
    assert check.unexpected == [], check.render()


def test_the_threads_that_draw_as_completed_s_order_show_in_traces_not_in_outcomes():
    result = explore(program("order", in_completion_order), strategy="dpor")
    assert {tuple(outcome) for outcome in result.outcomes} == {("main",)}
    # 9 first: 1 and 4 had ended, and as_completed's threads drew 9's future first
    nine_first = program("order", in_completion_order, check=lambda outcome: outcome["main"][0] != 9)
    drawn = [finding for finding in explore(nine_first, strategy="dpor").findings if finding.kind == "invariant"]
    # one finding per outcome (9, 1, 4) and (9, 4, 1), though the runs before the first draw
    # knew no drawing thread (their outcomes' keys were shorter: they counted apart, twice)
    assert sorted(finding.message for finding in drawn) == [
        "check <lambda> fails on main=(9, 1, 4)", "check <lambda> fails on main=(9, 4, 1)"]
    for finding in drawn:
        assert any(name.startswith("as_completed#1:") for name in finding.trace.schedule), finding.trace.schedule
        said = [event.describe() for event in finding.trace.events]
        assert "draw ThreadPoolExecutor-0#3 next in as_completed#1" in said
        assert any(line.startswith("the order drawn in as_completed#1 -> ThreadPoolExecutor-0#3, ") for line in said)


def _fails_to_call_back(done):
    raise ValueError("in the callback")


def callback_raises():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(square, 3)
        future.add_done_callback(_fails_to_call_back)
    return future.result()


def test_a_done_callback_that_raises_is_an_error_finding_where_concurrent_futures_only_logs_it():
    result = explore(program("callback raises", callback_raises))
    assert {outcome["main"] for outcome in result.outcomes} == {9}  # the program goes on
    messages = sorted(finding.message for finding in result.findings)
    assert [finding.kind for finding in result.findings] == ["error"] * len(messages) and messages
    assert all("a done-callback of future ThreadPoolExecutor-0#1 (square(3)) raised ValueError: in the callback"
               in message and "concurrent.futures logs it and goes on" in message for message in messages)


def cancelled_by_a_shutdown_asked_for_first():
    pool = ThreadPoolExecutor(max_workers=1)
    seen = []

    def submitter():
        try:
            future = pool.submit(square, 2)
        except RuntimeError:
            seen.append("refused")
        else:
            seen.append(future.cancelled())

    thread = threading.Thread(target=submitter)
    thread.start()  # main asks for the shutdown before the thread's submit runs
    pool.shutdown(cancel_futures=True)
    thread.join()
    return seen[0]


def test_a_shutdown_that_cancels_cancels_a_future_submitted_after_it_was_asked_for_under_every_strategy():
    # the shutdown's step named the futures submitted when main came to it (none): dpor took
    # it for independent of the thread's cancelled() and never saw True, the task cancelled
    scenario = program("cancelled by a shutdown asked for first", cancelled_by_a_shutdown_asked_for_first)
    for strategy in ("exhaustive", "dpor", "stateful", "bounded"):
        result = explore(scenario, strategy=strategy, preemptions=40 if strategy == "bounded" else None)
        assert result.complete, strategy
        assert {outcome["main"] for outcome in result.outcomes} == {False, True, "refused"}, strategy


def ran_after_its_neighbour_was_cancelled():
    result = cancelled_at_shutdown()
    assert result != (1, "cancelled", 9), result
    return result


def test_a_shutdown_cancels_queued_tasks_one_at_a_time_while_the_worker_takes_the_next_and_the_trace_says_which():
    result = explore(program("one at a time", ran_after_its_neighbour_was_cancelled), strategy="dpor")
    (finding,) = result.errors
    said = [event.describe() for event in finding.trace.events]
    # the worker ran 1; the shutdown took 2 out of the queue and cancelled it; the worker took 3
    cancelled = said.index("shutdown ThreadPoolExecutor-0: cancel ThreadPoolExecutor-0#2")
    assert any(line.startswith("take a task from ThreadPoolExecutor-0 -> 'ThreadPoolExecutor-0#3'")
               for line in said[cancelled:])



def set_or_not_in_time(setter=True):
    future = concurrent.futures.Future()
    thread = threading.Thread(target=future.set_result, args=(1,))
    if setter:
        thread.start()
    try:
        seen = [done.result() for done in as_completed([future], timeout=0.01)]
    except TimeoutError:
        seen = "gave up"
    if setter:
        thread.join()
    return seen


@pytest.mark.parametrize("setter, results", [(False, {"gave up"}), (True, {"[1]", "gave up"})])
def test_as_completed_with_a_timeout_on_a_future_nobody_sets_in_time_gives_up_as_on_real_threads(setter, results):
    # found by a generated program: CPython's as_completed waits end_time - monotonic() and
    # gives up once that is below zero; the model's timed-out wait left the clock on the
    # deadline, so it waited 0 s again and again until max_steps, where real threads give up
    scenario = program("set or not in time", lambda: set_or_not_in_time(setter))
    for strategy in STRATEGIES:
        result = explore(scenario, strategy=strategy, max_steps=200)
        assert result.complete and not result.findings, (strategy, result.findings)
        assert {str(outcome["main"]) for outcome in result.outcomes} == results, strategy
    check = crosscheck(scenario, runs=50, seed=5)
    assert check.unexpected == [], check.render()
