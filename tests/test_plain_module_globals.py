"""Threading objects made at import (module globals) in plain code: each run, explored or
on real threads, starts from a fresh one in the state the real one is in when the search
starts, under the global's name; one that no fresh one can reproduce is refused, naming
the global and the line that assigns it.

The programs below use the globals of this very module, as teaching code does."""

import concurrent.futures
import importlib
import itertools
import queue
import sys
import textwrap
import threading

import pytest

from explorer import ScenarioError, explore, program
from explorer.crosscheck import crosscheck

STRATEGIES = ("exhaustive", "dpor", "stateful", "bounded")


class Tally:
    def __init__(self):
        self.value = 0

    def bump(self):
        seen = self.value
        self.value = seen + 1


def _outcomes(scenario, strategy: str) -> set:
    options = {"preemptions": 1000} if strategy == "bounded" else {}  # a bound beyond every schedule
    result = explore(scenario, strategy=strategy, **options)
    assert result.complete, (strategy, result.incomplete_reason)
    return set(result.outcomes)


def explored_alike(scenario) -> set:
    """What main returned in exhaustive enumeration, which every complete strategy gives
    too, and a second search again: no run, and no search, leaves the next what it did to
    a global."""
    exhaustive = _outcomes(scenario, "exhaustive")
    for strategy in STRATEGIES:
        assert _outcomes(scenario, strategy) == exhaustive, strategy
    return {outcome["main"] for outcome in exhaustive}


def assert_real_threads_agree(scenario, runs: int = 40) -> None:
    check = crosscheck(scenario, runs=runs, seed=5)
    assert check.unexpected == [] and check.runs == runs, check.render()


# ---- Semaphore and BoundedSemaphore ---------------------------------------------------------------

SLOTS = threading.Semaphore(2)


def three_try_two_slots():
    got = [None, None, None]

    def take(n):
        got[n] = SLOTS.acquire(blocking=False)

    threads = [threading.Thread(target=take, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tuple(got)


def test_a_semaphore_made_at_import_gives_its_two_permits_to_any_two_of_three_threads_in_every_run():
    scenario = program("three try two slots", three_try_two_slots)
    # independent arithmetic: the last of the three to try finds none left; any may be last
    assert explored_alike(scenario) == {tuple(n != last for n in range(3)) for last in range(3)}
    assert SLOTS._value == 2  # the real one is left as it was


def test_real_threads_find_the_semaphore_made_at_import_whole_at_every_run():
    assert_real_threads_agree(program("three try two slots", three_try_two_slots))
    assert SLOTS._value == 2


CAPPED = threading.BoundedSemaphore(2)
CAPPED.acquire()  # one of its two permits taken at import: each run starts with one, bound at two


def capped_permits():
    giver = threading.Thread(target=CAPPED.release)
    giver.start()
    first = CAPPED.acquire(blocking=False)
    giver.join()
    return first, CAPPED.acquire(blocking=False), CAPPED.acquire(blocking=False)


def test_a_bounded_semaphore_made_at_import_starts_with_the_permits_it_has_and_keeps_its_bound():
    scenario = program("capped permits", capped_permits)
    # one permit from import and one given back make two, whether main takes one before
    # the release or after: (True, True, False)
    assert explored_alike(scenario) == {(True, True, False)}
    assert_real_threads_agree(scenario)
    assert CAPPED._value == 1


def over_release():
    CAPPED.release()  # back to its bound of two
    CAPPED.release()  # past it: threading raises ValueError


def test_a_bounded_semaphore_made_at_import_released_past_its_initial_value_is_the_error_threading_raises():
    result = explore(program("over release", over_release))
    (error,) = result.errors
    assert "released BoundedSemaphore 'CAPPED' past its initial value 2" in error.message


# ---- Condition over a global lock, and with its own ---------------------------------------------

GUARD = threading.Lock()
READY = threading.Condition(GUARD)


def notify_under_the_lock():
    box = []
    waited = []

    def consume():
        with READY:
            while not box:
                READY.wait()
                waited.append(True)

    consumer = threading.Thread(target=consume)
    consumer.start()
    with GUARD:  # the condition's lock, taken by its own name: notify() needs it held
        box.append("x")
        READY.notify()
    consumer.join()
    return bool(waited)


def test_a_condition_made_at_import_over_a_global_lock_shares_that_lock_s_stand_in():
    scenario = program("notify under the lock", notify_under_the_lock)
    # the consumer either found the box filled or waited for the notify
    assert explored_alike(scenario) == {False, True}
    assert not explore(scenario).findings  # notify() under `with GUARD:` holds READY's lock
    assert_real_threads_agree(scenario)


OWN = threading.Condition()  # its own RLock
PRIVATE = threading.Condition(threading.Lock())  # a Lock no global names


def conditions_keep_their_kind_of_lock():
    with OWN, OWN:  # an RLock: taken again
        pass
    with PRIVATE:
        again = PRIVATE.acquire(blocking=False)  # a Lock: not again
    return again


def test_a_condition_made_at_import_with_a_lock_of_its_own_gets_a_fresh_one_of_the_same_kind():
    scenario = program("kinds of lock", conditions_keep_their_kind_of_lock)
    assert explored_alike(scenario) == {False}
    assert_real_threads_agree(scenario, runs=5)


# ---- Barrier ------------------------------------------------------------------------------------

_ACTION_RAN_IN: list = []


def _note_the_last():
    _ACTION_RAN_IN.append(threading.current_thread().name)


MEETING = threading.Barrier(3, action=_note_the_last)


def three_meet():
    del _ACTION_RAN_IN[:]  # (a list of this module's: what a run adds, the next run would find)
    index = {}

    def arrive(name):
        index[name] = MEETING.wait()

    threads = [threading.Thread(target=arrive, args=(name,), name=name) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    index["MainThread"] = MEETING.wait()
    for thread in threads:
        thread.join()
    return index["A"], index["B"], index["MainThread"], tuple(_ACTION_RAN_IN)


def test_a_barrier_made_at_import_lets_its_three_parties_arrive_in_any_order_and_runs_its_action_in_the_last():
    scenario = program("three meet", three_meet)
    # independent arithmetic: any of the 3! orders of arrival; the last to arrive (index 2)
    # runs the action, once
    names = ("A", "B", "MainThread")
    orders = itertools.permutations(range(3))
    assert explored_alike(scenario) == {(*order, (names[order.index(2)],)) for order in orders}
    assert_real_threads_agree(scenario)


ALONE = threading.Barrier(2, timeout=0.01)


def waits_alone():
    try:
        ALONE.wait()
    except threading.BrokenBarrierError:
        return "broken", ALONE.broken
    return "passed", ALONE.broken


def test_a_barrier_made_at_import_keeps_its_timeout_and_each_run_finds_it_whole():
    scenario = program("waits alone", waits_alone)
    # its default timeout runs out: broken in this run, whole again in the next
    assert explored_alike(scenario) == {("broken", True)}
    assert_real_threads_agree(scenario, runs=5)
    assert not ALONE.broken


# ---- Queue, LifoQueue, PriorityQueue -------------------------------------------------------------

JOBS = queue.Queue()
for _job in (1, 2, 3):
    JOBS.put(_job)  # filled at import: three items, three tasks not done


def two_workers_drain_the_jobs():
    taken = {"A": [], "B": []}

    def work(name):
        while True:
            try:
                job = JOBS.get_nowait()
            except queue.Empty:
                return
            taken[name].append(job)
            JOBS.task_done()

    threads = [threading.Thread(target=work, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    JOBS.join()  # every item of import's done
    done = tuple(taken["A"]), tuple(taken["B"])
    for thread in threads:
        thread.join()
    return done


def test_a_queue_filled_at_import_hands_its_items_in_order_to_either_worker_and_counts_them_as_tasks():
    scenario = program("two workers drain the jobs", two_workers_drain_the_jobs)
    # independent arithmetic: items leave in order 1, 2, 3, each to either worker (2 ** 3
    # ways); join() waits for all three, so main sees every item taken
    words = itertools.product("AB", repeat=3)
    assert explored_alike(scenario) == {tuple(tuple(job for job, who in zip((1, 2, 3), word) if who == name)
                                      for name in "AB") for word in words}
    assert_real_threads_agree(scenario, runs=60)
    assert list(JOBS.queue) == [1, 2, 3] and JOBS.unfinished_tasks == 3


STACK = queue.LifoQueue()
RANKED = queue.PriorityQueue()
FULL = queue.Queue(maxsize=1)
for _item in (3, 1, 2):
    STACK.put(_item)
    RANKED.put(_item)
FULL.put("only")
TAKEN = queue.Queue()
TAKEN.put("x")
TAKEN.get()  # taken, its task not done: one unfinished task and no item


def every_queue_kind_in_its_order():
    finisher = threading.Thread(target=TAKEN.task_done)
    finisher.start()
    TAKEN.join()  # returns once the one task import left unfinished is done
    finisher.join()
    try:
        FULL.put_nowait("more")
        room = True
    except queue.Full:
        room = False
    return tuple(STACK.get() for _ in range(3)), tuple(RANKED.get() for _ in range(3)), room, FULL.get()


def test_a_lifo_a_priority_and_a_bounded_queue_made_at_import_keep_their_order_bound_and_unfinished_tasks():
    scenario = program("every queue kind", every_queue_kind_in_its_order)
    assert explored_alike(scenario) == {((2, 1, 3), (1, 2, 3), False, "only")}
    result = explore(scenario)
    assert not result.findings  # (a task_done with no task left undone would be an error)
    assert_real_threads_agree(scenario, runs=5)


MAILBOX = queue.SimpleQueue()


def two_senders_one_mailbox():
    senders = [threading.Thread(target=MAILBOX.put, args=(n,)) for n in (1, 2)]
    for sender in senders:
        sender.start()
    got = MAILBOX.get(), MAILBOX.get()
    for sender in senders:
        sender.join()
    return got


def test_an_empty_simple_queue_made_at_import_is_a_fresh_one_in_every_run():
    # it was left real: main's get() waited in the real queue, and the exploring thread
    # with it, for ever
    scenario = program("two senders, one mailbox", two_senders_one_mailbox)
    assert explored_alike(scenario) == {(1, 2), (2, 1)}
    assert_real_threads_agree(scenario)
    assert MAILBOX.empty()


# ---- ThreadPoolExecutor -----------------------------------------------------------------------------

POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)
NAMED = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="io")


def two_tasks_bump_a_tally():
    tally = Tally()
    with POOL:  # shuts it down: the next run has a fresh one
        for _ in range(2):
            POOL.submit(tally.bump)
    return tally.value


def test_a_pool_made_at_import_runs_each_run_s_tasks_on_fresh_workers_named_after_it():
    scenario = program("two tasks bump a tally", two_tasks_bump_a_tally, track=[Tally])
    # independent arithmetic: two unlocked read-then-write increments end at 1 or 2
    assert explored_alike(scenario) == {1, 2}
    assert "lost-update" in {f.kind for f in explore(scenario).findings}
    assert_real_threads_agree(scenario, runs=60)
    assert not POOL._shutdown and not POOL._threads  # the real pool never ran a task


def tasks_name_their_workers():
    with POOL, NAMED:
        return tuple(pool.submit(lambda: threading.current_thread().name).result() for pool in (POOL, NAMED))


def test_a_pool_made_at_import_names_its_workers_by_its_prefix_or_else_after_the_global():
    scenario = program("tasks name their workers", tasks_name_their_workers)
    assert explored_alike(scenario) == {("POOL_0", "io_0")}
    assert_real_threads_agree(scenario, runs=5)


# ---- Thread ------------------------------------------------------------------------------------------

RESULTS = queue.Queue()


def _put_from(name):
    RESULTS.put(name)


LATE = threading.Thread(target=_put_from, args=("late",))  # made at import, started by main
LOADER = threading.Thread(target=_put_from, args=("loader",), name="loader")


def start_the_thread_made_at_import():
    other = threading.Thread(target=_put_from, args=("other",))
    LATE.start()
    other.start()
    got = RESULTS.get(), RESULTS.get()
    LATE.join()
    other.join()
    return got, LATE.name, other.name, LATE.is_alive(), LOADER.name, LOADER.is_alive()


def test_a_thread_made_at_import_and_not_started_is_started_afresh_in_every_run():
    scenario = program("start the thread made at import", start_the_thread_made_at_import)
    # either thread may put first; the one made at import is numbered before main's, as in
    # a fresh interpreter; the one given a name keeps it, and never starts
    names = ("Thread-1 (_put_from)", "Thread-2 (_put_from)", False, "loader", False)
    assert explored_alike(scenario) == {(("late", "other"), *names), (("other", "late"), *names)}
    assert_real_threads_agree(scenario)
    assert not LATE.is_alive() and LATE.ident is None  # the real one never started


# ---- Lock and Event (fresh in real runs too) ------------------------------------------------------

DONE = threading.Event()


def sets_the_event_made_at_import():
    before = DONE.is_set()
    setter = threading.Thread(target=DONE.set)
    setter.start()
    setter.join()
    return before, DONE.is_set()


def test_real_threads_find_an_event_made_at_import_clear_at_every_run_as_exploration_does():
    # each real run set the real one, so every run after the first started with it set
    # (UNEXPECTED), and the crosscheck left it set
    scenario = program("sets the event made at import", sets_the_event_made_at_import)
    assert explored_alike(scenario) == {(False, True)}
    assert_real_threads_agree(scenario, runs=10)
    assert not DONE.is_set()


HELD = threading.Lock()


def leaves_the_lock_held():
    return HELD.acquire(timeout=0.01)  # and never releases it


def test_real_threads_find_a_lock_made_at_import_free_at_every_run_whatever_the_last_left():
    scenario = program("leaves the lock held", leaves_the_lock_held)
    assert explored_alike(scenario) == {True}
    assert_real_threads_agree(scenario, runs=5)
    assert not HELD.locked()


# ---- searches on several OS threads at once ---------------------------------------------------------


def test_searches_on_several_os_threads_at_once_each_start_every_run_from_the_objects_made_at_import():
    # Found while writing these: a search that planned while another's run had SLOTS bound
    # to its stand-in read the stand-in (AttributeError: no _cond), and the end of one
    # search's run could put the real SLOTS back while another's ran on (its acquires taken
    # from the real one), or leave a stand-in bound for good
    mains = (three_try_two_slots, two_senders_one_mailbox, every_queue_kind_in_its_order, capped_permits)
    originals = {name: globals()[name] for name in ("SLOTS", "MAILBOX", "STACK", "RANKED", "FULL", "TAKEN", "CAPPED")}
    serial = {main: _outcomes(program(main.__name__, main), "exhaustive") for main in mains}
    found: dict = {main: [] for main in mains}

    def explore_thrice(main):
        for _ in range(3):
            found[main].append(_outcomes(program(main.__name__, main), "exhaustive"))

    searches = [threading.Thread(target=explore_thrice, args=(main,)) for main in mains]
    for search in searches:
        search.start()
    for search in searches:
        search.join()
    assert found == {main: [serial[main]] * 3 for main in mains}
    assert {name: globals()[name] for name in originals} == originals
    assert SLOTS._value == 2 and CAPPED._value == 1 and list(STACK.queue) == [3, 1, 2]


# ---- what is refused ------------------------------------------------------------------------------


_FILES = itertools.count()


@pytest.fixture
def module_file(tmp_path, monkeypatch):
    """``make(source, name=None)``: a module of its own, imported from a file of that name
    (``made_here_<n>.py`` by default); its ``cleanup()``, if any, runs after the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(source: str, name: str | None = None):
        name = name or f"made_here_{next(_FILES)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source).lstrip())
        module = importlib.import_module(name)
        made.append(module)
        return module
    yield make
    for module in made:
        cleanup = getattr(module, "cleanup", None)
        if cleanup is not None:
            cleanup()
        sys.modules.pop(module.__name__, None)


def _waiting(objects) -> None:
    """Until a thread waits on each of ``objects`` (threading conditions)."""
    for condition in objects:
        while not condition._waiters:
            threading.Event().wait(0.001)


REFUSED = {
    "an rlock this thread holds": ("""
        import threading
        OBJ = threading.RLock()
        OBJ.acquire()  # by the thread that explores: acquire(blocking=False) takes it again
        def main():
            with OBJ:
                pass
        def cleanup():
            OBJ.release()
        """, None, ("is a RLock made at import and held now; every run starts from it, so it must be free when "
                    "the exploration starts")),
    "a semaphore a thread waits for": ("""
        import threading
        OBJ = threading.Semaphore(0)
        waiter = threading.Thread(target=OBJ.acquire, daemon=True)
        waiter.start()
        def main():
            OBJ.release()
        def cleanup():
            OBJ.release()
        """, lambda m: [m.OBJ._cond],
        ("is a Semaphore made at import and a thread started before the exploration waits for a permit now; "
         "every run starts from it, so none may wait when the exploration starts")),
    "a condition a thread waits on": ("""
        import threading
        OBJ = threading.Condition()
        def wait():
            with OBJ:
                OBJ.wait()
        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        def main():
            with OBJ:
                OBJ.notify()
        def cleanup():
            with OBJ:
                OBJ.notify()
        """, lambda m: [m.OBJ],
        "is a Condition made at import and a thread started before the exploration waits on it now"),
    "a condition over no threading lock": ("""
        import threading
        class Mutex:
            def acquire(self, *args): return True
            def release(self): pass
            def __enter__(self): return self
            def __exit__(self, *exc): pass
        OBJ = threading.Condition(Mutex())
        def main():
            with OBJ:
                OBJ.notify()
        """, None, "is a Condition made at import over <"),
    "a broken barrier": ("""
        import threading
        OBJ = threading.Barrier(2)
        OBJ.abort()
        def main():
            OBJ.reset()
        """, None, ("is a Barrier made at import and broken now (by abort(), or a wait that timed out); every run "
                    "starts from it, so it must be whole when the exploration starts")),
    "a barrier a thread waits at": ("""
        import threading
        OBJ = threading.Barrier(2)
        def wait():
            try:
                OBJ.wait()
            except threading.BrokenBarrierError:
                pass
        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        def main():
            OBJ.wait()
        def cleanup():
            OBJ.abort()
        """, lambda m: [m.OBJ._cond], ("is a Barrier made at import and a thread started before the exploration "
                                       "waits at it now")),
    "a queue a thread waits on": ("""
        import queue, threading
        OBJ = queue.Queue()
        waiter = threading.Thread(target=OBJ.get, daemon=True)
        waiter.start()
        def main():
            OBJ.put(1)
        def cleanup():
            OBJ.put(1)
        """, lambda m: [m.OBJ.not_empty], ("is a Queue made at import and a thread started before the exploration "
                                           "waits in its get, put or join now")),
    "a simple queue holding items": ("""
        import queue
        OBJ = queue.SimpleQueue()
        OBJ.put(1)
        def main():
            return OBJ.get()
        """, None, ("is a SimpleQueue made at import and holding items now, which explorer cannot read without "
                    "taking them")),
    "a pool shut down": ("""
        import concurrent.futures
        OBJ = concurrent.futures.ThreadPoolExecutor(2)
        OBJ.shutdown()
        def main():
            OBJ.submit(print)
        """, None, ("is a ThreadPoolExecutor made at import and shut down now; every run starts from it, so it must "
                    "be open when the exploration starts")),
    "a pool with an initializer": ("""
        import concurrent.futures
        OBJ = concurrent.futures.ThreadPoolExecutor(2, initializer=print)
        def main():
            OBJ.submit(print).result()
        """, None, ("is a ThreadPoolExecutor made at import with initializer=..., which plain code models only "
                    "in a pool the program makes")),
    "a thread started": ("""
        import threading
        OBJ = threading.Thread(target=print)
        OBJ.start()
        def main():
            OBJ.join()
        """, None, ("is a Thread made at import and started before the exploration; a thread runs once, and every "
                    "run needs its own: make it inside the program (in main), and start it there")),
    "a timer": ("""
        import threading
        OBJ = threading.Timer(1, print)
        def main():
            OBJ.start()
        """, None, ("is a Timer made at import, before the exploration: every run would share it and its state. "
                    "Make it inside the program")),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_object_made_at_import_that_no_fresh_one_can_reproduce_is_refused_in_one_line_naming_it(
        case, module_file):
    source, waited_on, words = REFUSED[case]
    module = module_file(source)
    if waited_on is not None:
        _waiting(waited_on(module))
    with pytest.raises(ScenarioError) as refused:
        explore(program(case, module.main))
    message = str(refused.value)
    line = textwrap.dedent(source).lstrip().splitlines().index("OBJ = " + source.split("OBJ = ")[1].split("\n")[0]) + 1
    assert message.startswith(f"global OBJ ({module.__name__}.py:{line}) ") and words in message, message
    assert "\n" not in message


def test_a_global_lock_in_two_modules_is_two_locks_and_one_lock_under_two_names_is_one(module_file):
    # Both were one model named LOCK (so the second could not be taken while the first was
    # held), and ALIAS another (so it could)
    module_file("""
        import threading
        LOCK = threading.Lock()
        """, name="other_locks")
    first = module_file("""
        import threading
        import other_locks
        LOCK = threading.Lock()
        ALIAS = LOCK

        def main():
            with LOCK:
                return ALIAS.acquire(blocking=False), other_locks.LOCK.acquire(blocking=False)
        """)
    scenario = program("two locks named LOCK", first.main)
    assert explored_alike(scenario) == {(False, True)}
    assert_real_threads_agree(scenario, runs=5)
