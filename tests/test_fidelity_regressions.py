"""Differences from CPython 3.11's threading, queue and concurrent.futures found in a
fidelity review: each test shows the model doing what real threads do."""

import concurrent.futures
import threading

import explorer.plain.runtime
from explorer import explore, program
from explorer.crosscheck import crosscheck


def _outcomes(scenario, strategy="exhaustive"):
    return {outcome["main"] for outcome in explore(scenario, strategy=strategy).outcomes}


def test_a_future_cancelled_before_a_worker_takes_it_is_cancelled_and_its_task_never_runs():
    # Found by a review: Future.cancel() always returned False and the task ran, where
    # concurrent.futures cancels a task still queued (here, behind a busy worker)
    def main():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            go = threading.Event()
            pool.submit(go.wait)
            queued = pool.submit(lambda: 42)
            cancelled = queued.cancel()
            go.set()
        try:
            queued.result()
        except concurrent.futures.CancelledError:
            return cancelled, queued.cancelled(), queued.done(), "CancelledError"
        return cancelled, queued.cancelled(), queued.done(), "ran"

    for strategy in ("exhaustive", "dpor", "stateful"):
        assert _outcomes(program("cancel queued", main), strategy) == {(True, True, True, "CancelledError")}


def test_a_future_may_be_cancelled_only_until_a_worker_takes_its_task():
    def main():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(lambda: 1)
            cancelled = future.cancel()
        try:
            return cancelled, future.exception()
        except concurrent.futures.CancelledError:
            return cancelled, "CancelledError"

    for strategy in ("exhaustive", "dpor"):
        assert _outcomes(program("cancel race", main), strategy) == {(True, "CancelledError"), (False, None)}


def test_main_thread_is_the_programs_main_in_every_thread_of_a_run():
    # Found by a review: threading.main_thread() was the explorer's own OS thread, so
    # ``current_thread() is main_thread()`` was False in main
    def main():
        seen = []
        worker = threading.Thread(target=lambda: seen.append(threading.current_thread() is threading.main_thread()))
        worker.start()
        worker.join()
        return threading.current_thread() is threading.main_thread(), threading.main_thread().name, seen[0]

    assert _outcomes(program("main thread", main)) == {(True, "MainThread", False)}


def test_semaphore_release_of_several_permits_gives_them_all_at_once():
    # Found by a review: release(2) was two steps, so a thread could take one permit and
    # find none left for its next try, which threading (adding n under its lock) never shows
    def main():
        semaphore = threading.Semaphore(0)
        seen = []

        def taker():
            seen.append((semaphore.acquire(blocking=False), semaphore.acquire(blocking=False)))

        thread = threading.Thread(target=taker)
        thread.start()
        semaphore.release(2)
        thread.join()
        return seen[0]

    for strategy in ("exhaustive", "dpor"):
        assert _outcomes(program("release(2)", main), strategy) == {(False, False), (False, True), (True, True)}


def test_bounded_semaphore_release_past_its_bound_changes_nothing():
    def main():
        semaphore = threading.BoundedSemaphore(2)
        semaphore.acquire()
        try:
            semaphore.release(2)
        except ValueError as error:
            return str(error), semaphore.acquire(blocking=False), semaphore.acquire(blocking=False)

    assert _outcomes(program("bounded release(2)", main)) == {("Semaphore released too many times", True, False)}


def test_a_future_made_by_the_program_is_waited_on_and_set_as_concurrent_futures_does():
    # Found by a review: concurrent.futures.Future() made a real Condition over a model RLock,
    # so result() and set_result() raised "cannot wait/notify on un-acquired lock"
    def main():
        future = concurrent.futures.Future()
        called = []
        future.add_done_callback(lambda done: called.append(done.result()))
        thread = threading.Thread(target=lambda: future.set_result(5))
        thread.start()
        try:
            early = future.result(timeout=1)
        except concurrent.futures.TimeoutError:
            early = "timeout"
        late = future.result()
        thread.join()
        return early, late, tuple(called)

    explored = explore(program("a Future of its own", main), strategy="exhaustive")
    assert not explored.findings
    assert {outcome["main"] for outcome in explored.outcomes} == {(5, 5, (5,)), ("timeout", 5, (5,))}


def test_a_barriers_counters_say_what_is_modelled_instead_of_an_attributeerror():
    # Found by a review: Barrier.broken and n_waiting died of AttributeError('_state')
    before = (threading.Barrier.__dict__["broken"], threading.Barrier.__dict__["n_waiting"])

    def main():
        barrier = threading.Barrier(1)
        broken = barrier.broken
        barrier.wait()
        try:
            return broken, barrier.n_waiting
        except explorer.plain.runtime.NotModelled as error:
            return broken, str(error)

    assert _outcomes(program("barrier counters", main)) == {(False, 0)}  # modelled since
    assert (threading.Barrier.__dict__["broken"], threading.Barrier.__dict__["n_waiting"]) == before


def test_listing_or_counting_threads_in_a_run_gives_the_program_s_threads_and_outside_a_run_the_real_ones():
    # Found by a review: threading.enumerate() and active_count() gave the explorer's own
    # OS threads (a count of 2 where CPython gives 1); then they said "not modelled"
    def counts():
        seen = []
        worker = threading.Thread(target=lambda: seen.append(threading.active_count()))
        before = threading.active_count()
        worker.start()
        worker.join()
        return (before, seen[0], threading.active_count(), tuple(thread.name for thread in threading.enumerate()))

    scenario = program("threads alive", counts)
    for strategy in ("exhaustive", "dpor", "stateful"):
        assert _outcomes(program("threads alive", counts), strategy=strategy) == {(1, 2, 1, ("MainThread",))}
    check = crosscheck(scenario, runs=60, seed=1)  # real runs count their own threads, not the crosscheck's
    assert check.unexpected == [], check.render()
    assert threading.active_count() == len(threading.enumerate()) >= 1
