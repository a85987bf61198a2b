"""Plain code's calls with a timeout, on the virtual clock: one that times out leaves its
thread's clock just past its deadline, as a real one ends after it, and one that succeeds
leaves the clock where it was (explorer/plain/clock.py ``timed_out``).

Most programs here poll with a timed call until a deadline on ``time.monotonic()``
passes, the way CPython waits for a deadline (``as_completed``): wait what is left,
``TICK`` at most, and give up once nothing is left. A lock's timed acquire used to leave
the clock where it was, so such a loop spun until ``max_steps``; a join's or a result's
left it on the deadline, so the loop waited 0 s for ever; real threads give up after
four tries. Each program is explored by exhaustive search and by dpor, against counts
worked out here by hand, and run on real threads (crosscheck).

The arithmetic they share: ``TICK`` is 1/256 s and the deadline ``4 * TICK``, both exact
in binary; k timeouts leave the clock just past ``k * TICK``, below the deadline for
k < 4 and past it for k = 4, so a thread whose every try times out tries four times.
"""

from __future__ import annotations

import concurrent.futures
import math
import queue
import threading
import time
from collections import Counter

import pytest

from explorer import explore, program
from explorer.crosscheck import crosscheck

TICK = 1 / 256
DEADLINE = 4 * TICK
TRIES = 4  # of a thread whose every try times out
JUST_PAST = math.nextafter(TICK, math.inf)  # the clock after a call from 0 that timed out at TICK


def polled(attempt):
    """``attempt(timeout)`` until it sends back something other than None (that), or the
    deadline passes (None)."""
    deadline = time.monotonic() + DEADLINE
    while (left := deadline - time.monotonic()) >= 0:
        got = attempt(min(TICK, left))
        if got is not None:
            return got
    return None


def explored(scenario, strategy: str) -> Counter:
    """What ``main`` returned, with how many executions returned it; the search complete."""
    result = explore(scenario, strategy=strategy)
    assert result.complete, (strategy, result.incomplete_reason)
    assert not result.findings, (strategy, [finding.message for finding in result.findings])
    counts = Counter()
    for outcome, n in result.outcomes.items():
        counts[outcome["main"]] += n
    return counts


def assert_explored(scenario, exhaustive: dict, dpor: dict) -> None:
    assert explored(scenario, "exhaustive") == exhaustive
    assert explored(scenario, "dpor") == dpor


def assert_polled(main, exhaustive: dict, dpor: dict) -> None:
    """``assert_explored`` for the program ``main``, and real threads do nothing that
    exploration did not (crosscheck)."""
    scenario = program(main.__qualname__, main)
    assert_explored(scenario, exhaustive, dpor)
    check = crosscheck(scenario, runs=20, seed=11)
    assert check.unexpected == [] and not check.errors and not check.hung, check.render()


def gives_up(call, exception) -> bool:
    """Whether ``call()`` raised ``exception`` (it gave up)."""
    try:
        call()
    except exception:
        return True
    return False


# ---- one call: the clock after it ----------------------------------------------------------------


def acquire_held(make):
    def call():
        made = make()
        made.acquire()
        made.acquire(timeout=TICK)  # held by main: a Lock, or a semaphore of one permit
        made.release()
    return call


def put_in_full_queue():
    full = queue.Queue(maxsize=1)
    full.put(0)
    full.put(1, timeout=TICK)


def wait_on_condition():
    with (condition := threading.Condition()):
        condition.wait(TICK)


TIMING_OUT = {  # calls that can only time out: main is the only thread
    "Lock.acquire": acquire_held(lambda: threading.Lock()),  # looked up in the run: patched there
    "Semaphore.acquire": acquire_held(threading.Semaphore),
    "BoundedSemaphore.acquire": acquire_held(threading.BoundedSemaphore),
    "Condition.acquire": acquire_held(lambda: threading.Condition(threading.Lock())),
    "Condition.wait": wait_on_condition,
    "Event.wait": lambda: threading.Event().wait(TICK),
    "Barrier.wait": lambda: gives_up(lambda: threading.Barrier(2).wait(TICK), threading.BrokenBarrierError),
    "Barrier(timeout=)": lambda: gives_up(threading.Barrier(2, timeout=TICK).wait,
                                          threading.BrokenBarrierError),
    "Queue.get": lambda: gives_up(lambda: queue.Queue().get(timeout=TICK), queue.Empty),
    "LifoQueue.get": lambda: gives_up(lambda: queue.LifoQueue().get(timeout=TICK), queue.Empty),
    "PriorityQueue.get": lambda: gives_up(lambda: queue.PriorityQueue().get(timeout=TICK), queue.Empty),
    "SimpleQueue.get": lambda: gives_up(lambda: queue.SimpleQueue().get(timeout=TICK), queue.Empty),
    "Queue.put": lambda: gives_up(put_in_full_queue, queue.Full),
}


@pytest.mark.parametrize("call", TIMING_OUT.values(), ids=TIMING_OUT)
def test_a_call_that_times_out_leaves_the_clock_just_past_its_deadline(call):
    def main():
        call()
        return time.monotonic()

    assert_explored(program("one timeout", main), {JUST_PAST: 1}, {JUST_PAST: 1})


def join_in_time():
    thread = threading.Thread(target=time.sleep, args=(0,))  # one step, no time
    thread.start()
    thread.join(timeout=TICK)
    return thread.is_alive(), time.monotonic()


def first_of(future):
    for _ in concurrent.futures.as_completed([future], timeout=TICK):
        return


ON_A_TASK = {  # whether the call gave up, on the future of a task of one step and no time
    "Future.result": lambda future: gives_up(lambda: future.result(timeout=TICK), TimeoutError),
    "Future.exception": lambda future: gives_up(lambda: future.exception(timeout=TICK), TimeoutError),
    "concurrent.futures.wait": lambda future: not concurrent.futures.wait([future], timeout=TICK).done,
    "as_completed": lambda future: gives_up(lambda: first_of(future), TimeoutError),
}


def on_a_task(gave_up):
    def main():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(time.sleep, 0)
            return gave_up(future), time.monotonic()  # before the shutdown, which waits for the task
    return main


GAVE_UP, IN_TIME = (True, JUST_PAST), (False, 0.0)


@pytest.mark.parametrize("main, outcomes", [
    # the thread may also end between a join that gave up and is_alive()
    (join_in_time, {GAVE_UP, IN_TIME, (False, JUST_PAST)}),
    *((on_a_task(gave_up), {GAVE_UP, IN_TIME}) for gave_up in ON_A_TASK.values())],
    ids=["Thread.join", *ON_A_TASK])
def test_a_wait_for_an_end_moves_the_clock_past_its_deadline_only_when_it_gives_up(main, outcomes):
    # the thread or task ends at 0 s on its clock: a wait it ends leaves main's clock at 0
    assert set(explored(program("a timed wait", main), "exhaustive")) == outcomes


# ---- a loop that polls until a deadline -------------------------------------------------------------


def in_thread(body):
    """Start ``body()`` in a thread; what it sends back joins the thread and gives what
    ``body`` returned."""
    got = []
    thread = threading.Thread(target=lambda: got.append(body()))
    thread.start()

    def joined():
        thread.join()
        return got[0]
    return joined


def polling_acquire(make):
    """main holds the lock (or the semaphore's one permit), lets a thread poll for it, and
    gives it back at some point; the thread returns True once it got it."""
    def main():
        lock = make()
        lock.acquire()

        def poll():
            got = polled(lambda timeout: lock.acquire(timeout=timeout) or None)
            if got:
                lock.release()
            return got
        joined = in_thread(poll)
        lock.release()
        return joined()
    return main


ACQUIRED = {
    "Lock": lambda: threading.Lock(),  # looked up in the run: patched there
    "RLock": lambda: threading.RLock(),
    "Condition": lambda: threading.Condition(),
    "Semaphore": lambda: threading.Semaphore(1),
    "BoundedSemaphore": lambda: threading.BoundedSemaphore(1),
}


@pytest.mark.parametrize("make", ACQUIRED.values(), ids=ACQUIRED)
def test_polling_acquire_with_a_timeout_gives_up_at_the_deadline_unless_the_holder_lets_go_before(make):
    # the poller's 4 tries that time out are 4 steps, all dependent with main's release:
    # the release comes before try 1, 2, 3 or 4 (that try gets it) or after all four (None):
    # 5 executions, which dpor tells apart too
    assert_polled(polling_acquire(make), {True: TRIES, None: 1}, {True: TRIES, None: 1})


def notified_while_polling():
    condition = threading.Condition()

    def poll():
        with condition:
            return polled(lambda timeout: condition.wait(timeout) or None)
    joined = in_thread(poll)
    with condition:
        condition.notify()
    return joined()


def test_polling_a_condition_with_a_timeout_gives_up_at_the_deadline_unless_notified_while_it_waits():
    # main's with-block (acquire, notify, release) fits where the poller does not hold the
    # lock: before the poller's acquire (the notify is lost; it times out 4 times: None),
    # after its release (None), or inside one of its 4 waits, between the wait and the
    # wake-up that retakes the lock. There the timeout (expire) comes before main's acquire,
    # before its notify, before its release or after it: 4 orders, True when the notify
    # came first (2). Exhaustive: 1 + 1 + 4 * 4 = 18, True 4 * 2 = 8. The expiry and main's
    # lock steps commute, so dpor keeps 2 orders per wait: 1 + 1 + 4 * 2 = 10, True 4.
    assert_polled(notified_while_polling, {True: 8, None: 10}, {True: 4, None: 6})


def ready_by_wait_for():
    condition, ready = threading.Condition(), []

    def wait():
        with condition:
            return condition.wait_for(lambda: ready, timeout=DEADLINE) == [1]
    joined = in_thread(wait)
    with condition:
        ready.append(1)
        condition.notify()
    return joined()


def test_wait_for_with_a_timeout_gives_up_once_its_wait_timed_out_past_the_deadline():
    # Condition.wait_for is CPython's own loop: wait what is left till the deadline, and
    # stop once nothing is. main's with-block comes before the waiter's (it finds the
    # predicate true: True), after it (its one wait timed out past the deadline: False),
    # or inside its one wait, in 4 orders with the expiry (the predicate is true once it
    # has the lock again: True). Exhaustive 1 + 1 + 4 = 6; dpor 1 + 1 + 2 = 4.
    assert_polled(ready_by_wait_for, {True: 5, False: 1}, {True: 3, False: 1})


def set_while_polling():
    event = threading.Event()
    joined = in_thread(lambda: polled(lambda timeout: event.wait(timeout) or None))
    event.set()
    return joined()


def test_polling_an_event_with_a_timeout_gives_up_at_the_deadline_unless_it_is_set_before():
    # each of the 4 tries is two steps (the wait, and the wake-up when it times out), all
    # dependent with main's set, which comes before one of those 8 steps (True) or after
    # them all (None): 9 executions for both searches
    assert_polled(set_while_polling, {True: 8, None: 1}, {True: 8, None: 1})


def polling_a_barrier(default_timeout: bool):
    """A barrier of two parties that only one thread waits at: each wait times out and
    breaks it, and the thread resets it and tries again; main looks at ``broken`` once."""
    def main():
        barrier = threading.Barrier(2, timeout=TICK if default_timeout else None)

        def attempt(timeout):
            try:
                barrier.wait() if default_timeout else barrier.wait(timeout)
            except threading.BrokenBarrierError:
                barrier.reset()
                return None
            return True
        joined = in_thread(lambda: polled(attempt))
        seen = barrier.broken
        return joined(), seen
    return main


@pytest.mark.parametrize("default_timeout", [False, True], ids=["wait(timeout)", "Barrier(timeout=)"])
def test_polling_a_barrier_nobody_else_comes_to_times_out_four_times_and_main_sees_it_broken_between(
        default_timeout):
    # each of the 4 tries is 3 steps (the arrival, the departure whose timeout breaks the
    # barrier, the reset), all dependent with main's look at broken, which comes before one
    # of those 12 steps or after them all: 13 executions for both searches, broken in the 4
    # where the look comes between a departure and its reset
    counts = {(None, True): 4, (None, False): 9}
    assert_polled(polling_a_barrier(default_timeout), counts, counts)


def getting(make):
    def main():
        made = make()

        def attempt(timeout):
            try:
                return made.get(timeout=timeout)
            except queue.Empty:
                return None
        joined = in_thread(lambda: polled(attempt))
        made.put("item")
        return joined()
    return main


QUEUES = {
    "Queue": lambda: queue.Queue(),  # looked up in the run: SimpleQueue is replaced there
    "LifoQueue": lambda: queue.LifoQueue(),
    "PriorityQueue": lambda: queue.PriorityQueue(),
    "SimpleQueue": lambda: queue.SimpleQueue(),
}


@pytest.mark.parametrize("make", QUEUES.values(), ids=QUEUES)
def test_polling_get_with_a_timeout_gives_up_at_the_deadline_unless_an_item_comes_before(make):
    # main's put comes before one of the 4 gets (that one takes it) or after them all (None)
    assert_polled(getting(make), {"item": TRIES, None: 1}, {"item": TRIES, None: 1})


def putting(make):
    def main():
        full = make(maxsize=1)
        full.put("first")

        def attempt(timeout):
            try:
                full.put("second", timeout=timeout)
            except queue.Full:
                return None
            return True
        joined = in_thread(lambda: polled(attempt))
        full.get()
        return joined()
    return main


@pytest.mark.parametrize("make", [queue.Queue, queue.LifoQueue, queue.PriorityQueue],
                         ids=["Queue", "LifoQueue", "PriorityQueue"])
def test_polling_put_with_a_timeout_gives_up_at_the_deadline_unless_room_is_made_before(make):
    # main's get comes before one of the 4 puts (that one goes in) or after them all (None)
    assert_polled(putting(make), {True: TRIES, None: 1}, {True: TRIES, None: 1})


def joining():
    thread = threading.Thread(target=time.sleep, args=(0,))
    thread.start()

    def attempt(timeout):
        thread.join(timeout)
        return None if thread.is_alive() else True
    return polled(attempt)


def test_polling_join_with_a_timeout_gives_up_at_the_deadline_unless_the_thread_ends_before():
    # the thread's one step (its sleep, then it ends) comes before one of main's 8 steps (4
    # joins that time out, each followed by is_alive) or after them all (None); a timed join
    # and is_alive see every step, so dpor tells the 9 apart too
    assert_polled(joining, {True: 8, None: 1}, {True: 8, None: 1})


def cancelled_timer():
    started, fired = time.monotonic(), []
    timer = threading.Timer(TICK, lambda: fired.append(time.monotonic() - started > TICK))
    timer.start()
    timer.cancel()
    timer.join()
    return tuple(fired)


def test_a_timer_fires_past_its_interval_on_the_clock_unless_cancelled_before_its_wait_times_out():
    # a Timer waits on its event for the interval (wait, wake-up), looks at it (is_set),
    # calls the function if it was not set, and sets it. main's cancel (a set) comes before
    # the wait, before the wake-up or before is_set (not fired), or after is_set, before or
    # after the timer's own set (fired, at a clock just past the interval): 5, for both
    assert_polled(cancelled_timer, {(): 3, (True,): 2}, {(): 3, (True,): 2})


def on_a_task(attempt):
    """main polls with ``attempt(future, timeout)`` for the future of a task of no steps on
    a pool of one worker, then shuts the pool down."""
    def main():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(int)
            return polled(lambda timeout: attempt(future, timeout))
    return main


def by_result(future, timeout):
    try:
        return ("result", future.result(timeout=timeout))
    except TimeoutError:
        return None


def by_exception(future, timeout):
    try:
        return ("exception", future.exception(timeout=timeout))
    except TimeoutError:
        return None


def by_wait(future, timeout):
    return "done" if concurrent.futures.wait([future], timeout=timeout).done else None


def by_as_completed(future, timeout):
    try:
        for _ in concurrent.futures.as_completed([future], timeout=timeout):
            return "done"
    except TimeoutError:
        return None


# The worker's steps: take the task, finish it (the future is done), and after the shutdown
# take the wake-up. main's: a timed call per try, then the shutdown and the wait for the
# worker. Exhaustively: when the finish comes just before main's p-th timed call, that call
# succeeds and the take comes before the finish in any of p gaps; when it comes after them
# all (n timed calls), before the shutdown (the take in n + 1 gaps) or after it (n + 2).
def succeeded_and_gave_up(calls: int) -> tuple[int, int]:
    return sum(range(1, calls + 1)), (calls + 1) + (calls + 2)


@pytest.mark.parametrize("attempt, done", [(by_result, ("result", 0)), (by_exception, ("exception", None))],
                         ids=["result", "exception"])
def test_polling_a_future_s_result_with_a_timeout_gives_up_at_the_deadline_unless_the_task_ends_before(
        attempt, done):
    # 4 timed calls: 10 executions succeed, 5 + 6 = 11 give up. For dpor only the finish is
    # dependent with the calls (before one of the 4, or after them all), and the take with
    # the shutdown when both come after the calls: 4 succeed, 2 give up.
    assert succeeded_and_gave_up(TRIES) == (10, 11)
    assert_polled(on_a_task(attempt), {done: 10, None: 11}, {done: 4, None: 2})


def test_polling_wait_with_a_timeout_gives_up_at_the_deadline_unless_the_task_ends_before():
    # exhaustive as for result(): 10 and 11. A wait looks at the pool too (a cancelled future
    # ends when a worker takes it), so for dpor the take is dependent with each wait and its
    # gap counts: 10 succeed; giving up, the take comes in one of the 5 gaps of the waits
    # and the shutdown, or after it: 6
    assert succeeded_and_gave_up(TRIES) == (10, 11)
    assert_polled(on_a_task(by_wait), {"done": 10, None: 11}, {"done": 10, None: 6})


def test_polling_as_completed_with_a_timeout_gives_up_at_the_deadline_unless_the_task_ends_before():
    # each try is 2 timed looks (what has ended when it is called, then the wait), so 8
    # calls: 36 executions succeed, 9 + 10 = 19 give up; dpor as for wait(): 36, and 10
    assert succeeded_and_gave_up(2 * TRIES) == (36, 19)
    assert_polled(on_a_task(by_as_completed), {"done": 36, None: 19}, {"done": 36, None: 10})
